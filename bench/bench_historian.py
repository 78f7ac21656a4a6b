"""Historian throughput: batch insert rows/s, rollup fold, year read, month trend, SQLite and PostgreSQL.

Prints figures, asserts nothing. Targets: >= 300,000 rows/s insert (samples
committed) on SQLite; one point's year of 1-minute samples (525,600 rows) read in
<= 0.3 s. Also printed: the rollup fold that follows the inserts (recomputing every
dirty bucket), wall and CPU time, and a month of 1 s data read as 1,000 trend buckets
(answered from the 1 h rollups).

Usage: python bench/bench_historian.py [--pg postgresql://postgres@127.0.0.1:5432/postgres]
       [--rows 1000000] [--batch 50000] [--no-pg]

SQLite runs in a temporary directory; PostgreSQL in a scratch database that is
created and dropped.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg

from db.historian import open_store
from db.migrate import upgrade
from db.point_meta import PointMeta
from db.store import SampleStore

T0_MS = 1_700_000_000_000
YEAR = 525_600


def insert_rate(store: SampleStore, rows: int, batch: int, points: int) -> tuple[int, float, float]:
    """Insert ``rows`` samples of ``points`` points (a tenth accumulators) in batches.

    Returns (rows, wall s, CPU s of this process).
    """
    metas = [PointMeta(f"B{i}.p", f"B{i}", "p", kind="accumulator" if i % 10 == 0 else "telemetry")
             for i in range(points)]
    ids = store.ensure_points(metas)
    pids = [ids[m.tag] for m in metas]
    per_point = rows // points
    data = [(pid, T0_MS + k * 1000, float(k), 0) for k in range(per_point) for pid in pids]
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(data), batch):
        store.write(data[i:i + batch])
    return len(data), time.perf_counter() - start, time.process_time() - cpu


def fold_time(store: SampleStore) -> tuple[float, float]:
    """Fold every dirty bucket into the rollups; return (wall s, CPU s)."""
    start, cpu = time.perf_counter(), time.process_time()
    store.fold_rollups(None)
    return time.perf_counter() - start, time.process_time() - cpu


def month_trend(store: SampleStore) -> list[float]:
    """Store a month of one point's 1 s samples, fold, time three 1,000-bucket trend reads (s)."""
    pid = store.ensure_points([PointMeta("M.p", "M", "p")])["M.p"]
    n = 30 * 86_400
    for i in range(0, n, 200_000):
        store.write([(pid, T0_MS + k * 1000, float(k % 3600), 0) for k in range(i, min(n, i + 200_000))])
    store.fold_rollups(None)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        b = store.read_buckets("M.p", T0_MS, T0_MS + n * 1000, 1000)
        times.append(time.perf_counter() - start)
        assert b["count"].sum() == n and b["max"].max() == 3599.0
    return times


def year_read(store: SampleStore) -> list[tuple[float, float]]:
    """Store one point's year of 1-minute samples and time three reads of it: (wall s, CPU s) each."""
    pid = store.ensure_points([PointMeta("Y.kwh", "Y", "kwh")])["Y.kwh"]
    data = [(pid, T0_MS + k * 60_000, float(k), 0) for k in range(YEAR)]
    for i in range(0, YEAR, 100_000):
        store.write(data[i:i + 100_000])
    times = []
    for _ in range(3):
        start, cpu = time.perf_counter(), time.process_time()
        ts, value, quality = store.read_range("Y.kwh", T0_MS, T0_MS + YEAR * 60_000)
        times.append((time.perf_counter() - start, time.process_time() - cpu))
        assert len(ts) == YEAR
    return times


@contextlib.contextmanager
def pg_scratch(server: str) -> Iterator[str]:
    name = f"wd_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    info = psycopg.conninfo.conninfo_to_dict(server)
    try:
        yield f"postgresql+psycopg://{info.get('user', 'postgres')}@{info['host']}:{info.get('port', 5432)}/{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(label: str, url: str, rows: int, batch: int) -> None:
    upgrade(url)
    store = open_store(url)
    try:
        n, secs, cpu = insert_rate(store, rows, batch, points=600)
        print(f"{label:10s} insert (samples committed, idempotent, buckets marked): "
              f"{n:,} rows in {secs:.2f} s = {n / secs:,.0f} rows/s (CPU {cpu:.2f} s = {n / cpu:,.0f} rows/s; "
              f"batch {batch:,}); load average {os.getloadavg()[0]:.2f}")
        fsecs, fcpu = fold_time(store)
        print(f"{label:10s} fold those rows into 15min/1h/1d rollups: {fsecs:.2f} s (CPU {fcpu:.2f} s) "
              f"= {n / fsecs:,.0f} rows/s; insert + fold {n / (secs + fsecs):,.0f} rows/s")
        times = year_read(store)
        print(f"{label:10s} read one point's year (525,600 rows) -> numpy: "
              + ", ".join(f"{t:.3f} s (CPU {c:.3f} s)" for t, c in times)
              + f"  (best {min(t for t, _ in times):.3f} s); load average {os.getloadavg()[0]:.2f}")
        times = month_trend(store)
        print(f"{label:10s} trend of a month of 1 s data (2,592,000 rows) in 1,000 buckets (1 h rollups): "
              + ", ".join(f"{t:.3f} s" for t in times))
    finally:
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_200_000)
    ap.add_argument("--batch", type=int, default=50_000)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="wd-bench-") as tmp:
        run("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args.rows, args.batch)
    if not args.no_pg:
        with pg_scratch(args.pg) as url:
            run("PostgreSQL", url, args.rows, args.batch)


if __name__ == "__main__":
    main()
