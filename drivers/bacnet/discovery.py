"""Device discovery: Who-Is (directed or broadcast) and a device's object list, to fill a point list.

:func:`find_devices` broadcasts a Who-Is on the local network (or sends it to one
address) and lists the devices that answer; :func:`discover` reads one device's
objects with their names, descriptions, units and state texts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from bacpypes3.apdu import ErrorRejectAbortNack
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import ObjectIdentifier

from drivers.bacnet.network import BacnetNetwork
from drivers.bacnet.quality import error_reason
from drivers.bacnet.spec import ObjectType

__all__ = ["DiscoveredDevice", "DiscoveredObject", "DiscoveryError", "FoundDevice", "discover", "find_devices",
           "unit_symbol"]

#: BACnet engineering units (ASHRAE 135 clause 21, bacpypes3 spelling) -> the symbol an operator reads
_UNIT_SYMBOLS = {
    "degrees-celsius": "°C", "degrees-fahrenheit": "°F", "degrees-kelvin": "K", "delta-degrees-kelvin": "K",
    "percent": "%", "percent-relative-humidity": "%RH", "parts-per-million": "ppm", "no-units": "",
    "volts": "V", "kilovolts": "kV", "millivolts": "mV", "amperes": "A", "milliamperes": "mA",
    "watts": "W", "kilowatts": "kW", "megawatts": "MW", "kilovolt-amperes": "kVA",
    "kilovolt-amperes-reactive": "kvar", "power-factor": "", "hertz": "Hz",
    "watt-hours": "Wh", "kilowatt-hours": "kWh", "megawatt-hours": "MWh", "kilovolt-ampere-hours-reactive": "kvarh",
    "pascals": "Pa", "kilopascals": "kPa", "bars": "bar", "cubic-meters": "m³", "liters": "l",
    "cubic-meters-per-hour": "m³/h", "cubic-meters-per-second": "m³/s", "liters-per-second": "l/s",
    "liters-per-minute": "l/min", "liters-per-hour": "l/h", "meters-per-second": "m/s", "meters": "m",
    "seconds": "s", "minutes": "min", "hours": "h", "revolutions-per-minute": "rpm", "luxes": "lx",
    "kilojoules": "kJ", "megajoules": "MJ", "gigajoules": "GJ", "kilowatt-hours-per-square-meter": "kWh/m²",
}


class DiscoveryError(Exception):
    """Discovery failed; ``str(err)`` says where and why."""


@dataclass(frozen=True, slots=True)
class DiscoveredObject:
    """One object that can become a :class:`drivers.bacnet.spec.BacnetPoint`.

    Attributes
    ----------
    object_type : ObjectType
    instance : int
    name : str
        The object-name property.
    units : str
        Engineering units of analog objects as BACnet names them (``"degrees-celsius"``),
        else ``""``; :func:`unit_symbol` gives the symbol.
    commandable : bool
        The object has a priority array (writes take a priority).
    description : str
        The optional description property, ``""`` when the device has none.
    states : Mapping[int, str]
        Present-value code -> text: binary objects' inactive-text (0) and active-text (1),
        multi-state objects' state-text (1..n); empty when the device gives none.
    """

    object_type: ObjectType
    instance: int
    name: str
    units: str
    commandable: bool
    description: str = ""
    states: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FoundDevice:
    """A device that answered a Who-Is: its instance and BACnet/IP address ``"host:port"``."""

    instance: int
    address: str


@dataclass(frozen=True, slots=True)
class DiscoveredDevice:
    """A device that answered Who-Is, with its readable objects."""

    address: str
    instance: int
    name: str
    objects: list[DiscoveredObject] = field(default_factory=list)


def unit_symbol(units: str) -> str:
    """The symbol of a BACnet engineering unit (``"degrees-celsius"`` -> ``"°C"``); an unknown
    unit is returned as BACnet names it."""
    return _UNIT_SYMBOLS.get(units, units)


async def find_devices(network: BacnetNetwork, address: str | None = None, timeout_s: float = 3.0,
                       low: int | None = None, high: int | None = None) -> list[FoundDevice]:
    """Who-Is, broadcast on the local network or directed to ``address``; the devices that answer.

    Parameters
    ----------
    network : BacnetNetwork
        Our local port; a broadcast goes to the broadcast address of its ``ip/prefix``.
    address : str, optional
        ``"host:port"`` of one device; None broadcasts (global broadcast).
    timeout_s : float
        How long to collect I-Am replies, seconds.
    low, high : int, optional
        Device instance range (both or neither).

    Returns
    -------
    list of FoundDevice
        Sorted by instance; empty when nothing answered.

    Raises
    ------
    OSError
        The local port cannot be bound.
    """
    app = await network.app()
    i_ams = await app.who_is(low, high, Address(address) if address else None, timeout=timeout_s)
    found = {int(i_am.iAmDeviceIdentifier[1]): FoundDevice(int(i_am.iAmDeviceIdentifier[1]), str(i_am.pduSource))
             for i_am in i_ams}
    return [found[instance] for instance in sorted(found)]


async def discover(network: BacnetNetwork, address: str, timeout_s: float = 3.0) -> DiscoveredDevice:
    """Who-Is directed to ``address``, then read the device's object list.

    Parameters
    ----------
    network : BacnetNetwork
        Our local port.
    address : str
        ``"host:port"`` of the device.
    timeout_s : float
        Per request, seconds.

    Returns
    -------
    DiscoveredDevice
        Objects of the types in :class:`ObjectType`, in the device's order.

    Raises
    ------
    DiscoveryError
        No I-Am, or a read failed (the message names the object and the error).
    """
    app = await network.app()
    target = Address(address)

    async def read(object_id: ObjectIdentifier, prop: str) -> object:
        try:
            async with asyncio.timeout(timeout_s):
                return await app.read_property(target, object_id, prop)
        except TimeoutError:
            raise DiscoveryError(f"{address}: no reply reading {object_id} {prop}") from None

    async def optional(object_id: ObjectIdentifier, prop: str) -> object | None:
        """An optional property, None when the object does not have it."""
        try:
            return await read(object_id, prop)
        except ErrorRejectAbortNack:
            return None

    async def states(object_id: ObjectIdentifier, object_type: ObjectType) -> dict[int, str]:
        if object_type.kind == "binary":
            texts = {0: await optional(object_id, "inactive-text"), 1: await optional(object_id, "active-text")}
            return {code: str(text) for code, text in texts.items() if text}
        if object_type.kind == "multistate":
            texts = await optional(object_id, "state-text")
            return {code: str(text) for code, text in enumerate(texts or [], start=1)}  # type: ignore[call-overload]
        return {}

    i_ams = await app.who_is(None, None, target, timeout=timeout_s)
    if not i_ams:
        raise DiscoveryError(f"{address}: no I-Am within {timeout_s:g} s")
    device_id = i_ams[0].iAmDeviceIdentifier
    try:
        name = str(await read(device_id, "object-name"))
        object_list = await read(device_id, "object-list")
    except ErrorRejectAbortNack as exc:
        raise DiscoveryError(f"{address}: reading device {device_id}: {error_reason(exc)}") from None
    known = {t.value: t for t in ObjectType}
    objects = []
    for object_id in object_list:  # type: ignore[attr-defined]
        object_type = known.get(str(object_id[0]))
        if object_type is None:
            continue
        try:
            object_name = str(await read(object_id, "object-name"))
            units = str(await read(object_id, "units")) if object_type.kind == "analog" else ""
        except ErrorRejectAbortNack as exc:
            raise DiscoveryError(f"{address}: reading {object_id}: {error_reason(exc)}") from None
        commandable = await optional(object_id, "priority-array") is not None
        description = await optional(object_id, "description")
        objects.append(DiscoveredObject(object_type, int(object_id[1]), object_name, units, commandable,
                                        str(description or ""), await states(object_id, object_type)))
    return DiscoveredDevice(address, int(device_id[1]), name, objects)
