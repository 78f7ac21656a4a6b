"""Trends: history from a real SQLite historian (raw, per-pixel buckets, rollups), live pens
from the bridge, bad quality marked, separate axes per unit, CSV export, read failures shown."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv
import datetime as dt
import math
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from app.cache import PointCache
from app.config import load_site
from app.points import PointValue, Quality
from app.ui.bridge import PointBridge
from app.ui.services import UiServices
from app.ui.trend_view import TrendView
from db.historian import Historian
from db.migrate import upgrade
from resources import DEMO_SITE
from widgets.trend_plot import Series, TrendPlot
from tests.ui_services import QT_WARNINGS_FAIL

pytestmark = QT_WARNINGS_FAIL

SITE = load_site(DEMO_SITE)
TZ = ZoneInfo("Asia/Shanghai")
TAG = "T1_M.P"
T0 = 1_750_000_000.0 - (1_750_000_000.0 % 3600)     # an hour boundary in June 2025
STEP = 10.0                                          # s between samples
N = 5 * 86400 // 10                                  # five days of samples
SPIKE_I = 4 * 8640 + 123                             # one sample far above the rest (day 5)
BAD = slice(1200, 1230)                              # 5 min of BAD quality (stale values)


def known_samples() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """t (epoch s), value (kW), quality of the samples stored in the test historian."""
    i = np.arange(N)
    t = T0 + i * STEP
    v = 100.0 + 50.0 * np.sin(2 * np.pi * i / 360.0)
    v[SPIKE_I] = 999.0
    q = np.zeros(N, np.int8)
    q[BAD] = Quality.BAD
    v[BAD] = v[BAD.start - 1]                        # a BAD sample carries the last good value
    return t, v, q


@pytest.fixture(scope="module")
def history_db(tmp_path_factory) -> str:
    """A migrated SQLite historian holding :func:`known_samples` for ``TAG`` (written once)."""
    path = tmp_path_factory.mktemp("trend") / "history.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    historian = Historian(url, spool_dir=path.parent / "spool", flush_interval_s=0.05, batch_size=20_000)
    historian.start()
    t, v, q = known_samples()
    historian.submit([PointValue(TAG, float(v_), Quality(int(q_)), float(t_), "" if q_ == 0 else "timeout")
                      for t_, v_, q_ in zip(t, v, q)])
    deadline = time.monotonic() + 30
    while historian.stats().committed < N and time.monotonic() < deadline:
        time.sleep(0.05)
    historian.stop()
    assert historian.stats().committed == N
    return url


@pytest.fixture
def services(history_db, tmp_path) -> Iterator[UiServices]:
    historian = Historian(history_db, spool_dir=tmp_path / "spool")
    bridge = PointBridge(PointCache(), interval_ms=50)
    bridge.start()
    yield UiServices(site=SITE, bridge=bridge, historian=historian, device_status=dict)
    bridge.stop()
    historian.stop()


@pytest.fixture
def view(qtbot, services) -> Iterator[TrendView]:
    v = TrendView(services)
    qtbot.addWidget(v)
    v.resize(1400, 700)
    v.show()
    qtbot.waitExposed(v)
    yield v
    v.shutdown()


def load(qtbot, view: TrendView, t0: float, t1: float) -> Series:
    """Show ``[t0, t1]`` and wait until the pen's history for it is drawn."""
    view.show_range(t0, t1)
    qtbot.wait(150)                                    # the range settles, the read is requested
    qtbot.waitUntil(lambda: not view.loading() and len(view.plot.history(TAG)) > 0, timeout=10_000)
    return view.plot.history(TAG)


