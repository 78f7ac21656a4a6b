"""Our own BACnet/IP port: one bacpypes3 application shared by every BACnet device.

A host has one BACnet/IP port (UDP 47808 by default), so all BACnet drivers of a
collector share one :class:`BacnetNetwork`. bacpypes3 0.0.110 is used directly
(BAC0's wrapper adds a log file and reads ``.env`` from the working directory).
"""

from __future__ import annotations

import asyncio

from bacpypes3.app import Application
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject

__all__ = ["BacnetNetwork", "quiet_bacpypes_logging"]

_VENDOR_ID = 999  # "unassigned / for testing" in bacpypes3's vendor table


def quiet_bacpypes_logging() -> None:
    """bacpypes3 logs unanswered requests; the driver reports them as reasons."""
    import logging

    logging.getLogger("bacpypes3").setLevel(logging.CRITICAL)


class BacnetNetwork:
    """The local BACnet/IP application, opened on first use.

    Parameters
    ----------
    local_address : str
        ``"ip/prefix:port"``, e.g. ``"192.168.1.10/24:47808"``; on loopback use
        one IP and different ports per peer (see STACK-NOTES).
    instance : int
        Our device object instance.
    name : str
        Our device object name.
    """

    def __init__(self, local_address: str, instance: int, name: str = "WattDesk") -> None:
        self.local_address = local_address
        self.instance = instance
        self.name = name
        self._app: Application | None = None
        self._users: set[object] = set()
        self._lock = asyncio.Lock()

    async def app(self) -> Application:
        """The application, created (and its UDP port bound) on the first call.

        Raises
        ------
        OSError
            The local address cannot be bound (port in use, address not ours).
        """
        async with self._lock:
            if self._app is None:
                device = DeviceObject(objectIdentifier=("device", self.instance), objectName=self.name,
                                      vendorIdentifier=_VENDOR_ID)
                port = NetworkPortObject(self.local_address, objectIdentifier=("network-port", 1),
                                         objectName="NetworkPort-1", networkNumberQuality="unknown")
                self._app = Application.from_object_list([device, port])
                await asyncio.sleep(0)  # let the UDP endpoint come up
            return self._app

    def attach(self, user: object) -> None:
        """Count ``user`` (a driver) as sharing this port until it calls :meth:`detach`."""
        self._users.add(user)

    def detach(self, user: object) -> None:
        """``user`` no longer needs the port; the last one out releases it. Idempotent."""
        self._users.discard(user)
        if not self._users:
            self.close()

    def close(self) -> None:
        """Release the UDP port; idempotent."""
        if self._app is not None:
            self._app.close()
            self._app = None
