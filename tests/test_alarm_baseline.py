"""Consumption baselines from the historian's rollups (real SQLite historian): same local hour,
same day type, whole-interval data only, and a database that cannot be read."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.alarms.baseline import historian_baseline
from app.alarms.contracts import DayType
from app.points import PointValue, Quality
from db.historian import Historian, PointMeta
from db.migrate import upgrade

SH = ZoneInfo("Asia/Shanghai")
TAG = "M1.kwh"
START = datetime(2026, 3, 10, 10, 0, tzinfo=SH)          # a Tuesday, 10:00-11:00 is asked for
MISSING = datetime(2026, 3, 5, 10, 0, tzinfo=SH)         # a Thursday whose 10:00 hour has no reading


def rate(local: datetime) -> float:
    """kWh per hour: workdays 20 at 10:00 (32 on Monday 03-09), weekends 5, else 8."""
    if local.weekday() >= 5:
        return 5.0
    if local.hour == 10:
        return 32.0 if local.date() == START.date() - timedelta(days=1) else 20.0
    return 8.0


@pytest.fixture
def historian(tmp_path):
    url = f"sqlite:///{tmp_path}/hist.sqlite3"
    upgrade(url)
    h = Historian(url, spool_dir=tmp_path / "spool", flush_interval_s=0.05, fold_interval_s=0.1)
    h.register_points([PointMeta(TAG, "M1", "kwh", unit="kWh", kind="accumulator")])
    h.start()
    readings, value = [], 1000.0
    t = START - timedelta(days=14, hours=1)             # an hour early: a first reading has no delta
    while t < START:                                     # every quarter hour for two weeks
        local = t.astimezone(SH)
        value += rate(local) / 4                         # the quarter ending in this reading's hour
        if not (MISSING <= local < MISSING + timedelta(hours=1)):
            readings.append(PointValue(TAG, value, Quality.GOOD, t.timestamp()))
        t += timedelta(minutes=15)
    h.submit(readings)
    try:
        deadline = time.monotonic() + 20     # every hour of two weeks folded but the missing one
        while len(h.read_rollup(TAG, "1h", (START - timedelta(days=14)).timestamp(), START.timestamp())) \
                < 14 * 24 - 1:
            assert time.monotonic() < deadline, "rollups not folded"
            time.sleep(0.05)
        yield h
    finally:
        h.stop()


def test_mean_of_the_same_hour_on_days_of_the_same_type(historian):
    baseline = historian_baseline(historian, days=14)
    # workdays 03-02 .. 03-09 but 03-05 (no 10:00 bucket: its consumption went to 11:00): 20 x 8 + 32 over 9 days
    workdays = [d for d in range(1, 15) if (START - timedelta(days=d)).weekday() < 5]
    assert len(workdays) == 10
    assert baseline(TAG, START, 3600, DayType.WORKDAY) == pytest.approx((20.0 * 8 + 32.0) / 9)
    assert baseline(TAG, START, 3600, DayType.WEEKEND) == pytest.approx(5.0)
    assert baseline(TAG, START + timedelta(hours=3), 3600, DayType.WORKDAY) == pytest.approx(8.0)
    assert baseline(TAG, START, 900, DayType.WORKDAY) == pytest.approx((20.0 * 8 + 32.0) / 9 / 4)   # 15-min rollups
    assert baseline(TAG, START, 7200, DayType.WORKDAY) == pytest.approx((20.0 * 8 + 32.0) / 9 + 8.0)


def test_too_little_history_gives_no_baseline(historian):
    assert historian_baseline(historian, days=1)(TAG, START, 3600, DayType.WORKDAY) is None       # needs 2 days
    assert historian_baseline(historian, days=2, min_days=1)(TAG, START, 3600, DayType.WORKDAY) == pytest.approx(32.0)
    assert historian_baseline(historian)("M9.kwh", START, 3600, DayType.WORKDAY) is None          # no such tag
    assert historian_baseline(historian)(TAG, START, 600, DayType.WORKDAY) is None                # not 15-min buckets


def test_unreadable_database_gives_none_and_is_not_asked_again_at_once(tmp_path):
    class Gone:
        calls = 0

        def read_rollup(self, *args):
            self.calls += 1
            raise OSError("database file is on a disk that is gone")

    now = [0.0]
    gone = Gone()
    baseline = historian_baseline(gone, clock=lambda: now[0])
    assert baseline(TAG, START, 3600, DayType.WORKDAY) is None
    assert baseline(TAG, START, 3600, DayType.WORKDAY) is None and gone.calls == 1
    now[0] = 301.0
    assert baseline(TAG, START, 3600, DayType.WORKDAY) is None and gone.calls == 2
