"""Does a dead or silent device slow the healthy ones? Healthy devices alone vs. beside dead ones.

Run:  .venv/bin/python bench/bench_dead_devices.py [--healthy 100] [--dead 100] [--duration 20]

Run A scans ``--healthy`` synthetic devices (bench/farm.py, child process) at a 0.5 s scan.
Run B scans the same devices plus ``--dead`` silent devices (TCP connections accepted by
the kernel, never answered: every read waits for its 1 s timeout) and ``--dead`` refused
ones (nothing listening: reconnect back-off). The two runs alternate ``--rounds`` times
(the machine's load drifts). Printed per run: the healthy devices' mean read time and
their completed scans per second; then how much slower B is than A over all rounds
(target: < 10 %).
"""

from __future__ import annotations

import argparse
import itertools
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.acquisition import AcquisitionEngine  # noqa: E402
from app.cache import PointCache  # noqa: E402
from app.config import load_site  # noqa: E402
from bench.farm import Farm  # noqa: E402

SCAN_S = 0.5
TEMPLATES = ROOT / "bench" / "templates"


def _site(folder: Path, healthy_ports: list[int], silent_ports: list[int], refused_ports: list[int]) -> Path:
    lines = ["site: {name: Dead devices, timezone: UTC}", f"template_dirs: [{TEMPLATES}]",
             "areas: [{id: z, name: Z, kind: zone}]", "devices:"]
    # interleaved H, S, R, H, S, R ...: the engine spreads scan phases by position in the
    # device list, so each healthy device keeps the phase it has when scanned alone
    groups = [[(kind, i, port) for i, port in enumerate(ports)]
              for kind, ports in (("H", healthy_ports), ("S", silent_ports), ("R", refused_ports))]
    order = [dev for row in itertools.zip_longest(*groups) for dev in row if dev is not None]
    for kind, i, port in order:
        lines.append(f"  - {{id: {kind}{i:04d}, area: z, protocol: modbus_tcp, host: 127.0.0.1, "
                     f"port: {port}, scan_interval_s: {SCAN_S}, timeout_s: 1, retries: 0, "
                     "template: bench_device}")
    path = folder / f"site_{len(silent_ports)}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _measure(site_path: Path, duration_s: float) -> tuple[float, float]:
    """Mean read time (ms) and scans/s per healthy device over ``duration_s``."""
    site = load_site(site_path)
    engine = AcquisitionEngine(site.devices, PointCache())
    engine.start()
    try:
        time.sleep(3.0)
        healthy = [s for k, s in engine.status.items() if k.startswith("H")]
        scans0 = [s.scans for s in healthy]
        durations: list[float] = []
        end = time.monotonic() + duration_s
        while time.monotonic() < end:
            durations.extend(s.last_scan_s for s in healthy)
            time.sleep(SCAN_S)
        scans = sum(s.scans - s0 for s, s0 in zip(healthy, scans0))
    finally:
        engine.stop()
    return 1000 * sum(durations) / len(durations), scans / len(healthy) / duration_s


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--healthy", type=int, default=100)
    parser.add_argument("--dead", type=int, default=100)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--base-port", type=int, default=23000)
    parser.add_argument("--rounds", type=int, default=2, help="A/B pairs, alternated")
    args = parser.parse_args()
    healthy = [args.base_port + i for i in range(args.healthy)]
    silent = []
    for _ in range(args.dead):  # accepted by the kernel's backlog, never answered
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        silent.append(s)
    refused = _free_ports(args.dead)
    alone: list[tuple[float, float]] = []
    mixed: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp, Farm(args.base_port, args.healthy):
        folder = Path(tmp)
        for r in range(1, args.rounds + 1):  # alternated, so a change in the machine's load hits both
            alone.append(_measure(_site(folder, healthy, [], []), args.duration))
            print(f"round {r} A: {args.healthy} healthy devices alone: mean read {alone[-1][0]:.2f} ms, "
                  f"{alone[-1][1]:.3f} scans/s each (scan interval {SCAN_S} s); load average "
                  f"{os.getloadavg()[0]:.2f}", flush=True)
            mixed.append(_measure(
                _site(folder, healthy, [s.getsockname()[1] for s in silent], refused), args.duration))
            print(f"round {r} B: same beside {args.dead} silent + {args.dead} refused devices: mean read "
                  f"{mixed[-1][0]:.2f} ms, {mixed[-1][1]:.3f} scans/s each; load average "
                  f"{os.getloadavg()[0]:.2f}", flush=True)
    for s in silent:
        s.close()
    alone_ms, alone_rate = (sum(x) / len(alone) for x in zip(*alone))
    mixed_ms, mixed_rate = (sum(x) / len(mixed) for x in zip(*mixed))
    print(f"over {args.rounds} rounds: healthy devices slower by {100 * (mixed_ms / alone_ms - 1):+.1f}% in "
          f"read time ({alone_ms:.2f} -> {mixed_ms:.2f} ms), {100 * (1 - mixed_rate / alone_rate):+.1f}% in "
          "scan rate (target < 10%)")

if __name__ == "__main__":
    main()
