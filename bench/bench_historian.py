"""Historian throughput: batch insert rows/s and one point's year read, SQLite and PostgreSQL.

Prints figures, asserts nothing. Targets: >= 300,000 rows/s insert on SQLite; one
point's year of 1-minute samples (525,600 rows) read in <= 0.3 s.

Usage: python bench/bench_historian.py [--pg postgresql://postgres@127.0.0.1:5432/postgres]
       [--rows 1000000] [--batch 50000] [--no-pg]

SQLite runs in a temporary directory; PostgreSQL in a scratch database that is
created and dropped.
"""

from __future__ import annotations

import argparse
import contextlib
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


def insert_rate(store: SampleStore, rows: int, batch: int, points: int) -> tuple[float, float]:
    """Insert ``rows`` samples of ``points`` telemetry points in batches; return (rows/s, s)."""
    ids = store.ensure_points([PointMeta(f"B{i}.p", f"B{i}", "p") for i in range(points)])
    pids = [ids[f"B{i}.p"] for i in range(points)]
    per_point = rows // points
    data = [(pid, T0_MS + k * 1000, float(k), 0) for k in range(per_point) for pid in pids]
    start = time.perf_counter()
    for i in range(0, len(data), batch):
        store.write(data[i:i + batch])
    elapsed = time.perf_counter() - start
    return len(data) / elapsed, elapsed


def year_read(store: SampleStore) -> list[float]:
    """Store one point's year of 1-minute samples and time three reads of it (s)."""
    pid = store.ensure_points([PointMeta("Y.kwh", "Y", "kwh")])["Y.kwh"]
    data = [(pid, T0_MS + k * 60_000, float(k), 0) for k in range(YEAR)]
    for i in range(0, YEAR, 100_000):
        store.write(data[i:i + 100_000])
    times = []
    for _ in range(3):
        start = time.perf_counter()
        ts, value, quality = store.read_range("Y.kwh", T0_MS, T0_MS + YEAR * 60_000)
        times.append(time.perf_counter() - start)
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
        rate, secs = insert_rate(store, rows, batch, points=600)
        print(f"{label:10s} insert (samples + incremental rollups, idempotent): "
              f"{rows:,} rows in {secs:.2f} s = {rate:,.0f} rows/s (batch {batch:,})")
        times = year_read(store)
        print(f"{label:10s} read one point's year (525,600 rows) -> numpy: "
              + ", ".join(f"{t:.3f} s" for t in times) + f"  (best {min(times):.3f} s)")
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
