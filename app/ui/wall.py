"""The wall display (``wattdesk wall``): full screen, read-only, rotating views, large type.

Shows the overview KPIs, the single-line diagrams, trends (the site's load meters
over the last hour, chart and legend only) and active alarms (those views that are
installed) in turn, each for ``settings.wall_cycle_s`` seconds, in the
dark theme with large type. It takes no input: mouse and keyboard never reach the
views, and the views get services without the control service, so nothing can be
operated from the wall.

Staleness: a header line says when devices are offline, the database is down
(with the samples being buffered) or no live value has arrived for a while, in the
abnormal colour; it returns to "Live" by itself once data flows again.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QLabel, QStackedWidget, QTreeView, QVBoxLayout, QWidget

from app.site_kpis import load_meter_tags
from app.ui.health import DbState, health
from app.ui.main_window import VIEWS, load_view
from app.ui.services import UiServices

WALL_VIEWS = ("overview", "diagrams", "trends", "alarms")
#: Most load-meter pens the wall's trend shows.
WALL_TREND_PENS = 4
#: Type size of the wall trend's axes and legend, points.
WALL_CHART_POINTS = 14
STALE_AFTER_S = 15.0
WALL_STYLE = """
QWidget { font-size: 15pt; }
QLabel[role="kpi"] { font-size: 40pt; }
QLabel[role="heading"] { font-size: 18pt; }
QLabel[role="title"] { font-size: 16pt; }
QTreeView, QTableView, QHeaderView::section { font-size: 15pt; }
"""


class WallWindow(QWidget):
    """Rotating, read-only, full-screen presentation of the site.

    Parameters
    ----------
    services : UiServices
        Its ``control`` is dropped for the wall's views.
    cycle_s : float, optional
        Seconds per view; default ``services.settings.wall_cycle_s``.
    stale_after_s : float
        No live value for this long counts as stale.
    parent : QWidget, optional
    """

    def __init__(self, services: UiServices, cycle_s: float | None = None,
                 stale_after_s: float = STALE_AFTER_S, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = replace(services, control=None, read_only=True)
        self.stale_after_s = stale_after_s
        self._last_live = time.monotonic()
        self.setStyleSheet(WALL_STYLE)
        self.setCursor(Qt.CursorShape.BlankCursor)

        header = QWidget(self)
        header.setObjectName("wallHeader")
        self.site_label = QLabel(services.site.name, header)
        self.page_label = QLabel(header)
        self.stale_label = QLabel(header)
        self.clock_label = QLabel(header)
        row = QHBoxLayout(header)
        row.setContentsMargins(20, 8, 20, 8)
        row.addWidget(self.site_label)
        row.addSpacing(30)
        row.addWidget(self.page_label)
        row.addStretch(1)
        row.addWidget(self.stale_label)
        row.addSpacing(30)
        row.addWidget(self.clock_label)

        self.stack = QStackedWidget(self)
        self.stack.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.pages: list[str] = []
        specs = {s.key: s for s in VIEWS}
        for key in WALL_VIEWS:
            view, _why = load_view(specs[key], self.services, self.stack)
            if view is not None:
                self.stack.addWidget(view)
                self.pages.append(key)
        overview, alarms = self.view("overview"), self.view("alarms")
        if overview is not None and alarms is not None:
            overview.follow_alarms(alarms.bridge)
        trends = self.view("trends")
        if trends is not None:
            trends.set_chart_only(WALL_CHART_POINTS)
            for tag in load_meter_tags(services.site)[:WALL_TREND_PENS]:
                trends.add_point(tag)
        for child in self.stack.findChildren(QWidget):
            child.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.stack.installEventFilter(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(header)
        layout.addWidget(self.stack, 1)

        self._diagram_turns = 0
        self._last_live = time.monotonic()  # views are built: silence counts from now
        services.bridge.values_changed.connect(self._on_bridge_values_changed)
        self.rotate_timer = QTimer(self)
        self.rotate_timer.setInterval(round(1000 * (cycle_s or services.settings.wall_cycle_s)))
        self.rotate_timer.timeout.connect(self.next_page)
        self.rotate_timer.start()
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(1000)
        self._status_timer.timeout.connect(self.refresh_status)
        self._status_timer.start()
        self._retranslate()

    # -- public ---------------------------------------------------------------------------
    def next_page(self) -> None:
        """Show the next view of the rotation; the diagrams page shows its next sheet each
        time round (HV overview, then each LV panel)."""
        if self.stack.count():
            self.stack.setCurrentIndex((self.stack.currentIndex() + 1) % self.stack.count())
            page = self.current_page()
            if page == "diagrams" and self._diagram_turns:
                view = self.view("diagrams")
                sheets = [s.id for s in view.sheets]
                view.show_sheet(sheets[(sheets.index(view.current_sheet()) + 1) % len(sheets)])
            elif page == "alarms":   # large type: fit the columns to what they hold now
                for tree in self.view("alarms").findChildren(QTreeView):
                    tree.header().resizeSections(QHeaderView.ResizeMode.ResizeToContents)
            if page == "diagrams":
                self._diagram_turns += 1
            self._show_page_title()

    def view(self, key: str) -> QWidget | None:
        """The wall's view ``key`` (see :data:`WALL_VIEWS`), or None if not installed."""
        return self.stack.widget(self.pages.index(key)) if key in self.pages else None

    def current_page(self) -> str:
        """Key of the view on screen."""
        return self.pages[self.stack.currentIndex()]

    def refresh_status(self) -> None:
        """Recompute the staleness line and the clock (every second)."""
        h = health(self.services)
        parts = []
        if h.devices_online < h.devices_total:
            parts.append(self.tr("{n}/{total} devices offline").format(
                n=h.devices_total - h.devices_online, total=h.devices_total))
        if h.db is DbState.DOWN:
            parts.append(self.tr("database down, {n} samples buffered").format(n=h.buffered))
        silent = time.monotonic() - self._last_live
        if silent >= self.stale_after_s:
            parts.append(self.tr("no live data for {s} s").format(s=int(silent)))
        if parts:
            self.stale_label.setText(self.tr("STALE: {what}").format(what=" · ".join(parts)))
            state = "offline"
        else:
            self.stale_label.setText(self.tr("Live"))
            state = "ok"
        if self.stale_label.property("state") != state:
            self.stale_label.setProperty("state", state)
            self.stale_label.style().unpolish(self.stale_label)
            self.stale_label.style().polish(self.stale_label)
        self.clock_label.setText(datetime.fromtimestamp(time.time(), self.services.site.tzinfo)
                                 .strftime("%Y-%m-%d %H:%M:%S"))

    def is_stale(self) -> bool:
        """Whether the staleness line currently reports a problem."""
        return self.stale_label.property("state") == "offline"

    # -- events ---------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt override
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.Wheel,
                            QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick):
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event) -> None:  # Qt override: Ctrl+Q leaves the wall display
        if event.key() == Qt.Key.Key_Q and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.close()
            return
        event.ignore()

    def closeEvent(self, event) -> None:  # Qt override: end the trend's history reader
        overview, alarms = self.view("overview"), self.view("alarms")
        if overview is not None and alarms is not None:
            overview.follow_alarms(alarms.bridge)
        trends = self.view("trends")
        if trends is not None:
            trends.shutdown()
        super().closeEvent(event)

    def changeEvent(self, event: QEvent) -> None:  # Qt override
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _on_bridge_values_changed(self, _batch: dict) -> None:
        self._last_live = time.monotonic()

    def _retranslate(self) -> None:
        self.setWindowTitle(self.tr("WattDesk wall display — {site}").format(site=self.services.site.name))
        self._show_page_title()
        self.refresh_status()

    def _show_page_title(self) -> None:
        if not self.pages:
            self.page_label.setText(self.tr("No views installed"))
            return
        titles = {"overview": self.tr("Overview"), "diagrams": self.tr("Single-line diagrams"),
                  "trends": self.tr("Trends"), "alarms": self.tr("Active alarms")}
        self.page_label.setText(titles[self.current_page()])
