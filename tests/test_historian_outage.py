"""Store-and-forward on SQLite: spill to disk while the database is locked, replay, restart, old spools."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest

from app.points import PointValue, Quality
from db.event_rows import clean_event
from db.historian import Historian
from db.migrate import upgrade
from db.spool import EVENTS, SAMPLES, Spool

T0 = 1_700_000_000.0
TAGS = [f"D{i}.v" for i in range(5)]


@pytest.fixture
def url(tmp_path):
    u = f"sqlite:///{tmp_path / 'hist.sqlite3'}"
    upgrade(u)
    return u


def wait_until(pred, timeout=20.0):
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def scan(k):
    """Scan k: one value per tag at T0 + k seconds, value k."""
    return [PointValue(tag, float(k), Quality.GOOD, T0 + k) for tag in TAGS]


def log_insert_order(path):
    """Record the order rows reach ``samples`` (a trigger in the real database)."""
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE insert_log (seq INTEGER PRIMARY KEY, point_id INTEGER, ts INTEGER);
        CREATE TRIGGER samples_logged AFTER INSERT ON samples
        BEGIN INSERT INTO insert_log (point_id, ts) VALUES (new.point_id, new.ts); END;""")
    conn.close()


def stored_scans(url):
    h = Historian(url)
    return [h.read_range(tag, T0 - 1, T0 + 10**6)[1] for tag in TAGS]