def test_short_range_plots_the_raw_samples_with_bad_ones_marked(qtbot, view):
    t, v, q = known_samples()
    view.add_point(TAG)
    t0, t1 = T0 + 3.5 * 3600, T0 + 4 * 3600         # 30 min; one screen either side is read too
    h = load(qtbot, view, t0, t1)

    want = (t >= t0 - 1800) & (t < t1 + 1800)
    assert h.hi is None                                # raw samples, not envelopes
    np.testing.assert_array_equal(h.t, t[want])
    np.testing.assert_allclose(h.lo, v[want])
    np.testing.assert_array_equal(h.quality, q[want])

    t_bad = t[BAD][5]
    bad = next(r for r in view.plot.readout(t_bad + 1) if r.key == TAG)
    assert bad.quality == Quality.BAD and "?" in bad.text()
    good = next(r for r in view.plot.readout(t0 + 1) if r.key == TAG)
    assert good.quality == Quality.GOOD and "?" not in good.text()
    assert good.lo == pytest.approx(v[np.searchsorted(t, t0 + 1, side="right") - 1])
    view.plot.show_readout(t_bad + 1)
    assert "? " in view.plot.readout_text()


def test_long_range_plots_min_max_per_pixel_keeping_the_spike(qtbot, view):
    t, v, _ = known_samples()
    view.add_point(TAG)
    t0, t1 = T0 + 3 * 86400, T0 + 4.5 * 86400        # 36 h: per-pixel buckets from SQL
    h = load(qtbot, view, t0, t1)

    assert h.hi is not None
    assert 100 < len(h) <= 3 * view.plot.plot_width() # about one bucket per pixel
    span = h.t[-1] - h.t[0]
    assert span > (t1 - t0) * 1.5                     # the screen either side is there for panning
    # every stored value lies inside the envelope of the bucket it falls in
    inside = (t >= h.t[0]) & (t < h.t[-1])
    k = np.searchsorted(h.t, t[inside], side="right") - 1
    assert np.all(h.lo[k] <= v[inside] + 1e-9) and np.all(v[inside] <= h.hi[k] + 1e-9)
    assert h.hi.max() == pytest.approx(999.0)         # the one-sample spike survives the reduction


def test_month_range_uses_rollups(qtbot, view):
    t, v, _ = known_samples()
    view.add_point(TAG)
    h = load(qtbot, view, T0 - 20 * 86400, T0 + 10 * 86400)

    assert h.hi is not None
    assert np.all(h.t % 3600 == 0)                    # hourly rollup buckets
    np.testing.assert_allclose(h.t, np.unique(t - t % 3600))
    assert h.hi.max() == pytest.approx(999.0)
    assert h.lo.min() == pytest.approx(v.min())


def test_live_pen_follows_the_bridge_and_marks_bad_quality(qtbot, view, services):
    tag = "T2_M.P"
    view.show_last(3600.0)
    view.add_point(tag)
    cache = services.bridge._cache
    now = time.time()
    cache.update([PointValue(tag, 42.0, Quality.GOOD, now)])
    qtbot.waitUntil(lambda: len(view.plot.live(tag)) == 1, timeout=2000)
    cache.update([PointValue(tag, 42.0, Quality.BAD, now + 1, "timeout after 1.0 s")])
    qtbot.waitUntil(lambda: len(view.plot.live(tag)) == 2, timeout=2000)
    live = view.plot.live(tag)
    np.testing.assert_array_equal(live.lo, [42.0, 42.0])
    np.testing.assert_array_equal(live.quality, [Quality.GOOD, Quality.BAD])
    reading = next(r for r in view.plot.readout(now + 2) if r.key == tag)
    assert reading.quality == Quality.BAD and reading.text().startswith(f"{SITE.device('T2_M').name} P ? 42")
    t0, t1 = view.plot.x_range()
    assert t1 == pytest.approx(time.time(), abs=3) and t1 - t0 == pytest.approx(3600.0)


