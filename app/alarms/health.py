"""Alarm-system health (ISA-18.2 / IEC 62682 performance metrics) from journal events.

Input is the journal: :class:`~app.alarms.contracts.AlarmEvent` objects or rows of the
historian's ``events`` table (:meth:`AlarmEvent.to_row` form: ``ts`` in ms, ``kind``,
``area``, ``message``, ``data.alarm_id``, ``data.state``). Figures, over ``[start, end)``:

* alarm load per area: annunciated raises (``alarm_raised`` in state ``unack_active``;
  raises while shelved, suppressed or out of service are not shown to anyone) per
  10-minute period — mean and maximum — and per local day;
* flood time %: share of the period an area spent between ``alarm_flood_began`` and
  ``alarm_flood_ended`` (a flood open at ``start`` or ``end`` is clipped);
* chattering alarms: raised ``chatter_count`` (3) or more times within ``chatter_window_s`` (60 s);
* stale alarms: raised and not cleared for more than ``stale_after_s`` (24 h) at ``end``;
* the ``top_n`` (10) most frequent alarms.

Chattering, stale and frequency count every raise, hidden or not: a shelved chattering
alarm is still a bad alarm to rationalise.

:func:`read_alarm_health` reads the events it needs from the historian's journal
(``read_events``) and computes the same; :data:`BENCHMARKS` and :func:`rate` judge the
figures against ISA-18.2's performance targets (18.2-2016 section 16.5, table 8).
"""

from __future__ import annotations

import enum
import math
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone, tzinfo
from typing import Any, NamedTuple

from app.alarms.contracts import AlarmEvent, EventKind, JournalRead
from app.alarms.journal import read_journal

PERIOD_S = 600.0
DAY_S = 86400.0
#: Journal event kinds the health figures are computed from.
HEALTH_KINDS = (EventKind.RAISED.value, EventKind.CLEARED.value, EventKind.FLOOD_BEGAN.value,
                EventKind.FLOOD_ENDED.value)
#: How far before the period :func:`read_alarm_health` looks for alarms still active in it.
LOOKBACK_S = 30 * DAY_S
_RAISED, _CLEARED = EventKind.RAISED.value, EventKind.CLEARED.value
_BEGAN, _ENDED = EventKind.FLOOD_BEGAN.value, EventKind.FLOOD_ENDED.value


class _Event(NamedTuple):
    ts: float          # UTC epoch seconds
    kind: str
    alarm_id: str
    area: str
    message: str
    state: str | None


def _normalise(event: AlarmEvent | Mapping[str, Any]) -> _Event:
    if isinstance(event, AlarmEvent):
        return _Event(event.ts, event.kind.value, event.alarm_id, event.area, event.message,
                      event.state.value if event.state is not None else None)
    data = event.get("data") or {}
    return _Event(event["ts"] / 1000.0, str(event["kind"]), str(data.get("alarm_id") or ""),
                  str(event.get("area") or ""), str(event.get("message") or ""), data.get("state"))


@dataclass(frozen=True)
class AreaLoad:
    """Alarm load of one area.

    Attributes
    ----------
    area : str
    raised : int
        Annunciated alarms in the period.
    per_10min_mean, per_10min_max : float, int
        Annunciated alarms per 10-minute period (aligned to the epoch), mean over every period
        of ``[start, end)`` and the busiest one.
    per_day : dict[date, int]
        Annunciated alarms per local day.
    flood_time_pct : float
        Percent of ``[start, end)`` in alarm flood.
    """

    area: str
    raised: int
    per_10min_mean: float
    per_10min_max: int
    per_day: dict[date, int]
    flood_time_pct: float
    days: float = 1.0

    @property
    def per_day_mean(self) -> float:
        """Annunciated alarms per day, averaged over the period's length (``days``)."""
        return self.raised / self.days

    @property
    def per_day_max(self) -> int:
        """Annunciated alarms on the busiest local day."""
        return max(self.per_day.values(), default=0)


@dataclass(frozen=True)
class AlarmCount:
    """An alarm with a count: raises in the period, or in the densest ``chatter_window_s``."""

    alarm_id: str
    area: str
    message: str
    count: int


@dataclass(frozen=True)
class StaleAlarm:
    """An alarm active for longer than the stale limit at the end of the period."""

    alarm_id: str
    area: str
    message: str
    raised_ts: float
    active_s: float