def test_spill_while_locked_then_drain_in_order(url, tmp_path):
    path = url.removeprefix("sqlite:///")
    log_insert_order(path)
    h = Historian(url, spool_dir=tmp_path / "spool", memory_limit=500, batch_size=200,
                  flush_interval_s=0.05, retry_interval_s=0.1)
    h.start()
    try:
        for k in range(20):
            h.submit(scan(k))
        wait_until(lambda: h.stats().committed == 100)
        locker = sqlite3.connect(path, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        for k in range(20, 400):  # 1900 samples > memory_limit while the database is locked
            h.submit(scan(k))
        wait_until(lambda: h.stats().spooled > 0 and not h.stats().db_ok)
        st = h.stats()
        assert st.queued_memory <= 500 + 5 * 20
        assert "locked" in st.last_error
        for k in range(400, 450):
            h.submit(scan(k))
        locker.execute("ROLLBACK")
        locker.close()
        wait_until(lambda: h.stats().committed == 450 * 5)
        st = h.stats()
        assert (st.stored, st.queued_memory, st.spooled, st.db_ok) == (2250, 0, 0, True)
    finally:
        h.stop(5)
    for values in stored_scans(url):
        np.testing.assert_array_equal(values, np.arange(450.0))
    conn = sqlite3.connect(path)
    for (pid,) in conn.execute("SELECT DISTINCT point_id FROM insert_log"):
        ts = [t for (t,) in conn.execute("SELECT ts FROM insert_log WHERE point_id = ? ORDER BY seq", (pid,))]
        assert ts == sorted(ts) and len(ts) == 450, "drained out of order or with duplicates"
    conn.close()
    assert not list((tmp_path / "spool").glob("*.npz"))


def test_spool_survives_restart_and_is_replayed(url, tmp_path):
    path = url.removeprefix("sqlite:///")
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    h = Historian(url, spool_dir=tmp_path / "spool", memory_limit=100_000, retry_interval_s=0.1,
                  flush_interval_s=0.05)
    h.start()
    for k in range(100):
        h.submit(scan(k))
    h.stop(0.5)  # the database stays locked: everything goes to the spool
    assert h.stats().spooled == 500 and h.stats().queued_memory == 0
    locker.execute("ROLLBACK")
    locker.close()
    assert Spool(tmp_path / "spool", SAMPLES).rows == 500

    again = Historian(url, spool_dir=tmp_path / "spool", flush_interval_s=0.05)
    again.start()
    try:
        again.submit(scan(100))  # newer than the spool: written after it
        wait_until(lambda: again.stats().committed == 505)
    finally:
        again.stop(5)
    assert again.stats().spooled == 0
    for values in stored_scans(url):
        np.testing.assert_array_equal(values, np.arange(101.0))


def test_replay_of_committed_samples_adds_nothing(url, tmp_path):
    h = Historian(url, spool_dir=tmp_path / "spool", flush_interval_s=0.05)
    h.start()
    try:
        for k in range(10):
            h.submit(scan(k))
        wait_until(lambda: h.stats().committed == 50)
    finally:
        h.stop(5)
    before = Historian(url).read_rollup("D0.v", "1h", T0 - 3600, T0 + 3600)
    # a crash between commit and dequeue: the same samples are still in the spool
    Spool(tmp_path / "spool", SAMPLES).append([(pv.tag, pv.ts, pv.value, int(pv.quality))
                                      for k in range(10) for pv in scan(k)])
    again = Historian(url, spool_dir=tmp_path / "spool", flush_interval_s=0.05)
    again.start()
    try:
        wait_until(lambda: again.stats().committed == 50)
    finally:
        again.stop(5)
    assert again.stats().stored == 0
    for values in stored_scans(url):
        np.testing.assert_array_equal(values, np.arange(10.0))
    after = Historian(url).read_rollup("D0.v", "1h", T0 - 3600, T0 + 3600)
    for field in before.dtype.names:  # field by field: NaN consumption compares equal
        np.testing.assert_array_equal(after[field], before[field])
    assert after["count"].sum() == 10


def test_unreadable_spool_segment_is_set_aside(tmp_path):
    spool = Spool(tmp_path / "spool", SAMPLES)
    spool.append([("A.v", T0, 1.0, 0)])
    spool.append([("A.v", T0 + 1, None, 2)])
    first = sorted((tmp_path / "spool").glob("*.npz"))[0]
    first.write_bytes(b"not a zip")
    reopened = Spool(tmp_path / "spool", SAMPLES)
    assert reopened.rows == 2
    seq, samples = reopened.peek()
    assert samples == [("A.v", T0 + 1, None, 2)]
    reopened.pop(seq)
    assert reopened.rows == 0 and reopened.peek() is None
    assert first.with_suffix(".bad").exists()


#: A spool directory written by the code before samples and events shared one queue
#: (db/spool.py + db/event_spool.py of 38d44e5): one .npz segment of 3 samples of
#: LEGACY.v and, in events/, one .jsonl segment of 3 events of nine fields (no uid).
LEGACY_SPOOL = Path(__file__).parent / "fixtures" / "spool_v1"


def test_spool_written_before_the_merge_drains(url, tmp_path):
    spool = tmp_path / "spool"
    shutil.copytree(LEGACY_SPOOL, spool)
    h = Historian(url, spool_dir=spool, flush_interval_s=0.05)
    h.start()
    try:
        wait_until(lambda: h.stats().committed == 3 and h.stats().events_committed == 3)
        assert (h.stats().spooled, h.stats().events_spooled) == (0, 0)
        ts, values, quality = h.read_range("LEGACY.v", T0 - 1, T0 + 10)
        np.testing.assert_array_equal(ts, [T0, T0 + 1, T0 + 2])
        np.testing.assert_array_equal(values, [0.0, np.nan, 2.0])
        np.testing.assert_array_equal(quality, [0, 2, 0])
        events = h.read_events(T0 - 1, T0 + 10)
        assert [e["message"] for e in events] == ["旧事件 2", "旧事件 1", "旧事件 0"]
        assert events[0]["data"] == {"alarm_id": "LEGACY.v:hi:alarm", "value": 2}
    finally:
        h.stop(5)
    assert not [p for p in spool.rglob("*") if p.suffix in (".npz", ".jsonl", ".bad")]

    # the same old segments replayed (a crash between commit and delete): stored once
    shutil.copytree(LEGACY_SPOOL, spool, dirs_exist_ok=True)
    again = Historian(url, spool_dir=spool, flush_interval_s=0.05)
    again.start()
    try:
        wait_until(lambda: again.stats().committed == 3 and again.stats().events_committed == 3)
        assert again.stats().stored == 0
        assert len(again.read_events(T0 - 1, T0 + 10)) == 3
    finally:
        again.stop(5)


def test_event_spool_keeps_uids_and_sets_bad_segments_aside(tmp_path):
    spool = Spool(tmp_path / "events", EVENTS)
    rows = [clean_event({"ts": 1000 + i, "kind": "alarm_raised", "message": f"m{i}"}) for i in range(2)]
    spool.append(rows[:1])
    spool.append(rows[1:])
    assert len({r.uid for r in rows}) == 2
    first = sorted((tmp_path / "events").glob("*.jsonl"))[0]
    first.write_text('["truncated", \n', encoding="utf-8")
    reopened = Spool(tmp_path / "events", EVENTS)
    assert reopened.rows == 2
    seq, got = reopened.peek()
    assert got == rows[1:]  # read back with the same uid
    reopened.pop(seq)
    assert reopened.rows == 0 and reopened.peek() is None
    assert first.with_suffix(".bad").exists()
    samples = Spool(tmp_path / "events", SAMPLES)  # an encoding reads only its own segments
    assert samples.rows == 0 and samples.peek() is None
