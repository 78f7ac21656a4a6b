"""MQTT benchmark: messages/s decoded and reads/s of the MQTT driver through a real broker.

Run:  .venv/bin/python bench/bench_mqtt.py [--messages 20000]

Starts a private mosquitto on a free loopback port (apt ``mosquitto``). A
publisher sends ``--messages`` JSON payloads (QoS 0) as fast as it can; the
driver's network thread decodes each (JSON, path, number) into its point.
Then the same with Sparkplug B: an NBIRTH and a DBIRTH, then ``--messages``
DDATA payloads of two metrics by alias. Prints the rates at which the driver
took them in (end to end: publisher -> broker -> driver) and the rate of
back-to-back ``read()`` calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import paho.mqtt.client as mqtt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drivers.mqtt.driver import MqttDriver  # noqa: E402
from drivers.mqtt.sparkplug_codec import DataType, SpbMetric, encode_payload  # noqa: E402
from drivers.mqtt.spec import MqttParams, MqttPoint, SparkplugAddress  # noqa: E402
from drivers.sim.mqtt_broker import MosquittoBroker  # noqa: E402

TOPIC = "bench/env/room1/state"
SPB = SparkplugAddress("Bench", "Node1", "Meter1")


def _json_messages(messages: int) -> list[tuple[str, bytes]]:
    return [(TOPIC, json.dumps({"seq": seq, "temperature": {"value": 21.5}}).encode())
            for seq in range(1, messages + 1)]


def _sparkplug_messages(messages: int) -> list[tuple[str, bytes]]:
    node, device = "spBv1.0/Bench/{}/Node1", "spBv1.0/Bench/{}/Node1/Meter1"
    out = [(node.format("NBIRTH"), encode_payload([SpbMetric("bdSeq", None, DataType.UINT64, 0)], seq=0)),
           (device.format("DBIRTH"), encode_payload([SpbMetric("Count", 1, DataType.UINT32, 0),
                                                     SpbMetric("Power", 2, DataType.FLOAT, 12.5)], seq=1))]
    out += [(device.format("DDATA"), encode_payload([SpbMetric(None, 1, DataType.UINT32, n),
                                                     SpbMetric(None, 2, DataType.FLOAT, 12.5)], seq=(n + 1) % 256))
            for n in range(1, messages + 1)]
    return out


async def run(broker: MosquittoBroker, kind: str, driver: MqttDriver, messages: list[tuple[str, bytes]],
              last: int) -> None:
    """Publish ``messages`` as fast as possible; print the rate at which the driver's first point reaches ``last``."""
    while (await driver.read())[0].reason != "no message yet":  # until subscribed
        await asyncio.sleep(0.01)
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    publisher.max_queued_messages_set(0)
    publisher.connect(broker.host, broker.port)
    publisher.loop_start()
    start = time.perf_counter()
    for topic, payload in messages:
        publisher.publish(topic, payload, qos=0)
    last_seen = 0.0
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        last_seen = (await driver.read())[0].value or 0.0
        if last_seen >= last:
            break
        await asyncio.sleep(0.001)
    elapsed = time.perf_counter() - start
    publisher.disconnect()
    publisher.loop_stop()
    reads = 0
    read_start = time.perf_counter()
    while time.perf_counter() - read_start < 2.0:
        await driver.read()
        reads += 1
    await driver.close()
    print(f"MQTT {kind} through mosquitto on loopback, {last} messages (QoS 0), 2 points each")
    print(f"  {last / elapsed:8.0f} messages/s decoded end to end (last seen {last_seen:.0f})")
    print(f"  {reads / 2.0:8.0f} read() calls/s")


async def main(messages: int) -> None:
    with MosquittoBroker() as broker:
        json_driver = MqttDriver(MqttParams("ENV", broker.host, broker.port, qos=0),
                                 [MqttPoint("n", TOPIC, "seq"), MqttPoint("t", TOPIC, "temperature.value")])
        await run(broker, "JSON", json_driver, _json_messages(messages), messages)
        spb_driver = MqttDriver(MqttParams("SPB", broker.host, broker.port, qos=0, sparkplug=SPB),
                                [MqttPoint("n", metric="Count"), MqttPoint("p", metric="Power")])
        await run(broker, "Sparkplug B", spb_driver, _sparkplug_messages(messages), messages)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    asyncio.run(main(parser.parse_args().messages))
