"""An air-handling-unit controller as a real BACnet/IP device (bacpypes3).

Objects (instance numbers fixed, names as a BMS integrator would give them)::

    analog-input:1       SupplyAirTemp      degC   follows the setpoint while the fan runs
    analog-input:2       ReturnAirTemp      degC
    analog-input:3       OutdoorAirTemp     degC   daily sine
    analog-value:1       SupplyAirSetpoint  degC   commandable (priority array)
    analog-output:1      CoolingValve       %      commandable
    binary-output:1      SupplyFanCmd              commandable
    binary-input:1       SupplyFanStatus           follows SupplyFanCmd
    binary-input:2       FilterAlarm
    multi-state-value:1  Mode                      1 Off, 2 Heat, 3 Cool, 4 Auto

Every object reports change of value (SubscribeCOV). On loopback give each peer
the same IP and its own port (``"127.0.0.1/8:47809"``): bacpypes3 takes any
127.x address on its own port for itself. A :meth:`AhuController.stop` then
:meth:`~AhuController.start` is a controller restart: COV subscriptions are
forgotten, the objects' state (commands, setpoints, temperatures) is kept.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

from bacpypes3.app import Application
from bacpypes3.errors import PropertyError
from bacpypes3.local.analog import AnalogInputObject, AnalogOutputObject, AnalogValueObjectCmd
from bacpypes3.local.binary import BinaryInputObject, BinaryOutputObject
from bacpypes3.local.cov import GenericCriteria
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.multistate import MultiStateValueObject
from bacpypes3.local.networkport import NetworkPortObject

__all__ = ["AhuController"]

_VENDOR_ID = 999


class _FieldInput:
    """An input's present value comes from the field: writable only while out of
    service (ASHRAE 135, 12.2.4), unlike bacpypes3's permissive local objects."""

    async def write_property(self, attr: Any, value: Any, index: Any = None, priority: Any = None) -> None:
        if attr in ("presentValue", "present-value", 85) and not self.outOfService:  # type: ignore[attr-defined]
            raise PropertyError("writeAccessDenied")
        await super().write_property(attr, value, index, priority)  # type: ignore[misc]


class _AnalogInput(_FieldInput, AnalogInputObject):
    """Analog input refusing present-value writes in service."""


class _BinaryInput(_FieldInput, BinaryInputObject):
    """Binary input refusing present-value writes in service."""


class _MultiStateValue(MultiStateValueObject):
    """Multi-state value reporting every change of state (ASHRAE 135 13.1.2: multi-state objects
    have no COV increment; bacpypes3 0.0.110 gives them the increment criteria, which fails on
    the missing ``covIncrement`` at the first change)."""

    _cov_criteria = GenericCriteria


def _objects() -> dict[str, Any]:
    common = {"reliability": "noFaultDetected", "outOfService": False}
    return {
        "SupplyAirTemp": _AnalogInput(objectIdentifier=("analog-input", 1), objectName="SupplyAirTemp",
                                           description="Supply air temperature",
                                           presentValue=16.5, units="degreesCelsius", **common,
                                           covIncrement=0.1),
        "ReturnAirTemp": _AnalogInput(objectIdentifier=("analog-input", 2), objectName="ReturnAirTemp",
                                           description="Return air temperature",
                                           presentValue=23.0, units="degreesCelsius", **common,
                                           covIncrement=0.1),
        "OutdoorAirTemp": _AnalogInput(objectIdentifier=("analog-input", 3), objectName="OutdoorAirTemp",
                                            description="Outdoor air temperature",
                                            presentValue=28.0, units="degreesCelsius", **common,
                                            covIncrement=0.1),
        "SupplyAirSetpoint": AnalogValueObjectCmd(objectIdentifier=("analog-value", 1),
                                                  objectName="SupplyAirSetpoint", presentValue=16.0,
                                                  description="Supply air temperature setpoint",
                                                  units="degreesCelsius", **common, covIncrement=0.1),
        "CoolingValve": AnalogOutputObject(objectIdentifier=("analog-output", 1), objectName="CoolingValve",
                                           description="Chilled-water valve position",
                                           presentValue=40.0, units="percent", **common,
                                           covIncrement=1.0),
        "SupplyFanCmd": BinaryOutputObject(objectIdentifier=("binary-output", 1), objectName="SupplyFanCmd",
                                           description="Supply fan command", presentValue="active", **common,
                                           polarity="normal", inactiveText="Stop", activeText="Run"),
        "SupplyFanStatus": _BinaryInput(objectIdentifier=("binary-input", 1), objectName="SupplyFanStatus",
                                             description="Supply fan running", presentValue="active", **common,
                                             polarity="normal", inactiveText="Stopped", activeText="Running"),
        "FilterAlarm": _BinaryInput(objectIdentifier=("binary-input", 2), objectName="FilterAlarm",
                                         description="Filter differential pressure switch", presentValue="inactive",
                                         **common, polarity="normal", inactiveText="Clean", activeText="Dirty"),
        "Mode": _MultiStateValue(objectIdentifier=("multi-state-value", 1), objectName="Mode", description="Operating mode",
                                      presentValue=4, numberOfStates=4, **common,
                                      stateText=["Off", "Heat", "Cool", "Auto"]),
    }


