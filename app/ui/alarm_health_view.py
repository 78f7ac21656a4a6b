"""The Alarms view's *Health* tab: ISA-18.2 alarm-system performance of a chosen period.

Figures (see :mod:`app.alarms.health`): per operator area the annunciated alarms per
10 minutes (mean, busiest) and per day (mean, busiest local day) and the flood time %,
each rated against ISA-18.2's targets; chattering alarms (>= 3 raises in 60 s); stale
alarms (active > 24 h at the end of the period); the 10 most frequent alarms with their
share of the load. They are computed from the journal on a worker thread
(:class:`~app.ui.alarm_jobs.JobRunner`), never on the GUI thread.

Colour only for what is off target (ISA-101): a figure within its target is plain text.
Strings are in the context ``AlarmView`` (``resources/translations/AlarmView.zh_CN.ts``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QDateTime, QEvent, Qt, QTimeZone, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDateTimeEdit, QGridLayout, QGroupBox, QHBoxLayout,
                               QHeaderView, QLabel, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from app.alarms.health import BENCHMARKS, AlarmHealth, Rating, area_rating, rate, read_alarm_health
from app.config import SiteConfig
from app.ui.alarm_jobs import JobRunner
from app.ui.alarm_models import EventReader, Names, tr
from widgets.alarm_banner import PRIORITY_COLOURS

#: Quick periods offered, seconds back from now.
PERIODS_S: tuple[float, ...] = (86400.0, 7 * 86400.0, 30 * 86400.0)
#: Colour of a rating that is off target (ISA-101: colour only for abnormality).
RATING_COLOURS = {Rating.MANAGEABLE: PRIORITY_COLOURS[3], Rating.OVER: PRIORITY_COLOURS[2]}


def rating_text(rating: Rating) -> str:
    """A rating in the UI language."""
    return {Rating.ACCEPTABLE: tr("Within target"), Rating.MANAGEABLE: tr("Above target, manageable"),
            Rating.OVER: tr("Over what an operator can manage")}[rating]


class AlarmHealthTab(QWidget):
    """Alarm-system health of a period, from the journal.

    Parameters
    ----------
    site : SiteConfig
        Area names and the site's zone (per-day counts, times shown).
    read_events : EventReader or None
        The journal read (``Historian.read_events``); None: the tab says health is unavailable.
    parent : QWidget, optional

    Signals
    -------
    computed(object)
        The :class:`~app.alarms.health.AlarmHealth` now shown.
    failed(str)
        The figures could not be computed (reason, also shown).
    """

    computed = Signal(object)
    failed = Signal(str)

    def __init__(self, site: SiteConfig, read_events: EventReader | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._site = site
        self._names = Names(site)
        self._zone = QTimeZone(site.timezone.encode())
        self._read_events = read_events
        self._worker = JobRunner("alarm-health", self)
        self._worker.finished.connect(self._on_worker_finished)
        self._worker.failed.connect(self._on_worker_failed)
        self._health: AlarmHealth | None = None

        self._period = QComboBox(self)
        for _ in PERIODS_S:
            self._period.addItem("")
        self._period.activated.connect(self._on_period_activated)
        self._from, self._to = QDateTimeEdit(self), QDateTimeEdit(self)
        for edit in (self._from, self._to):
            edit.setTimeZone(self._zone)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
            edit.setCalendarPopup(True)
        self._compute = QPushButton(self)
        self._compute.clicked.connect(self.compute)
        self._labels = [QLabel(self) for _ in range(3)]
        bar = QHBoxLayout()
        for label, widget in zip(self._labels, (self._period, self._from, self._to), strict=True):
            bar.addWidget(label)
            bar.addWidget(widget)
        bar.addWidget(self._compute)
        bar.addStretch(1)

        self._summary = QLabel(self)
        self._summary.setWordWrap(True)
        self._summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._benchmarks = QLabel(self)
        self._benchmarks.setWordWrap(True)
        self._status = QLabel(self)

        self.areas_table = self._table(8)
        self.chattering_table = self._table(4)
        self.stale_table = self._table(5)
        self.top_table = self._table(5)
        self._boxes = [QGroupBox(self) for _ in range(4)]
        for box, table in zip(self._boxes, (self.areas_table, self.top_table, self.chattering_table,
                                            self.stale_table), strict=True):
            inner = QVBoxLayout(box)
            inner.setContentsMargins(4, 4, 4, 4)
            inner.addWidget(table)
        grid = QGridLayout()
        grid.addWidget(self._boxes[0], 0, 0, 1, 2)
        grid.addWidget(self._boxes[1], 1, 0, 2, 1)
        grid.addWidget(self._boxes[2], 1, 1)
        grid.addWidget(self._boxes[3], 2, 1)
        grid.setRowStretch(0, 2)
        grid.setRowStretch(1, 2)
        grid.setRowStretch(2, 2)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self._summary)
        layout.addWidget(self._benchmarks)
        layout.addLayout(grid, 1)
        layout.addWidget(self._status)
        self.set_period_back(PERIODS_S[0])
        self._retranslate()

    # -- public API -------------------------------------------------------------------------
    def set_period(self, start: float, end: float) -> None:
        """Set the period (UTC epoch s) without computing."""
        self._from.setDateTime(QDateTime.fromSecsSinceEpoch(int(start), self._zone))
        self._to.setDateTime(QDateTime.fromSecsSinceEpoch(int(end), self._zone))

    def set_period_back(self, seconds: float) -> None:
        """Set the period to the ``seconds`` up to the next whole minute from now."""
        end = (int(time.time()) // 60 + 1) * 60
        self.set_period(end - seconds, end)

    def period(self) -> tuple[float, float]:
        """The period set (UTC epoch s)."""
        return float(self._from.dateTime().toSecsSinceEpoch()), float(self._to.dateTime().toSecsSinceEpoch())

    def compute(self) -> None:
        """Compute the figures of the period set, on the worker thread."""
        if self._read_events is None:
            self._show_failure(tr("Alarm health is not available: there is no journal to read."))
            return
        start, end = self.period()
        if not end > start:
            self._status.setText(tr("The end of the period must be after its start."))
            return
        read, tz = self._read_events, self._site.tzinfo
        self._status.setText(tr("Reading the journal…"))
        self._worker.run(lambda: read_alarm_health(read, start, end, tz=tz))

    def health(self) -> AlarmHealth | None:
        """The figures shown (None before the first computation)."""
        return self._health

    def shutdown(self) -> None:
        """Stop the worker thread (idempotent)."""
        self._worker.shutdown()

    # -- Qt overrides -------------------------------------------------------------------------
    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    # -- internals ----------------------------------------------------------------------------
    def _table(self, columns: int) -> QTableWidget:
        table = QTableWidget(0, columns, self)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.verticalHeader().hide()
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        return table

    def _retranslate(self) -> None:
        for label, text in zip(self._labels, (tr("Period"), tr("From"), tr("To")), strict=True):
            label.setText(text)
        for i, text in enumerate((tr("Last 24 hours"), tr("Last 7 days"), tr("Last 30 days"))):
            self._period.setItemText(i, text)
        self._compute.setText(tr("Compute"))
        for box, text in zip(self._boxes, (tr("Alarm load per area"), tr("Top 10 most frequent alarms"),
                                           tr("Chattering alarms (3 or more raises within 60 s)"),
                                           tr("Stale alarms (active for more than 24 h)")), strict=True):
            box.setTitle(text)
        self.areas_table.setHorizontalHeaderLabels([
            tr("Area"), tr("Alarms"), tr("Per 10 min, mean"), tr("Per 10 min, busiest"), tr("Per day, mean"),
            tr("Busiest day"), tr("Flood time %"), tr("Rating")])
        self.top_table.setHorizontalHeaderLabels([tr("Message"), tr("Area"), tr("Raises"), tr("Share of load %"),
                                                  tr("Alarm id")])
        self.chattering_table.setHorizontalHeaderLabels([tr("Message"), tr("Area"), tr("Raises within 60 s"),
                                                         tr("Alarm id")])
        self.stale_table.setHorizontalHeaderLabels([tr("Message"), tr("Area"), tr("Raised"), tr("Active for (h)"),
                                                    tr("Alarm id")])
        b = BENCHMARKS
        self._benchmarks.setText(
            tr("ISA-18.2 targets per operator area: %1 alarms a day acceptable, %2 at most; %3 per 10 minutes "
               "acceptable, %4 at most; never more than %5 in 10 minutes; flood time under %6 %; no chattering "
               "alarm; fewer than %7 stale alarms.")
            .replace("%1", f"{b['per_day'].acceptable:g}").replace("%2", f"{b['per_day'].manageable:g}")
            .replace("%3", f"{b['per_10min'].acceptable:g}").replace("%4", f"{b['per_10min'].manageable:g}")
            .replace("%5", f"{b['per_10min_max'].manageable:g}").replace("%6", f"{b['flood_time_pct'].acceptable:g}")
            .replace("%7", f"{b['stale'].manageable + 1:g}"))
        if self._health is not None:
            self._show(self._health)
        else:
            self._summary.setText(tr("Choose a period and press Compute."))

    def _show(self, health: AlarmHealth) -> None:
        tz = self._site.tzinfo
        loads = list(health.areas.values())
        self.areas_table.setRowCount(len(loads))
        for row, load in enumerate(loads):
            cells = [(self._names.area(load.area), None), (str(load.raised), None),
                     (f"{load.per_10min_mean:.2f}", rate("per_10min", load.per_10min_mean)),
                     (str(load.per_10min_max), rate("per_10min_max", load.per_10min_max)),
                     (f"{load.per_day_mean:.1f}", rate("per_day", load.per_day_mean)),
                     (str(load.per_day_max), rate("per_day", load.per_day_max)),
                     (f"{load.flood_time_pct:.2f}", rate("flood_time_pct", load.flood_time_pct))]
            overall = area_rating(load)
            cells.append((rating_text(overall), overall))
            for col, (text, rating) in enumerate(cells):
                self._set(self.areas_table, row, col, text, rating)
        self._fill(self.top_table, [
            (c.message, self._names.area(c.area), str(c.count),
             f"{100.0 * c.count / health.raises:.1f}" if health.raises else "0", c.alarm_id) for c in health.top])
        self._fill(self.chattering_table, [(c.message, self._names.area(c.area), str(c.count), c.alarm_id)
                                           for c in health.chattering], Rating.OVER)
        self._fill(self.stale_table, [
            (s.message, self._names.area(s.area), datetime.fromtimestamp(s.raised_ts, tz).strftime("%Y-%m-%d %H:%M"),
             f"{s.active_s / 3600.0:.1f}", s.alarm_id) for s in health.stale],
            rate("stale", len(health.stale)))
        start = datetime.fromtimestamp(health.start, tz).strftime("%Y-%m-%d %H:%M")
        end = datetime.fromtimestamp(health.end, tz).strftime("%Y-%m-%d %H:%M")
        annunciated = sum(load.raised for load in loads)
        self._summary.setText(
            tr("%1 – %2: %3 alarms annunciated, %4 raises in all; %5 chattering, %6 stale; the 10 most frequent "
               "alarms make %7 % of the raises.")
            .replace("%1", start).replace("%2", end).replace("%3", str(annunciated))
            .replace("%4", str(health.raises)).replace("%5", str(len(health.chattering)))
            .replace("%6", str(len(health.stale))).replace("%7", f"{health.top_share_pct:.0f}"))

    def _fill(self, table: QTableWidget, rows: Sequence[Sequence[str]], rating: Rating | None = None) -> None:
        table.setRowCount(len(rows))
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                self._set(table, r, c, text, rating if c == 0 else None)

    @staticmethod
    def _set(table: QTableWidget, row: int, col: int, text: str, rating: Rating | None) -> None:
        item = QTableWidgetItem(text)
        if text.replace(".", "", 1).isdigit():
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        colour = RATING_COLOURS.get(rating) if rating is not None else None
        if colour is not None:
            item.setForeground(QBrush(QColor(colour)))
            item.setToolTip(rating_text(rating))
        table.setItem(row, col, item)

    def _show_failure(self, reason: str) -> None:
        self._status.setText(reason)
        self.failed.emit(reason)

    # -- slots --------------------------------------------------------------------------------
    def _on_period_activated(self, index: int) -> None:
        self.set_period_back(PERIODS_S[index])
        self.compute()

    def _on_worker_finished(self, number: int, health: AlarmHealth) -> None:
        if number != self._worker.latest():
            return
        self._health = health
        self._show(health)
        self._status.setText(tr("Computed from the journal at %1.").replace(
            "%1", datetime.now(self._site.tzinfo).strftime("%H:%M:%S")))
        self.computed.emit(health)

    def _on_worker_failed(self, number: int, reason: str) -> None:
        if number == self._worker.latest():
            self._show_failure(tr("The alarm health could not be computed: %1").replace("%1", reason))
