"""The public MQTT driver: JSON payloads mapped to points by path, commands by publish.

:class:`MqttDriver` implements :class:`drivers.base.Driver` for one device that
publishes to an MQTT broker (paho-mqtt 2.x). paho's network thread (one per
driver, as the design runs blocking I/O in worker threads) connects, reconnects
with its own back-off and re-subscribes on every connect; its callbacks only
store values under a lock, and :meth:`read` returns the latest of each point.

Quality: a point is GOOD from its last message while the broker connection is
up; BAD with the reason when the payload does not give a number at the path,
when no message arrived yet or for ``stale_after_s``, or while the broker is
unreachable (the last value is kept, stale).

With :attr:`MqttParams.sparkplug` the device is a Sparkplug B edge node or a device
behind one (:mod:`drivers.mqtt.sparkplug`): points follow metrics by name through the
birth certificates' aliases; on connect, on a ``seq`` gap, on data with no birth, on
an unknown alias and on a malformed payload the driver asks the node for a rebirth
(NCMD ``Node Control/Rebirth``; again after ``timeout_s`` if no NBIRTH answers);
DDEATH/NDEATH turn the points BAD with the reason; writes are DCMD (NCMD for node
metrics, QoS 0 as Sparkplug requires) with the datatype from the birth.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Sequence

import paho.mqtt.client as mqtt

from app.points import PointValue, Quality
from drivers.base import Driver, DriverError, DriverTimeout
from drivers.mqtt.payload import PayloadError, extract
from drivers.mqtt.sparkplug import REBIRTH_METRIC, SparkplugTracker
from drivers.mqtt.sparkplug_codec import (
    NUMERIC_TYPES, DataType, SparkplugError, SpbMetric, encode_payload, parse_topic,
)
from drivers.mqtt.spec import MqttParams, MqttPoint

__all__ = ["MqttDriver"]

log = logging.getLogger(__name__)


def _check(params: MqttParams, points: Sequence[MqttPoint]) -> None:
    where = f"mqtt device {params.device_id!r}"
    if not params.device_id:
        raise ValueError("mqtt device: device_id must not be empty")
    if not 1 <= params.port <= 65535:
        raise ValueError(f"{where}: port {params.port} outside 1..65535")
    if params.qos not in (0, 1, 2):
        raise ValueError(f"{where}: qos must be 0, 1 or 2, got {params.qos!r}")
    if not params.timeout_s > 0 or params.keepalive_s < 1:
        raise ValueError(f"{where}: timeout_s must be > 0 and keepalive_s >= 1")
    spb = params.sparkplug
    if spb is not None and not all(part and not set(part) & set("/+#") for part in (
            spb.group_id, spb.edge_node_id, spb.device_id if spb.device_id is not None else "-")):
        raise ValueError(f"{where}: Sparkplug B group, edge node and device ids must be non-empty topic levels")
    names: set[str] = set()
    for point in points:
        what = f"{where}, point {point.name!r}"
        if point.name in names:
            raise ValueError(f"{where}: duplicate point {point.name!r}")
        names.add(point.name)
        if point.scale == 0:
            raise ValueError(f"{what}: scale must not be 0")
        if params.sparkplug is not None:
            if not point.metric or point.topic or point.path or point.command_topic:
                raise ValueError(f"{what}: a Sparkplug B point names its metric (no topic, path or command_topic)")
            continue
        if point.metric is not None or point.writable:
            raise ValueError(f"{what}: metric and writable apply to Sparkplug B devices")
        if not point.topic or "\x00" in point.topic:
            raise ValueError(f"{what}: topic must not be empty")
        for level in point.topic.split("/"):
            if ("#" in level and level != "#") or ("+" in level and level != "+"):
                raise ValueError(f"{what}: wildcard must fill a whole topic level: {point.topic!r}")
        if "#" in point.topic and not point.topic.endswith("#"):
            raise ValueError(f"{what}: '#' must be the last topic level: {point.topic!r}")
        if point.command_topic is not None and ("+" in point.command_topic or "#" in point.command_topic):
            raise ValueError(f"{what}: command_topic must not contain wildcards")


class MqttDriver(Driver):
    """Driver for one MQTT-connected device.

    Parameters
    ----------
    params : MqttParams
    points : sequence of MqttPoint

    Raises
    ------
    ValueError
        Bad parameters, topics or duplicate points; the message names device and point.
    """

    def __init__(self, params: MqttParams, points: Sequence[MqttPoint]) -> None:
        _check(params, points)
        self.device_id = params.device_id
        self.params = params
        self._points = {p.name: p for p in points}
        self._tags = {name: f"{params.device_id}.{name}" for name in self._points}
        self._lock = threading.Lock()
        self._latest: dict[str, PointValue] = {}
        self._heard: dict[str, float] = {}      # point -> time.monotonic() of its last message
        self._last_good: dict[str, float] = {}
        self._connected = False
        self._reason = "not connected yet"
        self._client: mqtt.Client | None = None
        self._online = False
        self._tracker = None if params.sparkplug is None else SparkplugTracker(
            params.sparkplug, sorted({p.metric for p in points if p.metric}))
        self._by_metric: dict[str, list[str]] = {}
        for point in points:
            if point.metric:
                self._by_metric.setdefault(point.metric, []).append(point.name)
        self._rebirth_at: float | None = None   # time.monotonic() of a rebirth request no NBIRTH answered yet

    @property
    def online(self) -> bool:
        """True while connected to the broker and at least one point has a message."""
        return self._online

    async def read(self) -> list[PointValue]:
        """The latest value of every point (starting the connection on the first call).

        Returns
        -------
        list of PointValue
            In configuration order; never raises.
        """
        if self._client is None:
            self._start()
        now, mono = time.time(), time.monotonic()
        stale_after = self.params.stale_after_s
        with self._lock:
            connected, reason = self._connected, self._reason
            latest, heard = dict(self._latest), dict(self._heard)
        values = []
        for name in self._points:
            tag, last = self._tags[name], self._last_good.get(name)
            if not connected:
                values.append(PointValue(tag, last, Quality.BAD, now, reason))
            elif name not in latest:
                values.append(PointValue(tag, last, Quality.BAD, now, "no message yet"))
            elif stale_after is not None and mono - heard[name] > stale_after:
                age = mono - heard[name]
                values.append(PointValue(tag, last, Quality.BAD, now, f"no message for {age:.0f} s"))
            else:
                pv = latest[name]
                if pv.good:
                    self._last_good[name] = pv.value  # type: ignore[assignment]
                    values.append(pv._replace(ts=now))
                else:
                    values.append(pv._replace(value=last, ts=now))
        self._online = connected and any(pv.good for pv in values)
        return values

    async def write(self, point: str, value: float) -> None:
        """Publish ``value`` (a JSON number) to the point's command topic.

        Raises
        ------
        DriverTimeout
            The broker did not acknowledge (QoS 1/2) within ``timeout_s``.
        DriverError
            Unknown or read-only point, not connected, or the publish was refused.
        """
        where = f"{self.device_id}.{point}"
        spec = self._points.get(point)
        if spec is None:
            raise DriverError(f"{where}: no such point")
        if spec.command_topic is None and not spec.writable:
            raise DriverError(f"{where}: point is not writable" + (
                "" if self.params.sparkplug is not None else " (no command_topic)"))
        with self._lock:
            connected, reason = self._connected, self._reason
        if self._client is None or not connected:
            raise DriverError(f"{where}: {reason}")
        if self.params.sparkplug is not None:
            topic, payload, retain, qos = *self._sparkplug_command(spec, value, where), False, 0
        else:
            topic, payload = spec.command_topic or "", json.dumps(value / spec.scale).encode()
            retain, qos = spec.retain_command, self.params.qos
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise DriverError(f"{where}: publish refused: {mqtt.error_string(info.rc)}")
        try:
            await asyncio.to_thread(info.wait_for_publish, self.params.timeout_s)
        except (RuntimeError, ValueError) as exc:
            raise DriverError(f"{where}: publish failed: {exc}") from None
        if not info.is_published():
            raise DriverTimeout(f"{where}: broker did not acknowledge within {self.params.timeout_s:g} s")

    async def close(self) -> None:
        """Disconnect and stop the network thread; idempotent."""
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            await asyncio.to_thread(client.loop_stop)
        with self._lock:
            self._connected = False
            self._reason = "closed"
        self._online = False

    def _sparkplug_command(self, spec: MqttPoint, value: float, where: str) -> tuple[str, bytes]:
        """Topic and payload of a DCMD (NCMD) setting ``spec``'s metric."""
        assert self._tracker is not None and self.params.sparkplug is not None and spec.metric is not None
        with self._lock:
            born, datatype = self._tracker.born, self._tracker.datatypes.get(spec.metric)
        if not born or datatype is None:
            raise DriverError(f"{where}: no birth certificate defines metric {spec.metric!r} yet")
        raw = value / spec.scale
        if datatype == DataType.BOOLEAN:
            if raw not in (0, 1):
                raise DriverError(f"{where}: Boolean metric takes 0 or 1, got {value!r}")
            encoded: bool | int | float = bool(raw)
        elif datatype in (DataType.FLOAT, DataType.DOUBLE):
            encoded = float(raw)
        elif datatype in NUMERIC_TYPES:
            if not float(raw).is_integer():
                raise DriverError(f"{where}: {DataType(datatype).name} metric takes a whole number, got {raw!r}")
            encoded = int(raw)
        else:
            raise DriverError(f"{where}: metric {spec.metric!r} is not a number (datatype {datatype})")
        try:
            payload = encode_payload([SpbMetric(spec.metric, None, datatype, encoded)],
                                     timestamp=int(time.time() * 1000))
        except SparkplugError as exc:
            raise DriverError(f"{where}: {exc}") from None
        return self.params.sparkplug.command_topic, payload

    # -- paho callbacks (network thread) -------------------------------------------

    def _start(self) -> None:
        params = self.params
        client_id = params.client_id or f"wattdesk-{self.device_id}"
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        if params.username is not None:
            client.username_pw_set(params.username, params.password)
        client.reconnect_delay_set(params.reconnect_min_s, params.reconnect_max_s)
        client.connect_timeout = params.timeout_s
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.connect_async(params.host, params.port, keepalive=params.keepalive_s)
        client.loop_start()
        self._client = client

    @property
    def _where(self) -> str:
        return f"{self.params.host}:{self.params.port}"

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object,
                    reason_code: mqtt.ReasonCode, properties: object) -> None:
        if reason_code.is_failure:
            with self._lock:
                self._connected = False
                self._reason = f"broker {self._where} refused the connection: {reason_code}"
            return
        if self.params.sparkplug is not None:
            topics = self.params.sparkplug.subscriptions
        else:
            topics = sorted({p.topic for p in self._points.values()})
        if topics:
            client.subscribe([(topic, self.params.qos) for topic in topics])
        with self._lock:
            self._connected = True
            self._reason = ""
        log.info("mqtt device %s: connected to %s", self.device_id, self._where)
        if self._tracker is not None:   # births are not retained: ask for them
            self._request_rebirth(client, "connected")

    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        with self._lock:
            self._connected = False
            self._reason = f"cannot connect to broker {self._where}"

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object,
                       reason_code: mqtt.ReasonCode, properties: object) -> None:
        with self._lock:
            self._connected = False
            self._reason = f"connection to broker {self._where} lost ({reason_code})"
        if self._client is client:  # not our own close()
            log.warning("mqtt device %s: disconnected from %s: %s", self.device_id, self._where, reason_code)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        if self._tracker is not None:
            self._on_sparkplug(client, message)
            return
        now, mono = time.time(), time.monotonic()
        updates = {}
        for name, point in self._points.items():
            if not mqtt.topic_matches_sub(point.topic, message.topic):
                continue
            tag = self._tags[name]
            try:
                number = extract(message.payload, point.path) * point.scale
            except PayloadError as exc:
                updates[name] = PointValue(tag, None, Quality.BAD, now, f"{exc} (topic {message.topic})")
                continue
            updates[name] = PointValue(tag, number, Quality.GOOD, now)
        if updates:
            with self._lock:
                self._latest.update(updates)
                for name in updates:
                    self._heard[name] = mono

    def _on_sparkplug(self, client: mqtt.Client, message: mqtt.MQTTMessage) -> None:
        assert self._tracker is not None
        now, mono = time.time(), time.monotonic()
        updates: dict[str, PointValue] = {}
        try:
            topic = parse_topic(message.topic)
            with self._lock:
                outcome = self._tracker.handle(topic, message.payload)
        except SparkplugError as exc:
            for names in self._by_metric.values():
                for name in names:
                    updates[name] = PointValue(self._tags[name], None, Quality.BAD, now, f"{exc} ({message.topic})")
            rebirth = "malformed message"
        else:
            for metric, state in outcome.metrics.items():
                for name in self._by_metric.get(metric, ()):
                    if state.reason:
                        updates[name] = PointValue(self._tags[name], None, Quality.BAD, now, state.reason)
                    else:
                        value = state.value * self._points[name].scale  # type: ignore[operator]
                        updates[name] = PointValue(self._tags[name], value, Quality.GOOD, now)
            rebirth = outcome.rebirth
            if topic.message_type == "NBIRTH":
                self._rebirth_at = None   # the request (if any) is answered
        if updates:
            with self._lock:
                self._latest.update(updates)
                for name in updates:
                    self._heard[name] = mono
        if rebirth:
            self._request_rebirth(client, rebirth)

    def _request_rebirth(self, client: mqtt.Client, why: str) -> None:
        """NCMD ``Node Control/Rebirth`` = true, unless one less than ``timeout_s`` old awaits its NBIRTH."""
        assert self.params.sparkplug is not None
        mono = time.monotonic()
        if self._rebirth_at is not None and mono - self._rebirth_at < self.params.timeout_s:
            return
        self._rebirth_at = mono
        log.info("mqtt device %s: requesting a Sparkplug B rebirth (%s)", self.device_id, why)
        payload = encode_payload([SpbMetric(REBIRTH_METRIC, None, DataType.BOOLEAN, True)],
                                 timestamp=int(time.time() * 1000))
        client.publish(self.params.sparkplug.node_command_topic, payload, qos=0)