class AhuController:
    """The AHU controller; ``async with`` (or :meth:`start`/:meth:`stop`) serves it.

    Parameters
    ----------
    address : str
        ``"ip/prefix:port"`` to bind, e.g. ``"127.0.0.1/8:47809"``.
    instance : int
        Device object instance.
    step_s : float or None
        Physics step; None freezes the values (tests set them with :meth:`set`).
    """

    def __init__(self, address: str, instance: int = 3001, step_s: float | None = 1.0) -> None:
        self.address = address
        self.instance = instance
        self.step_s = step_s
        self.objects: dict[str, Any] = {}
        self._app: Application | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def peer_address(self) -> str:
        """The ``"host:port"`` a client sends to."""
        host_prefix, port = self.address.rsplit(":", 1)
        return f"{host_prefix.split('/')[0]}:{port}"

    async def start(self) -> None:
        """Bind the port and serve the objects (made on the first start, kept across restarts)."""
        if not self.objects:
            self.objects = _objects()
        device = DeviceObject(objectIdentifier=("device", self.instance), objectName=f"AHU-{self.instance}",
                              vendorIdentifier=_VENDOR_ID)
        port = NetworkPortObject(self.address, objectIdentifier=("network-port", 1), objectName="NetworkPort-1",
                                 networkNumberQuality="unknown")
        self._app = Application.from_object_list([device, port, *self.objects.values()])
        await asyncio.sleep(0)
        if self.step_s is not None:
            self._task = asyncio.create_task(self._run(self.step_s))

    async def stop(self) -> None:
        """Stop serving (subscriptions are forgotten, as on a controller restart)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._app is not None:
            # the objects outlive this application: unhook its COV detection from them
            for detection in list(self._app._cov_detections.values()):
                detection.unbind()
            self._app.close()
            self._app = None
            await asyncio.sleep(0)

    async def __aenter__(self) -> AhuController:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def set(self, name: str, value: Any = None, *, fault: bool | None = None,
            out_of_service: bool | None = None) -> None:
        """Set an object's present value (at priority 16 if commandable) and its state.

        bacpypes3 derives the status flags: ``fault`` from the reliability
        property (``unreliable-other`` when set), ``out-of-service`` from
        outOfService.
        """
        obj = self.objects[name]
        flags_before = obj.statusFlags
        if fault is not None:
            obj.reliability = "unreliableOther" if fault else "noFaultDetected"
        if out_of_service is not None:
            obj.outOfService = out_of_service
        flags_after = obj.statusFlags
        if list(flags_after) != list(flags_before):
            # bacpypes3 computes statusFlags, so no setter tells its COV detection
            # the flags changed (ASHRAE 135 13.1: a flag change is a COV); do it here
            for monitor in obj._property_monitors["statusFlags"]:
                monitor(flags_before, flags_after)
        if value is not None:
            obj.presentValue = value

    def get(self, name: str) -> Any:
        """An object's present value."""
        return self.objects[name].presentValue

    def _step(self, dt: float) -> None:
        hour = (time.time() / 3600.0 + 8.0) % 24.0
        self.set("OutdoorAirTemp", round(27.0 + 5.0 * math.sin((hour - 9.0) / 24.0 * 2 * math.pi), 2))
        fan_on = int(self.get("SupplyFanCmd")) == 1
        self.set("SupplyFanStatus", "active" if fan_on else "inactive")
        supply = float(self.get("SupplyAirTemp"))
        target = float(self.get("SupplyAirSetpoint")) if fan_on else float(self.get("ReturnAirTemp"))
        self.set("SupplyAirTemp", round(supply + (target - supply) * min(1.0, dt / 30.0), 2))
        error = float(self.get("SupplyAirTemp")) - float(self.get("SupplyAirSetpoint"))
        valve = max(0.0, min(100.0, 40.0 + 20.0 * error)) if fan_on else 0.0
        self.objects["CoolingValve"].relinquishDefault = round(valve, 1)
        self.objects["CoolingValve"].recalculating()

    async def _run(self, step_s: float) -> None:
        while True:
            await asyncio.sleep(step_s)
            try:
                self._step(step_s)
            except Exception:  # a simulator bug must not stop the device
                logging.getLogger(__name__).exception("AHU step failed")
