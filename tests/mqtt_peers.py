"""MQTT peers for driver tests: a broker (the machine's Mosquitto on 127.0.0.1:1883 when it
answers, else a private one), a publishing helper, and unique topics per test."""

from __future__ import annotations

import contextlib
import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from drivers.mqtt.spec import MqttParams
from drivers.sim.mqtt_broker import MosquittoBroker, MosquittoMissing


def _system_broker_up() -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 1883), timeout=0.2):
        return True
    return False


def private_broker() -> MosquittoBroker:
    """A private mosquitto on a free port; fails the test (not skips) if it is not installed."""
    try:
        return MosquittoBroker()
    except MosquittoMissing as exc:
        pytest.fail(str(exc))


class BrokerAccess:
    """A broker's address and a publisher that clears its retained messages afterwards."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._retained: set[str] = set()

    def publish(self, topic: str, payload: Any, retain: bool = True) -> None:
        """Publish one message (JSON-encoded unless bytes), QoS 1, waiting for the broker's ack."""
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        _publish(self.host, self.port, [(topic, data, retain)])
        if retain:
            self._retained.add(topic)

    def clear_retained(self) -> None:
        """Remove the retained messages this test left (an empty retained payload deletes one)."""
        if self._retained:
            _publish(self.host, self.port, [(topic, b"", True) for topic in sorted(self._retained)])
            self._retained.clear()


def _publish(host: str, port: int, messages: list[tuple[str, bytes, bool]]) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect(host, port)
    client.loop_start()
    try:
        for topic, data, retain in messages:
            client.publish(topic, data, qos=1, retain=retain).wait_for_publish(5)
    finally:
        client.disconnect()
        client.loop_stop()


@contextlib.contextmanager
def any_broker() -> Iterator[BrokerAccess]:
    """The machine's broker on 127.0.0.1:1883 if it answers, else a private one."""
    if _system_broker_up():
        access = BrokerAccess("127.0.0.1", 1883)
        try:
            yield access
        finally:
            access.clear_retained()
        return
    with private_broker() as broker:
        yield BrokerAccess(broker.host, broker.port)


def unique_prefix() -> str:
    """A topic prefix no other test (or earlier run) uses."""
    return f"wattdesk-test/{uuid.uuid4().hex[:12]}"


def params(host: str, port: int, **kw: object) -> MqttParams:
    """Parameters for a test device on ``host:port``."""
    base: dict[str, object] = dict(host=host, port=port, timeout_s=2.0, reconnect_min_s=1, reconnect_max_s=1,
                                   client_id=f"wattdesk-test-{uuid.uuid4().hex[:8]}")
    base.update(kw)
    return MqttParams("ENV1", **base)  # type: ignore[arg-type]
