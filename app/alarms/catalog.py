"""Expand a site's alarm rules into alarm records and watchers indexed by tag,
and work out which devices each breaker feeds (through :class:`app.topology.Topology`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.alarms.contracts import AlarmText, BaselineProvider, OpeningProvider
from app.alarms.messages import compose, translator
from app.alarms.record import AlarmRecord
from app.alarms.watchers import (
    CommWatcher, ConsumptionInterval, DailyEnergyWatcher, ImbalanceWatcher, PhaseLossWatcher,
    PositionWatcher, QualityWatcher, StateWatcher, SurgeWatcher, ThresholdWatcher, TripWatcher,
)
from app.config import SUPPLY_DEPENDENT, AlarmRule, Device, ImbalanceMethod, Point, RuleType, SiteConfig
from app.topology import Topology

Watcher = (ThresholdWatcher | StateWatcher | ImbalanceWatcher | PhaseLossWatcher | TripWatcher
           | CommWatcher | QualityWatcher | SurgeWatcher | DailyEnergyWatcher | PositionWatcher)
Timed = SurgeWatcher | DailyEnergyWatcher


@dataclass
class Catalog:
    """Everything the evaluator needs, built once from the site.

    Attributes
    ----------
    records : dict[str, AlarmRecord]
        Every alarm by id.
    early, late : dict[str, list[tuple[Watcher, int]]]
        Watchers (and the tag's index among their tags) by tag; ``early`` ones
        (communication loss, trip causes) see a batch before the others.
    timed : list[Timed]
        Watchers whose condition also changes with the clock (interval ends).
    fed_records : dict[str, list[AlarmRecord]]
        Breaker device id -> supply-dependent alarms of the devices wired downstream of it
        (:meth:`Topology.downstream`; a bus tie feeds nothing by wiring). Not its own: a
        breaker measures on its line side, so its own voltage alarms cause its trip, not follow it.
    device_records : dict[str, list[AlarmRecord]]
        Device id -> its supply-dependent alarms.
    trip_alarm : dict[str, str]
        Breaker device id -> id of its trip alarm.
    topology : Topology | None
        The site's topology (switch positions from the devices' ``state`` points).
    breaker_node : dict[str, str]
        Breaker device id (with a trip alarm) at a switch node -> that node.
    positions : dict[str, bool | None]
        Switch node id -> True closed / False open / None unknown, kept current by the
        :class:`PositionWatcher` of each switch's position point.
    """

    records: dict[str, AlarmRecord] = field(default_factory=dict)
    early: dict[str, list[tuple[Watcher, int]]] = field(default_factory=lambda: defaultdict(list))
    late: dict[str, list[tuple[Watcher, int]]] = field(default_factory=lambda: defaultdict(list))
    timed: list[Timed] = field(default_factory=list)
    fed_records: dict[str, list[AlarmRecord]] = field(default_factory=dict)
    device_records: dict[str, list[AlarmRecord]] = field(default_factory=dict)
    trip_alarm: dict[str, str] = field(default_factory=dict)
    topology: Topology | None = None
    breaker_node: dict[str, str] = field(default_factory=dict)
    positions: dict[str, bool | None] = field(default_factory=dict)


def build_catalog(site: SiteConfig, baseline: BaselineProvider | None,
                  opening: OpeningProvider | None = None) -> Catalog:
    """Records and watchers for every rule of ``site``.

    Parameters
    ----------
    site : SiteConfig
    baseline : BaselineProvider | None
        Expected consumption per interval, for ``consumption_surge`` rules.
    opening : OpeningProvider | None
        Opening readings of accumulators, for ``daily_energy`` and ``consumption_surge`` rules.
    """
    catalog = Catalog()
    builder = _Builder(site, catalog, baseline, opening)
    for device in site.devices:
        for rule in device.alarms:
            builder.device_rule(device, rule)
    for rule in site.alarms:
        builder.area_rule(rule)
    builder.link_quality()
    _feeding(site, catalog)
    catalog.early = dict(catalog.early)
    catalog.late = dict(catalog.late)
    return catalog


class _Builder:
    def __init__(self, site: SiteConfig, catalog: Catalog, baseline: BaselineProvider | None,
                 opening: OpeningProvider | None) -> None:
        self.site = site
        self.catalog = catalog
        self.baseline = baseline
        self.opening = opening
        self.comm: dict[str, CommWatcher] = {}
        self.translate = translator(site.language)

    def _record(self, alarm_id: str, rule: AlarmRule, level: str, source: str, device: str, area: str,
                title: str, limit: float | None, point: Point | None = None, unit: str | None = None) -> AlarmRecord:
        """A record whose text names ``title`` (device or area name), ``point`` (per-point
        rules), the rule and the level, worded in the site's language; ``unit`` of value
        and limit, ``None`` for the point's."""
        text = AlarmText(
            title, point.name if point else "", point.description if point else "",
            point.description_zh if point else "", rule.type.value, rule.description, rule.description_zh,
            level, (point.unit if point else "") if unit is None else unit)
        message = compose(text, self.site.language, self.translate)
        record = AlarmRecord(
            alarm_id, rule.id, rule.type.value, level, source, device, area,
            rule.warning_priority if level == "warning" else rule.priority, message, limit,
            rule.deadband, rule.on_delay_s, rule.off_delay_s, rule.type in SUPPLY_DEPENDENT, text)
        self.catalog.records[alarm_id] = record
        return record

    def _levels(self, base: str, rule: AlarmRule, source: str, device: str, area: str,
                title: str, point: Point | None = None, unit: str | None = None) -> list[AlarmRecord]:
        return [self._record(f"{base}:{rule.id}:{level}", rule, level, source, device, area, title, limit,
                             point, unit)
                for level, limit in (("warning", rule.warning), ("alarm", rule.alarm)) if limit is not None]

    def _watch(self, tags: Sequence[str], watcher: Watcher, early: bool = False) -> None:
        index = self.catalog.early if early else self.catalog.late
        for position, tag in enumerate(tags):
            index[tag].append((watcher, position))

    def device_rule(self, device: Device, rule: AlarmRule) -> None:
        dev, area = device.id, device.area
        title = device.name or device.id
        kind = rule.type
        tags = [f"{dev}.{name}" for name in rule.points]
        if kind in (RuleType.HIGH, RuleType.LOW, RuleType.STATE, RuleType.BAD_QUALITY,
                    RuleType.CONSUMPTION_SURGE, RuleType.DAILY_ENERGY):
            for name, tag in zip(rule.points, tags):
                self._point_rule(device, rule, name, tag, title)
        elif kind is RuleType.IMBALANCE:
            levels = self._levels(dev, rule, dev, dev, area, title, unit="%")
            negative = rule.method is ImbalanceMethod.NEGATIVE_SEQUENCE
            self._watch(tags, ImbalanceWatcher(levels, rule.min_mean, negative))
        elif kind in (RuleType.PHASE_LOSS, RuleType.NO_VOLTAGE):
            record = self._record(f"{dev}:{rule.id}", rule, "", dev, dev, area, title, rule.alarm)
            self._watch(tags, PhaseLossWatcher(record, kind is RuleType.NO_VOLTAGE))
        elif kind is RuleType.TRIP:
            record = self._record(f"{dev}:{rule.id}", rule, "", dev, dev, area, title, None)
            labels = device.point(rule.cause).states if rule.cause else {}
            watcher = TripWatcher(record, frozenset(rule.states or (0,)), labels, rule.command_window_s)
            self._watch([tags[0]], watcher)
            if rule.cause:   # early: a cause read in the same scan as the trip is known when it raises
                self.catalog.early[f"{dev}.{rule.cause}"].append((watcher, 1))
            self.catalog.trip_alarm[dev] = record.id
        elif kind is RuleType.COMM_LOSS:
            watched = tags or [device.tag(p.name) for p in device.points]
            record = self._record(f"{dev}:{rule.id}", rule, "", dev, dev, area, title, None)
            comm = CommWatcher(record, len(watched))
            self.comm[dev] = comm
            self._watch(watched, comm, early=True)

    def _point_rule(self, device: Device, rule: AlarmRule, name: str, tag: str, title: str) -> None:
        dev, area = device.id, device.area
        kind = rule.type
        point = device.point(name)
        if kind in (RuleType.HIGH, RuleType.LOW):
            self._watch([tag], ThresholdWatcher(self._levels(tag, rule, tag, dev, area, title, point),
                                                kind is RuleType.HIGH))
        elif kind is RuleType.STATE:
            record = self._record(f"{tag}:{rule.id}", rule, "", tag, dev, area, title, None, point, unit="")
            self._watch([tag], StateWatcher(record, frozenset(rule.states)))
        elif kind is RuleType.BAD_QUALITY:
            record = self._record(f"{tag}:{rule.id}", rule, "", tag, dev, area, title, None, point, unit="")
            self._watch([tag], QualityWatcher(record, None))
        else:
            interval_s = rule.interval_s if kind is RuleType.CONSUMPTION_SURGE else 86400
            span = ConsumptionInterval(self.site.tzinfo, interval_s, [point.rollover], [tag], self.opening)
            if kind is RuleType.CONSUMPTION_SURGE:
                record = self._record(f"{tag}:{rule.id}", rule, "", tag, dev, area, title, None, point)
                watcher: Timed = SurgeWatcher(record, rule.factor, self.baseline, span)
            else:
                watcher = DailyEnergyWatcher(self._levels(tag, rule, tag, dev, area, title, point), span)
            self._watch([tag], watcher)
            self.catalog.timed.append(watcher)

    def area_rule(self, rule: AlarmRule) -> None:
        """A site rule: daily energy of an area, summed over its tags."""
        area = rule.area or ""
        title = self.site.area(area).name or area
        points = []
        for tag in rule.points:
            device_id, name = tag.split(".", 1)
            points.append(self.site.device(device_id).point(name))
        span = ConsumptionInterval(self.site.tzinfo, 86400, [p.rollover for p in points], rule.points, self.opening)
        unit = points[0].unit if points else ""
        watcher = DailyEnergyWatcher(self._levels(area, rule, area, "", area, title, unit=unit), span)
        self._watch(rule.points, watcher)
        self.catalog.timed.append(watcher)

    def link_quality(self) -> None:
        """Let bad-quality watchers see their device's communication state."""
        for watchers in self.catalog.late.values():
            for watcher, _ in watchers:
                if isinstance(watcher, QualityWatcher):
                    watcher.comm = self.comm.get(watcher.record.device)