@dataclass(frozen=True)
class AlarmHealth:
    """ISA-18.2 metrics of ``[start, end)``; see the module docstring.

    Attributes
    ----------
    start, end : float
        UTC epoch seconds.
    areas : dict[str, AreaLoad]
        Areas that raised alarms or flooded, by id.
    chattering : tuple[AlarmCount, ...]
        Chattering alarms, most raises in a window first.
    stale : tuple[StaleAlarm, ...]
        Longest active first.
    top : tuple[AlarmCount, ...]
        Most frequent first (ties by id).
    """

    start: float
    end: float
    areas: dict[str, AreaLoad]
    chattering: tuple[AlarmCount, ...]
    stale: tuple[StaleAlarm, ...]
    top: tuple[AlarmCount, ...]
    raises: int = 0

    @property
    def top_share_pct(self) -> float:
        """Share of every raise in the period (hidden ones too) taken by the ``top`` alarms, %."""
        return 100.0 * sum(c.count for c in self.top) / self.raises if self.raises else 0.0


def alarm_health(events: Iterable[AlarmEvent | Mapping[str, Any]], start: float, end: float, *,
                 tz: tzinfo = timezone.utc, chatter_count: int = 3, chatter_window_s: float = 60.0,
                 stale_after_s: float = 86400.0, top_n: int = 10) -> AlarmHealth:
    """Compute the alarm-system health of ``[start, end)`` from journal events.

    Parameters
    ----------
    events : iterable of AlarmEvent or event rows
        In any order; events before ``start`` matter for stale alarms and open floods.
    start, end : float
        UTC epoch seconds, ``start < end``.
    tz : tzinfo
        Zone of the per-day counts (the site's).
    chatter_count, chatter_window_s, stale_after_s, top_n
        Thresholds (ISA-18.2 defaults).

    Raises
    ------
    ValueError
        ``end <= start``, or an event row without ``ts`` / ``kind``.
    """
    if not end > start:
        raise ValueError(f"health period must have end > start, got {start!r} .. {end!r}")
    try:
        ordered = sorted((_normalise(e) for e in events), key=lambda e: e.ts)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"journal event row without ts/kind: {exc}") from None

    periods = max(1, math.ceil((end - start) / PERIOD_S))
    buckets: dict[str, Counter[int]] = defaultdict(Counter)
    days: dict[str, Counter[date]] = defaultdict(Counter)
    raised_total: Counter[str] = Counter()
    flood_since: dict[str, float] = {}
    flood_s: Counter[str] = Counter()
    frequency: Counter[str] = Counter()
    describe: dict[str, tuple[str, str]] = {}
    recent: dict[str, deque[float]] = defaultdict(deque)
    chatter: dict[str, int] = {}
    active_since: dict[str, float] = {}

    for e in ordered:
        if e.ts >= end:
            break
        inside = e.ts >= start
        if e.kind == _RAISED:
            active_since[e.alarm_id] = e.ts
            if not inside:
                continue
            describe[e.alarm_id] = (e.area, e.message)
            frequency[e.alarm_id] += 1
            window = recent[e.alarm_id]
            window.append(e.ts)
            while window[0] <= e.ts - chatter_window_s:
                window.popleft()
            if len(window) >= chatter_count:
                chatter[e.alarm_id] = max(chatter.get(e.alarm_id, 0), len(window))
            if e.state == "unack_active":
                raised_total[e.area] += 1
                buckets[e.area][int(e.ts // PERIOD_S)] += 1
                days[e.area][datetime.fromtimestamp(e.ts, tz).date()] += 1
        elif e.kind == _CLEARED:
            active_since.pop(e.alarm_id, None)
        elif e.kind == _BEGAN:
            flood_since.setdefault(e.area, max(e.ts, start))
        elif e.kind == _ENDED:
            began = flood_since.pop(e.area, None)
            if began is not None and inside:
                flood_s[e.area] += e.ts - began
    for area, began in flood_since.items():
        flood_s[area] += end - began

    areas = {}
    for area in sorted(set(raised_total) | set(flood_s)):
        counts = buckets.get(area, Counter())
        areas[area] = AreaLoad(area, raised_total[area], raised_total[area] / periods,
                               max(counts.values(), default=0), dict(sorted(days[area].items())),
                               100.0 * flood_s[area] / (end - start), (end - start) / DAY_S)

    def counted(alarm_id: str, count: int) -> AlarmCount:
        area, message = describe[alarm_id]
        return AlarmCount(alarm_id, area, message, count)

    chattering = tuple(counted(a, n) for a, n in sorted(chatter.items(), key=lambda kv: (-kv[1], kv[0])))
    top = tuple(counted(a, n) for a, n in sorted(frequency.items(), key=lambda kv: (-kv[1], kv[0]))[:top_n])
    last_seen = {e.alarm_id: e for e in ordered if e.kind == _RAISED and e.ts < end}
    stale = sorted((StaleAlarm(a, last_seen[a].area, last_seen[a].message, since, end - since)
                    for a, since in active_since.items() if end - since > stale_after_s),
                   key=lambda s: (-s.active_s, s.alarm_id))
    return AlarmHealth(start, end, areas, chattering, tuple(stale), top, sum(frequency.values()))


def read_alarm_health(read_events: JournalRead, start: float, end: float, *, tz: tzinfo = timezone.utc,
                      lookback_s: float = LOOKBACK_S, page: int = 10_000) -> AlarmHealth:
    """:func:`alarm_health` of ``[start, end)`` from the historian's journal.

    Reads raises, clears and flood events from ``start - lookback_s`` (alarms raised
    before the period and still active count as stale; an older one is not seen), page by
    page, newest first. Blocking: call it off the GUI thread.

    Parameters
    ----------
    read_events : JournalRead
        The historian's journal read (:meth:`db.historian.Historian.read_events`).
    start, end : float
        UTC epoch seconds.
    tz : tzinfo
        The site's zone (per-day counts).
    lookback_s : float
        Seconds before ``start`` read for alarms active at the start.
    page : int
        Rows per read.

    Raises
    ------
    ValueError
        ``end <= start``, or more than ``page`` events in one millisecond.
    db.historian.HistorianError
        The journal cannot be read (whatever ``read_events`` raises passes through).
    """
    if not end > start:
        raise ValueError(f"health period must have end > start, got {start!r} .. {end!r}")
    rows = read_journal(read_events, start - lookback_s, end, HEALTH_KINDS, page=page)
    return alarm_health(rows, start, end, tz=tz)


class Rating(str, enum.Enum):
    """A figure against its ISA-18.2 target."""

    ACCEPTABLE = "acceptable"     # within the "very likely acceptable" target
    MANAGEABLE = "manageable"     # above it, within the "maximum manageable"
    OVER = "over"                 # above what an operator can manage


@dataclass(frozen=True)
class Benchmark:
    """ISA-18.2 target of one figure: ``acceptable`` or less is fine, up to ``manageable`` is
    the most an operator can handle, above is over."""

    acceptable: float
    manageable: float

    def rate(self, value: float) -> Rating:
        if value <= self.acceptable:
            return Rating.ACCEPTABLE
        return Rating.MANAGEABLE if value <= self.manageable else Rating.OVER


#: ISA-18.2-2016 table 8, per operator position (here: per area): annunciated alarms per day
#: ~150 very likely acceptable, ~300 maximum manageable; per 10 minutes ~1 and ~2; at most
#: 10 in any 10 minutes; flood time < ~1 %; chattering alarms 0; stale alarms < 5 on any day;
#: top-10 alarms' share of the load ~1-5 %.
BENCHMARKS: dict[str, Benchmark] = {
    "per_day": Benchmark(150, 300),
    "per_10min": Benchmark(1, 2),
    "per_10min_max": Benchmark(10, 10),
    "flood_time_pct": Benchmark(1.0, 1.0),
    "chattering": Benchmark(0, 0),
    "stale": Benchmark(4, 4),
    "top_share_pct": Benchmark(1.0, 5.0),
}


def rate(figure: str, value: float) -> Rating:
    """``value`` of ``figure`` (a key of :data:`BENCHMARKS`) against its target.

    Raises
    ------
    KeyError
        Unknown figure.
    """
    return BENCHMARKS[figure].rate(value)


def area_rating(load: AreaLoad) -> Rating:
    """The worst rating of an area's load figures (per day, per 10 min, busiest 10 min, flood time)."""
    ratings = (rate("per_day", load.per_day_mean), rate("per_10min", load.per_10min_mean),
               rate("per_10min_max", load.per_10min_max), rate("flood_time_pct", load.flood_time_pct))
    order = list(Rating)
    return max(ratings, key=order.index)
