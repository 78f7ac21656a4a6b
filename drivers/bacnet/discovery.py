"""Device discovery: a directed Who-Is and the device's object list, to fill a point list."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bacpypes3.apdu import ErrorRejectAbortNack
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import ObjectIdentifier

from drivers.bacnet.network import BacnetNetwork
from drivers.bacnet.quality import error_reason
from drivers.bacnet.spec import ObjectType

__all__ = ["DiscoveredDevice", "DiscoveredObject", "DiscoveryError", "discover"]


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
        Engineering units of analog objects (``"degreesCelsius"``), else ``""``.
    commandable : bool
        The object has a priority array (writes take a priority).
    """

    object_type: ObjectType
    instance: int
    name: str
    units: str
    commandable: bool


@dataclass(frozen=True, slots=True)
class DiscoveredDevice:
    """A device that answered Who-Is, with its readable objects."""

    address: str
    instance: int
    name: str
    objects: list[DiscoveredObject] = field(default_factory=list)


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
        try:
            await read(object_id, "priority-array")
            commandable = True
        except ErrorRejectAbortNack:
            commandable = False
        objects.append(DiscoveredObject(object_type, int(object_id[1]), object_name, units, commandable))
    return DiscoveredDevice(address, int(device_id[1]), name, objects)
