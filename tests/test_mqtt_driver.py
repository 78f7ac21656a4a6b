"""MQTT driver against a real Mosquitto broker: JSON path mapping, staleness, commands,
broker restart, and the environment-sensor simulator."""

from __future__ import annotations

import asyncio
import json

import pytest
from driver_reads import by_name, read_until
from modbus_peers import async_test, free_port
from mqtt_peers import any_broker, params, private_broker, unique_prefix

from app.points import Quality
from drivers.base import DriverError
from drivers.mqtt.driver import MqttDriver
from drivers.mqtt.payload import PayloadError, extract
from drivers.mqtt.spec import MqttParams, MqttPoint
from drivers.sim.mqtt_env_sensor import EnvSensor




def test_extract_follows_the_path():
    payload = json.dumps({"t": {"value": 21.5}, "list": [1, {"v": "7.25"}], "on": True, "s": "x", "n": None}).encode()
    assert extract(payload, "t.value") == 21.5
    assert extract(payload, "list.1.v") == 7.25
    assert extract(payload, "on") == 1.0
    assert extract(b"42", "") == 42.0
    for path, message in [
        ("t.nope", "no 'nope' in payload at t"),
        ("list.5", "no index '5' in list of 2 at list"),
        ("s", "value at s is not a number: 'x'"),
        ("n", "value at n is not a number: null"),
        ("t.value.x", "no 'x' in payload at t.value: not an object or list"),
    ]:
        with pytest.raises(PayloadError, match=message):
            extract(payload, path)
    with pytest.raises(PayloadError, match="payload is not JSON"):
        extract(b"{oops", "a")


@async_test
async def test_json_payloads_map_to_points_by_path():
    prefix = unique_prefix()
    room = f"{prefix}/rooms/room1"
    with any_broker() as broker:
        broker.publish(room, {"temperature": {"value": 24.3}, "co2": 612, "pm25": "8.5",
                              "occupied": True, "status": "ok"})
        broker.publish(f"{prefix}/raw", b"not json")
        points = [
            MqttPoint("temp", room, "temperature.value"),
            MqttPoint("co2", room, "co2"),
            MqttPoint("pm25", room, "pm25"),
            MqttPoint("occupied", room, "occupied"),
            MqttPoint("status", room, "status"),
            MqttPoint("missing", room, "humidity.value"),
            MqttPoint("raw", f"{prefix}/raw"),
            MqttPoint("any_room_co2", f"{prefix}/rooms/+", "co2"),
            MqttPoint("silent", f"{prefix}/never"),
        ]
        driver = MqttDriver(params(broker.host, broker.port), points)
        values = await read_until(driver, lambda v: v["temp"].good and v["raw"].reason)
        online = driver.online
        await driver.close()
    assert online
    assert values["temp"].value == 24.3 and values["co2"].value == 612 and values["pm25"].value == 8.5
    assert values["occupied"].value == 1.0 and values["temp"].tag == "ENV1.temp"
    assert values["status"].quality is Quality.BAD
    assert values["status"].reason == f"value at status is not a number: 'ok' (topic {room})"
    assert values["missing"].reason == f"no 'humidity' in payload at root (topic {room})"
    assert values["raw"].quality is Quality.BAD and values["raw"].reason.startswith("payload is not JSON")
    assert values["silent"].quality is Quality.BAD and values["silent"].reason == "no message yet"
    assert values["any_room_co2"].good and values["any_room_co2"].value == 612


@async_test
async def test_bad_payload_keeps_the_last_good_value_and_staleness_is_bad():
    prefix = unique_prefix()
    topic = f"{prefix}/meter"
    with any_broker() as broker:
        broker.publish(topic, {"p": 1.5})
        driver = MqttDriver(params(broker.host, broker.port, stale_after_s=0.5),
                            [MqttPoint("p", topic, "p", scale=1000)])
        good = (await read_until(driver, lambda v: v["p"].good))["p"]
        broker.publish(topic, {"p": "broken"})
        bad = (await read_until(driver, lambda v: v["p"].quality is Quality.BAD))["p"]
        broker.publish(topic, {"p": 2.0})
        await read_until(driver, lambda v: v["p"].value == 2000.0)
        await asyncio.sleep(0.6)
        stale = (await driver.read())[0]
        await driver.close()
    assert good.value == 1500.0
    assert bad.value == 1500.0 and bad.reason == f"value at p is not a number: 'broken' (topic {topic})"
    assert stale.quality is Quality.BAD and stale.reason.startswith("no message for")


