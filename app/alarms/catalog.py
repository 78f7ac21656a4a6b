"""Expand a site's alarm rules into alarm records and watchers indexed by tag,
and work out which devices each breaker feeds."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.alarms.contracts import BaselineProvider
from app.alarms.record import AlarmRecord
from app.alarms.watchers import (
    CommWatcher, ConsumptionInterval, DailyEnergyWatcher, ImbalanceWatcher, PhaseLossWatcher,
    QualityWatcher, StateWatcher, SurgeWatcher, ThresholdWatcher, TripWatcher,
)
from app.config import SUPPLY_DEPENDENT, AlarmRule, Device, ImbalanceMethod, RuleType, SiteConfig

#: Operator text of the two levels of a two-level rule.
LEVEL_TEXT = {"warning": "预警", "alarm": "报警"}

Watcher = (ThresholdWatcher | StateWatcher | ImbalanceWatcher | PhaseLossWatcher | TripWatcher
           | CommWatcher | QualityWatcher | SurgeWatcher | DailyEnergyWatcher)
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
        (communication loss) see a batch before the others.
    timed : list[Timed]
        Watchers whose condition also changes with the clock (interval ends).
    fed_records : dict[str, list[AlarmRecord]]
        Breaker device id -> supply-dependent alarms of the devices it feeds. Not its own: a
        breaker measures on its line side, so its own voltage alarms cause its trip, not follow it.
    upstream_breakers : dict[str, list[str]]
        Device id -> breaker device ids feeding it, in topology order.
    trip_alarm : dict[str, str]
        Breaker device id -> id of its trip alarm.
    """

    records: dict[str, AlarmRecord] = field(default_factory=dict)
    early: dict[str, list[tuple[Watcher, int]]] = field(default_factory=lambda: defaultdict(list))
    late: dict[str, list[tuple[Watcher, int]]] = field(default_factory=lambda: defaultdict(list))
    timed: list[Timed] = field(default_factory=list)
    fed_records: dict[str, list[AlarmRecord]] = field(default_factory=dict)
    upstream_breakers: dict[str, list[str]] = field(default_factory=dict)
    trip_alarm: dict[str, str] = field(default_factory=dict)


