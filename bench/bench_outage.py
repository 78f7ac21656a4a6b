"""Store-and-forward under a database outage: backlog, memory/spool split, drain speed.

A SQLite historian receives the demo plant's rate (default 600 points every 1 s) for a
simulated outage (default 1 h of sample time, replayed ``--speedup`` times faster than
real time) while another connection holds the database locked (``BEGIN EXCLUSIVE``).
Then the lock is released and the time to drain the backlog is measured. Prints
figures, asserts nothing. Target: drain >= 5x real time.

Usage: python bench/bench_outage.py [--points 600] [--rate 1.0] [--outage-s 3600] [--speedup 100]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from app.points import PointValue, Quality
from db.historian import Historian
from db.migrate import upgrade

T0 = 1_700_000_000.0


def wait(pred: Callable[[], bool], timeout: float) -> None:
    end = time.monotonic() + timeout
    while not pred() and time.monotonic() < end:
        time.sleep(0.05)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=600)
    ap.add_argument("--rate", type=float, default=1.0, help="scan interval, s")
    ap.add_argument("--outage-s", type=float, default=3600.0)
    ap.add_argument("--speedup", type=float, default=100.0, help="how much faster than real time to submit")
    ap.add_argument("--memory-limit", type=int, default=200_000)
    args = ap.parse_args()
    tags = [f"D{i // 10}.p{i % 10}" for i in range(args.points)]
    scans = int(args.outage_s / args.rate)
    with tempfile.TemporaryDirectory(prefix="wd-outage-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'plant.sqlite3'}"
        upgrade(url)
        h = Historian(url, spool_dir=Path(tmp) / "spool", memory_limit=args.memory_limit,
                      batch_size=20_000, retry_interval_s=0.5)
        h.start()
        locker = sqlite3.connect(Path(tmp) / "plant.sqlite3", isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        peak_memory = 0
        start = time.monotonic()
        for k in range(scans):
            ts = T0 + k * args.rate
            h.submit([PointValue(t, float(k), Quality.GOOD, ts) for t in tags])
            peak_memory = max(peak_memory, h.stats().queued_memory)
            lag = start + (k + 1) * args.rate / args.speedup - time.monotonic()
            if lag > 0:
                time.sleep(lag)
        total = scans * args.points
        wait(lambda: h.stats().queued_memory + h.stats().spooled >= total
             and h.stats().queued_memory <= args.memory_limit, 60)
        st = h.stats()
        spool_bytes = sum(p.stat().st_size for p in (Path(tmp) / "spool").glob("*.npz"))
        print(f"outage: {args.outage_s:.0f} s of {args.points} points every {args.rate:g} s "
              f"= {total:,} samples (submitted {args.speedup:g}x real time)")
        print(f"backlog: {st.queued_memory:,} in memory, {st.spooled:,} spooled "
              f"({spool_bytes / 1e6:.1f} MB on disk); peak memory queue {peak_memory:,} "
              f"(limit {args.memory_limit:,})")
        locker.execute("ROLLBACK")
        locker.close()
        t = time.monotonic()
        wait(lambda: h.stats().committed >= total, 3600)
        drain = time.monotonic() - t
        h.stop(30)
        st = h.stats()
        print(f"drain: {st.committed:,} committed ({st.stored:,} new) in {drain:.1f} s "
              f"= {total / drain:,.0f} samples/s = {args.outage_s / drain:.1f}x real time; "
              f"left: memory {st.queued_memory}, spool {st.spooled}")


if __name__ == "__main__":
    main()
