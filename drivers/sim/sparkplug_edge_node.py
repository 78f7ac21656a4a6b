"""A Sparkplug B edge node with one energy sub-meter behind it, publishing to an MQTT broker.

The node (paho-mqtt 2.x) behaves as Sparkplug 3.0 asks of an edge node:

* its MQTT will is an NDEATH carrying the session's ``bdSeq``; each :meth:`start` is a new
  session (``bdSeq`` + 1); a clean :meth:`stop` publishes the NDEATH itself;
* on connect it publishes NBIRTH (``seq`` 0, metrics ``bdSeq`` and ``Node Control/Rebirth``)
  and the device's DBIRTH (every metric with name, alias, datatype and value);
* data go out as DDATA with aliases only, ``seq`` + 1 (mod 256) per message;
* an NCMD ``Node Control/Rebirth`` = true makes it publish NBIRTH and DBIRTH again; a DCMD
  setting ``Breaker/Closed`` switches the breaker (and the power) and is answered by DDATA.

Device ``Meter1`` metrics (alias: name, datatype, unit)::

    1 Power           Float    kW
    2 Energy          Double   kWh   (accumulates with the power)
    3 Voltage         Float    V
    4 Breaker/Closed  Boolean        (writable by DCMD)
    5 Status          String         ("ok")

Faults for tests: :meth:`device_death` (DDEATH) and :meth:`device_birth`, :meth:`skip_seq`
(the next message jumps a sequence number), :meth:`crash` (connection dropped without a
word: the broker publishes the will).
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt

from drivers.mqtt.sparkplug import REBIRTH_METRIC
from drivers.mqtt.sparkplug_codec import DataType, SparkplugError, SpbMetric, decode_payload, encode_payload
from drivers.mqtt.spec import SPARKPLUG_NAMESPACE

__all__ = ["SparkplugEdgeNode"]

_METRICS: dict[str, tuple[int, DataType]] = {
    "Power": (1, DataType.FLOAT), "Energy": (2, DataType.DOUBLE), "Voltage": (3, DataType.FLOAT),
    "Breaker/Closed": (4, DataType.BOOLEAN), "Status": (5, DataType.STRING),
}


def _now_ms() -> int:
    return int(time.time() * 1000)


class SparkplugEdgeNode:
    """The edge node; ``start``/``stop`` or ``with``.

    Parameters
    ----------
    host, port : str, int
        Broker.
    group_id, edge_node_id, device_id : str
        Sparkplug B identities.
    step_s : float or None
        Seconds between DDATA of the meter's power, energy and voltage; None: data only on
        :meth:`set` and commands.
    """

    def __init__(self, host: str, port: int, group_id: str = "Plant", edge_node_id: str = "Gateway1",
                 device_id: str = "Meter1", step_s: float | None = 1.0) -> None:
        self.host, self.port = host, port
        self.group_id, self.edge_node_id, self.device_id = group_id, edge_node_id, device_id
        self.step_s = step_s
        self.values: dict[str, Any] = {"Power": 12.5, "Energy": 5000.0, "Voltage": 230.0, "Breaker/Closed": True,
                                       "Status": "ok"}
        self.bd_seq = -1
        self.births = 0                 # NBIRTHs published (rebirths included)
        self.commands: list[tuple[str, Any]] = []   # (metric, value) of DCMDs obeyed
        self._seq = 0
        self._lock = threading.RLock()
        self._client: mqtt.Client | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _topic(self, kind: str, device: bool = False) -> str:
        base = f"{SPARKPLUG_NAMESPACE}/{self.group_id}/{kind}/{self.edge_node_id}"
        return f"{base}/{self.device_id}" if device else base

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """A new session: connect with the NDEATH will (paho's thread reconnects) and publish births."""
        self.bd_seq = (self.bd_seq + 1) % 256
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                             client_id=f"wattdesk-sim-spb-{self.group_id}-{self.edge_node_id}")
        client.will_set(self._topic("NDEATH"), self._death_payload(), qos=1)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.connect_async(self.host, self.port, keepalive=30)
        client.loop_start()
        self._client = client
        self._stop.clear()
        if self.step_s is not None:
            self._thread = threading.Thread(target=self._run, name=f"spb-node {self.edge_node_id}", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """End the session cleanly: NDEATH, then disconnect (the will is not sent)."""
        self._halt()
        client, self._client = self._client, None
        if client is None:
            return
        if client.is_connected():
            client.publish(self._topic("NDEATH"), self._death_payload(), qos=1).wait_for_publish(5)
        client.disconnect()
        client.loop_stop()

    def crash(self) -> None:
        """Drop the connection without NDEATH or DISCONNECT: the broker publishes the will."""
        self._halt()
        client, self._client = self._client, None
        if client is None:
            return
        client.loop_stop()
        sock = client.socket()
        if sock is not None:
            sock.close()

    def _halt(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> SparkplugEdgeNode:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ messages
    def _death_payload(self) -> bytes:
        return encode_payload([SpbMetric("bdSeq", None, DataType.UINT64, self.bd_seq)], timestamp=_now_ms())

    def _publish(self, kind: str, metrics: list[SpbMetric], device: bool) -> None:
        """Publish with the next ``seq`` (NBIRTH restarts it at 0); QoS 0 as the specification has it."""
        with self._lock:
            client = self._client
            if client is None or not client.is_connected():
                return
            if kind == "NBIRTH":
                self._seq = 0
            else:
                self._seq = (self._seq + 1) % 256
            client.publish(self._topic(kind, device), encode_payload(metrics, _now_ms(), self._seq), qos=0)

    def births_now(self) -> None:
        """NBIRTH then DBIRTH (on connect and on a rebirth request)."""
        with self._lock:
            self.births += 1
            self._publish("NBIRTH", [SpbMetric("bdSeq", None, DataType.UINT64, self.bd_seq),
                                     SpbMetric(REBIRTH_METRIC, None, DataType.BOOLEAN, False)], device=False)
            self.device_birth()

    def device_birth(self) -> None:
        """DBIRTH: every metric with name, alias, datatype and value."""
        with self._lock:
            self._publish("DBIRTH", [SpbMetric(name, alias, datatype, self.values[name])
                                     for name, (alias, datatype) in _METRICS.items()], device=True)

    def device_death(self) -> None:
        """DDEATH: the meter is gone (the node stays)."""
        self._publish("DDEATH", [], device=True)

    def set(self, **values: Any) -> None:
        """Change metrics (``Breaker_Closed`` for ``Breaker/Closed``) and publish them as DDATA by alias."""
        with self._lock:
            changed = {name.replace("_", "/"): value for name, value in values.items()}
            self.values.update(changed)
            self._publish("DDATA", [SpbMetric(None, _METRICS[name][0], _METRICS[name][1], value)
                                    for name, value in changed.items()], device=True)

    def skip_seq(self) -> None:
        """The next message jumps one sequence number (as if a message was lost)."""
        with self._lock:
            self._seq = (self._seq + 1) % 256

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(self.step_s):
            now = time.monotonic()
            with self._lock:
                closed = bool(self.values["Breaker/Closed"])
                power = (12.0 + 3.0 * math.sin(time.time() / 60.0)) if closed else 0.0
                energy = self.values["Energy"] + power * (now - last) / 3600.0
                voltage = 230.0 + 2.0 * math.sin(time.time() / 17.0)
                self.set(Power=round(power, 3), Energy=round(energy, 4), Voltage=round(voltage, 2))
            last = now

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object,
                    reason_code: mqtt.ReasonCode, properties: object) -> None:
        if reason_code.is_failure:
            return
        client.subscribe([(self._topic("NCMD"), 0), (self._topic("DCMD", device=True), 0)])
        self.births_now()

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        try:
            payload = decode_payload(message.payload)
        except SparkplugError:
            return   # a garbled command is ignored
        for metric in payload.metrics:
            if message.topic == self._topic("NCMD") and metric.name == REBIRTH_METRIC and metric.value is True:
                self.births_now()
            elif message.topic == self._topic("DCMD", device=True) and metric.name == "Breaker/Closed" \
                    and isinstance(metric.value, bool):
                self.commands.append((metric.name, metric.value))
                self.set(Breaker_Closed=metric.value, Power=12.0 if metric.value else 0.0)
