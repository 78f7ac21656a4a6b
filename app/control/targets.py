"""What can be controlled: a telecontrol point with its readback, mode and trip-cause points.

One generic path serves breakers and the loads seed 001 item 11 names (lighting
circuits, fans, pumps, AC units — feeder breakers in the demo): a device is
controllable when it has a telecontrol point and a teleindication point that reads
its position back. Conventions, by point name:

* the telecontrol point ``command`` reads back from ``state``; any other telecontrol
  point ``X`` reads back from ``X_state``;
* an optional ``mode`` point (seed 001 §6.2 item 9: 0 auto, 1 manual, 2 maintenance)
  gates remote commands;
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
        """The measured points shown beside the controls (I, U, P)."""
        names = {p.name: p for p in self.device.points}
        return tuple(names[n] for n in LIVE_POINTS if n in names)


def readback_name(command_point: str) -> str:
    """Name of the readback point of a telecontrol point, by the module's convention."""
    return "state" if command_point == "command" else f"{command_point}_state"


def control_targets(site: SiteConfig) -> dict[tuple[str, str], ControlTarget]:
    """Every controllable telecontrol point of ``site``.

    Returns
    -------
    dict
        ``{(device id, command point): ControlTarget}`` in file order. A telecontrol point
        without a readback teleindication point is left out (it cannot be verified).
    """
    switch_of = {n.device: n.id for n in site.topology if n.kind in SWITCH_KINDS and n.device}
    out: dict[tuple[str, str], ControlTarget] = {}
    for device in site.devices:
        by_name = {p.name: p for p in device.points}
        for point in device.points:
            if point.kind is not PointKind.TELECONTROL:
                continue
            readback = by_name.get(readback_name(point.name))
            if readback is None or readback.kind is not PointKind.TELEINDICATION:
                continue
            mode = by_name.get(MODE_POINT)
            trip = by_name.get(TRIP_POINT)
            out[(device.id, point.name)] = ControlTarget(
                device=device, command=point, readback=readback,
                mode=mode if mode is not None and mode.kind is PointKind.TELEINDICATION else None,
                trip_cause=trip if trip is not None and trip.kind is PointKind.TELEINDICATION else None,
                node_id=switch_of.get(device.id))
    return out
