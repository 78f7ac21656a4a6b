"""Sparkplug B topics and payloads (pure: bytes in, fields out).

Topic namespace (Sparkplug 3.0, chapter 4)::

    spBv1.0/<group_id>/<message type>/<edge_node_id>[/<device_id>]

Message types: NBIRTH, NDEATH, NDATA, NCMD (edge node), DBIRTH, DDEATH, DDATA, DCMD
(device behind the node), STATE (host applications).

Payloads are Protocol Buffers (proto2) of the Sparkplug B schema. The part read and
written here is declared below with protobuf's descriptor API (no generated module):

* ``Payload``: timestamp (1, uint64 ms), metrics (2), seq (3, uint64), uuid (4), body (5);
* ``Metric``: name (1), alias (2, uint64), timestamp (3), datatype (4, uint32),
  is_historical (5), is_transient (6), is_null (7) and the value, one of int_value (10,
  uint32), long_value (11, uint64), float_value (12), double_value (13), boolean_value
  (14), string_value (15), bytes_value (16).

Metadata, property sets, data sets and templates (fields 8, 9, 17-19) are not declared:
protobuf keeps them as unknown fields, and such a metric has no value here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

from drivers.mqtt.spec import SPARKPLUG_NAMESPACE as NAMESPACE

__all__ = ["NAMESPACE", "NUMERIC_TYPES", "DataType", "SparkplugError", "SpbMetric", "SpbPayload", "Topic", "decode_payload",
           "encode_payload", "parse_topic"]

MESSAGE_TYPES = frozenset({"NBIRTH", "NDEATH", "NDATA", "NCMD", "DBIRTH", "DDEATH", "DDATA", "DCMD"})


class SparkplugError(ValueError):
    """A topic or payload is not Sparkplug B; the message says why."""


class DataType(enum.IntEnum):
    """Metric data types (Sparkplug 3.0, 6.4.16) that carry a single value."""

    INT8 = 1
    INT16 = 2
    INT32 = 3
    INT64 = 4
    UINT8 = 5
    UINT16 = 6
    UINT32 = 7
    UINT64 = 8
    FLOAT = 9
    DOUBLE = 10
    BOOLEAN = 11
    STRING = 12
    DATETIME = 13
    TEXT = 14


#: datatypes whose values are numbers (Boolean as 0/1); DateTime is a time stamp, not a reading
NUMERIC_TYPES = frozenset(DataType) - {DataType.STRING, DataType.TEXT, DataType.DATETIME}
_INT32_TYPES = {DataType.INT8, DataType.INT16, DataType.INT32, DataType.UINT8, DataType.UINT16, DataType.UINT32}
_SIGNED = {DataType.INT8: 32, DataType.INT16: 32, DataType.INT32: 32, DataType.INT64: 64}
_VALUE_FIELD = {
    **{t: "int_value" for t in _INT32_TYPES},
    DataType.INT64: "long_value", DataType.UINT64: "long_value", DataType.DATETIME: "long_value",
    DataType.FLOAT: "float_value", DataType.DOUBLE: "double_value", DataType.BOOLEAN: "boolean_value",
    DataType.STRING: "string_value", DataType.TEXT: "string_value",
}


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed Sparkplug B topic; ``device_id`` is None for edge-node messages."""

    group_id: str
    message_type: str
    edge_node_id: str
    device_id: str | None = None


def parse_topic(topic: str) -> Topic:
    """Split ``spBv1.0/group/TYPE/node[/device]``.

    Raises
    ------
    SparkplugError
        Another namespace, an unknown message type, or a wrong number of levels.
    """
    levels = topic.split("/")
    if len(levels) not in (4, 5) or levels[0] != NAMESPACE:
        raise SparkplugError(f"not a Sparkplug B topic: {topic!r}")
    _, group, kind, node, *device = levels
    if kind not in MESSAGE_TYPES:
        raise SparkplugError(f"unknown Sparkplug B message type {kind!r} in {topic!r}")
    if kind.startswith("D") != bool(device):
        raise SparkplugError(f"{kind} topic {'needs' if kind.startswith('D') else 'has no'} a device id: {topic!r}")
    return Topic(group, kind, node, device[0] if device else None)


@dataclass(frozen=True, slots=True)
class SpbMetric:
    """One metric of a payload.

    Attributes
    ----------
    name : str or None
        Absent in DATA messages that use aliases.
    alias : int or None
    datatype : int or None
        A :class:`DataType` value; absent in DATA messages (known from the birth).
    value : bool, int, float, str or None
        None when ``is_null`` or when the value is of a kind not read here.
    is_null : bool
    timestamp : int or None
        Milliseconds since the epoch, UTC.
    """

    name: str | None
    alias: int | None
    datatype: int | None
    value: bool | int | float | str | None
    is_null: bool = False
    timestamp: int | None = None


@dataclass(frozen=True, slots=True)
class SpbPayload:
    """A decoded payload: ``seq`` is None where the message has none (NDEATH, commands)."""

    timestamp: int | None
    seq: int | None
    metrics: tuple[SpbMetric, ...]


