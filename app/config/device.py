"""The device model: connection, scan settings and resolved points of one field device.

One flat model serves every protocol; :data:`PROTOCOL_FIELDS` says which connection
fields apply to which protocol (the loader reports any other as a problem), and
:data:`PROTOCOL_DEFAULTS` gives the defaults that differ by protocol (port, line
settings, time-out). ``Device.modbus()``, ``.bacnet()``, ``.opcua()``, ``.dlt645()`` and
``.mqtt()`` give each driver its typed parameters and points.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import (
    AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, PrivateAttr, StrictBool, field_validator,
    model_validator,
)

from app.config.alarm_rules import AlarmRule
from app.config.notifications import KeyringRef
from app.config.point import IDENT_PATTERN, Category, Finite, Medium, Point
from drivers.bacnet.spec import BacnetParams, BacnetPoint
from drivers.dlt645.codec import Version
from drivers.dlt645.spec import Dlt645Params, Dlt645Point
from drivers.modbus.spec import ModbusParams, ModbusPoint
from drivers.mqtt.spec import MqttParams, MqttPoint, SparkplugAddress
from drivers.opcua.spec import AcquisitionMode, DeadbandType, OpcUaParams, OpcUaPoint, SecurityMode


class Protocol(str, enum.Enum):
    """Wire protocol of a device."""

    MODBUS_TCP = "modbus_tcp"
    MODBUS_RTU = "modbus_rtu"
    BACNET_IP = "bacnet_ip"
    OPC_UA = "opc_ua"
    DLT645 = "dlt645"
    MQTT = "mqtt"

    @property
    def family(self) -> str:
        """The point address family of the protocol (a key of :data:`app.config.point.ADDRESS_FIELDS`)."""
        return _FAMILIES[self.value]


_FAMILIES = {"modbus_tcp": "modbus", "modbus_rtu": "modbus", "bacnet_ip": "bacnet", "opc_ua": "opcua",
             "dlt645": "dlt645", "mqtt": "mqtt"}

#: Fields every device may set, whatever its protocol.
COMMON_FIELDS = frozenset({"id", "name", "area", "protocol", "scan_interval_s", "timeout_s", "template",
                           "category", "medium", "ratings", "points", "alarms"})
#: Connection fields that apply to each protocol (on top of :data:`COMMON_FIELDS`).
PROTOCOL_FIELDS: dict[Protocol, frozenset[str]] = {
    Protocol.MODBUS_TCP: frozenset({"host", "port", "unit_id", "retries", "max_block_registers", "max_gap"}),
    Protocol.MODBUS_RTU: frozenset({"serial_port", "baudrate", "parity", "stopbits", "bytesize", "unit_id",
                                    "retries", "max_block_registers", "max_gap"}),
    Protocol.BACNET_IP: frozenset({"host", "port", "device_instance", "cov", "cov_lifetime_s", "local_address",
                                   "local_instance"}),
    Protocol.OPC_UA: frozenset({"endpoint", "port", "security", "certificate", "private_key", "server_certificate",
                                "application_uri", "username", "password", "mode", "publishing_interval_s"}),
    Protocol.DLT645: frozenset({"meter", "version", "host", "port", "serial_port", "baudrate", "parity",
                                "retries", "silence_s"}),
    Protocol.MQTT: frozenset({"host", "port", "client_id", "username", "password", "keepalive_s", "qos",
                              "stale_after_s", "topic_prefix", "sparkplug"}),
}
#: Defaults that differ by protocol, applied where the device does not set the field.
PROTOCOL_DEFAULTS: dict[str, dict[str, object]] = {
    "bacnet_ip": {"port": 47808, "timeout_s": 2.0},
    "opc_ua": {"timeout_s": 2.0},
    "dlt645": {"port": 8899, "baudrate": 2400, "parity": "E"},
    "mqtt": {"port": 1883, "timeout_s": 2.0},
}


_TOPIC_LEVEL = r"^[^/+#\s]+$"


class SparkplugSource(BaseModel):
    """MQTT device fed by Sparkplug B: the edge node and (optionally) the device behind it.

    Attributes
    ----------
    group_id, edge_node_id : str
        Sparkplug B group and edge node ids (one topic level each).
    device_id : str | None
        The device behind the node; absent: the node's own metrics (NBIRTH/NDATA).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    group_id: str = Field(pattern=_TOPIC_LEVEL)
    edge_node_id: str = Field(pattern=_TOPIC_LEVEL)
    device_id: str | None = Field(default=None, pattern=_TOPIC_LEVEL)


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
        IP address or host name (``modbus_tcp``, ``bacnet_ip``, ``mqtt`` broker, ``dlt645``
        serial-to-TCP gateway).
    port : int
        TCP/UDP port, 1..65535 (default 502; BACnet 47808, DL/T 645 gateway 8899, MQTT 1883;
        OPC UA: the endpoint's).
    serial_port : str | None
        Serial device, e.g. ``/dev/ttyUSB0`` or ``COM3`` (``modbus_rtu``, ``dlt645`` on RS-485).
    baudrate : int
        Bits per second (serial; default 9600, DL/T 645 2400).
    parity : {"N", "E", "O"}
        Serial parity (default N, DL/T 645 E).
    stopbits : {1, 2}
    bytesize : {7, 8}
    unit_id : int
        Modbus unit (slave) id, 0..255 (RTU: 1..247).
    scan_interval_s : float
        Seconds between scans, > 0.
    timeout_s : float
        Seconds to wait for one reply, > 0 (may exceed the scan interval); default 1,
        BACnet, OPC UA and MQTT 2.
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
    device_instance : int | None
        BACnet: device object instance, checked by a directed Who-Is on connect.
    cov : bool
        BACnet: subscribe to change of value where the device supports it (else poll).
    cov_lifetime_s : int
        BACnet: COV subscription lifetime, seconds.
    local_address : str
        BACnet: our own BACnet/IP port ``"ip/prefix:port"``; devices naming the same one
        share it.
    local_instance : int
        BACnet: our own device object instance.
    endpoint : str | None
        OPC UA: ``"opc.tcp://host:port/path"``.
    security : drivers.opcua.spec.SecurityMode
        OPC UA: ``none`` (lab use), ``sign`` or ``sign_and_encrypt`` (Basic256Sha256).
    certificate, private_key, server_certificate : str | None
        OPC UA: client certificate and key (needed for sign/sign_and_encrypt), pinned server
        certificate; relative paths are resolved against the site file's directory.
    application_uri : str
        OPC UA: our application URI (the certificate's subject alternative name).
    username : str | None
        OPC UA / MQTT: user name; anonymous when absent.
    password : KeyringRef | None
        OPC UA / MQTT: where the password is kept in the OS keyring (never in the file).
    mode : drivers.opcua.spec.AcquisitionMode
        OPC UA: ``poll`` or ``subscribe`` (monitored items; refused nodes are polled).
    publishing_interval_s : float
        OPC UA: subscription publishing interval, seconds.
    meter : str | None
        DL/T 645: meter number (address), 1-12 digits.
    version : drivers.dlt645.codec.Version
        DL/T 645: the edition the meter speaks, ``2007`` (default) or ``1997`` (quoted or not).
    silence_s : float
        DL/T 645: quiet line required after a time-out before the next request, seconds.
    client_id : str
        MQTT: client id; empty makes one from the device id.
    keepalive_s : int
        MQTT: keep-alive, seconds.
    qos : int
        MQTT: subscription and command QoS, 0..2.
    stale_after_s : float | None
        MQTT: a point with no message for this long becomes BAD; never when absent.
    topic_prefix : str
        MQTT: put before every point's ``topic`` and ``command_topic`` with a ``/`` (a
        template's points name topics under the device's own base topic).
    sparkplug : SparkplugSource | None
        MQTT: decode Sparkplug B from this edge node (and device) instead of JSON topics;
        the points then name a ``metric`` each.
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
    device_instance: int | None = Field(default=None, ge=0, le=4194302)
    cov: StrictBool = True
    cov_lifetime_s: int = Field(default=300, gt=0)
    local_address: str = Field(default="0.0.0.0/0:47808", pattern=r"^[^:/\s]+(/[0-9]{1,2})?:[0-9]{1,5}$")
    local_instance: int = Field(default=4194300, ge=0, le=4194302)
    endpoint: str | None = Field(default=None, pattern=r"^opc\.tcp://\S+$")
    security: SecurityMode = SecurityMode.NONE
    certificate: str | None = Field(default=None, min_length=1)
    private_key: str | None = Field(default=None, min_length=1)
    server_certificate: str | None = Field(default=None, min_length=1)
    application_uri: str = Field(default="urn:wattdesk:client", min_length=1)
    username: str | None = Field(default=None, min_length=1)
    password: KeyringRef | None = None
    mode: AcquisitionMode = AcquisitionMode.POLL
    publishing_interval_s: Finite = Field(default=0.5, gt=0.0)
    meter: str | None = Field(default=None, pattern=r"^[0-9]{1,12}$")
    version: Version = Version.V2007
    silence_s: Finite = Field(default=0.2, ge=0.0)
    client_id: str = ""
    keepalive_s: int = Field(default=30, ge=5)
    qos: int = Field(default=1, ge=0, le=2)
    stale_after_s: Finite | None = Field(default=None, gt=0.0)
    topic_prefix: str = Field(default="", pattern=r"^[^#+]*$")
    sparkplug: SparkplugSource | None = None

    _by_name: dict[str, Point] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _protocol_defaults(cls, data: object) -> object:
        """Fill the defaults that depend on the protocol (:data:`PROTOCOL_DEFAULTS`); an OPC UA
        device's ``port`` is its endpoint's (4840 if the endpoint names none)."""
        if isinstance(data, dict):
            protocol = data.get("protocol")
            name = protocol.value if isinstance(protocol, Protocol) else str(protocol)
            data = {**PROTOCOL_DEFAULTS.get(name, {}), **data}
            endpoint = data.get("endpoint")
            if name == "opc_ua" and "port" not in data and isinstance(endpoint, str):
                try:
                    data["port"] = urlsplit(endpoint).port or 4840
                except ValueError:   # a bad port in the endpoint: the endpoint's own check reports it
                    pass
        return data

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: object) -> object:
        """YAML reads ``version: 1997`` as a number; the edition is the same."""
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

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

        Raises
        ------
        ValueError
            The device does not speak Modbus.
        """
        self._require("modbus")
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

    def _require(self, family: str) -> None:
        if self.protocol.family != family:
            raise ValueError(f"device {self.id!r} speaks {self.protocol.value}, not {family}")

    def bacnet(self) -> tuple[BacnetParams, list[BacnetPoint]]:
        """The BACnet driver's view of this device.

        Returns
        -------
        tuple[BacnetParams, list[BacnetPoint]]
            Parameters (address ``host:port``) and one point per point, in point order;
            ``priority`` defaults to 8 (manual operator).

        Raises
        ------
        ValueError
            The device does not speak BACnet/IP.
        """
        self._require("bacnet")
        params = BacnetParams(
            device_id=self.id, address=f"{self.host or '127.0.0.1'}:{self.port}",
            device_instance=self.device_instance, cov=self.cov, cov_lifetime_s=self.cov_lifetime_s,
            timeout_s=self.timeout_s, local_address=self.local_address, local_instance=self.local_instance,
        )
        points = []
        for p in self.points:
            object_type, instance = p.bacnet_object
            points.append(BacnetPoint(name=p.name, object_type=object_type, instance=instance,
                                      writable=p.writable, priority=p.priority or 8))
        return params, points

    def opcua(self, password: str | None = None) -> tuple[OpcUaParams, list[OpcUaPoint]]:
        """The OPC UA driver's view of this device.

        Parameters
        ----------
        password : str, optional
            The password of :attr:`username`, read from the keyring entry :attr:`password`
            by the caller.

        Returns
        -------
        tuple[OpcUaParams, list[OpcUaPoint]]
            A point's server-side deadband is its ``deadband`` when ``deadband_type`` is
            absolute or percent, else 0 (every change is reported).

        Raises
        ------
        ValueError
            The device does not speak OPC UA.
        """
        self._require("opcua")
        params = OpcUaParams(
            device_id=self.id, endpoint=self.endpoint or "", security=self.security,
            certificate=Path(self.certificate) if self.certificate else None,
            private_key=Path(self.private_key) if self.private_key else None,
            server_certificate=Path(self.server_certificate) if self.server_certificate else None,
            application_uri=self.application_uri, username=self.username, password=password,
            mode=self.mode, publishing_interval_s=self.publishing_interval_s, timeout_s=self.timeout_s,
        )
        points = []
        for p in self.points:
            kind = p.deadband_type or DeadbandType.NONE
            points.append(OpcUaPoint(name=p.name, node_id=p.node or "", sampling_interval_s=p.sampling_interval_s,
                                     deadband=p.deadband if kind is not DeadbandType.NONE else 0.0,
                                     deadband_type=kind, writable=p.writable))
        return params, points

    def dlt645(self) -> tuple[Dlt645Params, list[Dlt645Point]]:
        """The DL/T 645 driver's view of this device (gateway ``host:port`` unless ``serial_port``).

        Raises
        ------
        ValueError
            The device does not speak DL/T 645.
        """
        self._require("dlt645")
        params = Dlt645Params(
            device_id=self.id, meter=self.meter or "", version=self.version, host=self.host or "127.0.0.1",
            port=self.port, serial_port=self.serial_port, baudrate=self.baudrate, parity=self.parity,
            timeout_s=self.timeout_s, retries=self.retries, silence_s=self.silence_s,
        )
        points = [Dlt645Point(name=p.name, di=p.di or 0, fmt=p.format, signed=p.signed, index=p.index or 0,
                              scale=p.scale) for p in self.points]
        return params, points

    def mqtt(self, password: str | None = None) -> tuple[MqttParams, list[MqttPoint]]:
        """The MQTT driver's view of this device.

        Parameters
        ----------
        password : str, optional
            The password of :attr:`username`, read from the keyring by the caller.

        Raises
        ------
        ValueError
            The device does not speak MQTT.
        """
        self._require("mqtt")
        params = MqttParams(
            device_id=self.id, host=self.host or "127.0.0.1", port=self.port, client_id=self.client_id,
            username=self.username, password=password, keepalive_s=self.keepalive_s, qos=self.qos,
            stale_after_s=self.stale_after_s, timeout_s=self.timeout_s,
            sparkplug=None if self.sparkplug is None else SparkplugAddress(
                self.sparkplug.group_id, self.sparkplug.edge_node_id, self.sparkplug.device_id),
        )
        if self.sparkplug is not None:
            return params, [MqttPoint(name=p.name, metric=p.metric, scale=p.scale, writable=p.writable)
                            for p in self.points]
        prefix = self.topic_prefix.rstrip("/") + "/" if self.topic_prefix else ""
        points = [MqttPoint(name=p.name, topic=prefix + (p.topic or ""), path=p.path or "", scale=p.scale,
                            command_topic=prefix + p.command_topic if p.command_topic else None,
                            retain_command=bool(p.retain_command))
                  for p in self.points]
        return params, points
