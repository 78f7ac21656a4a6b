"""Acquisition benchmark: N synthetic Modbus TCP devices x 50 points, polled into SQLite.

Run:  .venv/bin/python bench/bench_acquisition.py [--devices 1000] [--duration 60]

The devices run in a child process (bench/farm.py), all values changing every
``--change-interval`` seconds (default 0.5 s, faster than the scan, so every 1 s scan
finds all 50 points of every device changed and passes them all on to the historian).
This process runs WattDesk's real path — site YAML -> acquisition engine (one asyncio
loop in a thread) -> Modbus driver -> point cache -> historian writer thread -> SQLite —
and prints:

* sustained points/s read and committed at a 1 s scan, the process's CPU (% of one
  core, and CPU seconds), scan overruns (%), p50/p99 delay from a value changing in a
  device to its row committed, and the load average while it ran;
* the ceiling: a bare pymodbus read loop over the same devices (one client per device,
  back-to-back reads, nothing decoded or stored) against WattDesk scanning back-to-back
  (scan interval 1 ms) with the same devices — points/s read, decoded and put in the
  point cache, changed ones stored (the farm then changes values once a second) — and
  their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.collector import Collector  # noqa: E402
from app.config import load_site  # noqa: E402
from bench.farm import REGISTERS, Farm  # noqa: E402

POINTS_PER_DEVICE = 50


def write_site(folder: Path, n: int, base_port: int, scan_s: float) -> Path:
    lines = ["site: {name: Benchmark, timezone: UTC}", f"template_dirs: [{ROOT / 'bench' / 'templates'}]",
             "areas: [{id: farm, name: Farm, kind: zone}]", "devices:"]
    for i in range(n):
        lines.append(f"  - {{id: D{i:04d}, area: farm, protocol: modbus_tcp, host: 127.0.0.1, "
                     f"port: {base_port + i}, scan_interval_s: {scan_s}, timeout_s: 2, retries: 0, "
                     "template: bench_device}")
    path = folder / f"bench_site_{scan_s}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Meter:
    """Counts committed rows and the change-to-commit delay of the t_change points."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.lock = threading.Lock()
        self.active = False

    def on_commit(self, values) -> None:
        if not self.active:
            return
        now = time.time()
        delays = [now - pv.value for pv in values if pv.tag.endswith(".t_change") and pv.good]
        with self.lock:
            self.delays.extend(delays)


def run_collector(site_path: Path, db_url: str, warmup_s: float, duration_s: float,
                  delays: bool = True) -> dict:
    """Run a collector on ``site_path``; ``delays``: measure change-to-commit delays (a commit hook)."""
    site = load_site(site_path)
    collector = Collector(site, db_url)
    meter = Meter()
    if delays:
        collector.historian.on_commit = meter.on_commit
    collector.start()
    try:
        time.sleep(warmup_s)
        status0 = {k: (s.scans, s.overruns) for k, s in collector.engine.status.items()}
        committed0 = collector.historian.stats().committed
        read0 = collector.cache.updates
        published0 = collector.cache.published
        cpu0, wall0 = time.process_time(), time.monotonic()
        meter.active = True
        time.sleep(duration_s)
        meter.active = False
        cpu1, wall1 = time.process_time(), time.monotonic()
        load = os.getloadavg()[0]
        committed1 = collector.historian.stats().committed
        read1 = collector.cache.updates
        published1 = collector.cache.published
        queued = collector.historian.stats().queued_memory
        scans = sum(s.scans - status0[k][0] for k, s in collector.engine.status.items())
        overruns = sum(s.overruns - status0[k][1] for k, s in collector.engine.status.items())
        online = sum(s.online for s in collector.engine.status.values())
    finally:
        collector.stop()
    wall = wall1 - wall0
    delays = np.array(meter.delays) if meter.delays else np.array([np.nan])
    return {
        "points_per_s": (committed1 - committed0) / wall,
        "read_per_s": (read1 - read0) / wall,
        "published_per_s": (published1 - published0) / wall,
        "queued": queued,
        "cpu_pct": 100.0 * (cpu1 - cpu0) / wall,
        "cpu_s": cpu1 - cpu0,
        "wall_s": wall,
        "load": load,
        "overrun_pct": 100.0 * overruns / max(scans + overruns, 1),
        "p50_ms": 1000 * float(np.percentile(delays, 50)),
        "p99_ms": 1000 * float(np.percentile(delays, 99)),
        "online": online,
    }


async def _bare_loop(n: int, base_port: int, duration_s: float) -> float:
    from pymodbus.client import AsyncModbusTcpClient

    clients = [AsyncModbusTcpClient("127.0.0.1", port=base_port + i, timeout=2, retries=0)
               for i in range(n)]
    await asyncio.gather(*(c.connect() for c in clients))
    count = 0
    stop_at = time.monotonic() + duration_s

    async def loop(client) -> None:
        nonlocal count
        while time.monotonic() < stop_at:
            reply = await client.read_holding_registers(0, count=REGISTERS, device_id=1)
            if not reply.isError():
                count += 1

    started = time.monotonic()
    await asyncio.gather(*(loop(c) for c in clients))
    elapsed = time.monotonic() - started
    for c in clients:
        c.close()
    return count * POINTS_PER_DEVICE / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--base-port", type=int, default=21000)
    parser.add_argument("--change-interval", type=float, default=0.5,
                        help="seconds between value changes in every device")
    args = parser.parse_args()
    n = args.devices
    print(f"acquisition benchmark: {n} devices x {POINTS_PER_DEVICE} points, loopback, "
          f"devices in a child process changing every {args.change_interval:g} s; {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp, Farm(args.base_port, n, args.change_interval) as farm:
        folder = Path(tmp)
        scan = run_collector(write_site(folder, n, args.base_port, 1.0),
                             f"sqlite:///{folder / 'scan.sqlite3'}", args.warmup, args.duration)
        print(f"1 s scan: {scan['read_per_s']:,.0f} points/s read, {scan['published_per_s']:,.0f} changed "
              f"and passed on, {scan['points_per_s']:,.0f} committed ({scan['queued']:,} queued at the end); "
              f"CPU {scan['cpu_pct']:.0f}% of one core ({scan['cpu_s']:.1f} CPU s in {scan['wall_s']:.1f} s), "
              f"overruns {scan['overrun_pct']:.2f}%, change-to-commit delay "
              f"p50 {scan['p50_ms']:.0f} ms, p99 {scan['p99_ms']:.0f} ms, "
              f"{scan['online']}/{n} devices online; load average {scan['load']:.2f}", flush=True)
        ceiling_s = min(args.duration, 20.0)
        farm.change_interval_s = 1.0  # back to back, WattDesk stores one change per point and second
        cpu0 = time.process_time()
        bare = asyncio.run(_bare_loop(n, args.base_port, ceiling_s))
        bare_cpu = time.process_time() - cpu0
        bare_load = os.getloadavg()[0]
        full = run_collector(write_site(folder, n, args.base_port, 0.001),
                             f"sqlite:///{folder / 'full.sqlite3'}", 5.0, ceiling_s, delays=False)
        print(f"ceiling: bare pymodbus read loop {bare:,.0f} points/s (CPU {bare_cpu:.1f} s, "
              f"load {bare_load:.2f}); WattDesk back-to-back {full['read_per_s']:,.0f} points/s read, "
              f"decoded and cached (CPU {full['cpu_pct']:.0f}%, {full['cpu_s']:.1f} s; load {full['load']:.2f}); "
              f"ratio {full['read_per_s'] / bare:.2f}", flush=True)


if __name__ == "__main__":
    main()
