"""Sparkplug B over a real Mosquitto broker: an edge node with a meter (drivers/sim) and the MQTT
driver as host application — births and aliases, rebirth requests, seq gaps, DDEATH, NDEATH
(clean and by the broker's will), stale wills, commands by DCMD; and the payload codec."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from driver_reads import by_name, read_until
from modbus_peers import async_test
from mqtt_peers import any_broker, params

from app.points import Quality
from drivers.base import DriverError
from drivers.mqtt.driver import MqttDriver
from drivers.mqtt.sparkplug_codec import (
    DataType, SparkplugError, SpbMetric, decode_payload, encode_payload, parse_topic,
)
from drivers.mqtt.spec import MqttPoint, SparkplugAddress
from drivers.sim.sparkplug_edge_node import SparkplugEdgeNode

POINTS = [
    MqttPoint("power", metric="Power"),
    MqttPoint("power_w", metric="Power", scale=1000.0),
    MqttPoint("energy", metric="Energy"),
    MqttPoint("voltage", metric="Voltage"),
    MqttPoint("breaker", metric="Breaker/Closed", writable=True),
    MqttPoint("status", metric="Status"),
    MqttPoint("ghost", metric="Nope"),
]
LIVE = ("power", "power_w", "energy", "voltage", "breaker")




def _live(values) -> bool:
    return all(values[n].good for n in LIVE)


def _group() -> str:
    return f"wattdesk-test-{uuid.uuid4().hex[:10]}"


def test_payload_worked_by_hand():
    # DDATA, seq 5, one metric by alias 1: Float 21.5 (0x41AC0000, little-endian on the wire)
    wire = bytes.fromhex("1805" "1207" "1001" "650000ac41")
    payload = decode_payload(wire)
    assert payload.seq == 5 and payload.timestamp is None
    assert payload.metrics == (SpbMetric(None, 1, None, 21.5),)
    # written in field-number order: metrics (2) before seq (3), the datatype (4) given
    assert encode_payload([SpbMetric(None, 1, DataType.FLOAT, 21.5)], seq=5) == bytes.fromhex(
        "1209" "1001" "2009" "650000ac41" "1805")
    # signed integers travel as two's complement in the unsigned fields
    back = decode_payload(encode_payload([SpbMetric("t", None, DataType.INT16, -5),
                                          SpbMetric("e", None, DataType.INT64, -7)]))
    assert [m.value for m in back.metrics] == [-5, -7]
    with pytest.raises(SparkplugError, match="payload is not Sparkplug B"):
        decode_payload(b"\x12\x09\x10")
    assert parse_topic("spBv1.0/G/DDATA/N/D").device_id == "D"
    for bad, message in [("spBv1.0/G/NDATA/N/D", "has no a device id"), ("spBv1.0/G/DDATA/N", "needs a device id"),
                         ("spBv1.0/G/XDATA/N", "unknown Sparkplug B message type"), ("other/G/NDATA/N", "not a")]:
        with pytest.raises(SparkplugError, match=message):
            parse_topic(bad)


@async_test
async def test_births_aliases_rebirth_on_connect_and_commands():
    group = _group()
    with any_broker() as broker:
        with SparkplugEdgeNode(broker.host, broker.port, group_id=group, step_s=None) as node:
            await asyncio.sleep(0.3)   # the node was born before the host connected
            driver = MqttDriver(params(broker.host, broker.port, sparkplug=SparkplugAddress(group, "Gateway1", "Meter1")),
                                POINTS)
            first = await read_until(driver, _live)
            node.set(Power=20.0, Voltage=231.5)
            moved = await read_until(driver, lambda v: v["power"].value == 20.0 and v["voltage"].value == 231.5)
            await driver.write("breaker", 0)
            opened = await read_until(driver, lambda v: v["breaker"].value == 0.0)
            with pytest.raises(DriverError, match="Boolean metric takes 0 or 1"):
                await driver.write("breaker", 2)
            with pytest.raises(DriverError, match="point is not writable"):
                await driver.write("power", 1)
            births = node.births
            await driver.close()
    assert _live(first), first
    assert first["power"].value == 12.5 and first["power_w"].value == 12500.0 and first["energy"].value == 5000.0
    assert first["breaker"].value == 1.0
    assert births >= 2   # the node's own birth, then the one the host asked for on connecting
    assert first["status"].quality is Quality.BAD and first["status"].reason == "metric 'Status' is STRING, not a number"
    assert first["ghost"].quality is Quality.BAD and first["ghost"].reason == "metric 'Nope' not in the DBIRTH"
    assert moved["power"].value == 20.0 and moved["power_w"].value == 20000.0
    assert opened["breaker"].value == 0.0 and opened["power"].value == 0.0
    assert node.commands == [("Breaker/Closed", False)]


@async_test
async def test_deaths_are_bad_with_reason_and_births_bring_the_points_back():
    group = _group()
    with any_broker() as broker:
        node = SparkplugEdgeNode(broker.host, broker.port, group_id=group, step_s=None)
        node.start()
        driver = MqttDriver(params(broker.host, broker.port, timeout_s=0.2,
                                   sparkplug=SparkplugAddress(group, "Gateway1", "Meter1")), POINTS[:5])
        try:
            assert _live(await read_until(driver, _live))
            node.device_death()
            ddeath = await read_until(driver, lambda v: v["power"].quality is Quality.BAD)
            node.device_birth()
            reborn = await read_until(driver, _live)

            births = node.births
            broker.publish(f"spBv1.0/{group}/DDATA/Gateway1/Meter1", b"\x12\x09\x10", retain=False)   # cut short
            garbled = await read_until(driver, lambda v: v["power"].quality is Quality.BAD)
            healed = await read_until(driver, lambda v: node.births > births and _live(v))

            births = node.births
            node.skip_seq()          # a lost message: the host asks for a rebirth
            node.set(Power=14.0)
            gap = await read_until(driver, lambda v: node.births > births and v["power"].value == 14.0)

            node.crash()             # the broker publishes the will: NDEATH with this session's bdSeq
            will = await read_until(driver, lambda v: v["power"].quality is Quality.BAD)
            old_bd_seq = node.bd_seq
            node.start()             # a new session (bdSeq + 1) is born again
            restarted = await read_until(driver, _live)
            # an NDEATH of the earlier session (a late will) changes nothing
            broker.publish(f"spBv1.0/{group}/NDEATH/Gateway1",
                           encode_payload([SpbMetric("bdSeq", None, DataType.UINT64, old_bd_seq)]), retain=False)
            await asyncio.sleep(0.3)
            after_stale = by_name(await driver.read())

            node.stop()              # a clean end of session sends NDEATH itself
            ndeath = await read_until(driver, lambda v: v["power"].quality is Quality.BAD)
        finally:
            node.stop()
            await driver.close()
    assert ddeath["power"].reason == "device Meter1 of edge node Gateway1 offline (DDEATH)"
    assert ddeath["power"].value == 12.5   # the last good value, shown stale
    assert _live(reborn)
    assert garbled["power"].reason.startswith("payload is not Sparkplug B"), garbled["power"]
    assert _live(healed)   # the garbled message made the host ask for a rebirth
    assert gap["power"].value == 14.0 and node.births > births
    assert will["power"].reason == "edge node Gateway1 offline (NDEATH)"
    assert _live(restarted) and _live(after_stale)
    assert ndeath["energy"].reason == "edge node Gateway1 offline (NDEATH)"


def test_sparkplug_configuration_errors_name_the_point():
    address = SparkplugAddress("G", "N", "D")
    with pytest.raises(ValueError, match="point 'p': a Sparkplug B point names its metric"):
        MqttDriver(params("127.0.0.1", 1883, sparkplug=address), [MqttPoint("p", topic="a/b")])
    with pytest.raises(ValueError, match="point 'p': metric and writable apply to Sparkplug B devices"):
        MqttDriver(params("127.0.0.1", 1883), [MqttPoint("p", topic="a/b", metric="x")])
    with pytest.raises(ValueError, match="non-empty topic levels"):
        MqttDriver(params("127.0.0.1", 1883, sparkplug=SparkplugAddress("G/x", "N")), [])
