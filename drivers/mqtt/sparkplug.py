"""Sparkplug B host-side state of one edge node's device (or the node's own metrics).

:class:`SparkplugTracker` follows the messages of one edge node (Sparkplug 3.0, chapter 5):

* NBIRTH starts a session: ``seq`` 0, the ``bdSeq`` metric names the session; the node's
  metrics are defined with name, alias and datatype.
* DBIRTH defines the device's metrics the same way; NDATA/DDATA then carry changed metrics,
  often by alias alone.
* every message of the node after NBIRTH carries ``seq`` one more than the last (mod 256);
  a gap means lost messages.
* DDEATH: the device is offline. NDEATH (the node's MQTT will, or sent before a clean
  disconnect) with the session's ``bdSeq``: the node and all its devices are offline; an
  NDEATH with another ``bdSeq`` is a stale will of an earlier session and is ignored.

The tracker never talks to the broker: :meth:`~SparkplugTracker.handle` returns the new
state of the followed metrics and whether a rebirth should be requested (data with no
birth to decode it, a ``seq`` gap, an unknown alias); the driver publishes the NCMD.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.mqtt.sparkplug_codec import NUMERIC_TYPES, DataType, SpbPayload, Topic, decode_payload
from drivers.mqtt.spec import SparkplugAddress

__all__ = ["REBIRTH_METRIC", "MetricState", "Outcome", "SparkplugTracker"]

#: the edge node's control metric a host sets to true in an NCMD to ask for NBIRTH + DBIRTHs again
REBIRTH_METRIC = "Node Control/Rebirth"


@dataclass(frozen=True, slots=True)
class MetricState:
    """A followed metric: ``value`` as a number when ``reason`` is empty, else why not."""

    value: float | None
    reason: str = ""


@dataclass(slots=True)
class Outcome:
    """What one message changed: metric name -> state, and whether to request a rebirth (why)."""

    metrics: dict[str, MetricState] = field(default_factory=dict)
    rebirth: str = ""


class SparkplugTracker:
    """Session, sequence and alias state of one edge node, for the metrics of ``address``.

    Parameters
    ----------
    address : SparkplugAddress
    metrics : iterable of str
        Names of the metrics followed (as in the birth certificates).
    """

    def __init__(self, address: SparkplugAddress, metrics: list[str]) -> None:
        self.address = address
        self.followed = set(metrics)
        self.bd_seq: int | None = None         # session of the last NBIRTH
        self._seq: int | None = None           # last seq seen from the node
        self.aliases: dict[int, str] = {}      # alias -> metric name (from our device's birth)
        self.datatypes: dict[str, int] = {}    # metric name -> datatype (for commands)
        self.born = False                       # the followed device (or node) has a live birth

    def handle(self, topic: Topic, data: bytes) -> Outcome:
        """Apply one message of the edge node (any of its devices).

        Raises
        ------
        drivers.mqtt.sparkplug_codec.SparkplugError
            The payload is not Sparkplug B (the caller reports it on the followed metrics).
        """
        if topic.group_id != self.address.group_id or topic.edge_node_id != self.address.edge_node_id:
            return Outcome()
        kind = topic.message_type
        if kind in ("NCMD", "DCMD"):
            return Outcome()
        payload = decode_payload(data)
        if kind == "NDEATH":
            return self._node_death(payload)
        outcome = Outcome(rebirth=self._sequence(kind, payload))
        ours = topic.device_id == self.address.device_id
        if not ours:
            return outcome
        if kind in ("NBIRTH", "DBIRTH"):
            self._birth(payload, outcome)
        elif kind in ("NDATA", "DDATA"):
            self._data(payload, outcome)
        elif kind == "DDEATH":
            self.born = False
            where = f"device {self.address.device_id} of edge node {self.address.edge_node_id}"
            outcome.metrics = {name: MetricState(None, f"{where} offline (DDEATH)") for name in self.followed}
        return outcome

    def _sequence(self, kind: str, payload: SpbPayload) -> str:
        """Track ``seq``; the reason to request a rebirth, or ``""``."""
        if kind == "NBIRTH":
            self.bd_seq = next((int(m.value) for m in payload.metrics
                                if m.name == "bdSeq" and isinstance(m.value, int)), None)
            self._seq = payload.seq
            self.aliases, self.datatypes = {}, {}
            if self.address.device_id is not None:
                self.born = False   # the device's DBIRTH follows
            return ""
        if self._seq is None:
            return f"{kind} before any NBIRTH of edge node {self.address.edge_node_id}"
        last, self._seq = self._seq, payload.seq
        if payload.seq != (last + 1) % 256:
            return f"seq {payload.seq} after {last}: messages lost"
        return ""

    def _node_death(self, payload: SpbPayload) -> Outcome:
        bd_seq = next((int(m.value) for m in payload.metrics if m.name == "bdSeq" and isinstance(m.value, int)), None)
        if self.bd_seq is not None and bd_seq is not None and bd_seq != self.bd_seq:
            return Outcome()   # the will of an earlier session
        self.born = False
        self._seq = None
        reason = f"edge node {self.address.edge_node_id} offline (NDEATH)"
        return Outcome({name: MetricState(None, reason) for name in self.followed})

    def _birth(self, payload: SpbPayload, outcome: Outcome) -> None:
        self.born = True
        self.aliases = {m.alias: m.name for m in payload.metrics if m.alias is not None and m.name}
        self.datatypes = {m.name: m.datatype for m in payload.metrics if m.name and m.datatype is not None}
        for metric in payload.metrics:
            if metric.name in self.followed:
                outcome.metrics[metric.name] = _state(metric.name, self.datatypes.get(metric.name), metric.value,
                                                      metric.is_null)
        kind = "DBIRTH" if self.address.device_id is not None else "NBIRTH"
        for name in self.followed - set(self.datatypes):
            outcome.metrics[name] = MetricState(None, f"metric {name!r} not in the {kind}")

    def _data(self, payload: SpbPayload, outcome: Outcome) -> None:
        if not self.born:
            outcome.rebirth = outcome.rebirth or "data before the birth that defines its metrics"
            return
        for metric in payload.metrics:
            name = metric.name or self.aliases.get(metric.alias)  # type: ignore[arg-type]
            if name is None:
                outcome.rebirth = outcome.rebirth or f"unknown alias {metric.alias}"
                continue
            if name in self.followed:
                outcome.metrics[name] = _state(name, self.datatypes.get(name), metric.value, metric.is_null)


def _state(name: str, datatype: int | None, value: object, is_null: bool) -> MetricState:
    if is_null:
        return MetricState(None, f"metric {name!r} is null")
    if datatype not in NUMERIC_TYPES or value is None or isinstance(value, str):
        kind = DataType(datatype).name if datatype in {t.value for t in DataType} else f"datatype {datatype}"
        return MetricState(None, f"metric {name!r} is {kind}, not a number")
    return MetricState(float(value))  # type: ignore[arg-type]