def _feeding(site: SiteConfig, catalog: Catalog) -> None:
    """Which devices each breaker (a device with a trip rule) feeds, and a watcher per switch position."""
    topology = Topology.from_site(site)
    catalog.topology = topology
    by_device: dict[str, list[AlarmRecord]] = defaultdict(list)
    for record in catalog.records.values():
        if record.supply_dependent and record.device:
            by_device[record.device].append(record)
    catalog.device_records = dict(by_device)
    for node_id, node in topology.nodes.items():
        breaker = node.device
        if breaker is None or breaker not in catalog.trip_alarm:
            continue
        if topology.is_switch(node_id):
            catalog.breaker_node[breaker] = node_id
        fed = devices_of(topology, topology.downstream(node_id), breaker)
        catalog.fed_records[breaker] = [r for d in fed for r in by_device.get(d, ())]
    for node_id, tag in topology.state_tags.items():
        catalog.positions[node_id] = None
        catalog.late[tag].append((PositionWatcher(catalog.positions, node_id), 0))


def devices_of(topology: Topology, node_ids: Sequence[str], exclude: str) -> list[str]:
    """Devices of ``node_ids`` (in that order, each once), without ``exclude``."""
    out: dict[str, None] = {}
    for node_id in node_ids:
        device = topology.node(node_id).device
        if device is not None and device != exclude:
            out[device] = None
    return list(out)
