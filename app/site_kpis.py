"""Which points make up the site's headline figures, and today's energy from the rollups.

Qt-free, so the overview view, the wall display and reports share it and it is tested
without a display.

- Total load: the active power ``P`` (kW) of the meters on the transformers' LV side
  (topology nodes of kind ``transformer``); a site with no transformer meters uses its
  incoming lines' meters.
- Energy by sub-item (分项) and by area: one kWh accumulator per feeder, so nothing is
  counted twice — the nearest ``meter`` node below the feeder if it has one (revenue
  class meter), else the feeder's own breaker. Sub-meters further down (a UPS meter
  under a feeder meter) are not added again.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time as dtime
from zoneinfo import ZoneInfo

from app.config import Device, NodeKind, SiteConfig
from app.config.point import Medium, PointKind
from db.historian import Historian

ENERGY_UNIT = "kWh"
POWER_POINT = "P"


@dataclass(frozen=True)
class EnergyMeter:
    """The accumulator counting one feeder's energy.

    Attributes
    ----------
    tag : str
        ``"<device>.<point>"`` of a kWh accumulator.
    feeder : str
        Topology node id of the feeder.
    category : str
        Sub-item (``Category`` value: ``lighting_sockets``, ``hvac``, ``power``, ``special``).
    area : str
        Area id of the device.
    """

    tag: str
    feeder: str
    category: str
    area: str


@dataclass(frozen=True)
class EnergyTotals:
    """Energy over one period, kWh.

    Attributes
    ----------
    t0, t1 : float
        Period, UTC epoch seconds.
    by_category : dict[str, float]
        Category value -> kWh.
    by_area : dict[str, float]
        Area id -> kWh.
    total : float
        kWh of all meters.
    no_data : tuple[str, ...]
        Tags with no consumption recorded in the period (not counted).
    """

    t0: float
    t1: float
    by_category: dict[str, float] = field(default_factory=dict)
    by_area: dict[str, float] = field(default_factory=dict)
    total: float = 0.0
    no_data: tuple[str, ...] = ()


def _energy_point(device: Device) -> str | None:
    for p in device.points:
        if p.kind is PointKind.ACCUMULATOR and p.unit == ENERGY_UNIT and p.medium is Medium.ELECTRICITY:
            return device.tag(p.name)
    return None


def load_meter_tags(site: SiteConfig) -> list[str]:
    """Tags of the active power points (kW) whose sum is the site's total load.

    Returns
    -------
    list of str
        ``P`` of the transformer meters, else of the incoming-line meters; empty if
        the topology names neither.
    """
    for kind in (NodeKind.TRANSFORMER, NodeKind.INCOMING_LINE):
        tags = []
        for node in site.topology:
            if node.kind is kind and node.device is not None:
                device = site.device(node.device)
                if any(p.name == POWER_POINT for p in device.points):
                    tags.append(device.tag(POWER_POINT))
        if tags:
            return tags
    return []


def energy_meters(site: SiteConfig) -> list[EnergyMeter]:
    """One kWh accumulator per feeder of the topology (see the module docstring).

    Feeders with neither a meter below them nor a device of their own with a kWh
    accumulator are left out.
    """
    children: dict[str, list[str]] = defaultdict(list)
    for node in site.topology:
        for up in node.upstream:
            children[up].append(node.id)
    meters = []
    for feeder in site.topology:
        if feeder.kind is not NodeKind.FEEDER:
            continue
        chosen: Device | None = None
        frontier = list(children[feeder.id])
        while frontier and chosen is None:
            nxt = []
            for node_id in frontier:
                node = site.node(node_id)
                if node.kind is NodeKind.METER and node.device is not None:
                    device = site.device(node.device)
                    if _energy_point(device) is not None:
                        chosen = device
                        break
                nxt.extend(children[node_id])
            frontier = nxt
        if chosen is None and feeder.device is not None:
            device = site.device(feeder.device)
            if _energy_point(device) is not None:
                chosen = device
        if chosen is None:
            continue
        tag = _energy_point(chosen)
        point = next(p for p in chosen.points if chosen.tag(p.name) == tag)
        category = point.category.value if point.category is not None else chosen.category.value
        meters.append(EnergyMeter(tag=tag, feeder=feeder.id, category=category, area=chosen.area))
    return meters


def local_day_start(now_s: float, tz: ZoneInfo) -> float:
    """UTC epoch seconds of the local midnight starting the day that contains ``now_s``."""
    local = datetime.fromtimestamp(now_s, tz)
    return datetime.combine(local.date(), dtime(0), tzinfo=tz).timestamp()


def energy_between(historian: Historian, meters: Iterable[EnergyMeter], t0: float, t1: float) -> EnergyTotals:
    """Energy of ``meters`` in ``[t0, t1)`` from the historian's 15-minute rollups.

    Blocking (database reads): call it from a worker thread, never the GUI thread.

    Parameters
    ----------
    historian : db.historian.Historian
    meters : iterable of EnergyMeter
    t0, t1 : float
        UTC epoch seconds; buckets starting in the range count.

    Returns
    -------
    EnergyTotals
        kWh by category and by area, from the rollups' ``consumption`` (rollover-aware).

    Raises
    ------
    db.historian.HistorianError
        The database cannot be reached.
    """
    by_category: dict[str, float] = defaultdict(float)
    by_area: dict[str, float] = defaultdict(float)
    no_data = []
    total = 0.0
    for m in meters:
        rows = historian.read_rollup(m.tag, "15min", t0, t1)
        used = [c for c in rows["consumption"].tolist() if math.isfinite(c)]
        if not used:
            no_data.append(m.tag)
            continue
        kwh = float(sum(used))
        by_category[m.category] += kwh
        by_area[m.area] += kwh
        total += kwh
    return EnergyTotals(t0=t0, t1=t1, by_category=dict(by_category), by_area=dict(by_area),
                        total=total, no_data=tuple(no_data))