def _message_classes() -> tuple[Any, Any]:
    F = descriptor_pb2.FieldDescriptorProto
    optional, repeated = F.LABEL_OPTIONAL, F.LABEL_REPEATED
    schema = descriptor_pb2.FileDescriptorProto(name="wattdesk/sparkplug_b.proto", package="wattdesk.spb",
                                                syntax="proto2")
    payload = schema.message_type.add(name="Payload")
    for name, number, kind in (("timestamp", 1, F.TYPE_UINT64), ("seq", 3, F.TYPE_UINT64),
                               ("uuid", 4, F.TYPE_STRING), ("body", 5, F.TYPE_BYTES)):
        payload.field.add(name=name, number=number, type=kind, label=optional)
    payload.field.add(name="metrics", number=2, type=F.TYPE_MESSAGE, label=repeated,
                      type_name=".wattdesk.spb.Payload.Metric")
    metric = payload.nested_type.add(name="Metric")
    metric.oneof_decl.add(name="value")
    for name, number, kind in (("name", 1, F.TYPE_STRING), ("alias", 2, F.TYPE_UINT64),
                               ("timestamp", 3, F.TYPE_UINT64), ("datatype", 4, F.TYPE_UINT32),
                               ("is_historical", 5, F.TYPE_BOOL), ("is_transient", 6, F.TYPE_BOOL),
                               ("is_null", 7, F.TYPE_BOOL)):
        metric.field.add(name=name, number=number, type=kind, label=optional)
    for name, number, kind in (("int_value", 10, F.TYPE_UINT32), ("long_value", 11, F.TYPE_UINT64),
                               ("float_value", 12, F.TYPE_FLOAT), ("double_value", 13, F.TYPE_DOUBLE),
                               ("boolean_value", 14, F.TYPE_BOOL), ("string_value", 15, F.TYPE_STRING),
                               ("bytes_value", 16, F.TYPE_BYTES)):
        metric.field.add(name=name, number=number, type=kind, label=optional, oneof_index=0)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(schema)
    payload_class = message_factory.GetMessageClass(pool.FindMessageTypeByName("wattdesk.spb.Payload"))
    return payload_class, payload_class.Metric


_Payload, _Metric = _message_classes()


def decode_payload(data: bytes) -> SpbPayload:
    """The payload's timestamp, seq and metrics (signed integers sign-extended).

    Raises
    ------
    SparkplugError
        Not a protobuf message of this schema (truncated, wrong wire types).
    """
    message = _Payload()
    try:
        message.ParseFromString(data)
    except DecodeError as exc:
        raise SparkplugError(f"payload is not Sparkplug B: {exc}") from None
    metrics = []
    for m in message.metrics:
        field = m.WhichOneof("value")
        value = None if m.is_null or field in (None, "bytes_value") else getattr(m, field)
        datatype = m.datatype if m.HasField("datatype") else None
        bits = _SIGNED.get(datatype)   # type: ignore[call-overload]
        if bits and isinstance(value, int) and not isinstance(value, bool) and value >= 1 << (bits - 1):
            value -= 1 << bits
        metrics.append(SpbMetric(m.name if m.HasField("name") else None, m.alias if m.HasField("alias") else None,
                                 datatype, value, m.is_null, m.timestamp if m.HasField("timestamp") else None))
    return SpbPayload(message.timestamp if message.HasField("timestamp") else None,
                      message.seq if message.HasField("seq") else None, tuple(metrics))


def encode_payload(metrics: list[SpbMetric], timestamp: int | None = None, seq: int | None = None) -> bytes:
    """Protobuf bytes of a payload (births give name, alias and datatype; data may give only the alias).

    Raises
    ------
    SparkplugError
        A metric without a datatype, or with a value its datatype cannot hold.
    """
    message = _Payload()
    if timestamp is not None:
        message.timestamp = timestamp
    if seq is not None:
        message.seq = seq
    for metric in metrics:
        out = message.metrics.add()
        if metric.name is not None:
            out.name = metric.name
        if metric.alias is not None:
            out.alias = metric.alias
        if metric.timestamp is not None:
            out.timestamp = metric.timestamp
        if metric.datatype is None:
            raise SparkplugError(f"metric {metric.name or metric.alias}: datatype needed to encode its value")
        out.datatype = metric.datatype
        if metric.value is None or metric.is_null:
            out.is_null = True
            continue
        try:
            datatype = DataType(metric.datatype)
        except ValueError:
            raise SparkplugError(f"metric {metric.name or metric.alias}: datatype {metric.datatype} "
                                 "carries no single value") from None
        value: Any = metric.value
        if datatype in _SIGNED and value < 0:
            value += 1 << _SIGNED[datatype]
        try:
            setattr(out, _VALUE_FIELD[datatype], value)
        except (TypeError, ValueError) as exc:
            raise SparkplugError(f"metric {metric.name or metric.alias}: {value!r} is not a {datatype.name}: "
                                 f"{exc}") from None
    return message.SerializeToString()
