"""Typed parameters of an MQTT broker connection and its points (no I/O here)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MqttPoint:
    """One value taken from messages on a topic.

    Attributes
    ----------
    name : str
    topic : str
        Topic to subscribe (wildcards ``+``/``#`` allowed; every match updates the point).
    path : str
        Where the number is in the JSON payload: dot-separated keys and list
        indexes, e.g. ``"temperature.value"`` or ``"readings.0.v"``; ``""`` takes
        the whole payload (a bare JSON number).
    scale : float
        ``engineering = payload value * scale``.
    command_topic : str or None
        Writes publish the value (a JSON number) here; None makes the point read-only.
    retain_command : bool
        Publish commands retained.
    """

    name: str
    topic: str
    path: str = ""
    scale: float = 1.0
    command_topic: str | None = None
    retain_command: bool = False


@dataclass(frozen=True, slots=True)
class MqttParams:
    """Connection parameters of one MQTT device (a broker and the device's topics).

    Attributes
    ----------
    device_id : str
    host, port : str, int
    client_id : str
        Empty: one is made from the device id.
    username, password : str or None
    keepalive_s : int
    qos : int
        Subscription and command QoS, 0..2.
    stale_after_s : float or None
        A point with no message for this long becomes BAD; None never.
    timeout_s : float
        Connect and publish time limit, seconds.
    reconnect_min_s, reconnect_max_s : int
        paho-mqtt's reconnection back-off (whole seconds).
    """

    device_id: str
    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = ""
    username: str | None = None
    password: str | None = None
    keepalive_s: int = 30
    qos: int = 1
    stale_after_s: float | None = None
    timeout_s: float = 2.0
    reconnect_min_s: int = 1
    reconnect_max_s: int = 30
