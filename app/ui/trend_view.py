"""The Trends view: pick points, watch them live, look back over any range of history.

Live samples come from the bridge (GUI thread, <= 10 Hz). History is read on one
worker thread and returned by signal, so the GUI never waits for the database.
What is read depends on how much time one pixel covers: raw samples for short
ranges, otherwise min/max per pixel bucket computed in SQL (``read_buckets``), and
for the longest ranges the historian's 15 min / 1 h / 1 d rollups. Each read covers
the visible range plus one screen's width either side, so panning shows data at
once while the next read runs; a zoom that changes the resolution by more than 2x,
or a pan past what was read, asks again. Results of superseded reads are dropped.
"""

from __future__ import annotations

import concurrent.futures
import math
import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QDateTime, QEvent, QObject, Qt, QTimer, QTimeZone, Signal
from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import (QButtonGroup, QDateTimeEdit, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QPushButton, QSplitter, QToolButton, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from app.config import SiteConfig
from app.points import PointValue
from app.ui.services import UiServices
from db.historian import Historian, HistorianError
from db.schema import INTERVALS
from widgets.trend_plot import Series, TrendPlot

#: Preset spans (label, seconds): each shows the last span and follows the present.
PRESETS: tuple[tuple[str, float], ...] = (
    ("1 h", 3600.0), ("8 h", 8 * 3600.0), ("24 h", 86400.0), ("7 d", 7 * 86400.0), ("30 d", 30 * 86400.0))
#: A read window up to this long (s) fetches raw samples; longer ones fetch buckets or rollups.
RAW_MAX_WINDOW_S = 3 * 3600.0
#: Most pens one trend shows.
MAX_PENS = 8

_TAG_ROLE = Qt.ItemDataRole.UserRole
_CJK_FAMILY = "Noto Sans CJK SC"


@dataclass(frozen=True)
class HistoryWindow:
    """What was (or is being) read for one pen.

    Attributes
    ----------
    t0, t1 : float
        Epoch s UTC, the window read.
    bucket_s : float
        Seconds per bucket; 0 for raw samples.
    generation : int
        Request number; only the newest request's result is drawn.
    """

    t0: float
    t1: float
    bucket_s: float
    generation: int

    def serves(self, t0: float, t1: float, bucket_s: float, live: bool) -> bool:
        """True if this window covers ``[t0, t1]`` (the right edge by live samples when ``live``)
        at a resolution within 2x of ``bucket_s`` (raw samples serve any zoom-in)."""
        covered = self.t0 <= t0 and (t1 <= self.t1 or live)
        if self.bucket_s == 0.0:
            return covered
        return covered and 0.5 * bucket_s <= self.bucket_s <= 2.0 * bucket_s


def fetch_history(historian: Historian, tag: str, t0: float, t1: float, buckets: int) -> tuple[Series, float]:
    """Read ``tag`` over ``[t0, t1)`` at about ``buckets`` points across (blocking; worker thread only).

    Parameters
    ----------
    historian : Historian
    tag : str
    t0, t1 : float
        Epoch s UTC, ``t1 > t0``.
    buckets : int
        Pixels the window spans, >= 1.

    Returns
    -------
    series : Series
        Raw samples when the window is at most :data:`RAW_MAX_WINDOW_S` long; else
        min/max envelopes, from the coarsest rollup no longer than two buckets
        (rollups cover good samples only, so their quality is good and buckets with
        none are gaps), or from ``read_buckets`` (worst quality per bucket).
    bucket_s : float
        Seconds per envelope bucket; 0 for raw samples.

    Raises
    ------
    HistorianError
        The database cannot be reached.
    """
    span = t1 - t0
    if span <= RAW_MAX_WINDOW_S:
        ts, value, quality = historian.read_range(tag, t0, t1)
        return Series.raw(ts, value, quality), 0.0
    bucket_s = span / buckets
    fitting = [name for name, ms in INTERVALS.items() if ms / 1000.0 <= 2.0 * bucket_s]
    if fitting:
        name = max(fitting, key=INTERVALS.__getitem__)
        rows = historian.read_rollup(tag, name, t0, t1)
        rows = rows[rows["count"] > 0]
        return (Series.envelope(rows["bucket"], rows["min"], rows["max"], np.zeros(len(rows), np.int8)),
                INTERVALS[name] / 1000.0)
    rows = historian.read_buckets(tag, t0, t1, buckets)
    return Series.envelope(rows["t"], rows["min"], rows["max"], rows["quality"]), bucket_s


class _HistoryReader(QObject):
    """Runs :func:`fetch_history` on one worker thread and reports back by (queued) signal.

    Signals
    -------
    loaded(int, str, object, float)
        generation, tag, :class:`Series`, seconds per bucket (0 for raw samples).
    failed(int, str, str)
        generation, tag, reason.
    """

    loaded = Signal(int, str, object, float)
    failed = Signal(int, str, str)

    def __init__(self, historian: Historian, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._historian = historian
        self._latest: dict[str, int] = {}
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._closed = False

    def request(self, generation: int, tag: str, t0: float, t1: float, buckets: int) -> None:
        """Queue a read; an older request for the same tag not yet started is skipped.
        Ignored after :meth:`shutdown` (a range change still settling must not start a thread)."""
        if self._closed:
            return
        self._latest[tag] = generation
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="trend-history")
        self._pool.submit(self._run, generation, tag, t0, t1, buckets)

    def forget(self, tag: str) -> None:
        """Drop whatever is queued or running for ``tag``."""
        self._latest.pop(tag, None)

    def shutdown(self) -> None:
        """Cancel queued reads and wait for the running one to end (idempotent, final)."""
        self._closed = True
        self._latest.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _run(self, generation: int, tag: str, t0: float, t1: float, buckets: int) -> None:
        if self._latest.get(tag) != generation:
            return
        try:
            series, bucket_s = fetch_history(self._historian, tag, t0, t1, buckets)
        except (HistorianError, ValueError) as err:
            self.failed.emit(generation, tag, str(err))
            return
        self.loaded.emit(generation, tag, series, bucket_s)


class TrendView(QWidget):
    """Trends: a point tree, presets and a custom range, a live/historical chart, export.

    Parameters
    ----------
    services : UiServices
        Site (point tree, units, time zone), bridge (live samples), historian (history,
        read on a worker thread), settings (theme).
    parent : QWidget | None

    Signals
    -------
    history_loaded(str)
        A pen's history was drawn (tag).
    history_failed(str, str)
        A pen's history could not be read (tag, reason); the reason is also shown.
    """

    history_loaded = Signal(str)
    history_failed = Signal(str, str)

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._site: SiteConfig = services.site
        self._points = {device.tag(p.name): (device, p) for device, p in self._site.iter_points()}
        self._windows: dict[str, HistoryWindow] = {}
        self._pending: dict[str, HistoryWindow] = {}
        self._generation = 0
        self._span = PRESETS[0][1]
        self._zone = QTimeZone(self._site.timezone.encode())

        self._reader = _HistoryReader(services.historian, self)
        self._reader.loaded.connect(self._on_reader_loaded)
        self._reader.failed.connect(self._on_reader_failed)

        self._dark = services.settings.theme == "dark"
        self.plot = TrendPlot(self._site.tzinfo, dark=self._dark, parent=self)
        self.plot.range_changed.connect(self._on_plot_range_changed)
        self.plot.follow_stopped.connect(self._on_plot_follow_stopped)

        self._filter = QLineEdit(self)
        self._filter.setClearButtonEnabled(True)
        self._filter.textChanged.connect(self._on_filter_text_changed)
        self._tree = QTreeWidget(self)
        self._tree.setColumnCount(2)
        self._tree.header().setStretchLastSection(False)
        self._tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self._tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self._tree.itemChanged.connect(self._on_tree_item_changed)
        self._fill_tree()

        self._presets = QButtonGroup(self)
        self._presets.setExclusive(True)
        self._tools = QWidget(self)
        tools = QHBoxLayout(self._tools)
        tools.setContentsMargins(0, 0, 0, 0)
        for i, (_, span) in enumerate(PRESETS):
            button = QToolButton(self)
            button.setCheckable(True)
            self._presets.addButton(button, i)
            tools.addWidget(button)
        self._presets.idClicked.connect(self._on_presets_id_clicked)
        self._live = QToolButton(self)
        self._live.setCheckable(True)
        self._live.clicked.connect(self._on_live_clicked)
        tools.addWidget(self._live)
        tools.addSpacing(16)
        self._from_label, self._to_label = QLabel(self), QLabel(self)
        self._from, self._to = QDateTimeEdit(self), QDateTimeEdit(self)
        for edit in (self._from, self._to):
            edit.setTimeZone(self._zone)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
            edit.setCalendarPopup(True)
        self._show_custom = QPushButton(self)
        self._show_custom.clicked.connect(self._on_show_custom_clicked)
        for w in (self._from_label, self._from, self._to_label, self._to, self._show_custom):
            tools.addWidget(w)
        tools.addStretch(1)
        self._export_csv = QPushButton(self)
        self._export_csv.clicked.connect(self._on_export_csv_clicked)
        self._export_png = QPushButton(self)
        self._export_png.clicked.connect(self._on_export_png_clicked)
        tools.addWidget(self._export_csv)
        tools.addWidget(self._export_png)
        self._status = QLabel(self)
        self._status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        left = self._picker = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self._filter)
        left_layout.addWidget(self._tree, 1)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self._tools)
        right_layout.addWidget(self.plot, 1)
        right_layout.addWidget(self._status)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([320, 1000])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)

        font = QFont(_CJK_FAMILY)
        self.setFont(font)
        self._retranslate()
        services.bridge.values_changed.connect(self._on_bridge_values_changed)
        self.show_last(PRESETS[0][1])

    # -- public API --------------------------------------------------------------------------
    def add_point(self, tag: str) -> None:
        """Add a pen for ``tag`` (ticks it in the tree), fill it from the cache and history.

        Raises
        ------
        KeyError
            The site has no point ``tag``.
        ValueError
            :data:`MAX_PENS` pens are shown already.
        """
        if tag in self.plot.pens():
            return
        if tag not in self._points:
            raise KeyError(f"site {self._site.name!r} has no point {tag!r}")
        if len(self.plot.pens()) >= MAX_PENS:
            raise ValueError(self.tr("A trend shows at most %1 pens; remove one first.").replace("%1", str(MAX_PENS)))
        device, point = self._points[tag]
        self.plot.add_pen(tag, f"{device.name or device.id} {point.name}", point.unit,
                          description=self._describe(tag))
        latest = self._services.bridge.value(tag)
        if latest is not None:
            self._append(latest)
        self._set_checked(tag, True)
        t0, t1 = self.plot.x_range()
        self._request(tag, t0, t1, self.plot.plot_width())

    def remove_point(self, tag: str) -> None:
        """Remove the pen of ``tag`` (unticks it); unknown tags are ignored."""
        self._reader.forget(tag)
        self._windows.pop(tag, None)
        self._pending.pop(tag, None)
        self.plot.remove_pen(tag)
        self._set_checked(tag, False)
        self._update_status()

    def points(self) -> list[str]:
        """Tags shown, in the order added."""
        return self.plot.pens()

    def show_last(self, span_s: float) -> None:
        """Show the last ``span_s`` seconds and follow the present (live)."""
        self._span = span_s
        self.plot.follow(span_s)
        self._sync_buttons()

    def show_range(self, t0: float, t1: float) -> None:
        """Show the fixed range ``[t0, t1]`` (epoch s UTC); stops following the present.

        Raises
        ------
        ValueError
            ``t1 <= t0``.
        """
        if not t1 > t0:
            raise ValueError(self.tr("The end of the range must be after its start."))
        self.plot.follow(None)
        self._span = t1 - t0
        self.plot.set_x_range(t0, t1)
        self._sync_buttons()

    def set_chart_only(self, font_points: int) -> None:
        """Show the chart and its legend alone, in type of ``font_points``: no point tree,
        range tools, export or cursor readout (the wall display, which takes no input)."""
        for widget in (self._picker, self._tools, self._status):
            widget.hide()
        self.plot.set_readout_visible(False)
        self.plot.set_font_size(font_points)

    def loading(self) -> bool:
        """True while history reads are outstanding."""
        return bool(self._pending)

    def export_csv(self, path: str) -> int:
        """Write the visible samples of every pen to ``path`` (see :meth:`TrendPlot.export_csv`).

        Raises
        ------
        OSError
            The file cannot be written.
        """
        return self.plot.export_csv(path)

    def export_png(self, path: str) -> None:
        """Save the chart as a PNG image.

        Raises
        ------
        OSError
            The file cannot be written.
        """
        self.plot.export_png(path)

    def shutdown(self) -> None:
        """Stop following and end the history worker thread (waits for a running read)."""
        self.plot.follow(None)
        self._reader.shutdown()

    # -- Qt overrides --------------------------------------------------------------------------
    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.shutdown()
        super().closeEvent(event)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        elif event.type() == QEvent.Type.StyleChange:   # the theme's stylesheet is being applied:
            # re-style after Qt has gone through every widget, not in the middle of it
            QTimer.singleShot(0, self, self._apply_theme)
        super().changeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        self._apply_theme()   # a hidden view may have missed the style change of a theme switch
        super().showEvent(event)

    # -- internals -----------------------------------------------------------------------------
    def _apply_theme(self) -> None:
        dark = self._services.settings.theme == "dark"
        if dark != self._dark:
            self._dark = dark
            self.plot.set_dark(dark)

    def _retranslate(self) -> None:
        labels = (self.tr("1 h"), self.tr("8 h"), self.tr("24 h"), self.tr("7 d"), self.tr("30 d"))
        for i, text in enumerate(labels):
            button = self._presets.button(i)
            button.setText(text)
            button.setToolTip(self.tr("Show the last %1 and follow the present").replace("%1", text))
        self._live.setText(self.tr("Live"))
        self._live.setToolTip(self.tr("Follow the present; zooming or panning the chart stops following"))
        self._from_label.setText(self.tr("From"))
        self._to_label.setText(self.tr("To"))
        self._show_custom.setText(self.tr("Show range"))
        self._export_csv.setText(self.tr("Export CSV…"))
        self._export_png.setText(self.tr("Export PNG…"))
        self._filter.setPlaceholderText(self.tr("Filter points"))
        self._tree.setHeaderLabels([self.tr("Point"), self.tr("Unit")])
        self._tree.blockSignals(True)
        for item in self._point_items():   # descriptions in the operator's language
            item.setText(0, self._point_text(item.data(0, _TAG_ROLE)))
        self._tree.blockSignals(False)
        for tag in self.plot.pens():
            self.plot.legend.set_description(tag, self._describe(tag))
        self._update_status()

    def _describe(self, tag: str) -> str:
        """The point's description in the operator's language (the tag if it has none)."""
        return self._points[tag][1].describe(self._services.settings.language) or tag

    def _point_text(self, tag: str) -> str:
        return f"{self._points[tag][1].name}  {self._describe(tag)}".rstrip()

    def _fill_tree(self) -> None:
        """Areas (as nested in the site) > devices > points; areas without devices are left out."""
        self._tree.blockSignals(True)
        by_area: dict[str, list] = {}
        for device in self._site.devices:
            by_area.setdefault(device.area, []).append(device)
        bold = QFont(_CJK_FAMILY)
        bold.setBold(True)

        def add_area(area, parent) -> bool:
            item = QTreeWidgetItem([area.name or area.id, ""])
            item.setFont(0, bold)
            used = False
            for child in area.children:
                used |= add_area(child, item)
            for device in by_area.pop(area.id, []):
                add_device(device, item)
                used = True
            if used and isinstance(parent, QTreeWidgetItem):
                parent.addChild(item)
            elif used:
                parent.addTopLevelItem(item)
            return used

        def add_device(device, parent: QTreeWidgetItem) -> None:
            item = QTreeWidgetItem(parent, [f"{device.name} ({device.id})" if device.name else device.id, ""])
            for point in device.points:
                child = QTreeWidgetItem(item, [self._point_text(device.tag(point.name)), point.unit])
                child.setData(0, _TAG_ROLE, device.tag(point.name))
                child.setToolTip(0, device.tag(point.name))
                child.setFlags(child.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                child.setCheckState(0, Qt.CheckState.Unchecked)

        for root in self._site.areas:
            add_area(root, self._tree)
        for devices in by_area.values():  # devices in an area not in the tree
            for device in devices:
                holder = QTreeWidgetItem(self._tree, [device.area, ""])
                add_device(device, holder)
        self._tree.expandToDepth(1)
        self._tree.blockSignals(False)

    def _point_items(self):
        it = self._tree.invisibleRootItem()
        stack = [it.child(i) for i in range(it.childCount())]
        while stack:
            item = stack.pop()
            if item.data(0, _TAG_ROLE) is not None:
                yield item
            stack.extend(item.child(i) for i in range(item.childCount()))

    def _set_checked(self, tag: str, checked: bool) -> None:
        state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        self._tree.blockSignals(True)
        for item in self._point_items():
            if item.data(0, _TAG_ROLE) == tag:
                item.setCheckState(0, state)
        self._tree.blockSignals(False)

    def _sync_buttons(self) -> None:
        following = self.plot.following()
        self._live.setChecked(following is not None)
        self._presets.setExclusive(False)
        for i, (_, span) in enumerate(PRESETS):
            self._presets.button(i).setChecked(following is not None and math.isclose(span, following))
        self._presets.setExclusive(True)
        t0, t1 = self.plot.x_range()
        self._from.setDateTime(QDateTime.fromSecsSinceEpoch(int(t0), self._zone))
        self._to.setDateTime(QDateTime.fromSecsSinceEpoch(int(t1), self._zone))

    def _append(self, pv: PointValue) -> None:
        self.plot.append_live(pv.tag, pv.ts, pv.value, int(pv.quality))

    def _request(self, tag: str, t0: float, t1: float, width: int) -> None:
        """Ask for ``tag``'s history around ``[t0, t1]`` unless what is drawn or asked for serves."""
        span = t1 - t0
        bucket_s = span / width
        live = self.plot.following() is not None
        for window in (self._pending.get(tag), self._windows.get(tag)):
            if window is not None and window.serves(t0, t1, bucket_s, live):
                return
        w0, w1 = t0 - span, (time.time() if live else min(t1 + span, max(t1, time.time())))
        buckets = max(1, round(width * (w1 - w0) / span))
        self._generation += 1
        window = HistoryWindow(w0, w1, 0.0 if w1 - w0 <= RAW_MAX_WINDOW_S else (w1 - w0) / buckets,
                               self._generation)
        self._pending[tag] = window
        self._reader.request(window.generation, tag, w0, w1, buckets)
        self._update_status()

    def _update_status(self, error: str = "") -> None:
        if error:
            self._status.setText(error)
        elif self._pending:
            self._status.setText(self.tr("Loading history…"))
        else:
            self._status.setText("")

    # -- slots ---------------------------------------------------------------------------------
    def _on_bridge_values_changed(self, batch: dict[str, PointValue]) -> None:
        for tag in self.plot.pens():
            pv = batch.get(tag)
            if pv is not None:
                self._append(pv)

    def _on_plot_range_changed(self, t0: float, t1: float, width: int) -> None:
        for tag in self.plot.pens():
            self._request(tag, t0, t1, width)
        if self.plot.following() is None:
            self._sync_buttons()

    def _on_plot_follow_stopped(self) -> None:
        self._sync_buttons()

    def _on_reader_loaded(self, generation: int, tag: str, series: Series, bucket_s: float) -> None:
        window = self._pending.get(tag)
        if window is None or window.generation != generation or tag not in self.plot.pens():
            return
        del self._pending[tag]
        self._windows[tag] = HistoryWindow(window.t0, window.t1, bucket_s, generation)
        self.plot.set_history(tag, series)
        self._update_status()
        self.history_loaded.emit(tag)

    def _on_reader_failed(self, generation: int, tag: str, reason: str) -> None:
        window = self._pending.get(tag)
        if window is None or window.generation != generation:
            return
        del self._pending[tag]
        message = self.tr("History of %1 could not be read: %2").replace("%1", tag).replace("%2", reason)
        self._update_status(message)
        self.history_failed.emit(tag, reason)

    def _on_tree_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        tag = item.data(0, _TAG_ROLE)
        if tag is None or column != 0:
            return
        if item.checkState(0) == Qt.CheckState.Checked:
            try:
                self.add_point(tag)
            except ValueError as err:
                self._set_checked(tag, False)
                self._update_status(str(err))
        else:
            self.remove_point(tag)

    def _on_filter_text_changed(self, text: str) -> None:
        needle = text.strip().lower()

        def apply(item: QTreeWidgetItem) -> bool:
            own = not needle or needle in item.text(0).lower() or needle in str(item.data(0, _TAG_ROLE) or "").lower()
            shown = False
            for i in range(item.childCount()):
                shown |= apply(item.child(i))
            visible = own or shown
            item.setHidden(not visible)
            return visible

        root = self._tree.invisibleRootItem()
        for i in range(root.childCount()):
            apply(root.child(i))

    def _on_presets_id_clicked(self, index: int) -> None:
        self.show_last(PRESETS[index][1])

    def _on_live_clicked(self, checked: bool) -> None:
        if checked:
            self.show_last(self._span)
        else:
            self.plot.follow(None)
            self._sync_buttons()

    def _on_show_custom_clicked(self) -> None:
        t0, t1 = self._from.dateTime().toSecsSinceEpoch(), self._to.dateTime().toSecsSinceEpoch()
        try:
            self.show_range(float(t0), float(t1))
        except ValueError as err:
            self._update_status(str(err))

    def _on_export_csv_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export trend data"), "trend.csv",
                                              self.tr("CSV files (*.csv)"))
        if path:
            try:
                rows = self.export_csv(path)
            except OSError as err:
                self._update_status(self.tr("Export failed: %1").replace("%1", str(err)))
                return
            self._update_status(self.tr("%1 rows written to %2").replace("%1", str(rows)).replace("%2", path))

    def _on_export_png_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export trend image"), "trend.png",
                                              self.tr("PNG images (*.png)"))
        if path:
            try:
                self.export_png(path)
            except OSError as err:
                self._update_status(self.tr("Export failed: %1").replace("%1", str(err)))
                return
            self._update_status(self.tr("Image saved to %1").replace("%1", path))
