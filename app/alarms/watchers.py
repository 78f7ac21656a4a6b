"""Watchers: turn readings of points into raw alarm conditions, one class per rule type.

A watcher is registered under each tag it reads; :meth:`update` gets the reading and
the tag's position among the watcher's tags, and reports conditions to a
:class:`ConditionSink` (the evaluator). Watchers keep their state in slots and
allocate nothing per reading.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from app.alarms.calc import accumulator_delta, day_type, deviation_unbalance, negative_sequence_unbalance
from app.alarms.contracts import BaselineProvider, OpeningProvider
from app.alarms.record import AlarmRecord
from app.points import PointValue, Quality

GOOD = Quality.GOOD
BAD = Quality.BAD


class ConditionSink(Protocol):
    """What watchers report to (implemented by the evaluator)."""

    def condition(self, record: AlarmRecord, raw: bool, ts: float, value: float | None) -> None:
        """The raw (undelayed) condition of ``record`` at ``ts``, with the value judged."""

    def touch(self, record: AlarmRecord) -> None:
        """``record`` changed outside a transition (its trip cause): publish it."""

    def breaker(self, device: str, is_open: bool, commanded: bool, ts: float) -> None:
        """A breaker with a trip rule opened (commanded or not) or closed."""

    def last_command(self, device: str) -> float | None:
        """UTC epoch seconds of the last command sent to ``device``."""


def judge_levels(levels: Sequence[AlarmRecord], high: bool, value: float, ts: float,
                 sink: ConditionSink) -> None:
    """Compare ``value`` with each level's limit, with the level's deadband as hysteresis."""
    for record in levels:
        limit = record.limit
        if high:
            raw = value > (limit - record.deadband if record.raw else limit)
        else:
            raw = value < (limit + record.deadband if record.raw else limit)
        sink.condition(record, raw, ts, value)


class ThresholdWatcher:
    """``high``/``low``: one point against pre-warning and alarm limits."""

    __slots__ = ("levels", "high")

    def __init__(self, levels: Sequence[AlarmRecord], high: bool) -> None:
        self.levels = tuple(levels)
        self.high = high

    def update(self, pv: PointValue, index: int, sink: ConditionSink) -> None:
        if pv.quality is GOOD and pv.value is not None:
            judge_levels(self.levels, self.high, pv.value, pv.ts, sink)


class StateWatcher:
    """``state``: a teleindication whose code is in ``codes`` (water, smoke, door)."""

    __slots__ = ("record", "codes")

    def __init__(self, record: AlarmRecord, codes: frozenset[int]) -> None:
        self.record = record
        self.codes = codes

    def update(self, pv: PointValue, index: int, sink: ConditionSink) -> None:
        if pv.quality is GOOD and pv.value is not None:
            sink.condition(self.record, int(pv.value) in self.codes, pv.ts, pv.value)


class _ThreePhase:
    """Latest GOOD magnitudes of phases A, B, C."""

    __slots__ = ("phases", "known")

    def __init__(self) -> None:
        self.phases = [0.0, 0.0, 0.0]
        self.known = [False, False, False]

    def take(self, pv: PointValue, index: int) -> bool:
        """Store the reading; True when all three phases are known and good."""
        if pv.quality is GOOD and pv.value is not None:
            self.phases[index] = pv.value
            self.known[index] = True
        else:
            self.known[index] = False
        return self.known[0] and self.known[1] and self.known[2]


class ImbalanceWatcher(_ThreePhase):
    """``imbalance``: unbalance of three magnitudes in %, not judged below ``min_mean``."""

    __slots__ = ("levels", "min_mean", "negative_sequence")

    def __init__(self, levels: Sequence[AlarmRecord], min_mean: float | None, negative_sequence: bool) -> None:
        super().__init__()
        self.levels = tuple(levels)
        self.min_mean = min_mean
        self.negative_sequence = negative_sequence

    def update(self, pv: PointValue, index: int, sink: ConditionSink) -> None:
        if not self.take(pv, index):
            return
        a, b, c = self.phases
        if self.min_mean is not None and (a + b + c) / 3.0 < self.min_mean:
            unbalance = 0.0
        elif self.negative_sequence:
            unbalance = negative_sequence_unbalance(a, b, c)
        else:
            unbalance = deviation_unbalance(a, b, c)
        judge_levels(self.levels, True, unbalance, pv.ts, sink)


class PhaseLossWatcher(_ThreePhase):
    """``phase_loss`` (some phases lost) or ``no_voltage`` (all lost) below the rule's limit."""

    __slots__ = ("record", "all_phases")

    def __init__(self, record: AlarmRecord, all_phases: bool) -> None:
        super().__init__()
        self.record = record
        self.all_phases = all_phases

    def update(self, pv: PointValue, index: int, sink: ConditionSink) -> None:
        if not self.take(pv, index):
            return
        record = self.record
        limit = record.limit + record.deadband if record.raw else record.limit
        lost = (self.phases[0] < limit) + (self.phases[1] < limit) + (self.phases[2] < limit)
        raw = lost == 3 if self.all_phases else 0 < lost < 3
        sink.condition(record, raw, pv.ts, float(lost))


