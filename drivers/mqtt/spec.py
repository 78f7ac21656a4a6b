"""Typed parameters of an MQTT broker connection and its points (no I/O here).

A device's points come either from JSON payloads on topics (``MqttPoint.topic`` and
``path``) or, when the device has a :class:`SparkplugAddress`, from the Sparkplug B
metrics of one edge node or one device behind it (``MqttPoint.metric``).
"""

from __future__ import annotations

from dataclasses import dataclass

SPARKPLUG_NAMESPACE = "spBv1.0"


@dataclass(frozen=True, slots=True)
class SparkplugAddress:
    """Where a Sparkplug B device's metrics come from.

    Attributes
    ----------
    group_id, edge_node_id : str
    device_id : str or None
        The device behind the edge node; None follows the node's own metrics (NBIRTH/NDATA).
    """

    group_id: str
    edge_node_id: str
    device_id: str | None = None

    @property
    def subscriptions(self) -> list[str]:
        """Topic filters: the node's messages and, for a device, the device's."""
        node = f"{SPARKPLUG_NAMESPACE}/{self.group_id}/+/{self.edge_node_id}"
        return [node] + ([f"{node}/{self.device_id}"] if self.device_id is not None else [])

    @property
    def node_command_topic(self) -> str:
        """NCMD of the edge node (rebirth requests)."""
        return f"{SPARKPLUG_NAMESPACE}/{self.group_id}/NCMD/{self.edge_node_id}"

    @property
    def command_topic(self) -> str:
        """DCMD of the device, or NCMD for the node's own metrics."""
        if self.device_id is None:
            return self.node_command_topic
        return f"{SPARKPLUG_NAMESPACE}/{self.group_id}/DCMD/{self.edge_node_id}/{self.device_id}"


@dataclass(frozen=True, slots=True)
class MqttPoint:
    """One value taken from messages on a topic.

    Attributes
    ----------
    name : str
    topic : str
        Topic to subscribe (wildcards ``+``/``#`` allowed; every match updates the point);
        ``""`` for a Sparkplug B point.
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
    metric : str or None
        Sparkplug B: the metric's name in the birth certificate (``"Inlet/Temperature"``).
    writable : bool
        Sparkplug B: commands go to the metric in a DCMD (NCMD for node metrics).
    """

    name: str
    topic: str = ""
    path: str = ""
    scale: float = 1.0
    command_topic: str | None = None
    retain_command: bool = False
    metric: str | None = None
    writable: bool = False


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
    sparkplug : SparkplugAddress or None
        Decode Sparkplug B (births, data, deaths) instead of JSON.
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
    sparkplug: SparkplugAddress | None = None
