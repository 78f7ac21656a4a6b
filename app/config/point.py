"""The point model: one value of a device, with its address in the device's protocol.

Field names follow the YAML schema (see ``docs/configuration.md``); table, data type
and word/byte order reuse the Modbus driver's enums from :mod:`drivers.modbus.spec`.
A point is addressed in exactly one protocol family (:data:`ADDRESS_FIELDS`): a Modbus
register (``table``, ``address``, ``type``), a BACnet object (``object``), an OPC UA
node (``node``), a DL/T 645 data identifier (``di``) or an MQTT topic (``topic``).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, StrictBool, model_validator

from app.config.language import pick
from drivers.bacnet.spec import ObjectType
from drivers.dlt645.catalog import lookup
from drivers.dlt645.codec import Version, format_size
from drivers.modbus.spec import DataType, Order, Table
from drivers.opcua.spec import DeadbandType

#: Names of devices, points, areas and nodes: no dots, because a tag is "<device>.<point>".
IDENT_PATTERN = r"^[A-Za-z0-9_\-]+$"

READ_ONLY_TABLES = frozenset({Table.DISCRETE_INPUT, Table.INPUT_REGISTER})
BIT_TABLES = frozenset({Table.COIL, Table.DISCRETE_INPUT})

#: Protocol family -> the point fields that address a point in it (the first one names the family
#: in messages). A point uses the fields of exactly one family.
ADDRESS_FIELDS: dict[str, tuple[str, ...]] = {
    "modbus": ("table", "address", "type", "bit", "word_order", "byte_order", "offset"),
    "bacnet": ("object", "priority"),
    "opcua": ("node", "sampling_interval_s", "deadband_type"),
    "dlt645": ("di", "format", "signed", "index"),
    "mqtt": ("topic", "metric", "path", "command_topic", "retain_command"),
}
#: how many leading fields of each family's :data:`ADDRESS_FIELDS` entry select the family
_KEY_FIELDS = {"modbus": 3, "bacnet": 1, "opcua": 1, "dlt645": 1, "mqtt": 2}
#: Families whose drivers apply ``scale`` (``engineering = raw * scale``, plus ``offset`` for Modbus).
SCALED_FAMILIES = frozenset({"modbus", "dlt645", "mqtt"})
#: BACnet object types as written in a point's ``object`` (``"analog-input:3"``).
BACNET_OBJECT_TYPES = tuple(t.value for t in ObjectType)
#: BACnet object types an operator may command (present value has a priority array or is writable).
BACNET_COMMANDABLE = frozenset(t.value for t in ObjectType if not t.value.endswith("-input"))


class PointKind(str, enum.Enum):
    """What a point means to the operator."""

    TELEMETRY = "telemetry"            # measured analogue value (V, A, kW, °C ...)
    TELEINDICATION = "teleindication"  # state / status code (open/closed, trip cause, mode)
    TELECONTROL = "telecontrol"        # command written to the device
    ACCUMULATOR = "accumulator"        # counter that only grows (kWh, m³), may wrap


class Category(str, enum.Enum):
    """Energy sub-item (分项) a point's consumption counts towards."""

    LIGHTING_SOCKETS = "lighting_sockets"
    HVAC = "hvac"
    POWER = "power"
    SPECIAL = "special"


class Medium(str, enum.Enum):
    """The energy or utility medium a point measures."""

    ELECTRICITY = "electricity"
    WATER = "water"
    GAS = "gas"
    HEAT = "heat"
    COOLING = "cooling"


def _freeze(mapping: Mapping[int, str]) -> Mapping[int, str]:
    return MappingProxyType(dict(mapping))


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Finite = Annotated[float, AfterValidator(_finite)]
FrozenStates = Annotated[Mapping[int, str], AfterValidator(_freeze), PlainSerializer(dict)]


