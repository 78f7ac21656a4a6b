"""The point model: one value of a device, with its place in the register map.

Field names follow the YAML schema (see ``docs/configuration.md``); table, data type
and word/byte order reuse the Modbus driver's enums from :mod:`drivers.modbus.spec`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, StrictBool, model_validator

from drivers.modbus.spec import DataType, Order, Table

#: Names of devices, points, areas and nodes: no dots, because a tag is "<device>.<point>".
IDENT_PATTERN = r"^[A-Za-z0-9_\-]+$"

READ_ONLY_TABLES = frozenset({Table.DISCRETE_INPUT, Table.INPUT_REGISTER})
BIT_TABLES = frozenset({Table.COIL, Table.DISCRETE_INPUT})


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
    kind : PointKind
    table : drivers.modbus.spec.Table
    address : int
        0-based protocol address, 0..65535 (YAML accepts hex, ``0x0034``).
    type : drivers.modbus.spec.DataType
        Raw encoding; 16/32/64-bit integers and floats span 1/2/4 registers.
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
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=IDENT_PATTERN)
    description: str = ""
    unit: str = ""
    kind: PointKind
    table: Table
    address: int = Field(ge=0, le=65535)
    type: DataType
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

    @model_validator(mode="before")
    @classmethod
    def _telecontrol_is_writable(cls, data: object) -> object:
        """A telecontrol point is writable whatever ``writable`` says."""
        if isinstance(data, dict) and data.get("kind") in (PointKind.TELECONTROL, "telecontrol"):
            return {**data, "writable": True}
        return data

    @property
    def registers(self) -> int:
        """Registers (or coils/inputs for bit tables) the point occupies: 1, 2 or 4."""
        return self.type.registers

    @property
    def end_address(self) -> int:
        """Last address the point occupies (inclusive)."""
        return self.address + self.registers - 1


def point_rule_violations(point: Point) -> list[tuple[str, str]]:
    """Cross-field rules a single point must obey.

    Parameters
    ----------
    point : Point
        A point whose fields each passed validation.

    Returns
    -------
    list[tuple[str, str]]
        ``(field name, message)`` for each broken rule; empty when the point is sound.
    """
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
    if point.rollover is not None and point.kind is not PointKind.ACCUMULATOR:
        found.append(("rollover", "rollover only applies to accumulator points"))
    if point.states and point.kind not in (PointKind.TELEINDICATION, PointKind.TELECONTROL):
        found.append(("states", "states (code -> label) only apply to teleindication "
                                "and telecontrol points"))
    return found
