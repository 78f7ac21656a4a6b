"""Alarm evaluation benchmark: 10,000 points at 1 Hz, CPU as % of one core (target <= 10 %).

Run:  .venv/bin/python bench/bench_alarms.py [--points 10000] [--duration 10] [--churn 0.01]

The site is generated in a temporary directory: IoT breakers (template iot_breaker, 15
points and 14 rules each: two-level thresholds, imbalance, phase loss, no voltage, trip,
communication loss, consumption surge), each on its own feeder under one busbar, enough
breakers for ``--points`` points. Every second every point gets a new GOOD reading (the worst
case: the point cache's deadbands pass everything); ``--churn`` of the breakers swing their
temperature across the pre-warning limit, so alarms raise and clear all the time.

Prints:

* evaluator alone (one thread, no queue): CPU seconds per second of readings -> % of a core;
* the threaded :class:`~app.alarms.AlarmEngine` fed in real time at 1 Hz for ``--duration``
  seconds through ``submit`` (as the point cache does): the process's CPU % of one core
  while running (readings are generated beforehand, so the figure is the engine's), the
  alarms raised/cleared, and the journal events per second.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.alarms import AlarmEngine, AlarmEvaluator, AlarmEvent, EventKind  # noqa: E402
from app.config import SiteConfig, load_site  # noqa: E402
from app.points import PointValue, Quality  # noqa: E402

POINTS_PER_BREAKER = 15
GOOD = Quality.GOOD


def make_site(directory: Path, breakers: int) -> SiteConfig:
    """A site of ``breakers`` IoT breakers, one feeder each under one busbar."""
    lines = ["site: {name: Alarm bench, timezone: Asia/Shanghai}",
             "areas:", "  - {id: B, kind: building, children: [{id: LV, kind: room}]}", "devices:"]
    for i in range(breakers):
        lines.append(f"  - {{id: QF{i:05d}, area: LV, protocol: modbus_tcp, host: 127.0.0.1, "
                     f"port: {20000 + i // 200}, unit_id: {1 + i % 200}, template: iot_breaker}}")
    lines += ["topology:", "  - {id: IL, kind: incoming_line}", "  - {id: BUS, kind: busbar, upstream: [IL]}"]
    lines += [f"  - {{id: F{i:05d}, kind: feeder, upstream: [BUS], device: QF{i:05d}}}" for i in range(breakers)]
    path = directory / "bench_site.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_site(path)


def readings(site: SiteConfig, seconds: int, t0: float, churn: float, seed: int = 3) -> list[list[PointValue]]:
    """One batch per second: a reading of every point of every breaker."""
    rng = random.Random(seed)
    devices = list(site.devices)
    hot = set(rng.sample(range(len(devices)), max(1, int(churn * len(devices)))))
    energy = [1000.0 * (i + 1) for i in range(len(devices))]
    batches = []
    for s in range(seconds):
        ts = t0 + s
        batch: list[PointValue] = []
        for i, d in enumerate(devices):
            in_a = d.ratings.get("In_A", 63.0)
            pn = d.ratings.get("Pn_kW", 30.0)
            energy[i] += 0.01
            temp = (70.0 if s % 4 < 2 else 55.0) if i in hot else 40.0 + rng.uniform(-1, 1)
            ia, ib, ic = (0.5 * in_a * rng.uniform(0.97, 1.03) for _ in range(3))
            ua, ub, uc = (230.0 + rng.uniform(-2, 2) for _ in range(3))
            values = {"state": 1.0, "trip_cause": 0.0, "mode": 0.0, "Ia": ia, "Ib": ib, "Ic": ic,
                      "Ua": ua, "Ub": ub, "Uc": uc, "P": 0.5 * pn, "PF": 0.95, "temperature": temp,
                      "leakage": 5.0, "Ep": energy[i], "command": 1.0}
            batch += [PointValue(f"{d.id}.{name}", value, GOOD, ts) for name, value in values.items()]
        batches.append(batch)
    return batches


def bench_evaluator(site: SiteConfig, batches: list[list[PointValue]]) -> float:
    """CPU seconds the evaluator spends per batch (thread CPU time)."""
    evaluator = AlarmEvaluator(site)
    evaluator.feed(batches[0])       # first readings: breaker states, counters
    evaluator.take()
    start = time.thread_time()
    for batch in batches[1:]:
        evaluator.feed(batch)
        evaluator.tick(batch[0].ts + 0.5)
        evaluator.take()
    return (time.thread_time() - start) / (len(batches) - 1)


def bench_engine(site: SiteConfig, batches: list[list[PointValue]]) -> tuple[float, list[AlarmEvent]]:
    """Process CPU % of one core while the threaded engine is fed one batch per second."""
    journal: list[AlarmEvent] = []
    engine = AlarmEngine(site, journal=journal.append, tick_s=0.5)
    engine.start()
    engine.submit(batches[0])
    engine.flush(30)
    wall0, cpu0 = time.monotonic(), time.process_time()
    next_t = wall0
    for batch in batches[1:]:
        engine.submit(batch)
        next_t += 1.0
        time.sleep(max(0.0, next_t - time.monotonic()))
    engine.flush(30)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    engine.stop()
    return 100.0 * cpu / wall, journal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds of real-time engine run")
    parser.add_argument("--churn", type=float, default=0.01, help="share of breakers swinging over a limit")
    args = parser.parse_args()
    breakers = -(-args.points // POINTS_PER_BREAKER)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        site = make_site(Path(tmp), breakers)
        load_s = time.perf_counter() - t
    points = breakers * POINTS_PER_BREAKER
    t0 = time.time()
    batches = readings(site, args.duration + 1, t0, args.churn)
    evaluator = AlarmEvaluator(site)
    print(f"site: {breakers} breakers, {points} points, {len(evaluator.records)} alarms "
          f"(loaded in {load_s:.1f} s); churn {args.churn:.0%} of breakers")
    per_batch = bench_evaluator(site, batches)
    print(f"evaluator alone: {per_batch * 1000:.1f} ms CPU per {points} readings "
          f"= {per_batch * 1e6 / points:.2f} us/reading -> {100 * per_batch:.1f} % of one core at 1 Hz "
          f"(target <= 10 %)")
    cpu_pct, journal = bench_engine(site, batches)
    raised = sum(e.kind is EventKind.RAISED for e in journal)
    cleared = sum(e.kind is EventKind.CLEARED for e in journal)
    print(f"threaded engine, real time 1 Hz for {args.duration} s: process CPU {cpu_pct:.1f} % of one core "
          f"(target <= 10 %); journal {len(journal) / args.duration:.0f} events/s "
          f"({raised} raised, {cleared} cleared)")


if __name__ == "__main__":
    main()