class Point(BaseModel):
    """One point of a device.

    Attributes
    ----------
    name : str
        Unique within its device; the tag is ``"<device id>.<name>"``.
    description, unit : str
        Free text; ``unit`` is the engineering unit (``"kW"``, ``"m³"``, ``""`` for none).
        ``description`` is the operator's English name of the point (``"Phase A current"``).
    description_zh : str
        The same in Chinese (``"A相电流"``); empty falls back to ``description``
        (see :meth:`describe`).
    kind : PointKind
    table : drivers.modbus.spec.Table | None
        Modbus: the register table (None for other protocols).
    address : int | None
        Modbus: 0-based protocol address, 0..65535 (YAML accepts hex, ``0x0034``).
    type : drivers.modbus.spec.DataType | None
        Modbus: raw encoding; 16/32/64-bit integers and floats span 1/2/4 registers.
    bit : int | None
        0..15, the bit of a 16-bit register for ``type: bit`` on a register table.
    word_order, byte_order : drivers.modbus.spec.Order
        Register order of multi-register values, byte order inside a register.
    scale, offset : float
        ``engineering = raw * scale + offset``.
    deadband : float
        Smallest change (engineering units, >= 0) worth reporting.
    category : Category | None
        Energy sub-item; ``None`` only before the device default is applied.
    medium : Medium | None
        Measured medium; ``None`` only before the device default is applied.
    states : Mapping[int, str]
        Code -> label for teleindication/telecontrol values (read-only mapping).
    rollover : float | None
        For accumulators: the engineering value at which the counter wraps to 0.
    writable : bool
        True for telecontrol points (always) or other points an operator may set.
    object : str | None
        BACnet: ``"<object type>:<instance>"``, e.g. ``"analog-value:3"``.
    priority : int | None
        BACnet: command priority 1..16 of a writable point (default 8, manual operator).
    node : str | None
        OPC UA: node id, e.g. ``"ns=2;s=PumpStation.Pump1.Power"`` or ``"nsu=urn:x;s=..."``.
    sampling_interval_s : float | None
        OPC UA: requested sampling interval of the monitored item, seconds (> 0).
    deadband_type : drivers.opcua.spec.DeadbandType | None
        OPC UA: ``absolute`` or ``percent`` makes ``deadband`` the server's data-change
        filter too; default ``none`` (the deadband is applied by WattDesk only).
    di : int | None
        DL/T 645: data identifier, e.g. ``0x00010000`` (2007) or ``0x9010`` (1997).
    format : str | None
        DL/T 645: BCD format (``"XXXXXX.XX"``) of a data identifier not in the catalogue.
    signed : bool | None
        DL/T 645: sign in the top bit (default: the catalogue's, else unsigned).
    index : int | None
        DL/T 645: which value of a block or record, 0-based (default 0).
    topic : str | None
        MQTT: topic to subscribe (``+``/``#`` wildcards allowed).
    path : str | None
        MQTT: dot-separated keys/list indexes of the number in the JSON payload
        (default ``""``: the payload is a bare number).
    command_topic : str | None
        MQTT: writes publish the value here (a writable MQTT point needs it).
    retain_command : bool | None
        MQTT: publish commands retained (default false).
    metric : str | None
        MQTT with Sparkplug B: the metric's name in the birth certificate (instead of
        ``topic``/``path``); a writable point is commanded by DCMD.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=IDENT_PATTERN)
    description: str = ""
    description_zh: str = ""
    unit: str = ""
    kind: PointKind
    table: Table | None = None
    address: int | None = Field(default=None, ge=0, le=65535)
    type: DataType | None = None
    bit: int | None = Field(default=None, ge=0, le=15)
    word_order: Order = Order.BIG
    byte_order: Order = Order.BIG
    scale: Finite = 1.0
    offset: Finite = 0.0
    deadband: Finite = Field(default=0.0, ge=0.0)
    category: Category | None = None
    medium: Medium | None = None
    states: FrozenStates = Field(default_factory=dict)
    rollover: Finite | None = Field(default=None, gt=0.0)
    writable: StrictBool = False
    object: str | None = Field(default=None, pattern=r"^[a-z\-]+:[0-9]+$")
    priority: int | None = Field(default=None, ge=1, le=16)
    node: str | None = Field(default=None, min_length=1)
    sampling_interval_s: Finite | None = Field(default=None, gt=0.0)
    deadband_type: DeadbandType | None = None
    di: int | None = Field(default=None, ge=0, le=0xFFFFFFFF)
    format: str | None = Field(default=None, pattern=r"^X+(\.X+)?$")
    signed: StrictBool | None = None
    index: int | None = Field(default=None, ge=0)
    topic: str | None = Field(default=None, min_length=1)
    path: str | None = None
    command_topic: str | None = Field(default=None, min_length=1)
    retain_command: StrictBool | None = None
    metric: str | None = Field(default=None, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _telecontrol_is_writable(cls, data: object) -> object:
        """A telecontrol point is writable whatever ``writable`` says."""
        if isinstance(data, dict) and data.get("kind") in (PointKind.TELECONTROL, "telecontrol"):
            return {**data, "writable": True}
        return data

    def describe(self, language: str) -> str:
        """The operator's name of the point in ``language`` (``"zh_CN"``/``"en"``); empty if none is set."""
        return pick(self.description, self.description_zh, language)

    @property
    def family(self) -> str | None:
        """Protocol family of the point's address (a key of :data:`ADDRESS_FIELDS`).

        The family of the first address field that is set (``table``/``address``/``type``
        for Modbus, ``object``, ``node``, ``di``, ``topic``/``metric``); None when none is.
        """
        given = self.model_fields_set
        for family, fields in ADDRESS_FIELDS.items():
            if any(f in given and getattr(self, f) is not None for f in fields[:_KEY_FIELDS[family]]):
                return family
        return None

    @property
    def registers(self) -> int:
        """Registers (or coils/inputs for bit tables) the point occupies: 1, 2 or 4 (Modbus)."""
        return self.type.registers if self.type is not None else 1

    @property
    def end_address(self) -> int:
        """Last address the point occupies (inclusive, Modbus)."""
        return (self.address or 0) + self.registers - 1

    @property
    def bacnet_object(self) -> tuple[ObjectType, int]:
        """BACnet object type and instance from ``object``.

        Raises
        ------
        ValueError
            ``object`` is missing or not ``"<object type>:<instance>"``.
        """
        kind, _, instance = (self.object or "").partition(":")
        return ObjectType(kind), int(instance)


