"""A trend chart: several pens over time, one value axis per unit, cursor readout, CSV/PNG export.

The widget knows nothing of where samples come from. A view gives each pen a
*history* (raw samples, or min/max envelopes of time buckets as a historian returns
them for one pixel each) and appends *live* samples as they arrive; the live tail is
drawn after the end of the history. Samples whose quality is not good are drawn as a
dashed grey line (a stale or doubtful value) and are marked ``?`` in the readout and
the CSV, so a bad stretch never looks like a clean one.

Quality codes are those of the point value object: 0 good, 1 uncertain, 2 bad.
Times are epoch seconds UTC (float64); the time axis shows them in the zone given.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, QEvent, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from widgets.trend_legend import TrendLegend

#: Quality codes (as :class:`app.points.Quality`) and their CSV names.
GOOD, UNCERTAIN, BAD = 0, 1, 2
QUALITY_NAMES = {GOOD: "good", UNCERTAIN: "uncertain", BAD: "bad"}

#: Pen colours in order of use: muted and distinct, none of them alarm red/amber.
PEN_COLOURS = ("#5b9bd5", "#4bb3a8", "#a58ad6", "#c8b273", "#d68ab5", "#9fb3c8", "#9cb36b", "#c98b62")

#: Live samples kept per pen (older ones are dropped first).
MAX_LIVE_SAMPLES = 200_000

_STALE_COLOUR = "#a8a8a8"
#: Not-good samples get an "x" marker each when a curve has at most this many of them.
_MAX_STALE_MARKERS = 500
_CJK_FAMILY = "Noto Sans CJK SC"


@dataclass(frozen=True)
class Series:
    """One pen's samples, ascending in time.

    Attributes
    ----------
    t : ndarray, float64, shape (n,)
        Epoch seconds UTC: sample times, or bucket starts for an envelope.
    lo : ndarray, float64, shape (n,)
        Values (raw), or bucket minima (envelope); NaN where there is no value.
    hi : ndarray, float64, shape (n,) or None
        Bucket maxima for an envelope; ``None`` for raw samples.
    quality : ndarray, int8, shape (n,)
        0 good, 1 uncertain, 2 bad (an envelope bucket carries its worst sample's).
    """

    t: np.ndarray
    lo: np.ndarray
    hi: np.ndarray | None
    quality: np.ndarray

    @classmethod
    def empty(cls) -> Series:
        return cls(np.empty(0), np.empty(0), None, np.empty(0, np.int8))

    @classmethod
    def raw(cls, t: Sequence[float] | np.ndarray, value: Sequence[float] | np.ndarray,
            quality: Sequence[int] | np.ndarray) -> Series:
        """Raw samples; ``None`` values become NaN.

        Raises
        ------
        ValueError
            Arrays of different lengths.
        """
        t_ = np.asarray(t, np.float64)
        v = np.asarray([math.nan if x is None else x for x in value] if isinstance(value, list) else value,
                       np.float64)
        q = np.asarray(quality, np.int8)
        if not len(t_) == len(v) == len(q):
            raise ValueError(f"Series.raw: lengths differ (t {len(t_)}, value {len(v)}, quality {len(q)})")
        return cls(t_, v, None, q)

    @classmethod
    def envelope(cls, t: np.ndarray, lo: np.ndarray, hi: np.ndarray, quality: np.ndarray) -> Series:
        """min/max per time bucket (``t`` = bucket start).

        Raises
        ------
        ValueError
            Arrays of different lengths.
        """
        t_, lo_, hi_ = (np.asarray(a, np.float64) for a in (t, lo, hi))
        q = np.asarray(quality, np.int8)
        if not len(t_) == len(lo_) == len(hi_) == len(q):
            raise ValueError(f"Series.envelope: lengths differ (t {len(t_)}, min {len(lo_)}, "
                             f"max {len(hi_)}, quality {len(q)})")
        return cls(t_, lo_, hi_, q)

    def __len__(self) -> int:
        return len(self.t)

    def after(self, t0: float) -> Series:
        """The samples with ``t > t0``."""
        i = int(np.searchsorted(self.t, t0, side="right"))
        return Series(self.t[i:], self.lo[i:], None if self.hi is None else self.hi[i:], self.quality[i:])

    def within(self, t0: float, t1: float) -> Series:
        """The samples with ``t0 <= t <= t1``."""
        i, j = np.searchsorted(self.t, t0, side="left"), np.searchsorted(self.t, t1, side="right")
        return Series(self.t[i:j], self.lo[i:j], None if self.hi is None else self.hi[i:j], self.quality[i:j])

    def polyline(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x, y and quality of the line to draw: the samples, or each bucket as a min→max stroke."""
        if self.hi is None:
            return self.t, self.lo, self.quality
        n = len(self.t)
        y = np.empty(2 * n)
        y[0::2] = self.lo
        y[1::2] = self.hi
        return np.repeat(self.t, 2), y, np.repeat(self.quality, 2)


@dataclass(frozen=True)
class PenReading:
    """What the cursor readout shows for one pen at one time.

    Attributes
    ----------
    key, label, unit : str
    t : float | None
        Time of the sample (or bucket start) at or before the cursor; ``None`` if none.
    lo, hi : float
        Value (``lo == hi``) or bucket min/max, pen's unit; NaN if no value.
    quality : int
        0 good, 1 uncertain, 2 bad; 2 when there is no sample.
    """

    key: str
    label: str
    unit: str
    t: float | None
    lo: float
    hi: float
    quality: int

    def text(self) -> str:
        """E.g. ``"P 12.3 kW"``, ``"P 10.1…12.3 kW"``, ``"P ? 12.3 kW"`` (not good), ``"P —"``."""
        if self.t is None or math.isnan(self.lo):
            return f"{self.label} —"
        value = f"{self.lo:.4g}" if self.lo == self.hi else f"{self.lo:.4g}…{self.hi:.4g}"
        mark = "" if self.quality == GOOD else "? "
        return f"{self.label} {mark}{value} {self.unit}".rstrip()


class _Part:
    """One stretch of a pen (its history, or its live tail) and the curves that draw it.

    Only what is around the view is drawn, reduced to min/max per bucket of about one
    pixel (:func:`decimate`), so the cost of a frame does not grow with the samples held.
    The buckets are the power of two seconds nearest one pixel, anchored at the epoch,
    and the reduction covers the view plus one view's width either side: panning within
    that cover, or zooming without changing the bucket, reuses what is drawn.
    """

    def __init__(self, good: QPen, stale: QPen) -> None:
        self.curves = (_curve(good), _curve(stale), _markers())
        self.line: tuple[np.ndarray, np.ndarray, np.ndarray] = (np.empty(0), np.empty(0), np.empty(0, np.int8))
        self._drawn: tuple[float, float, float] | None = None    # (bucket s, cover start, cover end)

    def set_line(self, line: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        """Replace the polyline (x non-decreasing, y, quality); drawn at the next :meth:`render`."""
        self.line = line
        self._drawn = None

    def render(self, t0: float, t1: float, width: int) -> None:
        """Draw the part for the view ``[t0, t1]`` that is ``width`` pixels wide."""
        span = t1 - t0
        if not span > 0 or not math.isfinite(span):
            return
        bucket = 2.0 ** round(math.log2(span / max(1, width)))
        if self._drawn is not None:
            drawn_bucket, lo, hi = self._drawn
            if drawn_bucket == bucket and lo <= t0 and t1 <= hi:
                return
        lo, hi = t0 - span, t1 + span
        _draw(*self.curves, decimate(*self.line, lo, hi, bucket))
        self._drawn = (bucket, lo, hi)


def _curve(pen: QPen) -> pg.PlotDataItem:
    # decimated per pixel already (no pyqtgraph downsampling); NaN only as run breaks,
    # which connect="finite" honours without a separate finite check
    return pg.PlotDataItem(pen=pen, connect="finite", antialias=False, clipToView=True, skipFiniteCheck=True)


def _markers() -> pg.PlotDataItem:
    return pg.PlotDataItem(pen=None, symbol="x", symbolSize=7, symbolPen=_STALE_COLOUR, symbolBrush=None)


class _Pen:
    """One pen: its data (history and live samples) and the two parts that draw them."""

    def __init__(self, key: str, label: str, unit: str, colour: QColor, description: str = "") -> None:
        self.key, self.label, self.unit, self.colour = key, label, unit, colour
        self.description = description
        self.history = Series.empty()
        self.live = Series.empty()
        good = pg.mkPen(colour, width=1)
        stale = pg.mkPen(_STALE_COLOUR, width=1, style=Qt.PenStyle.DashLine)
        self.history_part = _Part(good, stale)
        self.live_part = _Part(good, stale)

    @property
    def curves(self) -> tuple[pg.PlotDataItem, ...]:
        return self.history_part.curves + self.live_part.curves

    def live_tail(self) -> Series:
        """Live samples after the history's end."""
        return self.live.after(self.history.t[-1]) if len(self.history) else self.live

    def latest(self) -> tuple[float, float, int] | None:
        """(time, value, quality) of the newest sample or bucket (its maximum), or ``None``."""
        for series in (self.live_tail(), self.history):
            if len(series):
                value = series.lo[-1] if series.hi is None else series.hi[-1]
                return float(series.t[-1]), float(value), int(series.quality[-1])
        return None

    def set_history_line(self) -> None:
        self.history_part.set_line(self.history.polyline())

    def set_live_line(self) -> None:
        x, y, q = self.live_tail().polyline()
        if len(self.history) and len(x):  # join the tail to the history's last point
            hx, hy, hq = self.history.polyline()
            x, y, q = np.r_[hx[-1:], x], np.r_[hy[-1:], y], np.r_[hq[-1:], q]
        self.live_part.set_line((x, y, q))

    def render(self, t0: float, t1: float, width: int) -> None:
        self.history_part.render(t0, t1, width)
        self.live_part.render(t0, t1, width)


def decimate(x: np.ndarray, y: np.ndarray, q: np.ndarray, t0: float, t1: float,
             bucket: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The polyline over ``[t0, t1]`` reduced to its min and max per time bucket.

    Parameters
    ----------
    x : ndarray, float64, shape (n,)
        Times, epoch s, non-decreasing.
    y : ndarray, float64, shape (n,)
        Values; NaN where there is none (a gap).
    q : ndarray, int8, shape (n,)
        Quality codes.
    t0, t1 : float
        Range wanted, epoch s; one sample either side is kept so the line reaches the edges.
    bucket : float
        Seconds per bucket (> 0); buckets start at multiples of it.

    Returns
    -------
    x, y, q : ndarray
        The samples in range unchanged when they are no more than four per bucket; else,
        per non-empty bucket, two vertices at its first sample's time: its minimum and its
        maximum, in turn upwards and downwards (so a one-sample spike survives), NaN if the
        bucket holds only gaps, and its worst quality (a bucket with one bad sample is drawn
        as not good).
    """
    i = max(0, int(np.searchsorted(x, t0, side="left")) - 1)
    j = min(len(x), int(np.searchsorted(x, t1, side="right")) + 1)
    x, y, q = x[i:j], y[i:j], q[i:j]
    if len(x) <= 4 * (t1 - t0) / bucket:
        return x, y, q
    # bucket edges over the range only (a sample far outside, across a gap, stays a bucket of
    # its own); searching the edges costs (t1 - t0) / bucket lookups, not a pass over the samples
    g0 = math.floor(t0 / bucket) * bucket
    edges = g0 + bucket * np.arange(math.ceil((t1 - g0) / bucket) + 1)
    starts = np.unique(np.r_[0, np.searchsorted(x, edges, side="left")])
    starts = starts[starts < len(x)]
    out_y = np.empty(2 * len(starts))
    with np.errstate(invalid="ignore"):
        lo, hi = np.fmin.reduceat(y, starts), np.fmax.reduceat(y, starts)
    # min then max, max then min, in turn: the line between buckets stays short, so a noisy
    # signal paints half the pixels it would with every bucket drawn upwards
    turn = np.arange(len(starts)) % 2 == 1
    out_y[0::2] = np.where(turn, hi, lo)
    out_y[1::2] = np.where(turn, lo, hi)
    return np.repeat(x[starts], 2), out_y, np.repeat(np.maximum.reduceat(q, starts), 2)


def _draw(good_curve: pg.PlotDataItem, stale_curve: pg.PlotDataItem, markers: pg.PlotDataItem,
          line: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """Split a polyline into its good part and its not-good part (joined to its neighbours);
    mark each not-good sample with an "x" unless there are too many to tell apart."""
    x, y, q = line
    finite = np.isfinite(y)
    bad = q != GOOD
    edge = bad.copy()
    edge[1:] |= bad[:-1]
    edge[:-1] |= bad[1:]
    stale = bad & finite
    for curve, mask in ((good_curve, ~bad & finite), (stale_curve, edge & finite)):
        curve.setData(*_runs(x, y, mask))
    if 0 < np.count_nonzero(stale) <= _MAX_STALE_MARKERS:
        markers.setData(x[stale], y[stale])
    else:
        markers.setData([], [])


def _runs(x: np.ndarray, y: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The samples under ``mask``, one NaN between consecutive runs so they are drawn apart.

    Compacting keeps the arrays free of long NaN stretches, which pyqtgraph's finite-only
    path building would split into thousands of pieces; x stays non-decreasing (the break
    repeats the previous x) so clipping to the view still works.
    """
    idx = np.flatnonzero(mask)
    if not len(idx):
        return np.empty(0), np.empty(0)
    starts = np.flatnonzero(np.diff(idx) > 1) + 1
    xs, ys = x[idx], y[idx]
    return np.insert(xs, starts, xs[starts - 1]), np.insert(ys, starts, np.nan)


class _TimeAxis(pg.DateAxisItem):
    """Date axis showing epoch seconds UTC in a given time zone (daylight saving followed per view)."""

    def __init__(self, tz: dt.tzinfo) -> None:
        super().__init__(orientation="bottom")
        self.tz = tz

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:  # noqa: N802 (Qt override)
        mid = dt.datetime.fromtimestamp((minVal + maxVal) / 2 if math.isfinite(minVal + maxVal) else 0.0, self.tz)
        offset = mid.utcoffset()
        self.utcOffset = -int(offset.total_seconds()) if offset is not None else 0
        return super().tickValues(minVal, maxVal, size)


class TrendPlot(QWidget):
    """Time chart of several pens, one y axis per unit, with cursor readout and export.

    Parameters
    ----------
    tz : datetime.tzinfo
        Zone the time axis, readout and CSV show times in (data stay UTC).
    dark : bool
        Dark grey background (control room), else light grey.
    parent : QWidget | None

    Signals
    -------
    range_changed(float, float, int)
        Visible time range (epoch s UTC, start and end) and plot width in pixels,
        emitted once the range has settled (100 ms after the last change).
    follow_stopped()
        The operator zoomed or panned, so the chart stopped following the present.
    cursor_moved(float)
        Time under the mouse, epoch s UTC.
    """

    range_changed = Signal(float, float, int)
    follow_stopped = Signal()
    cursor_moved = Signal(float)

    def __init__(self, tz: dt.tzinfo = dt.timezone.utc, dark: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tz = tz
        self._pens: dict[str, _Pen] = {}
        self._units: list[str | None] = [None]          # slot 0 = main view box and left axis
        self._extra: list[tuple[pg.AxisItem, pg.ViewBox]] = []
        self._follow_span: float | None = None
        self._fg = QColor()

        font = QFont(_CJK_FAMILY)
        font.setPointSize(9)
        self._readout = QLabel(self)
        self._readout.setFont(font)
        self._readout.setTextFormat(Qt.TextFormat.RichText)
        self._readout.setMinimumHeight(self._readout.fontMetrics().height() + 6)
        self.legend = TrendLegend(tz, _STALE_COLOUR, self)
        self.legend.setFont(font)

        self._axis = _TimeAxis(tz)
        self._plot = pg.PlotWidget(axisItems={"bottom": self._axis})
        self._item = self._plot.getPlotItem()
        self._item.hideButtons()
        self._item.setMenuEnabled(False)
        self._item.vb.setAutoVisible(y=True)
        self._item.vb.enableAutoRange(axis="y")
        self._item.vb.setMouseEnabled(x=True, y=False)
        for name in ("left", "bottom"):
            self._item.getAxis(name).setTickFont(font)
        self._cursor = pg.InfiniteLine(angle=90, movable=False)
        self._cursor.setVisible(False)
        self._item.addItem(self._cursor, ignoreBounds=True)
        self._mouse_proxy = pg.SignalProxy(self._plot.scene().sigMouseMoved, rateLimit=30,
                                           slot=self._on_scene_mouse_moved)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self._readout)
        layout.addWidget(self._plot, 1)
        layout.addWidget(self.legend)
        self.set_dark(dark)
        self._show_readout_hint()

        self._settle = QTimer(self, singleShot=True, interval=100)
        self._settle.timeout.connect(self._on_settle_timeout)
        self._follow = QTimer(self, interval=1000)
        self._follow.timeout.connect(self._on_follow_timeout)
        self._item.vb.sigXRangeChanged.connect(self._on_vb_x_range_changed)
        self._item.vb.sigRangeChangedManually.connect(self._on_vb_range_changed_manually)
        self._item.vb.sigResized.connect(self._on_vb_resized)
        now = time.time()
        self.set_x_range(now - 3600.0, now)

    def set_font_size(self, points: int) -> None:
        """Type size of the axes, readout and legend (the wall display's large type)."""
        font = QFont(_CJK_FAMILY)
        font.setPointSize(points)
        self._readout.setFont(font)
        self._readout.setMinimumHeight(self._readout.fontMetrics().height() + 6)
        self.legend.setFont(font)
        for axis in [self._item.getAxis("left"), self._item.getAxis("bottom")] + [a for a, _ in self._extra]:
            axis.setTickFont(font)
            axis.setStyle(tickTextWidth=max(30, 4 * points))
        self.legend.updateGeometry()

    def set_readout_visible(self, visible: bool) -> None:
        """Show or hide the cursor readout line (hidden where there is no mouse: the wall)."""
        self._readout.setVisible(visible)

    def set_dark(self, dark: bool) -> None:
        """Dark grey background (control room), else light grey: chart, axes, readout."""
        self._fg = QColor("#d0d0d0" if dark else "#303030")
        background = "#262626" if dark else "#d4d4d4"
        self._readout.setStyleSheet(f"background: {background}; padding: 2px 6px;")
        self._plot.setBackground(background)
        for axis in [self._item.getAxis("left"), self._item.getAxis("bottom")] + [a for a, _ in self._extra]:
            axis.setTextPen(self._fg)
            axis.setPen(self._fg)
        self._cursor.setPen(pg.mkPen(self._fg, width=1, style=Qt.PenStyle.DotLine))
        self._update_axis_labels()

    # -- pens ------------------------------------------------------------------------------
    def add_pen(self, key: str, label: str, unit: str, colour: QColor | str | None = None,
                description: str = "") -> None:
        """Add a pen drawn against the axis of ``unit`` (created if it is the first pen in it).

        ``label`` is the short name in the readout and the legend, ``description`` the
        longer text the legend also shows.

        Raises
        ------
        KeyError
            A pen ``key`` already exists.
        """
        if key in self._pens:
            raise KeyError(f"trend already has a pen {key!r}")
        used = {p.colour.name() for p in self._pens.values()}
        if colour is None:
            colour = next((c for c in PEN_COLOURS if c not in used), PEN_COLOURS[len(self._pens) % len(PEN_COLOURS)])
        pen = _Pen(key, label, unit, QColor(colour), description)
        box = self._box_for(unit)
        for curve in pen.curves:
            box.addItem(curve)
        self._pens[key] = pen
        self.legend.add_pen(key, label, description, unit, self._units.index(unit), pen.colour)
        self._update_axis_labels()

    def remove_pen(self, key: str) -> None:
        """Remove a pen (and its axis if no other pen uses that unit); unknown keys are ignored."""
        pen = self._pens.pop(key, None)
        if pen is None:
            return
        for curve in pen.curves:
            box = curve.getViewBox()
            if box is not None:
                box.removeItem(curve)
        if all(p.unit != pen.unit for p in self._pens.values()):
            self._drop_unit(pen.unit)
        self.legend.remove_pen(key)
        for other in self._pens.values():   # the right-hand axes may have been re-packed
            self.legend.set_slot(other.key, self._units.index(other.unit))
        self._update_axis_labels()

    def pens(self) -> list[str]:
        """Keys of the pens, in the order they were added."""
        return list(self._pens)

    def units(self) -> list[str]:
        """Units that have an axis: the left axis first, then the right-hand ones."""
        return [u for u in self._units if u is not None]

    def set_history(self, key: str, series: Series) -> None:
        """Replace a pen's history (what the historian returned for the range around the view).

        Raises
        ------
        KeyError
            No pen ``key``.
        """
        pen = self._pens[key]
        pen.history = series
        pen.set_history_line()
        pen.set_live_line()
        self._render(pen)
        self.legend.set_latest(key, pen.latest())

    def append_live(self, key: str, t: float, value: float | None, quality: int) -> None:
        """Append one live sample to a pen (ignored if not newer than its last live sample).

        Raises
        ------
        KeyError
            No pen ``key``.
        """
        pen = self._pens[key]
        live = pen.live
        if len(live) and t <= live.t[-1]:
            return
        keep = slice(max(0, len(live) + 1 - MAX_LIVE_SAMPLES), None)
        pen.live = Series(np.append(live.t, t)[keep], np.append(live.lo, math.nan if value is None else value)[keep],
                          None, np.append(live.quality, np.int8(quality))[keep])
        pen.set_live_line()
        pen.live_part.render(*self.x_range(), self.plot_width())
        self.legend.set_latest(key, pen.latest())

    def history(self, key: str) -> Series:
        """A pen's history as last set."""
        return self._pens[key].history

    def live(self, key: str) -> Series:
        """A pen's live tail: live samples after the end of its history."""
        return self._pens[key].live_tail()

    # -- range -------------------------------------------------------------------------------
    def set_x_range(self, t0: float, t1: float) -> None:
        """Show ``[t0, t1]`` (epoch s UTC)."""
        self._item.vb.setXRange(t0, t1, padding=0.0)

    def x_range(self) -> tuple[float, float]:
        """Visible time range, epoch s UTC."""
        t0, t1 = self._item.vb.viewRange()[0]
        return float(t0), float(t1)

    def plot_width(self) -> int:
        """Width of the data area in pixels (at least 1)."""
        return max(1, round(self._item.vb.width()))

    def follow(self, span_s: float | None) -> None:
        """Keep the last ``span_s`` seconds in view, moving every second; ``None`` stops following."""
        self._follow_span = span_s
        if span_s is None:
            self._follow.stop()
            return
        self._on_follow_timeout()
        self._follow.start()

    def following(self) -> float | None:
        """The span followed, or ``None``."""
        return self._follow_span

    # -- readout and export ------------------------------------------------------------------
    def readout(self, t: float) -> list[PenReading]:
        """Each pen's sample at or before ``t`` (live tail first, then history)."""
        out = []
        for pen in self._pens.values():
            found = None
            for series in (pen.live_tail(), pen.history):
                i = int(np.searchsorted(series.t, t, side="right")) - 1
                if i >= 0:
                    hi = series.lo[i] if series.hi is None else series.hi[i]
                    found = (float(series.t[i]), float(series.lo[i]), float(hi), int(series.quality[i]))
                    break
            if found is None:
                out.append(PenReading(pen.key, pen.label, pen.unit, None, math.nan, math.nan, BAD))
            else:
                out.append(PenReading(pen.key, pen.label, pen.unit, *found))
        return out

    def export_csv(self, path: str | Path) -> int:
        """Write every pen's samples in the visible range to a CSV file (UTF-8 with BOM, for Excel).

        Columns: ``time`` (ISO 8601 in the chart's zone), ``point`` (pen key), ``unit``,
        ``value`` (raw samples), ``min``, ``max`` (bucket envelopes), ``quality``
        (good/uncertain/bad). Rows are grouped by pen, ascending in time.

        Returns
        -------
        int
            Data rows written.

        Raises
        ------
        OSError
            The file cannot be written.
        """
        t0, t1 = self.x_range()
        rows = 0
        with open(path, "w", newline="", encoding="utf-8-sig") as f:
            out = csv.writer(f)
            out.writerow(["time", "point", "unit", "value", "min", "max", "quality"])
            for pen in self._pens.values():
                for series in (pen.history.within(t0, t1), pen.live_tail().within(t0, t1)):
                    for i in range(len(series)):
                        when = dt.datetime.fromtimestamp(float(series.t[i]), self.tz).isoformat(timespec="milliseconds")
                        lo = _fmt(series.lo[i])
                        if series.hi is None:
                            cells = [lo, "", ""]
                        else:
                            cells = ["", lo, _fmt(series.hi[i])]
                        out.writerow([when, pen.key, pen.unit, *cells,
                                      QUALITY_NAMES.get(int(series.quality[i]), "bad")])
                        rows += 1
        return rows

    def export_png(self, path: str | Path) -> None:
        """Save the chart as shown (readout, axes, curves) as a PNG image.

        Raises
        ------
        OSError
            The image cannot be written.
        """
        if not self.grab().save(str(path), "PNG"):
            raise OSError(f"cannot write PNG image {path}")

    # -- internals ---------------------------------------------------------------------------
    def _box_for(self, unit: str) -> pg.ViewBox:
        if unit in self._units:
            slot = self._units.index(unit)
        elif None in self._units:
            slot = self._units.index(None)
            self._units[slot] = unit
        else:
            box = pg.ViewBox()
            box.setAutoVisible(y=True)
            box.enableAutoRange(axis="y")
            box.setMouseEnabled(x=True, y=False)
            axis = pg.AxisItem("right")
            axis.setTickFont(self._item.getAxis("left").style["tickFont"])
            axis.setTextPen(self._fg)
            axis.setPen(self._fg)
            self._item.scene().addItem(box)
            axis.linkToView(box)
            box.setXLink(self._item.vb)
            self._extra.append((axis, box))
            self._units.append(unit)
            self._item.layout.addItem(axis, 2, 2 + len(self._extra))
            self._on_vb_resized()
            slot = len(self._units) - 1
        return self._item.vb if slot == 0 else self._extra[slot - 1][1]

    def _drop_unit(self, unit: str) -> None:
        slot = self._units.index(unit)
        if slot == 0:
            self._units[0] = None
            return
        axis, box = self._extra.pop(slot - 1)
        del self._units[slot]
        for placed, _ in self._extra:   # re-pack the remaining axes into consecutive columns
            self._item.layout.removeItem(placed)
        self._item.layout.removeItem(axis)
        self._item.scene().removeItem(axis)
        self._item.scene().removeItem(box)
        for col, (placed, _) in enumerate(self._extra, start=3):
            self._item.layout.addItem(placed, 2, col)
        self._on_vb_resized()

    def _update_axis_labels(self) -> None:
        axes = [self._item.getAxis("left")] + [a for a, _ in self._extra]
        for axis, unit in zip(axes, self._units):
            axis.setLabel(unit or "", color=self._fg.name())

    def _on_vb_resized(self) -> None:
        rect = self._item.vb.sceneBoundingRect()
        for _, box in self._extra:
            box.setGeometry(rect)
            box.linkedViewChanged(self._item.vb, box.XAxis)
        for pen in self._pens.values():   # the resolution (seconds per pixel) changed
            self._render(pen)
        self._settle.start()

    def _on_vb_x_range_changed(self) -> None:
        for pen in self._pens.values():
            self._render(pen)
        self._settle.start()

    def _render(self, pen: _Pen) -> None:
        t0, t1 = self.x_range()
        pen.render(t0, t1, self.plot_width())

    def _on_vb_range_changed_manually(self) -> None:
        if self._follow_span is not None:
            self.follow(None)
            self.follow_stopped.emit()

    def _on_settle_timeout(self) -> None:
        t0, t1 = self.x_range()
        self.range_changed.emit(t0, t1, self.plot_width())

    def _on_follow_timeout(self) -> None:
        if self._follow_span is not None:
            now = time.time()
            self.set_x_range(now - self._follow_span, now)

    def _on_scene_mouse_moved(self, event: tuple[QPointF]) -> None:
        pos = event[0]
        if not self._item.vb.sceneBoundingRect().contains(pos):
            self._cursor.setVisible(False)
            self._show_readout_hint()
            return
        t = float(self._item.vb.mapSceneToView(pos).x())
        self._cursor.setPos(t)
        self._cursor.setVisible(True)
        self.show_readout(t)
        self.cursor_moved.emit(t)

    def show_readout(self, t: float) -> None:
        """Show the pens' values at ``t`` in the readout line above the chart."""
        when = dt.datetime.fromtimestamp(t, self.tz).strftime("%Y-%m-%d %H:%M:%S")
        parts = [f'<span style="color:{self._fg.name()}">{when}</span>']
        for reading in self.readout(t):
            colour = self._pens[reading.key].colour.name() if reading.quality == GOOD else _STALE_COLOUR
            tip = "" if reading.quality == GOOD or reading.t is None else QCoreApplication.translate(
                "TrendPlot", " (not good quality)")
            parts.append(f'<span style="color:{colour}">{_escape(reading.text())}{tip}</span>')
        self._readout.setText("&nbsp;&nbsp;&nbsp;".join(parts))
        self._reading = True

    def _show_readout_hint(self) -> None:
        """Until the cursor is over the chart, the readout line says what it is for."""
        hint = QCoreApplication.translate("TrendPlot", "Point at the chart to read every pen's value at that time")
        self._readout.setText(f'<span style="color:{_STALE_COLOUR}">{_escape(hint)}</span>')
        self._reading = False

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange and not self._reading:
            self._show_readout_hint()
        super().changeEvent(event)

    def readout_text(self) -> str:
        """The readout line as plain text (what the operator reads above the chart)."""
        return self._readout.text()


def _fmt(x: float) -> str:
    return "" if math.isnan(x) else repr(float(x))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