def test_export_csv_writes_the_visible_samples(qtbot, view, tmp_path):
    t, v, q = known_samples()
    view.add_point(TAG)
    t0, t1 = T0 + 2 * 3600, T0 + 2.25 * 3600
    load(qtbot, view, t0, t1)
    a0, a1 = view.plot.x_range()
    path = tmp_path / "trend.csv"

    rows_written = view.export_csv(str(path))

    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    want = (t >= a0) & (t <= a1)
    assert rows_written == len(rows) == int(want.sum()) > 0
    assert [dt.datetime.fromisoformat(r["time"]).timestamp() for r in rows] == pytest.approx(t[want].tolist())
    assert rows[0]["time"].endswith("+08:00")          # shown in the site's zone
    assert [float(r["value"]) for r in rows] == pytest.approx(v[want].tolist())
    assert {r["point"] for r in rows} == {TAG} and {r["unit"] for r in rows} == {"kW"}
    assert [r["quality"] for r in rows] == ["good" if x == 0 else "bad" for x in q[want]]

    png = tmp_path / "trend.png"
    view.export_png(str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unreadable_history_is_reported_not_crashed(qtbot, tmp_path):
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not an SQLite database" * 100)
    historian = Historian(f"sqlite:///{broken}", spool_dir=tmp_path / "spool")
    bridge = PointBridge(PointCache())
    v = TrendView(UiServices(site=SITE, bridge=bridge, historian=historian, device_status=dict))
    qtbot.addWidget(v)
    try:
        with qtbot.waitSignal(v.history_failed, timeout=5000) as blocker:
            v.add_point(TAG)
        tag, reason = blocker.args
        assert tag == TAG and "not a database" in reason
        assert not v.loading()
        assert TAG in v._status.text() and "not a database" in v._status.text()
    finally:
        v.shutdown()
        historian.stop()


def test_unknown_point_and_too_many_pens_are_refused(view):
    with pytest.raises(KeyError, match="NOPE.P"):
        view.add_point("NOPE.P")
    tags = [tag for tag in SITE.tags() if tag.endswith(".P")][:9]
    for tag in tags[:8]:
        view.add_point(tag)
    with pytest.raises(ValueError):
        view.add_point(tags[8])
    assert view.points() == tags[:8]
    view.remove_point(tags[0])
    assert view.points() == tags[1:8]


def test_one_axis_per_unit(qtbot):
    plot = TrendPlot(TZ)
    qtbot.addWidget(plot)
    plot.add_pen("a.P", "a P", "kW")
    plot.add_pen("b.P", "b P", "kW")
    plot.add_pen("a.Ua", "a Ua", "V")
    plot.add_pen("a.F", "a F", "Hz")
    assert plot.units() == ["kW", "V", "Hz"]
    plot.remove_pen("a.Ua")
    assert plot.units() == ["kW", "Hz"]
    plot.remove_pen("a.P")
    assert plot.units() == ["kW", "Hz"]              # b.P still uses kW
    plot.remove_pen("b.P")
    assert plot.units() == ["Hz"]
    with pytest.raises(KeyError):
        plot.add_pen("a.F", "again", "Hz")


def test_envelope_readout_and_live_join(qtbot):
    plot = TrendPlot(TZ)
    qtbot.addWidget(plot)
    plot.add_pen("a.P", "a P", "kW")
    plot.set_history("a.P", Series.envelope(np.array([0.0, 60.0]), np.array([1.0, 2.0]),
                                            np.array([5.0, 6.0]), np.array([0, 1])))
    plot.append_live("a.P", 30.0, 9.0, 0)            # older than the history's end: hidden
    plot.append_live("a.P", 90.0, 7.0, 0)
    plot.append_live("a.P", 80.0, 8.0, 0)            # out of order: ignored
    assert plot.live("a.P").lo.tolist() == [7.0]
    r = plot.readout(70.0)[0]
    assert (r.lo, r.hi, r.quality) == (2.0, 6.0, 1) and r.text() == "a P ? 2…6 kW"
    assert plot.readout(95.0)[0].lo == 7.0
    assert plot.readout(-1.0)[0].text() == "a P —"
    with pytest.raises(ValueError, match="lengths differ"):
        Series.raw([1.0, 2.0], [1.0], [0, 0])
    assert math.isnan(Series.raw([1.0], [None], [2]).lo[0])


def test_every_trend_string_has_a_chinese_translation():
    import re

    from app.ui import trend_view
    from app.ui.i18n import TRANSLATIONS_DIR, read_ts

    table = read_ts(TRANSLATIONS_DIR / "TrendView.zh_CN.ts")
    marked = set(re.findall(r'self\.tr\("((?:[^"\\]|\\.)*)"', Path(trend_view.__file__).read_text("utf-8")))
    assert len(marked) > 20
    missing = sorted(s for s in marked if not table.get(("TrendView", s)))
    assert not missing, f"untranslated: {missing}"
    assert table[("TrendPlot", " (not good quality)")]


def test_decimate_keeps_spikes_gaps_and_the_worst_quality():
    from widgets.trend_plot import decimate

    x = np.arange(10_000, dtype=np.float64)
    y = np.sin(x / 500.0)
    y[4321] = 50.0                                    # a one-sample spike
    y[6000:6400] = np.nan                             # a gap longer than a bucket
    q = np.zeros(len(x), np.int8)
    q[8001] = 2                                       # one bad sample
    dx, dy, dq = decimate(x, y, q, 0.0, 9999.0, 16.0)

    assert len(dx) < len(x) / 4                       # reduced: two vertices per 16 s bucket
    assert np.nanmax(dy) == 50.0                      # the spike survives
    gap = (dx >= 6016) & (dx < 6384)
    assert gap.any() and np.all(np.isnan(dy[gap]))   # the gap stays a gap
    assert np.all(dq[dx == 8000] == 2) and np.count_nonzero(dq) == 2  # only the bucket holding it
    np.testing.assert_array_equal(np.unique(dx[~np.isnan(dy)] % 16), [0])

    # few samples: drawn as they are, one either side of the range kept to reach the edges
    sx, sy, sq = decimate(x[:50], y[:50], q[:50], 10.5, 20.5, 1.0)
    np.testing.assert_array_equal(sx, x[10:22])


def test_pan_redraws_only_what_is_around_the_view(qtbot):
    plot = TrendPlot(TZ)
    qtbot.addWidget(plot)
    plot.resize(1000, 500)
    plot.show()
    qtbot.waitExposed(plot)
    n = 1_000_000
    t = T0 + np.arange(n, dtype=np.float64)
    plot.add_pen("a.P", "a P", "kW")
    plot.set_history("a.P", Series.raw(t, np.sin(t / 900.0), np.zeros(n, np.int8)))
    plot.set_x_range(T0, T0 + 400_000)
    drawn = plot._pens["a.P"].history_part.curves[0]
    x_drawn = drawn.xData
    assert len(x_drawn) < 2 * 1.5 * plot.plot_width() * 2  # min/max per ~pixel, view and ± half a screen
    plot.set_x_range(T0 + 2_000, T0 + 402_000)        # a small pan reuses what is drawn
    assert drawn.xData is x_drawn
    plot.set_x_range(T0 + 500_000, T0 + 900_000)      # a pan off the cover redraws
    assert drawn.xData is not x_drawn and drawn.xData[0] > T0 + 50_000


def test_legend_names_each_pen_with_unit_axis_value_and_quality(qtbot, view, services):
    from app.ui.i18n import LanguageSwitcher

    cache = services.bridge._cache
    view.show_last(3600.0)
    view.add_point("T1_M.P")
    view.add_point("QF2_01.Ia")
    view.add_point("QF2_01.Ib")                       # same unit: same right-hand axis
    legend = view.plot.legend
    assert legend.isVisible()
    row = legend.row_text("T1_M.P")
    point = SITE.device("T1_M").point("P")
    assert row[0].endswith(" P") and row[1] == point.describe(services.settings.language) == "总有功功率"
    assert view.plot.readout_text().count("Point at the chart") == 1   # until the cursor is over it
    assert row[2] == "kW (left)" and row[3] == "—" and row[5] == "no data" and legend.row_greyed("T1_M.P")
    assert legend.row_text("QF2_01.Ib")[2] == "A (right)"

    now = time.time()
    cache.update([PointValue("T1_M.P", 123.4, Quality.GOOD, now),
                  PointValue("QF2_01.Ia", 41.0, Quality.BAD, now, "timeout")])
    qtbot.waitUntil(lambda: legend.row_text("QF2_01.Ia")[5] != "no data", timeout=2000)
    good, bad = legend.row_text("T1_M.P"), legend.row_text("QF2_01.Ia")
    assert good[3] == "123.4 kW" and good[5] == "good" and not legend.row_greyed("T1_M.P")
    assert bad[3] == "? 41.00 A" and bad[5] == "? bad" and legend.row_greyed("QF2_01.Ia")

    switcher = LanguageSwitcher()
    switcher.install("zh_CN")
    try:
        qtbot.waitUntil(lambda: legend.row_text("QF2_01.Ia")[5] == "? 无效", timeout=2000)
        assert legend.row_text("T1_M.P")[2] == "kW (左轴)" and legend.headerItem().text(3) == "最新值"
    finally:
        switcher.install("en")
    view.add_point("QF1_01.Ua")                        # a third unit: the second right-hand axis
    assert legend.row_text("QF1_01.Ua")[2] == "V (right 2)"
    view.remove_point("QF2_01.Ia")
    view.remove_point("QF2_01.Ib")                     # the A axis goes; the V axis moves in
    assert legend.row_text("QF1_01.Ua")[2] == "V (right)"
    assert legend.topLevelItemCount() == 2


def test_chart_follows_the_theme(qtbot, view):
    from app.ui.app import Appearance

    appearance = Appearance(view._services.settings)
    appearance.set_theme("light")
    qtbot.waitUntil(lambda: view.plot._plot.backgroundBrush().color().lightness() > 150, timeout=2000)
    appearance.set_theme("dark")
    qtbot.waitUntil(lambda: view.plot._plot.backgroundBrush().color().lightness() < 100, timeout=2000)


def test_presets_custom_range_and_cursor_readout_from_the_controls(qtbot, view):
    from PySide6.QtCore import QDateTime, QPointF, Qt

    from app.ui.trend_view import PRESETS

    for i, (label, span) in enumerate(PRESETS):
        qtbot.mouseClick(view._presets.button(i), Qt.MouseButton.LeftButton)
        t0, t1 = view.plot.x_range()
        assert view.plot.following() == span and t1 - t0 == pytest.approx(span) and t1 == pytest.approx(
            time.time(), abs=3), label
        assert view._presets.button(i).isChecked() and view._live.isChecked()

    t, v, _ = known_samples()
    view.add_point(TAG)
    start, end = T0 + 3600, T0 + 5400
    view._from.setDateTime(QDateTime.fromSecsSinceEpoch(int(start), view._zone))
    view._to.setDateTime(QDateTime.fromSecsSinceEpoch(int(end), view._zone))
    qtbot.mouseClick(view._show_custom, Qt.MouseButton.LeftButton)
    assert view.plot.x_range() == pytest.approx((start, end)) and view.plot.following() is None
    assert not view._live.isChecked() and not any(b.isChecked() for b in view._presets.buttons())
    qtbot.waitUntil(lambda: not view.loading() and len(view.plot.history(TAG)) > 0, timeout=10_000)

    # the mouse over the chart at a sample's time: the readout line shows that sample
    when = start + 600
    vb = view.plot._item.vb
    y_mid = sum(vb.viewRange()[1]) / 2
    view.plot._on_scene_mouse_moved((vb.mapViewToScene(QPointF(when, y_mid)),))
    expected = v[np.searchsorted(t, when, side="right") - 1]
    assert f"{expected:.4g} kW" in view.plot.readout_text()
    assert view.plot._cursor.isVisible() and view.plot._cursor.value() == pytest.approx(when, abs=10)
    view.plot._on_scene_mouse_moved((QPointF(-50, -50),))    # off the chart: the hint again
    assert "Point at the chart" in view.plot.readout_text() and not view.plot._cursor.isVisible()

    reversed_range = QDateTime.fromSecsSinceEpoch(int(start), view._zone)
    view._to.setDateTime(reversed_range.addSecs(-60))
    qtbot.mouseClick(view._show_custom, Qt.MouseButton.LeftButton)
    assert view._status.text() == "The end of the range must be after its start."
