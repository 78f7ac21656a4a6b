"""Typed parameters of a BACnet/IP device and its points (no I/O here)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ObjectType(str, enum.Enum):
    """The object types read as points (present value and status flags)."""

    ANALOG_INPUT = "analog-input"
    ANALOG_OUTPUT = "analog-output"
    ANALOG_VALUE = "analog-value"
    BINARY_INPUT = "binary-input"
    BINARY_OUTPUT = "binary-output"
    BINARY_VALUE = "binary-value"
    MULTI_STATE_INPUT = "multi-state-input"
    MULTI_STATE_OUTPUT = "multi-state-output"
    MULTI_STATE_VALUE = "multi-state-value"

    @property
    def kind(self) -> str:
        """``"analog"``, ``"binary"`` or ``"multistate"``."""
        return self.value.rsplit("-", 1)[0].replace("multi-state", "multistate")


@dataclass(frozen=True, slots=True)
class BacnetPoint:
    """One object's present value as a point.

    Attributes
    ----------
    name : str
    object_type : ObjectType
    instance : int
        Object instance number, 0..4194302.
    writable : bool
        Commandable: writes go to ``priority`` of the priority array.
    priority : int
        Command priority 1..16 (8 = manual operator, the usual for an HMI).
    """

    name: str
    object_type: ObjectType
    instance: int
    writable: bool = False
    priority: int = 8


@dataclass(frozen=True, slots=True)
class BacnetParams:
    """Connection parameters of one BACnet/IP device.

    Attributes
    ----------
    device_id : str
    address : str
        The device's BACnet/IP address, ``"host:port"`` (port 47808 by default).
    device_instance : int or None
        Device object instance; when given, a directed Who-Is checks it on connect.
    cov : bool
        Subscribe to change of value where the device supports it; poll otherwise.
    cov_lifetime_s : int
        Subscription lifetime, renewed before it runs out, seconds.
    timeout_s : float
        Per request, seconds.
    local_address : str
        Our own BACnet/IP port, ``"ip/prefix:port"``; shared by all devices of a
        :class:`drivers.bacnet.network.BacnetNetwork`.
    local_instance : int
        Our own device object instance.
    backoff_initial_s, backoff_max_s : float
    """

    device_id: str
    address: str
    device_instance: int | None = None
    cov: bool = True
    cov_lifetime_s: int = 300
    timeout_s: float = 2.0
    local_address: str = "0.0.0.0/0:47808"
    local_instance: int = 4194300
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
