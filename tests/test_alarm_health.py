"""Alarm-system health (ISA-18.2 metrics) computed from journal events: events produced by the
real evaluator on the test site, and hand-made journals for the edge cases."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from app.alarms import AlarmEvaluator, AlarmEvent, AlarmState, EventKind
from app.alarms.health import alarm_health
from tests.alarm_site import good, write_site

T0 = 1_750_003_200.0          # 2025-06-15 16:00:00 UTC, a multiple of 600 s
SH = ZoneInfo("Asia/Shanghai")


def raised(ts: float, alarm_id: str, area: str = "R1", state: AlarmState = AlarmState.UNACK_ACTIVE) -> AlarmEvent:
    return AlarmEvent(ts, EventKind.RAISED, alarm_id, alarm_id.split(":")[0], area, 2, state, f"msg {alarm_id}")


def cleared(ts: float, alarm_id: str, area: str = "R1") -> AlarmEvent:
    return AlarmEvent(ts, EventKind.CLEARED, alarm_id, alarm_id.split(":")[0], area, 2, AlarmState.NORMAL, "")


def flood(ts: float, area: str, began: bool) -> AlarmEvent:
    kind = EventKind.FLOOD_BEGAN if began else EventKind.FLOOD_ENDED
    return AlarmEvent(ts, kind, "", area, area, 0, None, "flood")


def test_metrics_from_the_evaluators_journal(tmp_path):
    site = write_site(tmp_path)
    ev = AlarmEvaluator(site)
    journal: list[AlarmEvent] = []
    ts = T0
    for i in range(12):                       # the door chatters: 12 raises, 20 s apart -> a flood in R2
        ev.feed([good("IO.door", 1, ts)])
        ev.feed([good("IO.door", 0, ts + 1)])
        ev.tick(ts + 7)                        # door has off_delay_s 5
        ts += 20
    ev.feed([good("IO.smoke", 1, T0 + 100)])  # smoke stays active
    ev.tick(T0 + 300)
    journal += ev.take()[0]
    end = T0 + 2 * 86400
    health = alarm_health([e.to_row() for e in journal], T0, end, tz=SH)
    r2 = health.areas["R2"]
    assert r2.raised == 13 and r2.per_10min_max == 13
    assert r2.per_10min_mean == pytest.approx(13 / 288)
    assert r2.per_day == {date(2025, 6, 16): 13}     # local day in Shanghai
    assert r2.flood_time_pct == pytest.approx(100 * (end - journal_flood_began(journal)) / (end - T0))
    assert [c.alarm_id for c in health.chattering] == ["IO.door:door_state"]
    assert health.chattering[0].count == 3
    assert [(c.alarm_id, c.count) for c in health.top] == [("IO.door:door_state", 12), ("IO.smoke:smoke_state", 1)]
    assert [(s.alarm_id, s.active_s) for s in health.stale] == [("IO.smoke:smoke_state", end - (T0 + 100))]


def journal_flood_began(journal: list[AlarmEvent]) -> float:
    return next(e.ts for e in journal if e.kind is EventKind.FLOOD_BEGAN)


def test_periods_days_and_hidden_raises():
    events = [raised(T0 + 10, "A:x"), raised(T0 + 20, "B:x"), raised(T0 + 610, "A:x"),
              raised(T0 + 620, "C:x", state=AlarmState.SHELVED),   # not annunciated: no load, still frequency
              raised(T0 + 86400, "A:x", area="R9")]
    health = alarm_health(events, T0, T0 + 3600, tz=ZoneInfo("UTC"))
    r1 = health.areas["R1"]
    assert (r1.raised, r1.per_10min_max, r1.per_10min_mean) == (3, 2, 0.5)
    assert r1.per_day == {date(2025, 6, 15): 3} and "R9" not in health.areas
    assert [(c.alarm_id, c.count) for c in health.top] == [("A:x", 2), ("B:x", 1), ("C:x", 1)]
    assert health.chattering == () and health.stale == ()


def test_chattering_needs_three_within_the_window():
    slow = [raised(T0 + k * 31, "S:x") for k in range(5)]          # never 3 within 60 s
    fast = [raised(T0 + 1000 + k * 29, "F:x") for k in range(3)]   # 3 within 58 s
    health = alarm_health(slow + fast, T0, T0 + 3600)
    assert [(c.alarm_id, c.count) for c in health.chattering] == [("F:x", 3)]


def test_flood_time_is_clipped_to_the_period():
    events = [flood(T0 - 600, "R1", True), flood(T0 + 600, "R1", False),    # 600 s inside
              flood(T0 + 1800, "R1", True),                                 # open until the end: 1800 s
              flood(T0 + 100, "R2", True), flood(T0 + 400, "R2", False)]    # 300 s
    health = alarm_health(events, T0, T0 + 3600)
    assert health.areas["R1"].flood_time_pct == pytest.approx(100 * 2400 / 3600)
    assert health.areas["R2"].flood_time_pct == pytest.approx(100 * 300 / 3600)
    assert health.areas["R1"].raised == 0


def test_stale_alarms_count_raises_before_the_period_and_respect_clears():
    events = [raised(T0 - 2 * 86400, "OLD:x"), raised(T0 - 2 * 86400, "GONE:x"), cleared(T0 - 86400, "GONE:x"),
              raised(T0 - 3600, "NEW:x")]
    health = alarm_health(events, T0, T0 + 600)
    assert [(s.alarm_id, s.active_s) for s in health.stale] == [("OLD:x", 2 * 86400 + 600)]
    assert health.top == ()


def test_top_ten_only_and_bad_input():
    events = [raised(T0 + i * 100 + k, f"A{i:02d}:x") for i in range(12) for k in range(12 - i)]
    health = alarm_health(events, T0, T0 + 7200)
    assert [c.alarm_id for c in health.top] == [f"A{i:02d}:x" for i in range(10)]
    assert health.top[0].count == 12 and health.top[-1].count == 3
    with pytest.raises(ValueError, match="end > start"):
        alarm_health([], T0, T0)
    with pytest.raises(ValueError, match="without ts/kind"):
        alarm_health([{"kind": "alarm_raised"}], T0, T0 + 1)
