"""Site-level models: areas, the single-line topology and the resolved site."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StrictBool, field_validator

from app.config.alarm_rules import AlarmRule
from app.config.device import Device, Ratings
from app.config.language import Language
from app.config.notifications import NotificationConfig
from app.config.point import IDENT_PATTERN, Finite, Point


class AreaKind(str, enum.Enum):
    """Level of an area in the site tree."""

    BUILDING = "building"
    FLOOR = "floor"
    DEPARTMENT = "department"
    ZONE = "zone"
    ROOM = "room"


class Area(BaseModel):
    """One node of the area tree (building > floor > department/zone > room).

    Attributes
    ----------
    id : str
        Unique in the whole tree.
    name : str
    kind : AreaKind
    floor_area_m2 : float | None
        Floor area, m², >= 0 (for energy use per m²).
    headcount : int | None
        People in the area, >= 0 (for energy use per person).
    children : tuple[Area, ...]
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=IDENT_PATTERN)
    name: str = ""
    kind: AreaKind
    floor_area_m2: Finite | None = Field(default=None, ge=0.0)
    headcount: int | None = Field(default=None, ge=0)
    children: tuple[Area, ...] = ()

    def walk(self) -> Iterator[Area]:
        """This area, then all areas below it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


class NodeKind(str, enum.Enum):
    """Element of the single-line diagram."""

    INCOMING_LINE = "incoming_line"
    TRANSFORMER = "transformer"
    BUSBAR = "busbar"
    BUS_TIE = "bus_tie"
    FEEDER = "feeder"
    BREAKER = "breaker"
    METER = "meter"
    LOAD = "load"


class TopologyNode(BaseModel):
    """One element of the electrical topology.

    Attributes
    ----------
    id : str
        Unique among nodes.
    kind : NodeKind
    name : str
    upstream : tuple[str, ...]
        Ids of the nodes feeding this one; none for an incoming line, exactly two for a
        bus tie (its two sides).
    device : str | None
        Id of the device whose points give this node's state and measurements.
    normally_open : bool
        Open in normal operation (typically a bus tie).
    ratings : Mapping[str, float]
        Nameplate values, e.g. ``kVA`` of a transformer.
    x, y : float | None
        Position on the diagram, in diagram units.
    diagram : str | None
        Name of the diagram (sheet) the node is drawn on.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=IDENT_PATTERN)
    kind: NodeKind
    name: str = ""
    upstream: tuple[str, ...] = ()
    device: str | None = None
    normally_open: StrictBool = False
    ratings: Ratings = Field(default_factory=dict)
    x: Finite | None = None
    y: Finite | None = None
    diagram: str | None = None


class SiteInfo(BaseModel):
    """The ``site:`` section: name, IANA time zone (e.g. ``Asia/Shanghai``) and the
    language of the site's own texts (journal messages, notifications): ``zh_CN`` (default) or ``en``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    timezone: str
    language: Language = "zh_CN"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r} (e.g. 'Asia/Shanghai')") from None
        return value


class SiteConfig(BaseModel):
    """A loaded, validated and resolved site.

    Built by :func:`app.config.load_site`; every device already carries its template
    points with overrides applied and point category/medium defaults filled in.

    Attributes
    ----------
    name : str
    timezone : str
        IANA name; :attr:`tzinfo` gives the zone object.
    language : {'zh_CN', 'en'}
        Language of the texts the site writes itself: alarm messages in the journal and
        notifications (each workstation shows alarms in its own UI language).
    areas : tuple[Area, ...]
        Roots of the area tree.
    devices : tuple[Device, ...]
    topology : tuple[TopologyNode, ...]
    alarms : tuple[AlarmRule, ...]
        Area rules of the site (daily energy of an area); points are tags.
    notifications : NotificationConfig
        Alarm notification channels and routes (none by default).
    source : Path
        The site file.
    template_dirs : tuple[Path, ...]
        Template directories searched, in order (the built-in one last).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    timezone: str
    language: Language = "zh_CN"
    areas: tuple[Area, ...] = ()
    devices: tuple[Device, ...] = ()
    topology: tuple[TopologyNode, ...] = ()
    alarms: tuple[AlarmRule, ...] = ()
    notifications: NotificationConfig = Field(default_factory=NotificationConfig)
    source: Path
    template_dirs: tuple[Path, ...] = ()

    _devices: dict[str, Device] = PrivateAttr(default_factory=dict)
    _areas: dict[str, Area] = PrivateAttr(default_factory=dict)
    _nodes: dict[str, TopologyNode] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: object, /) -> None:
        """Index devices, areas and topology nodes by id."""
        self._devices = {d.id: d for d in self.devices}
        self._areas = {a.id: a for root in self.areas for a in root.walk()}
        self._nodes = {n.id: n for n in self.topology}

    @property
    def tzinfo(self) -> ZoneInfo:
        """The site's time zone, for showing UTC timestamps in local time."""
        return ZoneInfo(self.timezone)

    def device(self, device_id: str) -> Device:
        """The device with id ``device_id``.

        Raises
        ------
        KeyError
            If there is no such device.
        """
        try:
            return self._devices[device_id]
        except KeyError:
            raise KeyError(f"site {self.name!r} has no device {device_id!r}") from None

    def area(self, area_id: str) -> Area:
        """The area with id ``area_id``, at any depth of the tree.

        Raises
        ------
        KeyError
            If there is no such area.
        """
        try:
            return self._areas[area_id]
        except KeyError:
            raise KeyError(f"site {self.name!r} has no area {area_id!r}") from None

    def node(self, node_id: str) -> TopologyNode:
        """The topology node with id ``node_id``.

        Raises
        ------
        KeyError
            If there is no such node.
        """
        try:
            return self._nodes[node_id]
        except KeyError:
            raise KeyError(f"site {self.name!r} has no topology node {node_id!r}") from None

    def area_path(self, area_id: str) -> tuple[str, ...]:
        """Ids from the root of the area tree down to ``area_id`` (empty if there is no such area)."""
        for root in self.areas:
            found = _path_to(root, area_id)
            if found:
                return found
        return ()

    def iter_points(self) -> Iterator[tuple[Device, Point]]:
        """Every (device, point) pair, devices and points in file order."""
        for device in self.devices:
            for point in device.points:
                yield device, point

    def tags(self) -> list[str]:
        """Every tag of the site, ``"<device id>.<point name>"``, in file order."""
        return [f"{device.id}.{point.name}" for device, point in self.iter_points()]


def _path_to(area: Area, area_id: str) -> tuple[str, ...]:
    if area.id == area_id:
        return (area.id,)
    for child in area.children:
        below = _path_to(child, area_id)
        if below:
            return (area.id, *below)
    return ()