class TripWatcher:
    """``trip``: the breaker state point (index 0) and the trip cause point (index 1).

    Opening more than ``window_s`` after the last command is a trip; the alarm clears
    when the breaker closes. The first reading only sets the state (no alarm). The trip
    cause goes to the record's ``cause_code`` and ``cause_label`` (the cause point's
    configured state label; empty for a code it has no label for).
    """

    __slots__ = ("record", "device", "open_codes", "cause_labels", "window_s", "is_open", "cause_code")

    def __init__(self, record: AlarmRecord, open_codes: frozenset[int], cause_labels: Mapping[int, str],
                 window_s: float) -> None:
        self.record = record
        self.device = record.device
        self.open_codes = open_codes
        self.cause_labels = cause_labels
        self.window_s = window_s
        self.is_open: bool | None = None
        self.cause_code: int | None = None

    def _take_cause(self, record: AlarmRecord) -> bool:
        """Put the cause read last on ``record``; True if that changed it."""
        code = self.cause_code
        label = "" if code is None else self.cause_labels.get(code, "")
        if record.cause_code == code and record.cause_label == label:
            return False
        record.cause_code, record.cause_label = code, label
        return True

    def update(self, pv: PointValue, index: int, sink: ConditionSink) -> None:
        if pv.quality is not GOOD or pv.value is None:
            return
        record = self.record
        if index == 1:
            self.cause_code = int(pv.value)
            if record.raw and self._take_cause(record):
                sink.touch(record)
            return
        is_open = int(pv.value) in self.open_codes
        if is_open == self.is_open:
            return
        first = self.is_open is None
        self.is_open = is_open
        if first:
            sink.breaker(self.device, is_open, True, pv.ts)
            return
        if is_open:
            commanded_at = sink.last_command(self.device)
            commanded = commanded_at is not None and 0.0 <= pv.ts - commanded_at <= self.window_s
            if not commanded:
                self._take_cause(record)
                sink.condition(record, True, pv.ts, pv.value)
            sink.breaker(self.device, True, commanded, pv.ts)
        else:
            sink.condition(record, False, pv.ts, pv.value)
            sink.breaker(self.device, False, True, pv.ts)


class PositionWatcher:
    """A switch's position point (1 closed, 0 open): keeps ``positions[node]`` current.

    Not GOOD (or no value) makes the position unknown (None). Registered after the
    switch's :class:`TripWatcher`, so a trip is judged with the position before it.
    """

    __slots__ = ("positions", "node")

    def __init__(self, positions: dict[str, bool | None], node: str) -> None:
        self.positions = positions
        self.node = node

    def update(self, pv: PointValue, index: int, sink: ConditionSink) -> None:
        value = pv.value
        self.positions[self.node] = None if pv.quality is not GOOD or value is None else value >= 0.5


class CommWatcher:
    """``comm_loss``: every watched point of the device BAD at once."""

    __slots__ = ("record", "bad", "count", "lost")

    def __init__(self, record: AlarmRecord, size: int) -> None:
        self.record = record
        self.bad = [False] * size
        self.count = 0
        self.lost = False

    def update(self, pv: PointValue, index: int, sink: ConditionSink) -> None:
        bad = pv.quality is BAD
        if bad == self.bad[index]:
            return
        self.bad[index] = bad
        self.count += 1 if bad else -1
        lost = self.count == len(self.bad)
        if lost != self.lost:
            self.lost = lost
            sink.condition(self.record, lost, pv.ts, float(self.count))


class QualityWatcher:
    """``bad_quality``: a point not GOOD while its device still communicates."""

    __slots__ = ("record", "comm")

    def __init__(self, record: AlarmRecord, comm: CommWatcher | None) -> None:
        self.record = record
        self.comm = comm

    def update(self, pv: PointValue, index: int, sink: ConditionSink) -> None:
        raw = pv.quality is not GOOD and not (self.comm is not None and self.comm.lost)
        sink.condition(self.record, raw, pv.ts, float(pv.quality))


