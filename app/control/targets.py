"""What can be controlled: a telecontrol point with its readback, mode and trip-cause points.

One generic path serves breakers and the loads seed 001 item 11 names (lighting
circuits, fans, pumps, AC units — in the demo the feeder breakers, the AHU's supply
fan over BACnet and the pump station's pumps over OPC UA): a device is controllable
through a two-state telecontrol point (states 0 and 1: open/close, stop/run) whose
result can be read back. Conventions, by point name:

* the telecontrol point ``command`` reads back from ``state``; any other telecontrol
  point ``X`` reads back from ``X_state``, or, when ``X`` is ``Y_command``, from
  ``Y_status`` (BACnet's binary-output command and binary-input status pair); a
  telecontrol point with neither reads back from itself (an OPC UA node or a register
  that is the run command and the run state at once);
* an optional ``mode`` point that is the mode switch of seed 001 §6.2 item 9 (states
  0 auto, 1 manual, 2 maintenance) gates remote commands; a ``mode`` point meaning
  something else (an AHU's off/heat/cool/auto) is not a mode switch;
* an optional ``trip_cause`` point (0 none, 9 manual/local, anything else a protection
  trip) locks out remote closing until a trip reset (see :mod:`app.control.interlocks`).

The command's value and the readback agree in meaning (``command`` 1 = close and
``state`` 1 = closed), so verification waits for the readback to equal the value written.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.config import Device, SiteConfig
from app.config.point import Point, PointKind
from app.topology import SWITCH_KINDS

MODE_POINT = "mode"
TRIP_POINT = "trip_cause"
#: the values of ``command`` a switch knows: 1 close, 0 open
CLOSE, OPEN = 1, 0
#: trip cause codes that are not a protection trip: none, and opened by hand at the panel
NON_PROTECTIVE_CAUSES = frozenset({0, 9})
#: the measured points the dialog shows live, in order (those the device has)
LIVE_POINTS = ("Ia", "Ib", "Ic", "Ua", "Ub", "Uc", "P")


class Mode(enum.IntEnum):
    """The mode switch (seed 001 §6.2 item 9)."""

    AUTO = 0         #: remote and local commands act
    MANUAL = 1       #: only local hand operation acts
    MAINTENANCE = 2  #: locked: neither remote nor local


@dataclass(frozen=True)
class ControlTarget:
    """One controllable telecontrol point of one device.

    Attributes
    ----------
    device : Device
    command : Point
        The telecontrol point written.
    readback : Point
        Teleindication point whose value must become the command's value.
    mode : Point or None
        Mode switch point, when the device has one.
    trip_cause : Point or None
        Trip cause point, when the device has one.
    node_id : str or None
        Topology switch node this device operates (for the de-energised loads).
    """

    device: Device
    command: Point
    readback: Point
    mode: Point | None
    trip_cause: Point | None
    node_id: str | None

    @property
    def device_id(self) -> str:
        return self.device.id

    @property
    def area(self) -> str:
        return self.device.area

    @property
    def key(self) -> tuple[str, str]:
        """``(device id, command point)``."""
        return self.device.id, self.command.name

    def tag(self, point: Point | None) -> str | None:
        """Tag of one of the target's points (None for None)."""
        return None if point is None else self.device.tag(point.name)

    def state_label(self, value: float | None) -> str:
        """English readback label of ``value`` (``"closed"``), ``"?"`` for None."""
        if value is None:
            return "?"
        return self.readback.states.get(int(value), str(int(value)))

    def command_label(self, value: int) -> str:
        """English label of a command value (``"close"``/``"open"``)."""
        return self.command.states.get(int(value), str(int(value)))

    @property
    def live_points(self) -> tuple[Point, ...]:
        """The measured points shown beside the controls: a switch's I, U, P (those the
        device has); for another command ``X_…``, the device's telemetry ``X_…``
        (a pump's speed, flow, pressure and power)."""
        if self.command.name == "command":
            names = {p.name: p for p in self.device.points}
            return tuple(names[n] for n in LIVE_POINTS if n in names)
        prefix = self.command.name.split("_", 1)[0] + "_"
        return tuple(p for p in self.device.points if p.kind is PointKind.TELEMETRY and p.name.startswith(prefix))


def readback_point(device: Device, command: Point) -> Point | None:
    """The point that reads back ``command``'s result, by the module's convention; None if none."""
    by_name = {p.name: p for p in device.points}
    if command.name == "command":
        names = ["state"]
    else:
        names = [f"{command.name}_state"]
        if command.name.endswith("_command"):
            names.append(f"{command.name.removesuffix('_command')}_status")
    for name in names:
        point = by_name.get(name)
        if point is not None and point.kind is PointKind.TELEINDICATION:
            return point
    return command


def is_mode_switch(point: Point | None) -> bool:
    """True if ``point`` is a mode switch (teleindication, states among 0 auto, 1 manual, 2 maintenance)."""
    return (point is not None and point.kind is PointKind.TELEINDICATION and bool(point.states)
            and all(k in Mode._value2member_map_ and Mode(k).name.lower() == v for k, v in point.states.items()))


def control_targets(site: SiteConfig) -> dict[tuple[str, str], ControlTarget]:
    """Every controllable telecontrol point of ``site``.

    Returns
    -------
    dict
        ``{(device id, command point): ControlTarget}`` in file order. Telecontrol points
        without the two states 0 and 1 (set-points, multi-state commands) are left out:
        they are not switched through this path.
    """
    switch_of = {n.device: n.id for n in site.topology if n.kind in SWITCH_KINDS and n.device}
    out: dict[tuple[str, str], ControlTarget] = {}
    for device in site.devices:
        by_name = {p.name: p for p in device.points}
        for point in device.points:
            if point.kind is not PointKind.TELECONTROL or not {CLOSE, OPEN} <= set(point.states):
                continue
            readback = readback_point(device, point)
            mode = by_name.get(MODE_POINT)
            trip = by_name.get(TRIP_POINT)
            out[(device.id, point.name)] = ControlTarget(
                device=device, command=point, readback=readback,
                mode=mode if is_mode_switch(mode) else None,
                trip_cause=trip if trip is not None and trip.kind is PointKind.TELEINDICATION else None,
                node_id=switch_of.get(device.id))
    return out