def build_catalog(site: SiteConfig, baseline: BaselineProvider | None) -> Catalog:
    """Records and watchers for every rule of ``site``.

    Parameters
    ----------
    site : SiteConfig
    baseline : BaselineProvider | None
        Expected consumption per interval, for ``consumption_surge`` rules.
    """
    catalog = Catalog()
    builder = _Builder(site, catalog, baseline)
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
    def __init__(self, site: SiteConfig, catalog: Catalog, baseline: BaselineProvider | None) -> None:
        self.site = site
        self.catalog = catalog
        self.baseline = baseline
        self.comm: dict[str, CommWatcher] = {}

    def _record(self, alarm_id: str, rule: AlarmRule, level: str, source: str, device: str, area: str,
                title: str, limit: float | None) -> AlarmRecord:
        text = rule.description or rule.type.value.replace("_", " ")
        message = f"{title} {text}" + (f" {LEVEL_TEXT[level]}" if level else "")
        record = AlarmRecord(
            alarm_id, rule.id, rule.type.value, level, source, device, area,
            rule.warning_priority if level == "warning" else rule.priority, message, limit,
            rule.deadband, rule.on_delay_s, rule.off_delay_s, rule.type in SUPPLY_DEPENDENT)
        self.catalog.records[alarm_id] = record
        return record

    def _levels(self, base: str, rule: AlarmRule, source: str, device: str, area: str,
                title: str) -> list[AlarmRecord]:
        return [self._record(f"{base}:{rule.id}:{level}", rule, level, source, device, area, title, limit)
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
                self._point_rule(device, rule, name, tag, f"{title} {name}")
        elif kind is RuleType.IMBALANCE:
            levels = self._levels(dev, rule, dev, dev, area, title)
            negative = rule.method is ImbalanceMethod.NEGATIVE_SEQUENCE
            self._watch(tags, ImbalanceWatcher(levels, rule.min_mean, negative))
        elif kind in (RuleType.PHASE_LOSS, RuleType.NO_VOLTAGE):
            record = self._record(f"{dev}:{rule.id}", rule, "", dev, dev, area, title, rule.alarm)
            self._watch(tags, PhaseLossWatcher(record, kind is RuleType.NO_VOLTAGE))
        elif kind is RuleType.TRIP:
            record = self._record(f"{dev}:{rule.id}", rule, "", dev, dev, area, title, None)
            labels = device.point(rule.cause).states if rule.cause else {}
            watcher = TripWatcher(record, frozenset(rule.states or (0,)), labels, rule.command_window_s)
            self._watch([tags[0], *([f"{dev}.{rule.cause}"] if rule.cause else [])], watcher)
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
        if kind in (RuleType.HIGH, RuleType.LOW):
            self._watch([tag], ThresholdWatcher(self._levels(tag, rule, tag, dev, area, title),
                                                kind is RuleType.HIGH))
        elif kind is RuleType.STATE:
            record = self._record(f"{tag}:{rule.id}", rule, "", tag, dev, area, title, None)
            self._watch([tag], StateWatcher(record, frozenset(rule.states)))
        elif kind is RuleType.BAD_QUALITY:
            record = self._record(f"{tag}:{rule.id}", rule, "", tag, dev, area, title, None)
            self._watch([tag], QualityWatcher(record, None))
        else:
            interval_s = rule.interval_s if kind is RuleType.CONSUMPTION_SURGE else 86400
            span = ConsumptionInterval(self.site.tzinfo, interval_s, [device.point(name).rollover])
            if kind is RuleType.CONSUMPTION_SURGE:
                record = self._record(f"{tag}:{rule.id}", rule, "", tag, dev, area, title, None)
                watcher: Timed = SurgeWatcher(record, rule.factor, self.baseline, span)
            else:
                watcher = DailyEnergyWatcher(self._levels(tag, rule, tag, dev, area, title), span)
            self._watch([tag], watcher)
            self.catalog.timed.append(watcher)

    def area_rule(self, rule: AlarmRule) -> None:
        """A site rule: daily energy of an area, summed over its tags."""
        area = rule.area or ""
        title = self.site.area(area).name or area
        rollovers = []
        for tag in rule.points:
            device_id, point = tag.split(".", 1)
            rollovers.append(self.site.device(device_id).point(point).rollover)
        span = ConsumptionInterval(self.site.tzinfo, 86400, rollovers)
        watcher = DailyEnergyWatcher(self._levels(area, rule, area, "", area, title), span)
        self._watch(rule.points, watcher)
        self.catalog.timed.append(watcher)

    def link_quality(self) -> None:
        """Let bad-quality watchers see their device's communication state."""
        for watchers in self.catalog.late.values():
            for watcher, _ in watchers:
                if isinstance(watcher, QualityWatcher):
                    watcher.comm = self.comm.get(watcher.record.device)


def _feeding(site: SiteConfig, catalog: Catalog) -> None:
    """Which devices each breaker (a device with a trip rule) feeds through the topology."""
    children: dict[str, list[str]] = defaultdict(list)
    for node in site.topology:
        for up in node.upstream:
            children[up].append(node.id)
    by_device: dict[str, list[AlarmRecord]] = defaultdict(list)
    for record in catalog.records.values():
        if record.supply_dependent and record.device:
            by_device[record.device].append(record)
    for node in site.topology:
        breaker = node.device
        if breaker is None or breaker not in catalog.trip_alarm:
            continue
        fed: list[str] = []
        queue, seen = [node.id], {node.id}
        while queue:
            current = queue.pop(0)
            device = site.node(current).device
            if device is not None and device != breaker and device not in fed:
                fed.append(device)
            for child in children[current]:
                if child not in seen:
                    seen.add(child)
                    queue.append(child)
        catalog.fed_records[breaker] = [r for d in fed for r in by_device[d]]
        for device in fed:
            catalog.upstream_breakers.setdefault(device, []).append(breaker)
