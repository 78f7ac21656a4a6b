"""Historian on a real SQLite file: round trip, numpy reads, rollups, retention, idempotency."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from app.points import PointValue, Quality
from db.historian import Historian, HistorianError
from db.migrate import upgrade
from db.point_meta import PointMeta
from db.sqlite_store import SqliteStore

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z; 1h bucket starts at 1_699_999_200
H = 3600.0


@pytest.fixture
def url(tmp_path):
    u = f"sqlite:///{tmp_path / 'hist.sqlite3'}"
    upgrade(u)
    return u


@pytest.fixture
def store(url):
    s = SqliteStore(url)
    yield s
    s.close()


def wait_until(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def meter(rollover=None):
    return PointMeta("M1.kwh", "M1", "kwh", unit="kWh", kind="accumulator", rollover=rollover)


def test_round_trip_numpy(url, tmp_path):
    h = Historian(url, spool_dir=tmp_path / "spool", flush_interval_s=0.05)
    h.register_points([PointMeta("QF1.P", "QF1", "P", unit="kW")])
    h.start()
    try:
        h.submit([PointValue("QF1.P", 1.5 * i, Quality.GOOD, T0 + i) for i in range(100)])
        h.submit([PointValue("QF1.P", None, Quality.BAD, T0 + 100.5, "timeout after 1.0 s"),
                  PointValue("QF1.P", math.inf, Quality.UNCERTAIN, T0 + 101)])
        wait_until(lambda: h.stats().committed == 102)
        ts, value, quality = h.read_range("QF1.P", T0, T0 + 200)
    finally:
        h.stop(5)
    assert ts.dtype == np.float64 and value.dtype == np.float64 and quality.dtype == np.int8
    assert ts.shape == value.shape == quality.shape == (102,)
    np.testing.assert_array_equal(ts[:100], T0 + np.arange(100))
    assert ts[100] == pytest.approx(T0 + 100.5)
    np.testing.assert_array_equal(value[:100], 1.5 * np.arange(100))
    assert math.isnan(value[100]) and math.isnan(value[101])
    assert list(quality[99:]) == [0, 2, 1]
    st = h.stats()
    assert (st.stored, st.queued_memory, st.spooled, st.db_ok) == (102, 0, 0, True)
    # half-open range, and an unknown tag gives empty arrays
    assert len(h.read_range("QF1.P", T0 + 10, T0 + 20)[0]) == 10
    assert [len(a) for a in h.read_range("nope.x", T0, T0 + 200)] == [0, 0, 0]


def test_unregistered_tag_is_created_and_bad_samples_rejected(url, tmp_path):
    h = Historian(url, spool_dir=tmp_path / "spool", flush_interval_s=0.05)
    h.start()
    try:
        h.submit([PointValue("D9.T", 21.5, Quality.GOOD, T0), PointValue("no-dot", 1.0, Quality.GOOD, T0),
                  PointValue("D9.T", "abc", Quality.GOOD, T0 + 1)])  # type: ignore[arg-type]
        wait_until(lambda: h.stats().committed == 1)
    finally:
        h.stop(5)
    assert h.stats().rejected == 2
    assert "rejected" in h.stats().last_error
    assert list(h.read_range("D9.T", T0, T0 + 10)[1]) == [21.5]


def test_read_buckets_keeps_spikes(url, store):
    ids = store.ensure_points([PointMeta("A.v", "A", "v")])
    values = np.zeros(1000)
    values[333] = 99.0
    values[777] = -5.0
    store.write([(ids["A.v"], round((T0 + i) * 1000), float(v), 0) for i, v in enumerate(values)])
    h = Historian(url)
    b = h.read_buckets("A.v", T0, T0 + 1000, 10)
    assert len(b) == 10
    np.testing.assert_allclose(b["t"], T0 + 100 * np.arange(10))
    assert list(b["count"]) == [100] * 10
    assert b["max"][3] == 99.0 and b["min"][7] == -5.0
    assert b["max"][[0, 1, 2, 4, 5, 6, 7, 8, 9]].max() == 0.0
    with pytest.raises(ValueError):
        h.read_buckets("A.v", T0, T0, 10)


def _hourly(store, url, tag):
    store.fold_rollups(None)
    return Historian(url).read_rollup(tag, "1h", T0 - H, T0 + 10 * H)


def test_rollups_avg_min_max_count(url, store):
    ids = store.ensure_points([PointMeta("A.p", "A", "p")])
    # 1h bucket [1_699_999_200, +3600): T0 is 800 s into it
    rows = [(ids["A.p"], round((T0 + 60 * i) * 1000), float(i), 0) for i in range(60)]
    rows.append((ids["A.p"], round((T0 + 30) * 1000), 1000.0, 2))  # BAD: not aggregated
    store.write(rows)
    assert store.fold_rollups(None) == 0
    r = _hourly(store, url, "A.p")
    assert list(r["bucket"]) == [1_699_999_200.0, 1_700_002_800.0]
    # the first hour bucket ends 2800 s after T0: minutes 0..46 fall in it
    first = [i for i in range(60) if T0 + 60 * i < 1_700_002_800]
    assert r["count"][0] == len(first) and r["count"][1] == 60 - len(first)
    assert r["avg"][0] == pytest.approx(np.mean(first))
    assert (r["min"][0], r["max"][0], r["min"][1], r["max"][1]) == (0, first[-1], first[-1] + 1, 59)
    assert np.isnan(r["consumption"]).all()
    d = Historian(url).read_rollup("A.p", "1d", T0 - 86400, T0 + 86400)
    assert d["count"].sum() == 60
    with pytest.raises(ValueError):
        Historian(url).read_rollup("A.p", "5min", T0, T0 + H)


def test_accumulator_rollover_and_meter_replacement(url, store):
    ids = store.ensure_points([meter(rollover=1000.0)])
    pid = ids["M1.kwh"]
    # hour 0: 900 -> 990 (+90); hour 1: wraps 990 -> 20 (+30), 20 -> 50 (+30);
    # hour 2: 50 -> 5 is a drop of 45: wrapped delta 955 > 500 -> replacement (0), then 5 -> 15 (+10)
    readings = [(T0, 900.0), (T0 + 1000, 990.0), (T0 + H, 20.0), (T0 + H + 600, 50.0),
                (T0 + 2 * H, 5.0), (T0 + 2 * H + 60, 15.0)]
    store.write([(pid, round(t * 1000), v, 0) for t, v in readings])
    r = _hourly(store, url, "M1.kwh")
    assert list(r["consumption"]) == [90.0, 60.0, 10.0]
    assert list(r["count"]) == [2, 2, 2]


def test_accumulator_without_rollover_drop_is_replacement(url, store):
    pid = store.ensure_points([meter()])["M1.kwh"]
    store.write([(pid, round((T0 + 60 * i) * 1000), v, 0) for i, v in enumerate([100.0, 110.0, 3.0, 8.0])])
    assert _hourly(store, url, "M1.kwh")["consumption"].sum() == 15.0


def test_incremental_batches_chain_and_late_backlog(url, store):
    pid = store.ensure_points([meter()])["M1.kwh"]
    every_10min = [(T0 + 600 * i, 1000.0 + 10 * i) for i in range(30)]  # +10 kWh per step

    def rows(sel):
        return [(pid, round(t * 1000), v, 0) for t, v in sel]

    # live data first (from index 20), then the outage backlog (0..19) arrives late, out of order
    store.write(rows(every_10min[20:25]))
    store.write(rows(every_10min[25:]))
    store.write(rows(every_10min[10:20][::-1]))
    store.write(rows(every_10min[:10]))
    late = _hourly(store, url, "M1.kwh")

    fresh_url = url.replace("hist.sqlite3", "fresh.sqlite3")
    upgrade(fresh_url)
    fresh = SqliteStore(fresh_url)
    try:
        fresh.ensure_points([meter()])
        fresh.write(rows(every_10min))
        fresh.fold_rollups(None)
    finally:
        fresh.close()
    in_order = Historian(fresh_url).read_rollup("M1.kwh", "1h", T0 - H, T0 + 10 * H)
    np.testing.assert_array_equal(late, in_order)
    assert late["consumption"].sum() == 290.0
    assert late["count"].sum() == 30


def test_replayed_batch_is_a_no_op(url, store):
    pid = store.ensure_points([meter()])["M1.kwh"]
    batch = [(pid, round((T0 + 60 * i) * 1000), 10.0 * i, 0) for i in range(100)]
    assert store.write(batch) == 100
    before = _hourly(store, url, "M1.kwh")
    # the commit's acknowledgement was lost: the same batch (and a superset) comes again
    assert store.write(batch) == 0
    assert store.write(batch + [(pid, round((T0 + 6000) * 1000), 1000.0, 0)]) == 1
    after = _hourly(store, url, "M1.kwh")
    assert after["count"].sum() == before["count"].sum() + 1
    assert after["consumption"].sum() == before["consumption"].sum() + 10.0
    (n,) = store.conn.execute("SELECT count(*) FROM samples").fetchone()
    assert n == 101


def test_large_batches_count_new_rows_and_keep_marking_a_folded_bucket(url, store):
    # batches longer than one multi-row INSERT, with duplicates inside a batch and across
    # batches; a bucket folded once is marked again by the next sample written into it
    pid = store.ensure_points([PointMeta("A.p", "A", "p")])["A.p"]
    first = [(pid, round((T0 + i) * 1000), float(i), 0) for i in range(450)]
    assert store.write(first) == 450
    again = first[100:] + [(pid, round((T0 + i) * 1000), float(i), 0) for i in range(450, 650)]
    assert store.write(again + again[:50]) == 200
    store.fold_rollups(None)
    bucket_rows = lambda: Historian(url).read_rollup("A.p", "15min", T0 - H, T0 + H)["count"].sum()  # noqa: E731
    assert bucket_rows() == 650
    assert store.write([(pid, round((T0 + 650) * 1000), 650.0, 0)]) == 1
    store.fold_rollups(None)
    assert bucket_rows() == 651
    (n,) = store.conn.execute("SELECT count(*) FROM samples").fetchone()
    assert n == 651


def test_fold_can_be_limited_to_finished_buckets(url, store):
    pid = store.ensure_points([PointMeta("A.p", "A", "p")])["A.p"]
    b0 = round(T0 * 1000) // 900_000 * 900_000  # two 15-minute buckets: b0 and b0 + 15 min
    store.write([(pid, b0 + k * 60_000, 1.0, 0) for k in range(30)])
    assert store.fold_rollups(None, before_ms=b0 + 900_000) == 0  # none left before the open one
    r = Historian(url).read_rollup("A.p", "15min", T0 - H, T0 + H)
    assert list(r["bucket"] * 1000) == [b0] and list(r["count"]) == [15]
    assert store.fold_rollups(None) == 0
    r = Historian(url).read_rollup("A.p", "15min", T0 - H, T0 + H)
    assert list(r["count"]) == [15, 15]


def test_fold_steps_take_points_in_turn(url, store):
    # more dirty buckets than a step takes, and the first points dirty again at once (their
    # bucket still filling): each step goes on after the last point the previous one took
    ids = store.ensure_points([PointMeta(f"P{k}.v", f"P{k}", "v") for k in range(5)])
    pids = [ids[f"P{k}.v"] for k in range(5)]
    ms = round(T0 * 1000)

    def folded() -> list[int]:
        h = Historian(url)
        return [int(h.read_rollup(f"P{k}.v", "15min", T0 - H, T0 + H)["count"].sum()) for k in range(5)]

    store.write([(pid, ms, 1.0, 0) for pid in pids])
    assert store.fold_rollups(limit=2) == 3
    assert folded() == [1, 1, 0, 0, 0]
    store.write([(pid, ms + 1000, 2.0, 0) for pid in pids[:2]])  # P0, P1 dirty again
    assert store.fold_rollups(limit=2) == 3
    assert folded() == [1, 1, 1, 1, 0]  # P2, P3 had their turn, not P0, P1 again
    assert store.fold_rollups(limit=2) == 1  # P4, then round again to P0
    assert folded() == [2, 1, 1, 1, 1]
    assert store.fold_rollups(None) == 0
    assert folded() == [2, 2, 1, 1, 1]


def test_retention_prunes_samples_and_rollups_separately(url, store, tmp_path):
    pid = store.ensure_points([PointMeta("A.p", "A", "p")])["A.p"]
    day = 86400.0
    store.write([(pid, round((T0 - d * day) * 1000), float(d), 0) for d in range(40)])
    store.fold_rollups(None)
    h = Historian(url, spool_dir=tmp_path / "spool", retention_days=7,
                  rollup_retention_days={"15min": 14, "1h": 30})
    deleted = h.prune(now_s=T0)
    ts, _, _ = h.read_range("A.p", T0 - 100 * day, T0 + day)
    assert ts.min() == T0 - 7 * day and len(ts) == 8  # a sample exactly at the cut-off stays
    # T0 lies 800 s into its 15 min and 1 h buckets, so day d's bucket starts before T0 - d days
    assert len(h.read_rollup("A.p", "15min", T0 - 100 * day, T0 + day)) == 14
    assert len(h.read_rollup("A.p", "1h", T0 - 100 * day, T0 + day)) == 30
    assert len(h.read_rollup("A.p", "1d", T0 - 100 * day, T0 + day)) == 40  # kept forever
    assert deleted == 32 + 26 + 10
    with pytest.raises(ValueError):
        Historian(url, rollup_retention_days={"2h": 1})


def test_read_buckets_over_wide_ranges_use_rollups(url, store):
    pid = store.ensure_points([PointMeta("A.w", "A", "w")])["A.w"]
    day = 86_400
    t0 = 1_699_920_000.0  # a UTC midnight
    values = np.arange(2 * day // 10, dtype=np.float64) % 1000.0  # 2 days of 10 s samples
    values[4321] = 5000.0
    store.write([(pid, round((t0 + 10 * i) * 1000), float(v), 0) for i, v in enumerate(values)])
    store.write([(pid, round((t0 + 10 * 4322 + 5) * 1000), -7.0, 1)])  # UNCERTAIN: not in rollups
    assert store.fold_rollups(None) == 0
    h = Historian(url)
    hourly = h.read_buckets("A.w", t0, t0 + 2 * day, 48)  # 1 h per bucket: from the 1 h rollups
    raw = h.read_buckets("A.w", t0, t0 + 2 * day, 48 * 60)  # 1 min per bucket: raw samples
    assert len(hourly) == 48 and list(hourly["count"]) == [360] * 48
    np.testing.assert_allclose(hourly["t"], t0 + 3600 * np.arange(48))
    expect = values.reshape(48, 360)
    np.testing.assert_array_equal(hourly["min"], expect.min(axis=1))
    np.testing.assert_array_equal(hourly["max"], expect.max(axis=1))
    assert hourly["max"][12] == 5000.0 and hourly["quality"][12] == 1 and hourly["quality"].sum() == 1
    assert raw["count"].sum() == len(values) + 1 and raw["min"].min() == -7.0
    # the rollups answer even after the raw samples were pruned
    store.conn.execute("DELETE FROM samples")
    assert h.read_buckets("A.w", t0, t0 + 2 * day, 2)["count"].tolist() == [8640, 8640]
    assert len(h.read_buckets("A.w", t0, t0 + 2 * day, 48 * 60)) == 0


def test_fold_is_bounded_per_step_and_late_data_refolds(url, store):
    pid = store.ensure_points([meter()])["M1.kwh"]
    # 8 quarter hours of readings every 5 min, +1 kWh each
    rows = [(pid, round((T0 + 300 * i) * 1000), 100.0 + i, 0) for i in range(24)]
    store.write(rows[::2])
    assert store.fold_rollups(limit=3) > 0  # one bounded step leaves the rest dirty
    assert store.fold_rollups(None) == 0
    store.write(rows[1::2])  # the odd readings arrive late: every quarter hour is dirty again
    assert store.fold_rollups(None) == 0
    q = Historian(url).read_rollup("M1.kwh", "15min", T0 - H, T0 + 10 * H)
    assert q["count"].sum() == 24 and q["consumption"].sum() == 23.0
    assert _hourly(store, url, "M1.kwh")["consumption"].sum() == 23.0


def test_on_commit_gets_each_committed_batch_and_survives_its_errors(url, tmp_path, caplog):
    seen = []

    def hook(values):
        seen.append([(pv.tag, pv.value, pv.good) for pv in values])
        raise RuntimeError("observer broke")

    h = Historian(url, spool_dir=tmp_path / "spool", flush_interval_s=0.05, batch_size=10, on_commit=hook)
    h.start()
    try:
        h.submit([PointValue("A.t_change", float(i), Quality.GOOD, T0 + i) for i in range(25)])
        h.submit([PointValue("A.t_change", None, Quality.BAD, T0 + 30, "timeout")])
        wait_until(lambda: h.stats().committed == 26)
        h.on_commit = None
        h.submit([PointValue("A.t_change", 99.0, Quality.GOOD, T0 + 40)])
        wait_until(lambda: h.stats().committed == 27)
    finally:
        h.stop(5)
    assert [len(b) for b in seen] == [10, 10, 6]
    flat = [v for b in seen for v in b]
    assert flat[:25] == [("A.t_change", float(i), True) for i in range(25)]
    assert flat[25] == ("A.t_change", None, False)
    assert "observer broke" in caplog.text and h.stats().db_ok


def test_writer_folds_rollups_and_stop_finishes_them(url, tmp_path):
    h = Historian(url, spool_dir=tmp_path / "spool", flush_interval_s=0.05, fold_interval_s=0.1)
    h.start()
    try:
        h.submit([PointValue("A.p", float(i), Quality.GOOD, T0 + 60 * i) for i in range(30)])
        wait_until(lambda: h.read_rollup("A.p", "1d", T0 - 86400, T0 + 86400)["count"].sum() == 30)
        assert h.stats().rollups_behind == 0
        h.submit([PointValue("A.p", 1000.0, Quality.GOOD, T0 + 5000)])
    finally:
        h.stop(5)
    r = h.read_rollup("A.p", "1h", T0 - H, T0 + 10 * H)
    assert r["count"].sum() == 31 and r["max"].max() == 1000.0


def test_two_historians_never_share_a_spool_directory(url, tmp_path):
    spool = tmp_path / "spool"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from db.historian import Historian; "
         "h = Historian(sys.argv[1], spool_dir=sys.argv[2]); h.start(); print('started', flush=True); "
         "sys.stdin.read(); h.stop(5)", url, str(spool)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
    try:
        assert holder.stdout.readline().strip() == "started"
        other = Historian(url, spool_dir=spool)
        with pytest.raises(HistorianError, match="in use by another historian"):
            other.start()
        assert other.stats().spooled == 0
    finally:
        holder.communicate("", timeout=30)
    assert holder.returncode == 0
    again = Historian(url, spool_dir=spool)  # free once the other process stopped
    again.start()
    try:
        with pytest.raises(HistorianError, match="in use"):
            Historian(url, spool_dir=spool).start()  # also within one process
    finally:
        again.stop(5)


def _thread_cpu_s(thread) -> float:
    """CPU seconds (user + system) a running thread has used, from /proc (Linux)."""
    fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="thread CPU times come from Linux's /proc")
def test_idle_writer_sleeps_instead_of_spinning(url, tmp_path):
    # once the last write is older than flush_interval_s, an empty queue must not make the
    # writer's wait zero: it spun through its loop and took a whole core from acquisition
    h = Historian(url, spool_dir=tmp_path / "spool", flush_interval_s=0.05)
    h.start()
    try:
        h.submit([PointValue("A.p", 1.0, Quality.GOOD, T0)])
        wait_until(lambda: h.stats().committed == 1 and h.stats().rollups_behind == 0)
        time.sleep(0.5)                       # well past flush_interval_s, nothing queued
        writer = h._thread
        before = _thread_cpu_s(writer)
        time.sleep(1.0)
        used = _thread_cpu_s(writer) - before
        h.submit([PointValue("A.p", 2.0, Quality.GOOD, T0 + 60)])
        wait_until(lambda: h.stats().committed == 2)  # and it still writes at once when woken
    finally:
        h.stop(5)
    assert used < 0.2, f"idle writer used {used:.2f} CPU s in 1 s"


def test_an_empty_batch_writes_and_marks_nothing(store):
    assert store.write([]) == 0