#: Protocol family -> name used in messages
FAMILY_LABELS = {"modbus": "Modbus", "bacnet": "BACnet", "opcua": "OPC UA", "dlt645": "DL/T 645",
                 "mqtt": "MQTT"}
_NO_ADDRESS = ("a point needs an address: table, address and type (Modbus), object (BACnet), "
               "node (OPC UA), di (DL/T 645), topic or metric (MQTT)")
_BACNET_MAX_INSTANCE = 4194302


def point_rule_violations(point: Point) -> list[tuple[str, str]]:
    """Cross-field rules a single point must obey.

    Parameters
    ----------
    point : Point
        A point whose fields each passed validation.

    Returns
    -------
    list[tuple[str, str]]
        ``(field name, message)`` for each broken rule (field ``""`` for the whole
        point); empty when the point is sound.
    """
    given = point.model_fields_set
    families = [f for f, fields in ADDRESS_FIELDS.items()
                if any(k in given and getattr(point, k) is not None for k in fields[:_KEY_FIELDS[f]])]
    if not families:
        return [("", _NO_ADDRESS)]
    family = families[0]
    if len(families) > 1:
        other = families[1]
        return [(ADDRESS_FIELDS[other][0], f"a point is addressed in one protocol: it has {FAMILY_LABELS[family]} "
                                           f"and {FAMILY_LABELS[other]} address fields")]
    found: list[tuple[str, str]] = [
        (f, f"'{f}' applies to {FAMILY_LABELS[other]} points, not to this {FAMILY_LABELS[family]} point")
        for other, fields in ADDRESS_FIELDS.items() if other != family
        for f in fields if f in given and getattr(point, f) is not None]
    if family not in SCALED_FAMILIES and "scale" in given and point.scale != 1.0:
        found.append(("scale", f"{FAMILY_LABELS[family]} values are taken as the device gives them: "
                               "'scale' is not applied"))
    if family == "modbus":
        missing = [f for f in ("table", "address", "type") if getattr(point, f) is None]
        found += [(f, "required field is missing (a Modbus point needs table, address and type)")
                  for f in missing]
        if not missing:
            found += _modbus_violations(point)
    elif family == "bacnet":
        found += _bacnet_violations(point)
    elif family == "dlt645" and point.writable:
        found.append(("kind" if point.kind is PointKind.TELECONTROL else "writable",
                      "DL/T 645 meter points are read-only"))
    elif family == "mqtt" and point.metric is not None:
        found += [(f, f"'{f}' applies to JSON topics, not to a Sparkplug B metric")
                  for f in ("topic", "path", "command_topic", "retain_command") if getattr(point, f) is not None]
    elif family == "mqtt" and point.writable and point.command_topic is None:
        found.append(("command_topic", "a writable MQTT point needs 'command_topic' to publish commands to"))
    if point.rollover is not None and point.kind is not PointKind.ACCUMULATOR:
        found.append(("rollover", "rollover only applies to accumulator points"))
    if point.states and point.kind not in (PointKind.TELEINDICATION, PointKind.TELECONTROL):
        found.append(("states", "states (code -> label) only apply to teleindication "
                                "and telecontrol points"))
    return found


