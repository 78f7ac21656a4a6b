"""Alarms & events: the active alarm list, the event history, and the banner's binding.

The *active* tab lists every alarm the engine shows (most urgent first, newest first
within a priority), consequential alarms grouped under the breaker trip that caused
them, with filters (raised since, area, priority, state, text), acknowledge (selected /
all shown), shelve, and CSV export. Areas in alarm flood are flagged above the list.
The *event history* tab reads the journal (the historian's ``events`` table) on a
worker thread through ``read_events`` (see :class:`~app.ui.alarm_models.EventReader`).
The *alarm health* tab (:class:`~app.ui.alarm_health_view.AlarmHealthTab`) computes the
ISA-18.2 performance figures of a period from the same journal, also off the GUI thread.

The view owns the workstation's :class:`~app.ui.alarm_bridge.AlarmBridge` and
:class:`~app.ui.annunciator.Annunciator`; :meth:`AlarmView.create_banner` gives the
always-visible banner bound to them, whose click opens this list filtered to the
alarm (the view emits ``activation_requested`` so the window can bring it to front).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QDateTime, QEvent, Qt, QTimer, QTimeZone, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDateTimeEdit, QFileDialog, QHBoxLayout, QHeaderView,
                               QInputDialog, QLabel, QLineEdit, QMenu, QPushButton, QTableView, QTabWidget,
                               QToolButton, QTreeView, QVBoxLayout, QWidget)

from app.alarms import Alarm, AlarmPermissionError, AlarmState, AlarmUpdate, EventKind, UnknownAlarmError
from app.ui.alarm_bridge import ANNUNCIATED, UNACKNOWLEDGED, AlarmBridge
from app.ui.alarm_health_view import AlarmHealthTab
from app.ui.alarm_jobs import JobRunner
from app.ui.alarm_models import (ALARM_COLUMNS, EVENT_COLUMNS, EVENT_LIMIT, ID_ROLE, AlarmFilter, AlarmTreeModel,
                                 EventQuery, EventReader, EventTableModel, Names, area_descendants, banner_choice,
                                 alarm_message, filter_groups, group_alarms, tr, write_csv)
from app.ui.annunciator import AnnunciationSettings, Annunciator, Player
from app.ui.services import UiServices
from widgets.alarm_banner import PRIORITIES, PRIORITY_COLOURS, AlarmBanner, BannerAlarm

_CJK_FAMILY = "Noto Sans CJK SC"
#: Spans of the active list's "raised within" filter, seconds (None: any time).
SINCE_SPANS: tuple[float | None, ...] = (None, 3600.0, 8 * 3600.0, 86400.0, 7 * 86400.0)
#: Default shelving durations offered, minutes.
SHELVE_MINUTES = (15, 30, 60, 120, 240, 480)
#: Prefix of a banner key that opens the list filtered to a priority.
PRIORITY_KEY = "priority:"


# ---------------------------------------------------------------------------- the view
@dataclass
class _FilterBar:
    """The filter widgets shared by both tabs."""

    area: QComboBox
    priorities: dict[int, QToolButton]
    text: QLineEdit


class AlarmView(QWidget):
    """Alarms & events.

    Parameters
    ----------
    services : UiServices
        ``alarms`` holds the :class:`~app.alarms.AlarmEngine`; the event history reads
        ``historian.read_events`` (see :data:`EventReader`) when it exists.
    parent : QWidget, optional
    user : str
        Who acts from this workstation (until the users issue provides a login).
    read_events : EventReader, optional
        Journal read for the history tab; default ``services.historian.read_events``.
    player : Player, optional
        What sounds the horn; default :class:`~app.ui.annunciator.TonePlayer`.
    read_only : bool
        No acknowledge, shelve or horn controls, and the horn is silent for every
        priority; also taken from ``services.read_only`` (the wall display).

    Signals
    -------
    activation_requested()
        The banner was clicked: bring this view to the front.
    alarms_shown()
        The active list was refilled.
    events_loaded(int)
        An event query returned (row count).
    events_failed(str)
        An event query failed (reason, also shown).
    """

    activation_requested = Signal()
    alarms_shown = Signal()
    events_loaded = Signal(int)
    events_failed = Signal(str)

    def __init__(self, services: UiServices, parent: QWidget | None = None, *, user: str = "",
                 read_events: EventReader | None = None, player: Player | None = None,
                 read_only: bool = False) -> None:
        if services.alarms is None:  # checked before the Qt object exists, so nothing half-built lingers
            raise ValueError("AlarmView needs services.alarms (the alarm engine); it is None")
        super().__init__(parent)
        self._services = services
        self._site = services.site
        self._names = Names(services.site)
        self._zone = QTimeZone(self._site.timezone.encode())
        self.bridge = AlarmBridge(services.alarms, user=user, parent=self)
        self.read_only = read_only = read_only or services.read_only
        self.annunciator = Annunciator(player, parent=self, settings=AnnunciationSettings(
            audible={p: False for p in PRIORITIES}) if read_only else None)
        self._banners: list[AlarmBanner] = []
        self._filter = AlarmFilter()
        self._phase = True
        self._read_events = read_events if read_events is not None \
            else getattr(services.historian, "read_events", None)
        self._events_worker = JobRunner("alarm-events", self)
        self._events_worker.finished.connect(self._on_events_loaded)
        self._events_worker.failed.connect(self._on_events_failed)

        self.setFont(QFont(_CJK_FAMILY))
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._build_active_tab(), "")
        self.tabs.addTab(self._build_events_tab(), "")
        self.health_tab = AlarmHealthTab(self._site, self._read_events, self)
        self.tabs.addTab(self.health_tab, "")
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tabs)

        self._flash = QTimer(self)
        self._flash.setInterval(500)
        self._flash.timeout.connect(self._on_flash_timeout)
        self._flash.start()

        self._retranslate()
        self.bridge.alarms_changed.connect(self._on_bridge_alarms_changed)
        self.annunciator.sounding_changed.connect(self._on_annunciator_sounding_changed)
        self.bridge.start()

    # -- building -----------------------------------------------------------------------------
    def _filter_bar(self) -> _FilterBar:
        area = QComboBox(self)
        area.addItem("", None)
        for root in self._site.areas:
            self._add_area_items(area, root, 0)
        priorities = {}
        for p in PRIORITIES:
            button = QToolButton(self)
            button.setText(str(p))
            button.setCheckable(True)
            button.setChecked(True)
            priorities[p] = button
        text = QLineEdit(self)
        text.setClearButtonEnabled(True)
        return _FilterBar(area, priorities, text)

    def _add_area_items(self, combo: QComboBox, area, depth: int) -> None:
        combo.addItem("    " * depth + (area.name or area.id), area.id)
        for child in area.children:
            self._add_area_items(combo, child, depth + 1)

    def _build_active_tab(self) -> QWidget:
        tab = QWidget(self)
        self._active_bar = bar = self._filter_bar()
        self._since = QComboBox(tab)
        for _ in SINCE_SPANS:
            self._since.addItem("")
        self._state = QComboBox(tab)
        self._state_choices: list[frozenset[AlarmState] | None] = [
            ANNUNCIATED, None, frozenset({AlarmState.UNACK_ACTIVE, AlarmState.UNACK_RTN}),
            frozenset({AlarmState.ACK_ACTIVE}), frozenset({AlarmState.UNACK_RTN}),
            frozenset({AlarmState.SHELVED}), frozenset({AlarmState.SUPPRESSED}),
            frozenset({AlarmState.OUT_OF_SERVICE})]
        for _ in self._state_choices:
            self._state.addItem("")
        self._clear_filters = QPushButton(tab)
        self._clear_filters.clicked.connect(self.clear_filters)
        self._since.currentIndexChanged.connect(self._on_filter_changed)
        self._state.currentIndexChanged.connect(self._on_filter_changed)
        bar.area.currentIndexChanged.connect(self._on_filter_changed)
        bar.text.textChanged.connect(self._on_filter_changed)
        for button in bar.priorities.values():
            button.toggled.connect(self._on_filter_changed)

        filters = QHBoxLayout()
        self._active_labels = [QLabel(tab) for _ in range(5)]
        widgets = (self._since, bar.area, None, self._state, bar.text)
        for label, widget in zip(self._active_labels, widgets, strict=True):
            filters.addWidget(label)
            if widget is None:
                for button in bar.priorities.values():
                    filters.addWidget(button)
            else:
                filters.addWidget(widget)
        bar.text.setMinimumWidth(160)
        filters.addWidget(self._clear_filters)
        filters.addStretch(1)

        self._ack_selected = QPushButton(tab)
        self._ack_selected.clicked.connect(self._on_ack_selected_clicked)
        self._ack_visible = QPushButton(tab)
        self._ack_visible.clicked.connect(self._on_ack_visible_clicked)
        self._shelve = QPushButton(tab)
        self._shelve.clicked.connect(self._on_shelve_clicked)
        self._unshelve = QPushButton(tab)
        self._unshelve.clicked.connect(self._on_unshelve_clicked)
        self._sound = QToolButton(tab)
        self._sound.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self._sound_menu = QMenu(self._sound)
        self._sound_actions = {}
        for p in PRIORITIES:
            action = self._sound_menu.addAction("")
            action.setCheckable(True)
            action.setChecked(self.annunciator.settings.audible.get(p, False))
            action.toggled.connect(lambda on, p=p: self.annunciator.set_audible(p, on))
            self._sound_actions[p] = action
        self._sound_menu.addSeparator()
        self._silence_action = self._sound_menu.addAction("")
        self._silence_action.triggered.connect(self.annunciator.silence)
        self._sound.setMenu(self._sound_menu)
        self._export_active = QPushButton(tab)
        self._export_active.clicked.connect(self._on_export_active_clicked)
        actions = QHBoxLayout()
        for w in (self._ack_selected, self._ack_visible, self._shelve, self._unshelve):
            actions.addWidget(w)
            w.setVisible(not self.read_only)
        self._sound.setVisible(not self.read_only)
        actions.addStretch(1)
        actions.addWidget(self._sound)
        actions.addWidget(self._export_active)

        self._flood = QLabel(tab)
        bold = QFont(_CJK_FAMILY)
        bold.setBold(True)
        self._flood.setFont(bold)
        self._flood.setStyleSheet(f"color: {PRIORITY_COLOURS[2]};")
        self._flood.hide()

        self.model = AlarmTreeModel(self._site, lambda: self._services.settings.theme, self,
                                    language=lambda: self._services.settings.language)
        self.tree = QTreeView(tab)
        self.tree.setModel(self.model)
        self.tree.selectionModel().selectionChanged.connect(self._on_tree_selection_changed)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(False)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        header = self.tree.header()
        header.setStretchLastSection(True)
        for i, width in enumerate((185, 64, 120, 110, 170, 320, 70, 70, 200)):
            header.resizeSection(i, width)
        header.setSectionResizeMode(ALARM_COLUMNS.index("message"), QHeaderView.ResizeMode.Interactive)
        self._active_status = QLabel(tab)
        self._active_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._active_count = QLabel(tab)

        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(filters)
        layout.addLayout(actions)
        layout.addWidget(self._flood)
        layout.addWidget(self.tree, 1)
        status = QHBoxLayout()
        status.addWidget(self._active_count)
        status.addSpacing(16)
        status.addWidget(self._active_status, 1)
        layout.addLayout(status)
        return tab

    def _build_events_tab(self) -> QWidget:
        tab = QWidget(self)
        self._events_bar = bar = self._filter_bar()
        self._from, self._to = QDateTimeEdit(tab), QDateTimeEdit(tab)
        now = int(time.time())
        for edit, ts in ((self._from, now - 86400), (self._to, now + 60)):
            edit.setTimeZone(self._zone)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
            edit.setCalendarPopup(True)
            edit.setDateTime(QDateTime.fromSecsSinceEpoch(ts, self._zone))
        self._kind = QComboBox(tab)
        self._kind_choices: list[frozenset[str] | None] = [
            None, frozenset({EventKind.RAISED.value}), frozenset({EventKind.CLEARED.value}),
            frozenset({EventKind.ACKED.value}),
            frozenset({EventKind.SHELVED.value, EventKind.UNSHELVED.value, EventKind.SHELF_EXPIRED.value}),
            frozenset({EventKind.SUPPRESSED.value, EventKind.UNSUPPRESSED.value, EventKind.REMOVED.value,
                       EventKind.RESTORED.value}),
            frozenset({EventKind.FLOOD_BEGAN.value, EventKind.FLOOD_ENDED.value}),
            frozenset({EventKind.NOTIFIED.value})]
        for _ in self._kind_choices:
            self._kind.addItem("")
        self._search = QPushButton(tab)
        self._search.clicked.connect(self.query_events)
        bar.text.returnPressed.connect(self.query_events)
        self._export_events = QPushButton(tab)
        self._export_events.clicked.connect(self._on_export_events_clicked)
        filters = QHBoxLayout()
        self._event_labels = [QLabel(tab) for _ in range(6)]
        widgets = (self._from, self._to, bar.area, None, self._kind, bar.text)
        for label, widget in zip(self._event_labels, widgets, strict=True):
            filters.addWidget(label)
            if widget is None:
                for button in bar.priorities.values():
                    filters.addWidget(button)
            else:
                filters.addWidget(widget)
        bar.text.setMinimumWidth(160)
        filters.addWidget(self._search)
        filters.addStretch(1)
        filters.addWidget(self._export_events)
        self.events_model = EventTableModel(self._site, self, language=lambda: self._services.settings.language)
        self.events_table = QTableView(tab)
        self.events_table.setModel(self.events_model)
        self.events_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.events_table.verticalHeader().hide()
        self.events_table.horizontalHeader().setStretchLastSection(True)
        for i, width in enumerate((150, 110, 64, 110, 170, 320, 70, 70, 90, 110, 160)):
            self.events_table.horizontalHeader().resizeSection(i, width)
        self._events_status = QLabel(tab)
        self._events_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.events_table, 1)
        layout.addWidget(self._events_status)
        return tab

    # -- public API ---------------------------------------------------------------------------
    def create_banner(self, parent: QWidget | None = None) -> AlarmBanner:
        """The always-visible alarm banner, bound to this view's alarms, actions and horn.

        Clicking its alarm (or a priority count) filters this list to it and emits
        :attr:`activation_requested`.

        Raises
        ------
        PermissionError
            The view is read-only (its banner would acknowledge alarms).
        """
        if self.read_only:
            raise PermissionError("a read-only alarm list (wall display) gives no banner: it acknowledges alarms")
        banner = AlarmBanner(dark=self._services.settings.theme == "dark", parent=parent)
        banner.ack_requested.connect(self._on_banner_ack_requested)
        banner.ack_all_requested.connect(self._on_banner_ack_all_requested)
        banner.opened.connect(self._on_banner_opened)
        banner.silence_requested.connect(self.annunciator.silence)
        banner.destroyed.connect(lambda _=None, b=banner: self._banners.remove(b) if b in self._banners else None)
        self._banners.append(banner)
        self._update_banner(banner)
        banner.set_sounding(self.annunciator.sounding() is not None)
        return banner

    def set_user(self, user: str) -> None:
        """Who acts from this workstation from now on (permission checks, journal)."""
        self.bridge.user = user

    def alarm_filter(self) -> AlarmFilter:
        """The active list's filter as set in the widgets."""
        return self._filter

    def set_alarm_filter(self, flt: AlarmFilter) -> None:
        """Set the active list's filter widgets to ``flt`` and apply it.

        Raises
        ------
        ValueError
            ``flt.since_s``, ``flt.states`` or ``flt.areas`` is not one the widgets offer.
        """
        try:
            since = SINCE_SPANS.index(flt.since_s)
            state = self._state_choices.index(flt.states)
        except ValueError:
            raise ValueError(f"filter {flt!r}: time span or states not offered by the alarm list") from None
        area = 0
        if flt.areas is not None:
            area = next((i for i in range(1, self._active_bar.area.count())
                         if area_descendants(self._site, self._active_bar.area.itemData(i)) == flt.areas), -1)
            if area < 0:
                raise ValueError(f"filter {flt!r}: areas are not an area of the site with those below it")
        widgets = [self._since, self._state, self._active_bar.area, self._active_bar.text,
                   *self._active_bar.priorities.values()]
        for w in widgets:
            w.blockSignals(True)
        self._since.setCurrentIndex(since)
        self._state.setCurrentIndex(state)
        self._active_bar.area.setCurrentIndex(area)
        self._active_bar.text.setText(flt.text)
        for p, button in self._active_bar.priorities.items():
            button.setChecked(p in flt.priorities)
        for w in widgets:
            w.blockSignals(False)
        self._on_filter_changed()

    def clear_filters(self) -> None:
        """Show every annunciated alarm."""
        self.set_alarm_filter(AlarmFilter())

    def show_alarm(self, key: str) -> None:
        """Filter the list to what the banner's ``key`` names and select it.

        ``key`` is an alarm id (the list shows that alarm in any state, selected),
        ``"priority:<n>"`` (annunciated alarms of priority n), or ``""`` (no filter).
        """
        self.tabs.setCurrentIndex(0)
        if key.startswith(PRIORITY_KEY) and key[len(PRIORITY_KEY):].isdigit():
            self.set_alarm_filter(AlarmFilter(priorities=frozenset({int(key[len(PRIORITY_KEY):])})))
            return
        if not key:
            self.clear_filters()
            return
        self.set_alarm_filter(AlarmFilter(states=None, text=key))
        index = self.model.index_of(key)
        if index.isValid():
            self.tree.setCurrentIndex(index)
            self.tree.scrollTo(index)

    def shown_alarms(self) -> list[Alarm]:
        """Alarms the active list shows, causes before their consequences."""
        return self.model.alarms()

    def acknowledge(self, alarm_ids: Iterable[str]) -> tuple[list[str], list[str]]:
        """Acknowledge ``alarm_ids`` as the workstation's user; the outcome is also shown.

        Returns
        -------
        (list of str, list of str)
            Ids acknowledged, ids refused by the permission check.

        Raises
        ------
        PermissionError
            The view is read-only (wall display).
        """
        if self.read_only:
            raise PermissionError("the read-only alarm list (wall display) does not acknowledge alarms")
        result = self.bridge.ack_many(alarm_ids)
        self._report_ack(result.acknowledged, result.refused)
        return result.acknowledged, result.refused

    def acknowledge_visible(self) -> tuple[list[str], list[str]]:
        """Acknowledge every unacknowledged alarm the list shows (see :meth:`acknowledge`)."""
        return self.acknowledge([a.id for a in self.model.alarms() if a.state in UNACKNOWLEDGED])

    def export_active_csv(self, path: str) -> int:
        """Write the alarms shown (with a ``cause`` column for grouped ones) to a CSV file.

        Returns
        -------
        int
            Rows written.

        Raises
        ------
        OSError
            The file cannot be written.
        """
        headers = [tr("Alarm id"), *self.model.headers(), tr("Cause")]
        rows = ([a.id, *(self.model.cell_text(a, c) for c in ALARM_COLUMNS), a.cause]
                for a in self.model.alarms())
        return write_csv(path, headers, rows)

    def query_events(self) -> None:
        """Read the event history for the filters set (on a worker thread)."""
        if self._read_events is None:
            self._set_events_status(self.tr("Event history is not available: the historian has no event "
                                            "read yet."))
            self.events_failed.emit("no read_events")
            return
        t0 = float(self._from.dateTime().toSecsSinceEpoch())
        t1 = float(self._to.dateTime().toSecsSinceEpoch())
        if not t1 > t0:
            self._set_events_status(self.tr("The end of the range must be after its start."))
            return
        bar = self._events_bar
        area_id = bar.area.currentData()
        priorities = frozenset(p for p, b in bar.priorities.items() if b.isChecked())
        query = EventQuery(
            t0, t1, areas=area_descendants(self._site, area_id) if area_id else None,
            priorities=None if priorities == frozenset(PRIORITIES) else priorities | {0},
            kinds=self._kind_choices[self._kind.currentIndex()],
            text=bar.text.text().strip() or None)
        self._set_events_status(self.tr("Reading events…"))
        read = self._read_events
        self._events_worker.run(lambda: list(read(query.t0, query.t1, areas=query.areas,
                                                  priorities=query.priorities, kinds=query.kinds,
                                                  text=query.text, limit=query.limit)))

    def set_event_range(self, t0: float, t1: float) -> None:
        """Set the event history's time range (epoch s UTC) without querying."""
        self._from.setDateTime(QDateTime.fromSecsSinceEpoch(int(t0), self._zone))
        self._to.setDateTime(QDateTime.fromSecsSinceEpoch(int(t1), self._zone))

    def export_events_csv(self, path: str) -> int:
        """Write the events shown to a CSV file (alarm id first).

        Raises
        ------
        OSError
            The file cannot be written.
        """
        model = self.events_model
        rows = ([str((r.get("data") or {}).get("alarm_id") or ""), *(model.cell_text(r, c) for c in EVENT_COLUMNS)]
                for r in model.rows())
        return write_csv(path, [tr("Alarm id"), *model.headers()], rows)

    def shutdown(self) -> None:
        """Stop the bridge, the horn and the event worker (idempotent)."""
        self._flash.stop()
        self.bridge.stop()
        self.annunciator.close()
        self._events_worker.shutdown()
        self.health_tab.shutdown()

    # -- Qt overrides -------------------------------------------------------------------------
    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.shutdown()
        super().closeEvent(event)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    # -- internals ----------------------------------------------------------------------------
    def _retranslate(self) -> None:
        # alarm texts come from the alarm catalogue in the settings' language, not from Qt's translator
        for banner in self._banners:
            self._update_banner(banner)
        self.tree.viewport().update()
        self.tabs.setTabText(0, self.tr("Active alarms"))
        self.tabs.setTabText(1, self.tr("Event history"))
        self.tabs.setTabText(2, self.tr("Alarm health"))
        for label, text in zip(self._active_labels, (self.tr("Raised"), self.tr("Area"), self.tr("Priority"),
                                                     self.tr("State"), self.tr("Text")), strict=True):
            label.setText(text)
        event_labels = (self.tr("From"), self.tr("To"), self.tr("Area"), self.tr("Priority"), self.tr("Event"),
                        self.tr("Text"))
        for label, text in zip(self._event_labels, event_labels, strict=True):
            label.setText(text)
        for i, text in enumerate((self.tr("Any time"), self.tr("Last hour"), self.tr("Last 8 hours"),
                                  self.tr("Last 24 hours"), self.tr("Last 7 days"))):
            self._since.setItemText(i, text)
        for i, text in enumerate((self.tr("Annunciated"), self.tr("All states"), self.tr("Unacknowledged"),
                                  self.tr("Acknowledged"), self.tr("Returned, unacknowledged"), self.tr("Shelved"),
                                  self.tr("Suppressed"), self.tr("Out of service"))):
            self._state.setItemText(i, text)
        for i, text in enumerate((self.tr("All events"), self.tr("Raised"), self.tr("Cleared"),
                                  self.tr("Acknowledged"), self.tr("Shelving"),
                                  self.tr("Suppression and service"), self.tr("Floods"),
                                  self.tr("Notifications"))):
            self._kind.setItemText(i, text)
        for bar in (self._active_bar, self._events_bar):
            bar.area.setItemText(0, self.tr("All areas"))
            bar.text.setPlaceholderText(self.tr("Id, source or message"))
            for p, button in bar.priorities.items():
                button.setToolTip(self.tr("Show priority %1").replace("%1", str(p)))
        self._clear_filters.setText(self.tr("Clear filters"))
        self._ack_selected.setText(self.tr("Acknowledge selected"))
        self._ack_visible.setText(self.tr("Acknowledge all shown"))
        self._shelve.setText(self.tr("Shelve…"))
        self._shelve.setToolTip(self.tr("Hide the selected alarm for a limited time, with a reason"))
        self._unshelve.setText(self.tr("Unshelve"))
        self._sound.setText(self.tr("Horn"))
        for p, action in self._sound_actions.items():
            action.setText(self.tr("Sound for priority %1").replace("%1", str(p)))
        self._silence_action.setText(self.tr("Silence"))
        self._export_active.setText(self.tr("Export CSV…"))
        self._search.setText(self.tr("Search"))
        self._export_events.setText(self.tr("Export CSV…"))
        self._active_status.setText("")        # a transient message, in the old language
        self.model.retranslate()
        self.events_model.retranslate()
        self._update_counts()

    def _on_filter_changed(self, *_: object) -> None:
        bar = self._active_bar
        area_id = bar.area.currentData()
        self._filter = AlarmFilter(
            since_s=SINCE_SPANS[self._since.currentIndex()],
            areas=area_descendants(self._site, area_id) if area_id else None,
            priorities=frozenset(p for p, b in bar.priorities.items() if b.isChecked()),
            states=self._state_choices[self._state.currentIndex()],
            text=bar.text.text().strip())
        self._refill()

    def _refill(self) -> None:
        """Rebuild the list from the bridge's alarms, keeping selection, current row and expansion."""
        selected = {self.model.data(i, ID_ROLE) for i in self.tree.selectionModel().selectedRows()}
        current = self.model.data(self.tree.currentIndex(), ID_ROLE) if self.tree.currentIndex().isValid() else None
        collapsed = {parent.id for row, (parent, kids) in enumerate(self.model.groups())
                     if kids and not self.tree.isExpanded(self.model.index(row, 0))}
        scroll = self.tree.verticalScrollBar().value()
        now = time.time()
        names = self._names.devices
        flt = self._filter
        groups = filter_groups(group_alarms(self.bridge.alarms()), lambda a: flt.matches(a, now, names))
        self.model.set_groups(groups)
        for row, (parent, kids) in enumerate(groups):
            if kids and parent.id not in collapsed:
                self.tree.setExpanded(self.model.index(row, 0), True)
        selection = self.tree.selectionModel()
        for alarm_id in selected:
            index = self.model.index_of(alarm_id)
            if index.isValid():
                selection.select(index, selection.SelectionFlag.Select | selection.SelectionFlag.Rows)
        if current:
            index = self.model.index_of(current)
            if index.isValid():
                selection.setCurrentIndex(index, selection.SelectionFlag.NoUpdate)
        self.tree.verticalScrollBar().setValue(scroll)
        self._update_counts()
        self._update_actions()
        self.alarms_shown.emit()

    def _update_counts(self) -> None:
        shown = len(self.model.alarms())
        total = len(self.bridge.alarms())
        self._active_count.setText(self.tr("%1 of %2 alarms shown").replace("%1", str(shown))
                                   .replace("%2", str(total)))
        floods = sorted(self._names.area(a) for a in self.bridge.floods())
        if floods:
            self._flood.setText(self.tr("Alarm flood in %1: consequential alarms are grouped under their cause; "
                                        "deal with the most urgent first.").replace("%1", ", ".join(floods)))
            self._flood.show()
        else:
            self._flood.hide()

    def _update_actions(self) -> None:
        """Offer acknowledge, shelve and unshelve only for selected alarms the user may act on."""
        ids = self._selected_ids()
        may = self.bridge.may
        shown = {a.id: a for a in self.model.alarms()}
        self._ack_selected.setEnabled(any(shown[i].state in UNACKNOWLEDGED and may("ack", i)
                                          for i in ids if i in shown))
        self._ack_visible.setEnabled(any(a.state in UNACKNOWLEDGED and may("ack", a.id) for a in shown.values()))
        self._shelve.setEnabled(len(ids) == 1 and may("shelve", ids[0]))
        self._unshelve.setEnabled(any(shown[i].state is AlarmState.SHELVED and may("unshelve", i)
                                      for i in ids if i in shown))

    def _update_banner(self, banner: AlarmBanner) -> None:
        alarms = [a for a in self.bridge.alarms() if a.state in ANNUNCIATED]
        top = banner_choice(alarms)
        if top is None:
            banner.set_alarm(None)
        else:
            when = datetime.fromtimestamp(top.raised_ts, self._site.tzinfo)
            today = datetime.now(self._site.tzinfo).date() == when.date()
            banner.set_alarm(BannerAlarm(top.id, top.priority, when.strftime("%H:%M:%S" if today else "%m-%d %H:%M"),
                                         self._names.area(top.area),
                                         alarm_message(top.text, top.message, self._services.settings.language),
                                         top.state in UNACKNOWLEDGED, self.bridge.may("ack", top.id)))
        counts = {p: 0 for p in PRIORITIES}
        unacked = {p: 0 for p in PRIORITIES}
        for a in alarms:
            counts[a.priority] = counts.get(a.priority, 0) + 1
            if a.state in UNACKNOWLEDGED:
                unacked[a.priority] = unacked.get(a.priority, 0) + 1
        banner.set_counts(counts, unacked)
        banner.set_floods(sorted(self._names.area(a) for a in self.bridge.floods()))

    def _report_ack(self, done: Sequence[str], refused: Sequence[str]) -> None:
        parts = []
        if done:
            parts.append(self.tr("%1 acknowledged.").replace("%1", str(len(done))))
        if refused:
            parts.append(self.tr("Refused: user %1 may not acknowledge %2.")
                         .replace("%1", self.bridge.user or "—").replace("%2", ", ".join(refused)))
        if not done and not refused:
            parts.append(self.tr("Nothing to acknowledge."))
        self._active_status.setText(" ".join(parts))

    def _selected_ids(self) -> list[str]:
        return [self.model.data(i, ID_ROLE) for i in self.tree.selectionModel().selectedRows()]

    def _set_events_status(self, text: str) -> None:
        self._events_status.setText(text)

    # -- slots --------------------------------------------------------------------------------
    def _on_bridge_alarms_changed(self, update: AlarmUpdate) -> None:
        self._refill()
        for banner in self._banners:
            self._update_banner(banner)
        self.annunciator.update(update.alarms)

    def _on_annunciator_sounding_changed(self, sounding: bool) -> None:
        for banner in self._banners:
            banner.set_sounding(sounding)

    def _on_tabs_current_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.health_tab and self.health_tab.health() is None:
            self.health_tab.compute()

    def _on_flash_timeout(self) -> None:
        self._phase = not self._phase
        self.model.set_phase(self._phase)

    def _on_banner_ack_requested(self, alarm_id: str) -> None:
        self.acknowledge([alarm_id])

    def _on_banner_ack_all_requested(self) -> None:
        self.acknowledge([a.id for a in self.bridge.alarms() if a.state in UNACKNOWLEDGED])

    def _on_banner_opened(self, key: str) -> None:
        self.show_alarm(key)
        self.activation_requested.emit()

    def _on_tree_selection_changed(self, *_: object) -> None:
        self._update_actions()

    def _on_ack_selected_clicked(self) -> None:
        ids = self._selected_ids()
        if not ids:
            self._active_status.setText(self.tr("Select the alarms to acknowledge first."))
            return
        self.acknowledge(ids)

    def _on_ack_visible_clicked(self) -> None:
        self.acknowledge_visible()

    def _on_shelve_clicked(self) -> None:
        ids = self._selected_ids()
        if len(ids) != 1:
            self._active_status.setText(self.tr("Select one alarm to shelve."))
            return
        choices = [self.tr("%1 min").replace("%1", str(m)) for m in SHELVE_MINUTES]
        choice, ok = QInputDialog.getItem(self, self.tr("Shelve alarm"), self.tr("Shelve %1 for").replace("%1", ids[0]),
                                          choices, 1, False)
        if not ok:
            return
        reason, ok = QInputDialog.getText(self, self.tr("Shelve alarm"), self.tr("Reason (required)"))
        if not ok:
            return
        try:
            self.bridge.shelve(ids[0], SHELVE_MINUTES[choices.index(choice)] * 60.0, reason)
        except (ValueError, AlarmPermissionError, UnknownAlarmError) as err:
            self._active_status.setText(self.tr("Not shelved: %1").replace("%1", str(err)))
            return
        self._active_status.setText(self.tr("%1 shelved.").replace("%1", ids[0]))

    def _on_unshelve_clicked(self) -> None:
        ids = self._selected_ids()
        for alarm_id in ids:
            try:
                self.bridge.unshelve(alarm_id)
            except (AlarmPermissionError, UnknownAlarmError) as err:
                self._active_status.setText(self.tr("Not unshelved: %1").replace("%1", str(err)))
                return

    def _on_export_active_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export alarms"), "alarms.csv",
                                              self.tr("CSV files (*.csv)"))
        if path:
            try:
                n = self.export_active_csv(path)
            except OSError as err:
                self._active_status.setText(self.tr("Export failed: %1").replace("%1", str(err)))
                return
            self._active_status.setText(self.tr("%1 rows written to %2").replace("%1", str(n)).replace("%2", path))

    def _on_export_events_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export events"), "events.csv",
                                              self.tr("CSV files (*.csv)"))
        if path:
            try:
                n = self.export_events_csv(path)
            except OSError as err:
                self._set_events_status(self.tr("Export failed: %1").replace("%1", str(err)))
                return
            self._set_events_status(self.tr("%1 rows written to %2").replace("%1", str(n)).replace("%2", path))

    def _on_events_loaded(self, number: int, rows: list[dict[str, Any]]) -> None:
        if number != self._events_worker.latest():
            return
        self.events_model.set_rows(rows)
        if len(rows) >= EVENT_LIMIT:
            self._set_events_status(self.tr("The first %1 events are shown; narrow the filters to see the rest.")
                                    .replace("%1", str(len(rows))))
        else:
            self._set_events_status(self.tr("%1 events").replace("%1", str(len(rows))))
        self.events_loaded.emit(len(rows))

    def _on_events_failed(self, number: int, reason: str) -> None:
        if number != self._events_worker.latest():
            return
        self._set_events_status(self.tr("The event history could not be read: %1").replace("%1", reason))
        self.events_failed.emit(reason)
