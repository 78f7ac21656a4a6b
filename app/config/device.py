"""The device model: connection, scan settings and resolved points of one field device."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, PrivateAttr

from app.config.alarm_rules import AlarmRule
from app.config.point import IDENT_PATTERN, Category, Finite, Medium, Point
from drivers.modbus.spec import ModbusParams, ModbusPoint


class Protocol(str, enum.Enum):
    """Wire protocol of a device."""

    MODBUS_TCP = "modbus_tcp"
    MODBUS_RTU = "modbus_rtu"


def _freeze_ratings(mapping: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping))


#: Nameplate values (``In_A``, ``Pn_kW``, ``residual_mA`` ...): name -> number, read-only.
Ratings = Annotated[Mapping[str, Finite], AfterValidator(_freeze_ratings), PlainSerializer(dict)]


class Device(BaseModel):
    """One field device with its template points merged in.

    Attributes
    ----------
    id : str
        Unique in the site; first half of every tag of the device.
    name : str
        Display name.
    area : str
        Id of the area the device sits in.
    protocol : Protocol
    host : str | None
        IP address or host name (``modbus_tcp``).
    port : int
        TCP port, 1..65535 (default 502).
    serial_port : str | None
        Serial device, e.g. ``/dev/ttyUSB0`` or ``COM3`` (``modbus_rtu``).
    baudrate : int
        Bits per second (RTU).
    parity : {"N", "E", "O"}
    stopbits : {1, 2}
    bytesize : {7, 8}
    unit_id : int
        Modbus unit (slave) id, 0..255 (RTU: 1..247).
    scan_interval_s : float
        Seconds between scans, > 0.
    timeout_s : float
        Seconds to wait for one reply, > 0 (may exceed the scan interval).
    retries : int
        Extra attempts after a timeout, >= 0.
    max_block_registers : int
        Largest register block one request may read, 1..125.
    max_gap : int
        Unused registers a block may span to join two points, >= 0.
    template : str | None
        Name of the template the points came from.
    category : Category
        Default energy sub-item of the points.
    medium : Medium
        Default medium of the points.
    ratings : Mapping[str, float]
        Template defaults overridden by the device's own values.
    points : tuple[Point, ...]
        Template points with the device's overrides, then the device's own points.
    alarms : tuple[AlarmRule, ...]
        Enabled alarm rules (template rules with the device's overrides, then its own),
        limits resolved against :attr:`ratings`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=IDENT_PATTERN)
    name: str = ""
    area: str
    protocol: Protocol
    host: str | None = None
    port: int = Field(default=502, ge=1, le=65535)
    serial_port: str | None = None
    baudrate: int = Field(default=9600, gt=0)
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    bytesize: Literal[7, 8] = 8
    unit_id: int = Field(default=1, ge=0, le=255)
    scan_interval_s: Finite = Field(default=5.0, gt=0.0)
    timeout_s: Finite = Field(default=1.0, gt=0.0)
    retries: int = Field(default=1, ge=0)
    max_block_registers: int = Field(default=125, ge=1, le=125)
    max_gap: int = Field(default=10, ge=0)
    template: str | None = Field(default=None, pattern=IDENT_PATTERN)
    category: Category = Category.POWER
    medium: Medium = Medium.ELECTRICITY
    ratings: Ratings = Field(default_factory=dict)
    points: tuple[Point, ...] = ()
    alarms: tuple[AlarmRule, ...] = ()

    _by_name: dict[str, Point] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: object, /) -> None:
        """Index the points by name."""
        self._by_name = {p.name: p for p in self.points}

    def point(self, name: str) -> Point:
        """The point called ``name``.

        Raises
        ------
        KeyError
            If the device has no such point.
        """
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"device {self.id!r} has no point {name!r}") from None

    def tag(self, point_name: str) -> str:
        """``"<device id>.<point name>"`` of one of this device's points.

        Raises
        ------
        KeyError
            If the device has no such point.
        """
        return f"{self.id}.{self.point(point_name).name}"

    def modbus(self) -> tuple[ModbusParams, list[ModbusPoint]]:
        """The driver's view of this device.

        Returns
        -------
        tuple[ModbusParams, list[ModbusPoint]]
            Connection parameters (TCP when ``protocol`` is modbus_tcp, else RTU on
            ``serial_port``) and one :class:`~drivers.modbus.spec.ModbusPoint` per
            point, in point order.
        """
        tcp = self.protocol is Protocol.MODBUS_TCP
        params = ModbusParams(
            device_id=self.id,
            unit_id=self.unit_id,
            host=self.host or "127.0.0.1",
            port=self.port,
            serial_port=None if tcp else self.serial_port,
            baudrate=self.baudrate,
            parity=self.parity,
            stopbits=self.stopbits,
            bytesize=self.bytesize,
            timeout_s=self.timeout_s,
            retries=self.retries,
            max_block_registers=self.max_block_registers,
            max_gap=self.max_gap,
        )
        points = [
            ModbusPoint(name=p.name, table=p.table, address=p.address, dtype=p.type,
                        word_order=p.word_order, byte_order=p.byte_order, scale=p.scale,
                        offset=p.offset, bit=p.bit, writable=p.writable)
            for p in self.points
        ]
        return params, points
