"""Historian on real PostgreSQL: COPY writes and reads, rollups, and a server outage mid-run."""

from __future__ import annotations

import socket
import threading
import time

import adbc_driver_postgresql.dbapi as adbc_pg
import numpy as np
import psycopg
import pytest

from app.points import PointValue, Quality
from db.engine import PG_CONNECT_TIMEOUT_S, pg_adbc_uri, pg_conninfo
from db.historian import Historian
from db.migrate import upgrade
from db.point_meta import PointMeta
from db.postgres_store import STATEMENT_TIMEOUT_S, PostgresStore
from tests.pg import PrivateCluster, scratch_database, server_available

T0 = 1_700_000_000.0
H = 3600.0


@pytest.fixture
def pg_url():
    why = server_available()
    if why:
        pytest.fail(why)  # the development/CI machine runs PostgreSQL; its absence is a failure
    with scratch_database() as url:
        upgrade(url)
        yield url


def wait_until(pred, timeout=30.0):
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def test_pg_round_trip_rollups_and_replay(pg_url):
    store = PostgresStore(pg_url)
    try:
        ids = store.ensure_points([PointMeta("M1.kwh", "M1", "kwh", kind="accumulator", rollover=1000.0),
                                   PointMeta("A.p", "A", "p")])
        meter = [(T0, 900.0), (T0 + 1000, 990.0), (T0 + H, 20.0), (T0 + H + 600, 50.0),
                 (T0 + 2 * H, 5.0), (T0 + 2 * H + 60, 15.0)]
        rows = [(ids["M1.kwh"], round(t * 1000), v, 0) for t, v in meter]
        rows += [(ids["A.p"], round((T0 + i) * 1000), float(i), 0) for i in range(1000)]
        rows.append((ids["A.p"], round((T0 + 2000) * 1000), None, 2))
        assert store.write(rows[3:]) == len(rows) - 3
        assert store.write(rows[:3]) == 3  # late backlog for the meter
        assert store.write(rows) == 0  # replay after a lost acknowledgement
        assert store.fold_rollups(limit=1) > 0  # bounded step: more left
        assert store.fold_rollups(None) == 0
    finally:
        store.close()
    h = Historian(pg_url)
    r = h.read_rollup("M1.kwh", "1h", T0 - H, T0 + 10 * H)
    assert list(r["consumption"]) == [90.0, 60.0, 10.0]
    ts, value, quality = h.read_range("A.p", T0, T0 + 3000)
    assert ts.dtype == np.float64 and value.dtype == np.float64 and quality.dtype == np.int8
    np.testing.assert_array_equal(ts[:1000], T0 + np.arange(1000))
    np.testing.assert_array_equal(value[:1000], np.arange(1000.0))
    assert np.isnan(value[1000]) and quality[1000] == 2 and len(ts) == 1001
    assert [len(a) for a in h.read_range("nope.x", T0, T0 + 3000)] == [0, 0, 0]
    b = h.read_buckets("A.p", T0, T0 + 1000, 4)
    assert list(b["min"]) == [0, 250, 500, 750] and list(b["max"]) == [249, 499, 749, 999]
    a = h.read_rollup("A.p", "15min", T0 - H, T0 + H)
    assert a["count"].sum() == 1000 and np.isnan(a["consumption"]).all()
    assert a["avg"][0] == pytest.approx(np.mean(np.arange(100)))  # T0 is 800 s into its bucket
    with psycopg.connect(pg_conninfo(pg_url)) as conn:
        assert conn.execute("SELECT count(*) FROM samples").fetchone()[0] == 1007
    assert h.prune(now_s=T0 + 500.5) == 0  # no retention configured: nothing deleted