def _bacnet_violations(point: Point) -> list[tuple[str, str]]:
    """Object type, instance and commandability of a BACnet point."""
    kind, _, instance = (point.object or "").partition(":")
    if kind not in BACNET_OBJECT_TYPES:
        return [("object", f"unknown BACnet object type {kind!r} (one of {', '.join(BACNET_OBJECT_TYPES)})")]
    if int(instance) > _BACNET_MAX_INSTANCE:
        return [("object", f"BACnet object instance {instance} outside 0..{_BACNET_MAX_INSTANCE}")]
    if point.writable and kind not in BACNET_COMMANDABLE:
        field = "kind" if point.kind is PointKind.TELECONTROL else "writable"
        return [(field, f"a BACnet {kind} cannot be commanded: use an output or value object")]
    return []


def _modbus_violations(point: Point) -> list[tuple[str, str]]:
    """Table, type, bit and range rules of a Modbus point (table, address and type given)."""
    assert point.table is not None and point.type is not None and point.address is not None
    found: list[tuple[str, str]] = []
    if point.table in BIT_TABLES:
        if point.type is not DataType.BIT:
            found.append(("type", f"a {point.table.value} holds single bits: type must be 'bit', "
                                  f"not '{point.type.value}'"))
        if point.bit is not None:
            found.append(("bit", f"'bit' selects a bit inside a register; a {point.table.value} "
                                 "is already one bit"))
    elif point.type is DataType.BIT and point.bit is None:
        found.append(("bit", f"type 'bit' on a {point.table.value} needs 'bit' (0-15)"))
    elif point.type is not DataType.BIT and point.bit is not None:
        found.append(("bit", f"'bit' is only allowed with type 'bit', not with "
                             f"{point.type.value} ({point.registers * 16}-bit)"))
    if point.end_address > 65535:
        found.append(("address", f"address {point.address} + {point.registers} registers "
                                 f"of {point.type.value} runs past 65535"))
    if point.table in READ_ONLY_TABLES and (point.writable or point.kind is PointKind.TELECONTROL):
        field = "writable" if point.writable and point.kind is not PointKind.TELECONTROL else "kind"
        found.append((field, f"{point.table.value} is read-only: a point there cannot be "
                             f"{'telecontrol' if field == 'kind' else 'writable'}"))
    return found


def dlt645_point_problem(version: Version, di: int, fmt: str | None) -> str | None:
    """What is wrong with a DL/T 645 data identifier for a meter of ``version``, or None.

    The identifier must fit the edition (4 bytes for 2007, 2 for 1997), and its BCD format
    must be known: given as ``format`` or found in :mod:`drivers.dlt645.catalog`.
    """
    limit = 1 << (8 * version.di_size)
    if di >= limit:
        return f"data identifier 0x{di:X} does not fit DL/T 645-{version.value} ({version.di_size} bytes)"
    if fmt is None and lookup(version, di) is None:
        return (f"data identifier 0x{di:X} is not in the DL/T 645-{version.value} catalogue: "
                "give its BCD 'format', e.g. XXXXXX.XX")
    if fmt is not None:
        try:
            format_size(fmt)
        except ValueError as exc:
            return f"format {fmt!r}: {exc}"
    return None
