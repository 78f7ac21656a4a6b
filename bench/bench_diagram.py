"""GUI-thread cost of a single-line diagram with ~300 live values changing at 1 Hz.

Builds a synthetic LV panel (one busbar, N metered feeders: breaker I/P/E + meter P/I/U/E,
7 values each) in a temporary site file, shows :class:`app.ui.diagram_view.DiagramView`
on it, and has a worker thread push a new value for every shown point into the point
cache once a second (breaker positions unchanged, so energisation is not recomputed —
see ``--toggle`` to open and close one breaker each second as well). The figure is the
GUI (main) thread's CPU time over the wall time: the target is <= 10 % of one core.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.bench_diagram`` (or under Xvfb
with ``DISPLAY=:99``).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from app.cache import PointCache  # noqa: E402
from app.config import load_site  # noqa: E402
from app.points import PointValue, Quality  # noqa: E402
from app.ui.bridge import PointBridge  # noqa: E402
from app.ui.diagram_view import DiagramView  # noqa: E402
from app.ui.services import UiServices  # noqa: E402
from db.historian import Historian  # noqa: E402


def panel_site(feeders: int, directory: Path) -> Path:
    """A site file with one busbar and ``feeders`` metered feeders."""
    devices, nodes = [], ["  - {id: IL, kind: incoming_line, name: 进线}",
                          "  - {id: TR, kind: transformer, name: 变压器, upstream: [IL]}",
                          "  - {id: BUS, kind: busbar, name: 母线, upstream: [TR]}"]
    for k in range(feeders):
        devices.append(f"  - {{id: QF{k}, area: A, protocol: modbus_tcp, host: 127.0.0.1, port: {20000 + 2 * k}, "
                       f"template: iot_breaker}}")
        devices.append(f"  - {{id: PM{k}, area: A, protocol: modbus_tcp, host: 127.0.0.1, port: {20001 + 2 * k}, "
                       f"template: multifunction_meter}}")
        nodes.append(f"  - {{id: F{k}, kind: feeder, name: 回路{k}, upstream: [BUS], device: QF{k}}}")
        nodes.append(f"  - {{id: M{k}, kind: meter, upstream: [F{k}], device: PM{k}}}")
        nodes.append(f"  - {{id: L{k}, kind: load, name: 负荷{k}, upstream: [M{k}]}}")
    path = directory / "bench_site.yaml"
    path.write_text("site: {name: bench, timezone: Asia/Shanghai}\n"
                    "areas:\n  - {id: A, name: a, kind: room}\n"
                    "devices:\n" + "\n".join(devices) + "\ntopology:\n" + "\n".join(nodes) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeders", type=int, default=43, help="metered feeders (7 values each; 43 -> 301)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured duration")
    parser.add_argument("--toggle", action="store_true", help="also open/close one breaker every second")
    args = parser.parse_args()

    app = QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        site = load_site(panel_site(args.feeders, Path(tmp)))
        cache = PointCache()
        bridge = PointBridge(cache)
        bridge.start()
        services = UiServices(site=site, bridge=bridge, historian=Historian(f"sqlite:///{tmp}/h.db"),
                              device_status=dict)
        view = DiagramView(services)
        view.resize(1600, 900)
        view.show()
        busiest = max(view.sheets, key=lambda s: len(view.sheet_scene(s.id).values))
        view.show_sheet(busiest.id)
        sheet = view.sheet_scene(busiest.id)
        tags = sorted(sheet.values)
        states = [f"QF{k}.state" for k in range(args.feeders)]
        cache.update([PointValue(t, 1.0, Quality.GOOD, time.time()) for t in states])
        stop = threading.Event()

        def feed() -> None:
            rng = random.Random(1)
            tick = 0
            while not stop.wait(1.0):
                now = time.time()
                batch = [PointValue(t, rng.uniform(0.0, 500.0), Quality.GOOD, now) for t in tags]
                if args.toggle:
                    batch.append(PointValue(states[0], float(tick % 2), Quality.GOOD, now))
                cache.update(batch)
                tick += 1

        deadline = time.monotonic() + 2.0          # settle: first paint, replay
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.005)
        worker = threading.Thread(target=feed, name="bench-feed")
        worker.start()
        cpu0, wall0 = time.thread_time(), time.monotonic()
        while time.monotonic() - wall0 < args.seconds:
            app.processEvents()
            time.sleep(0.005)
        cpu, wall = time.thread_time() - cpu0, time.monotonic() - wall0
        stop.set()
        worker.join()
        view.close()
        bridge.stop()
    print(f"diagram: {len(tags)} live values at 1 Hz ({args.feeders} feeders"
          f"{', one breaker toggling' if args.toggle else ''}), platform {app.platformName()}: "
          f"GUI thread {100.0 * cpu / wall:.1f} % of one core over {wall:.0f} s (target <= 10 %)")


if __name__ == "__main__":
    main()