def test_pg_range_read_is_in_time_order_whatever_the_storage_order(pg_url):
    # written newest batch first, so the heap holds the rows out of time order; the read
    # sorts them itself (no ORDER BY on the server) and keeps each value with its time
    store = PostgresStore(pg_url)
    try:
        pid = store.ensure_points([PointMeta("R.p", "R", "p")])["R.p"]
        for start in (600, 400, 200, 0):
            store.write([(pid, round((T0 + i) * 1000), None if i % 7 == 0 else i * 0.5, i % 3)
                         for i in range(start + 199, start - 1, -1)])
        ts, value, quality = store.read_range("R.p", round(T0 * 1000), round((T0 + 800) * 1000))
    finally:
        store.close()
    i = np.arange(800)
    np.testing.assert_array_equal(ts, T0 + i)
    np.testing.assert_array_equal(quality, i % 3)
    np.testing.assert_array_equal(value, np.where(i % 7 == 0, np.nan, i * 0.5))


def test_pg_outage_mid_run_loses_nothing_and_duplicates_nothing(tmp_path):
    """The REQUIRED test: the server is stopped while samples keep coming, then restarted."""
    tags = [f"D{i}.v" for i in range(20)]
    with PrivateCluster() as cluster:
        url = cluster.url
        upgrade(url)
        h = Historian(url, spool_dir=tmp_path / "spool", memory_limit=2_000, batch_size=500,
                      flush_interval_s=0.05, retry_interval_s=0.2)
        h.register_points([PointMeta(t, t.split(".")[0], "v") for t in tags])
        h.start()
        sent = 0
        running = threading.Event()
        running.set()

        def acquisition():  # 20 points every 5 ms: ~4,000 samples/s
            nonlocal sent
            while running.is_set():
                h.submit([PointValue(t, float(sent), Quality.GOOD, T0 + sent * 0.001) for t in tags])
                sent += 1
                time.sleep(0.005)

        producer = threading.Thread(target=acquisition, name="test-acquisition")
        producer.start()
        try:
            wait_until(lambda: h.stats().committed > 2_000)
            cluster.stop()
            wait_until(lambda: not h.stats().db_ok)
            wait_until(lambda: h.stats().spooled > 0)  # beyond the memory bound: on disk
            outage_stats = h.stats()
            cluster.start()
            wait_until(lambda: h.stats().db_ok and h.stats().spooled == 0)
            time.sleep(0.2)
        finally:
            running.clear()
            producer.join()
            h.stop(20)
        st = h.stats()
        assert outage_stats.queued_memory <= 2_000 + 4_000  # bound + at most ~1 s of arrivals
        assert (st.queued_memory, st.spooled, st.committed, st.stored) == (0, 0, sent * 20, sent * 20)
        with psycopg.connect(pg_conninfo(url)) as conn:
            rows = conn.execute(
                "SELECT p.tag, count(*), count(DISTINCT s.ts), min(s.ts), max(s.ts), sum(s.value) "
                "FROM samples s JOIN points p ON p.id = s.point_id GROUP BY p.tag ORDER BY p.tag").fetchall()
        assert len(rows) == 20
        for tag, n, distinct, lo, hi, total in rows:
            assert (n, distinct) == (sent, sent), tag
            assert (lo, hi) == (round(T0 * 1000), round((T0 + (sent - 1) * 0.001) * 1000)), tag
            assert total == sum(range(sent)), tag


def test_adbc_read_connection_gives_up_on_a_silent_server():
    """A server that accepts TCP but never answers: the Arrow read connection times out."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections complete in the kernel backlog and are never served
        port = silent.getsockname()[1]
        uri = pg_adbc_uri(f"postgresql+psycopg://postgres@127.0.0.1:{port}/test", STATEMENT_TIMEOUT_S)
        assert f"connect_timeout={PG_CONNECT_TIMEOUT_S}" in uri
        outcome = []

        def connect():
            try:
                adbc_pg.connect(uri).close()
                outcome.append("connected")
            except Exception as err:  # the driver's error type is what we expect here
                outcome.append(err)

        worker = threading.Thread(target=connect, name="test-adbc-connect")
        worker.start()
        worker.join(PG_CONNECT_TIMEOUT_S + 20)
        assert not worker.is_alive(), "ADBC connect hangs on a silent server"
    assert len(outcome) == 1 and "timeout" in str(outcome[0]).lower(), outcome
