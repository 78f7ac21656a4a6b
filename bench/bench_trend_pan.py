"""Trend panning: frames per second with 1,000,000 samples in view.

Prints figures, asserts nothing. Target (issue 3 §7): >= 30 frames/s while panning a
trend with 1,000,000 points in view.

The data run half a screen past the visible range, so panning keeps the full count in
view. Each frame moves the visible range by 0.5 % of its width (as a drag does), then
processes events until the chart's viewport has really been painted once more; a
frame's time runs from the move to the end of that paint, so it holds pyqtgraph's
clipping and peak downsampling of the million samples and the paint itself. Three
cases: 1,000,000 raw samples in one pen (the worst a pen can hold); four pens of
250,000 with a stretch of bad quality in each; what the Trends view really draws
for a long range — one min/max bucket per pixel over three screens; and a long drag
(2 % of the view per frame, two screens out and back) that leaves the reduced stretch
the chart keeps around the view, so it is reduced again on the way.

Usage: python bench/bench_trend_pan.py [--frames 150] [--width 1600] [--height 800]
Runs on the display in ``DISPLAY`` (e.g. ``Xvfb :99 -screen 0 1920x1080x24 &`` and
``DISPLAY=:99``), else offscreen; the platform used is printed. Each case also prints the
process's CPU time over the panning as a share of one core and the machine's 1-minute
load average, since the figures depend on what else the (shared) machine runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from zoneinfo import ZoneInfo

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from widgets.trend_plot import Series, TrendPlot

T0 = 1_750_000_000.0


class PaintCounter(QObject):
    """Counts paint events that reach one widget (the chart's viewport)."""

    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def raw_pens(n_pens: int, per_pen: int, bad: bool, screens: float = 1.5) -> list[Series]:
    """``n_pens`` pens of ``screens`` x ``per_pen`` 1-second samples (noisy daily curves, kW)."""
    rng = np.random.default_rng(1)
    per_pen = int(per_pen * screens)
    t = T0 + np.arange(per_pen, dtype=np.float64)
    out = []
    for k in range(n_pens):
        v = 200 + 80 * np.sin(2 * np.pi * t / 86400 + k) + rng.normal(0, 5, per_pen)
        q = np.zeros(per_pen, np.int8)
        if bad:
            q[per_pen // 3: per_pen // 3 + per_pen // 50] = 2
        out.append(Series.raw(t, v, q))
    return out


def bucket_pen(samples: int, buckets: int) -> Series:
    """What the view draws for ``samples`` seconds over three screens: ``buckets`` min/max pairs."""
    edges = T0 - samples + np.linspace(0, 3 * samples, buckets, endpoint=False)
    mid = 200 + 80 * np.sin(2 * np.pi * edges / 86400)
    return Series.envelope(edges, mid - 15, mid + 15, np.zeros(buckets, np.int8))


def pan(app: QApplication, plot: TrendPlot, counter: PaintCounter, frames: int, step_frac: float) -> list[float]:
    """Pan ``frames`` times by ``step_frac`` of the view; return each frame's seconds (move to painted)."""
    viewport = plot._plot.viewport()
    t0, t1 = plot.x_range()
    step = (t1 - t0) * step_frac
    times = []
    for i in range(frames):
        painted = counter.paints
        start = time.perf_counter()
        k = i % 200                      # 100 steps right (half a screen), 100 back
        offset = step * (k if k < 100 else 200 - k)
        plot.set_x_range(t0 + offset, t1 + offset)
        while counter.paints == painted:
            app.processEvents()
            viewport.update()
        times.append(time.perf_counter() - start)
    return times


def run_case(app: QApplication, name: str, pens: list[Series], in_view: int, frames: int,
             width: int, height: int, step_frac: float = 0.005) -> None:
    """Show ``pens`` with ``in_view`` seconds visible and print the panning figures."""
    plot = TrendPlot(ZoneInfo("Asia/Shanghai"))
    plot.resize(width, height)
    plot.show()
    for k, series in enumerate(pens):
        plot.add_pen(f"D{k}.P", f"D{k} P", "kW")
        plot.set_history(f"D{k}.P", series)
    plot.set_x_range(T0, T0 + in_view)
    counter = PaintCounter()
    plot._plot.viewport().installEventFilter(counter)
    for _ in range(5):          # settle layout and first paints
        app.processEvents()
        time.sleep(0.02)
    pan(app, plot, counter, 10, step_frac)  # warm-up
    cpu0, wall0 = time.process_time(), time.perf_counter()
    times = pan(app, plot, counter, frames, step_frac)
    cpu = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    total = sum(len(s.within(T0, T0 + in_view)) for s in pens)
    fps = len(times) / sum(times)
    p95 = sorted(times)[int(0.95 * len(times)) - 1]
    print(f"{name:<46} {total:>9,d} pts  {fps:6.1f} frames/s  median {statistics.median(times) * 1e3:6.1f} ms"
          f"  p95 {p95 * 1e3:6.1f} ms  CPU {100 * cpu:3.0f} % of a core  load {os.getloadavg()[0]:.2f}",
          flush=True)
    plot.close()
    plot.deleteLater()
    app.processEvents()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=800)
    args = parser.parse_args()
    app = QApplication([])
    print(f"platform {QGuiApplication.platformName()}, chart {args.width}x{args.height}, "
          f"{args.frames} frames per case (target >= 30 frames/s)")
    run_case(app, "1 pen x 1,000,000 raw samples", raw_pens(1, 1_000_000, bad=False), 1_000_000,
             args.frames, args.width, args.height)
    run_case(app, "4 pens x 250,000 raw samples, 2 % bad quality", raw_pens(4, 250_000, bad=True), 250_000,
             args.frames, args.width, args.height)
    run_case(app, "view's draw: 1,000,000 s as 3 x width buckets", [bucket_pen(1_000_000, 3 * args.width)],
             1_000_000, args.frames, args.width, args.height)
    run_case(app, "1 pen x 1,000,000, dragged 2 screens and back", raw_pens(1, 1_000_000, bad=False, screens=3.2),
             1_000_000, args.frames, args.width, args.height, step_frac=0.02)


if __name__ == "__main__":
    main()