@async_test
async def test_write_publishes_to_the_command_topic_and_the_sensor_follows():
    prefix = unique_prefix()
    with any_broker() as broker, EnvSensor(broker.host, broker.port, prefix=prefix, step_s=0.05) as sensor:
        broker.publish(sensor.state_topic, b"", retain=True)  # cleared afterwards: the sensor publishes retained
        points = [
            MqttPoint("co2", sensor.state_topic, "co2"),
            MqttPoint("ventilation", sensor.state_topic, "no.such", command_topic=sensor.command_topic),
        ]
        driver = MqttDriver(params(broker.host, broker.port), points)
        first = await read_until(driver, lambda v: v["co2"].good)
        await driver.write("ventilation", 85)
        for _ in range(100):
            if sensor.ventilation == 85.0:
                break
            await asyncio.sleep(0.02)
        with pytest.raises(DriverError, match="ENV1.co2: point is not writable"):
            await driver.write("co2", 1)
        await driver.close()
        with pytest.raises(DriverError, match="ENV1.ventilation: closed"):
            await driver.write("ventilation", 1)
    assert first["co2"].value > 400
    assert sensor.ventilation == 85.0


def test_broker_restart_is_recovered():
    prefix = unique_prefix()
    broker = private_broker()

    async def scenario() -> tuple:
        with EnvSensor(broker.host, broker.port, prefix=prefix, step_s=0.05) as sensor:
            points = [MqttPoint("t", sensor.state_topic, "temperature.value")]
            driver = MqttDriver(params(broker.host, broker.port), points)
            first = (await read_until(driver, lambda v: v["t"].good))["t"]
            await asyncio.to_thread(broker.stop)
            down = (await read_until(driver, lambda v: v["t"].quality is Quality.BAD))["t"]
            await asyncio.to_thread(broker.start)
            back = (await read_until(driver, lambda v: v["t"].good, tries=400))["t"]
            await driver.close()
        return first, down, back

    with broker:
        first, down, back = asyncio.run(scenario())
    assert first.good
    assert down.quality is Quality.BAD and down.value == first.value
    assert down.reason.startswith(f"connection to broker 127.0.0.1:{broker.port} lost")
    assert back.good


@async_test
async def test_no_broker_is_bad_with_reason():
    port = free_port()
    driver = MqttDriver(params("127.0.0.1", port), [MqttPoint("t", "x/y")])
    value = (await read_until(driver, lambda v: v["t"].reason != "not connected yet"))["t"]
    await driver.close()
    assert value.quality is Quality.BAD and value.reason == f"cannot connect to broker 127.0.0.1:{port}"


def test_configuration_errors_name_the_point():
    with pytest.raises(ValueError, match="point 'p': wildcard must fill a whole topic level"):
        MqttDriver(MqttParams("E"), [MqttPoint("p", "a/b+/c")])
    with pytest.raises(ValueError, match="point 'p': '#' must be the last topic level"):
        MqttDriver(MqttParams("E"), [MqttPoint("p", "a/#/c")])
    with pytest.raises(ValueError, match="qos must be 0, 1 or 2"):
        MqttDriver(MqttParams("E", qos=3), [])
    with pytest.raises(ValueError, match="duplicate point 'p'"):
        MqttDriver(MqttParams("E"), [MqttPoint("p", "a"), MqttPoint("p", "b")])
    with pytest.raises(ValueError, match="command_topic must not contain wildcards"):
        MqttDriver(MqttParams("E"), [MqttPoint("p", "a", command_topic="a/+")])


@pytest.mark.parametrize("reply", [None, b"\xff\xff\xff\xff"], ids=["silent", "malformed"])
@async_test
async def test_broker_that_hangs_or_garbles_is_bad_with_reason(reply):
    writers: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        while await reader.read(4096):
            if reply is not None:
                writer.write(reply)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    driver = MqttDriver(params("127.0.0.1", port, keepalive_s=1), [MqttPoint("t", "a/b")])
    try:
        value = (await read_until(driver, lambda v: "Keep alive timeout" in v["t"].reason))["t"]
    finally:
        await driver.close()
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()
    assert value.quality is Quality.BAD and value.value is None
    assert value.reason == f"connection to broker 127.0.0.1:{port} lost (Keep alive timeout)"