class ConsumptionInterval:
    """Consumption of accumulators within a local-time interval (an hour, a day).

    Parameters
    ----------
    tz : ZoneInfo
        Site time zone; intervals are aligned to its midnight.
    interval_s : int
        Interval length, seconds.
    rollovers : sequence of float | None
        Rollover value of each accumulator (None: never wraps).
    tags : sequence of str
        Tag of each accumulator (for ``opening``).
    opening : OpeningProvider, optional
        The interval's opening reading of an accumulator, asked at its first reading, so
        a restart within the interval counts what was consumed before it; without it
        (or without a stored reading) consumption counts from the first reading seen.
    """

    __slots__ = ("tz", "interval_s", "ends_at", "starts_local", "consumed", "readings", "rollovers", "tags",
                 "opening")

    def __init__(self, tz: ZoneInfo, interval_s: int, rollovers: Sequence[float | None],
                 tags: Sequence[str] = (), opening: OpeningProvider | None = None) -> None:
        self.tags = tuple(tags)
        self.opening = opening if self.tags else None
        self.tz = tz
        self.interval_s = interval_s
        self.ends_at = float("-inf")
        self.starts_local: datetime | None = None
        self.consumed = 0.0
        self.readings: list[float | None] = [None] * len(rollovers)
        self.rollovers = tuple(rollovers)

    def roll(self, ts: float) -> bool:
        """Start the interval holding ``ts`` if ``ts`` is past the current one; True if it did."""
        if ts < self.ends_at:
            return False
        local = datetime.fromtimestamp(ts, self.tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        elapsed = (local - midnight).total_seconds()
        self.starts_local = midnight + timedelta(seconds=elapsed // self.interval_s * self.interval_s)
        self.ends_at = self.starts_local.timestamp() + self.interval_s
        self.consumed = 0.0
        return True

    def add(self, pv: PointValue, index: int) -> bool:
        """Count a GOOD reading's consumption; False if it carried no usable reading."""
        if pv.quality is not GOOD or pv.value is None:
            return False
        previous = self.readings[index]
        self.readings[index] = pv.value
        self.roll(pv.ts)
        if previous is None and self.opening is not None and self.starts_local is not None:
            previous = self.opening(self.tags[index], self.starts_local.timestamp(), pv.ts)
        if previous is not None:
            self.consumed += accumulator_delta(previous, pv.value, self.rollovers[index])
        return True


class SurgeWatcher:
    """``consumption_surge``: this interval's consumption above ``factor`` x the baseline."""

    __slots__ = ("record", "tag", "factor", "baseline", "interval")

    def __init__(self, record: AlarmRecord, factor: float, baseline: BaselineProvider | None,
                 interval: ConsumptionInterval) -> None:
        self.record = record
        self.tag = record.source
        self.factor = factor
        self.baseline = baseline
        self.interval = interval

    def _judge(self, ts: float, sink: ConditionSink) -> None:
        record = self.record
        limit = record.limit
        consumed = self.interval.consumed
        sink.condition(record, limit is not None and consumed > limit, ts, consumed)

    def _new_limit(self) -> None:
        interval = self.interval
        base = None
        if self.baseline is not None and interval.starts_local is not None:
            base = self.baseline(self.tag, interval.starts_local, interval.interval_s,
                                 day_type(interval.starts_local))
        self.record.limit = None if base is None or base <= 0.0 else self.factor * base

    def update(self, pv: PointValue, index: int, sink: ConditionSink) -> None:
        interval = self.interval
        before = interval.ends_at
        if interval.add(pv, index):
            if interval.ends_at != before:
                self._new_limit()
            self._judge(pv.ts, sink)

    def tick(self, now: float, sink: ConditionSink) -> None:
        if self.interval.starts_local is not None and self.interval.roll(now):
            self._new_limit()
            self._judge(now, sink)


class DailyEnergyWatcher:
    """``daily_energy``: consumption since local midnight of one or several accumulators."""

    __slots__ = ("levels", "interval")

    def __init__(self, levels: Sequence[AlarmRecord], interval: ConsumptionInterval) -> None:
        self.levels = tuple(levels)
        self.interval = interval

    def update(self, pv: PointValue, index: int, sink: ConditionSink) -> None:
        if self.interval.add(pv, index):
            judge_levels(self.levels, True, self.interval.consumed, pv.ts, sink)

    def tick(self, now: float, sink: ConditionSink) -> None:
        if self.interval.starts_local is not None and self.interval.roll(now):
            judge_levels(self.levels, True, 0.0, now, sink)

