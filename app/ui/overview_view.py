"""The Overview view: site KPIs at a glance.

- Total load (kW): sum of the transformer meters' ``P`` (see :mod:`app.site_kpis`),
  and each transformer's load and loading (S / rated kVA).
- Today's energy (kWh, since local midnight) by sub-item (分项) and by area, from the
  historian's 15-minute rollups, read on a worker thread every minute; the GUI never
  waits for the database, and a failed read says so with the time of the last good one.
- Active alarms by priority, once the alarm service hands them in (:meth:`OverviewView.show_alarms`).

A figure built from a point that is not GOOD, missing, or from an offline device is
greyed and marked ``?`` with the reasons in its tooltip.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget)

from app.config import NodeKind
from app.points import PointValue, Quality
from app.site_kpis import EnergyTotals, energy_between, energy_meters, load_meter_tags, local_day_start
from app.ui.alarm_bridge import ANNUNCIATED, AlarmBridge
from app.ui.services import UiServices

#: Alarm priorities, most urgent first (ISA-18.2 as configured: 1..4).
ALARM_PRIORITIES = (1, 2, 3, 4)

ENERGY_REFRESH_MS = 60_000
ENERGY_RETRY_MS = 15_000
STATUS_REFRESH_MS = 1000
CATEGORY_ORDER = ("lighting_sockets", "hvac", "power", "special")


def category_label(category: str) -> str:
    """Operator name of an energy sub-item (translated in context ``OverviewView``)."""
    names = {
        "lighting_sockets": QCoreApplication.translate("OverviewView", "Lighting & sockets"),
        "hvac": QCoreApplication.translate("OverviewView", "HVAC"),
        "power": QCoreApplication.translate("OverviewView", "Power"),
        "special": QCoreApplication.translate("OverviewView", "Special"),
    }
    return names.get(category, category)


def _restyle(widget: QWidget, name: str, value: str) -> None:
    if widget.property(name) != value:
        widget.setProperty(name, value)
        widget.style().unpolish(widget)
        widget.style().polish(widget)


class KpiTile(QFrame):
    """One headline figure: title, value with unit, a note line; greyed when not trustworthy."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "tile")
        self.title = QLabel(self)
        self.title.setProperty("role", "title")
        self.value = QLabel("—", self)
        self.value.setProperty("role", "kpi")
        self.value.setProperty("quality", "good")
        self.note = QLabel(self)
        self.note.setProperty("role", "note")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.addWidget(self.title)
        layout.addWidget(self.value)
        layout.addWidget(self.note)
        self.setMinimumWidth(220)

    def show_value(self, text: str, good: bool, tooltip: str = "", note: str = "") -> None:
        """Show ``text``; ``good=False`` greys it and prefixes ``?``."""
        self.value.setText(text if good else f"? {text}")
        _restyle(self.value, "quality", "good" if good else "bad")
        self.setToolTip(tooltip)
        self.note.setText(note)


class _EnergyRelay(QObject):
    """Carries worker-thread results to the GUI thread (queued signal)."""

    finished = Signal(object)   # EnergyTotals
    failed = Signal(str)


class BreakdownTable(QWidget):
    """Rows of name | grey bar | kWh | share, for one energy breakdown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(12)
        self.grid.setColumnStretch(1, 1)
        self.rows: dict[str, tuple[QLabel, QProgressBar, QLabel, QLabel]] = {}

    def show_rows(self, rows: Sequence[tuple[str, str, float]], greyed: bool) -> None:
        """Show ``(key, name, kWh)`` rows, largest first is the caller's order."""
        total = sum(v for _, _, v in rows) or 1.0
        keep = {k for k, _, _ in rows}
        for key in list(self.rows):
            if key not in keep:
                for w in self.rows.pop(key):
                    self.grid.removeWidget(w)
                    w.deleteLater()
        for r, (key, name, kwh) in enumerate(rows):
            if key not in self.rows:
                bar = QProgressBar(self)
                bar.setTextVisible(False)
                bar.setRange(0, 1000)
                bar.setFixedHeight(10)
                self.rows[key] = (QLabel(self), bar, QLabel(self), QLabel(self))
            name_l, bar, kwh_l, share_l = self.rows[key]
            name_l.setText(name)
            bar.setValue(round(1000 * kwh / total))
            kwh_l.setText(f"{kwh:,.1f} kWh" if not greyed else f"? {kwh:,.1f} kWh")
            share_l.setText(f"{100 * kwh / total:.0f} %")
            kwh_l.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            share_l.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for c, w in enumerate(self.rows[key]):
                self.grid.addWidget(w, r, c)
                _restyle(w, "role", "note" if greyed else "")

    def texts(self) -> dict[str, str]:
        """``{key: kWh text}`` as shown (for tests and screenshots)."""
        return {k: row[2].text() for k, row in self.rows.items()}


class OverviewView(QWidget):
    """Site KPIs: total load, transformers, today's energy by sub-item and area, alarms.

    Parameters
    ----------
    services : UiServices
    parent : QWidget, optional
    energy_refresh_ms : int
        Period of the energy (rollup) reads.
    """

    def __init__(self, services: UiServices, parent: QWidget | None = None,
                 energy_refresh_ms: int = ENERGY_REFRESH_MS) -> None:
        super().__init__(parent)
        self.services = services
        site = services.site
        self._load_tags = load_meter_tags(site)
        self._meters = energy_meters(site)
        self._transformers = [n for n in site.topology if n.kind is NodeKind.TRANSFORMER and n.device]
        self._totals: EnergyTotals | None = None
        self._energy_error = ""
        self._energy_ok_at = 0.0
        self._worker: threading.Thread | None = None
        self._relay = _EnergyRelay(self)
        self._relay.finished.connect(self._on_energy_finished)
        self._relay.failed.connect(self._on_energy_failed)
        self._alarm_counts: dict[int, int] | None = None

        self.load_tile = KpiTile(self)
        self.transformer_tiles = {n.id: KpiTile(self) for n in self._transformers}
        self.energy_tile = KpiTile(self)
        self.alarm_tile = KpiTile(self)
        self.alarm_tile.hide()
        tiles = QHBoxLayout()
        tiles.setSpacing(10)
        for tile in (self.load_tile, *self.transformer_tiles.values(), self.energy_tile, self.alarm_tile):
            tiles.addWidget(tile)
        tiles.addStretch(1)

        self.category_heading = QLabel(self)
        self.category_heading.setProperty("role", "heading")
        self.area_heading = QLabel(self)
        self.area_heading.setProperty("role", "heading")
        self.by_category = BreakdownTable(self)
        self.by_area = BreakdownTable(self)
        self.energy_note = QLabel(self)
        self.energy_note.setProperty("role", "note")
        breakdown = QGridLayout()
        breakdown.setHorizontalSpacing(40)
        breakdown.setVerticalSpacing(8)
        breakdown.addWidget(self.category_heading, 0, 0)
        breakdown.addWidget(self.area_heading, 0, 1)
        breakdown.addWidget(self.by_category, 1, 0, Qt.AlignmentFlag.AlignTop)
        breakdown.addWidget(self.by_area, 1, 1, Qt.AlignmentFlag.AlignTop)
        breakdown.setColumnStretch(0, 1)
        breakdown.setColumnStretch(1, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.setSpacing(14)
        layout.addLayout(tiles)
        layout.addSpacing(8)
        layout.addLayout(breakdown)
        layout.addWidget(self.energy_note)
        layout.addStretch(1)

        services.bridge.values_changed.connect(self._on_bridge_values_changed)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_REFRESH_MS)
        self._status_timer.timeout.connect(self._refresh_live)
        self._status_timer.start()
        self._energy_timer = QTimer(self)
        self._energy_refresh_ms = energy_refresh_ms
        self._energy_timer.setInterval(energy_refresh_ms)
        self._energy_timer.timeout.connect(self.refresh_energy)
        self._energy_timer.start()
        self._retranslate()
        self.refresh_energy()

    # -- public ---------------------------------------------------------------------------
    def refresh_energy(self) -> None:
        """Start a background read of today's energy (skipped while one is running)."""
        if self._worker is not None and self._worker.is_alive():
            return
        now = time.time()
        t0 = local_day_start(now, self.services.site.tzinfo)
        self._worker = threading.Thread(target=self._read_energy, args=(t0, now + 1.0),
                                        name="overview-energy", daemon=True)
        self._worker.start()

    def wait_idle(self, timeout_s: float = 10.0) -> None:
        """Join the energy worker if one runs (tests, shutdown)."""
        if self._worker is not None:
            self._worker.join(timeout_s)

    def show_alarms(self, counts: dict[int, int]) -> None:
        """Show active alarm counts ``{priority 1..4: count}`` in the alarms tile."""
        self._alarm_counts = dict(counts)
        self.alarm_tile.show()
        self._show_alarm_tile()

    def follow_alarms(self, bridge: AlarmBridge) -> None:
        """Keep the alarms tile on the annunciated alarms (unacknowledged, acknowledged
        active, unacknowledged returned) of ``bridge``, by priority."""
        bridge.alarms_changed.connect(lambda _update: self._count_alarms(bridge.alarms()))
        self._count_alarms(bridge.alarms())

    def _count_alarms(self, alarms) -> None:
        counts = {p: 0 for p in ALARM_PRIORITIES}
        for alarm in alarms:
            if alarm.state in ANNUNCIATED:
                counts[alarm.priority] = counts.get(alarm.priority, 0) + 1
        self.show_alarms(counts)

    def energy_totals(self) -> EnergyTotals | None:
        """The last energy figures read, ``None`` before the first read completes."""
        return self._totals

    # -- workers --------------------------------------------------------------------------
    def _read_energy(self, t0: float, t1: float) -> None:
        relay = self._relay
        try:
            totals = energy_between(self.services.historian, self._meters, t0, t1)
        except Exception as err:  # reported on screen; the next refresh tries again
            result: tuple = (relay.failed, f"{type(err).__name__}: {err}")
        else:
            result = (relay.finished, totals)
        try:
            result[0].emit(result[1])
        except RuntimeError:  # the view was deleted meanwhile
            pass

    def _on_energy_finished(self, totals: EnergyTotals) -> None:
        self._totals = totals
        # meters without data yet (just started, or a new day): look again sooner
        self._energy_timer.setInterval(min(self._energy_refresh_ms, ENERGY_RETRY_MS) if totals.no_data
                                       else self._energy_refresh_ms)
        self._energy_error = ""
        self._energy_ok_at = time.time()
        self._show_energy()

    def _on_energy_failed(self, message: str) -> None:
        self._energy_error = message
        self._show_energy()

    # -- display --------------------------------------------------------------------------
    def _retranslate(self) -> None:
        self.load_tile.title.setText(self.tr("Total load"))
        for node in self._transformers:
            self.transformer_tiles[node.id].title.setText(self.tr("{name} load").format(name=node.name or node.id))
        self.energy_tile.title.setText(self.tr("Energy today"))
        self.alarm_tile.title.setText(self.tr("Active alarms"))
        self.category_heading.setText(self.tr("Energy today by sub-item"))
        self.area_heading.setText(self.tr("Energy today by area"))
        self._refresh_live()
        self._show_energy()
        self._show_alarm_tile()

    def changeEvent(self, event: QEvent) -> None:  # Qt override
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _on_bridge_values_changed(self, batch: dict[str, PointValue]) -> None:
        self._refresh_live()

    def _trust(self, tags: Sequence[str]) -> tuple[list[float], list[str]]:
        """Values of ``tags`` and why any of them is not trustworthy (empty if all are)."""
        status = self.services.device_status()
        values, problems = [], []
        for tag in tags:
            pv = self.services.bridge.value(tag)
            device = tag.split(".", 1)[0]
            st = status.get(device)
            if pv is None or pv.value is None:
                problems.append(self.tr("{tag}: no value yet").format(tag=tag))
                continue
            values.append(float(pv.value))
            if st is None or not st.online:
                problems.append(self.tr("{tag}: device offline").format(tag=tag))
            elif pv.quality is not Quality.GOOD:
                problems.append(f"{tag}: {pv.reason or Quality(pv.quality).name}")
        return values, problems

    def _refresh_live(self) -> None:
        if self._load_tags:
            values, problems = self._trust(self._load_tags)
            self.load_tile.show_value(f"{sum(values):,.1f} kW", not problems,
                                      "\n".join([*self._load_tags, *problems]),
                                      self.tr("{n} transformer meters").format(n=len(self._load_tags)))
        else:
            self.load_tile.show_value("—", False, self.tr("No transformer or incoming-line meter in the topology"))
        for node in self._transformers:
            device = self.services.site.device(node.device)
            tags = [device.tag("P"), device.tag("S")]
            values, problems = self._trust(tags)
            rated = node.ratings.get("Sn_kVA")
            note = ""
            if len(values) == 2 and rated:
                note = self.tr("Loading {pct:.0f} % of {kva:.0f} kVA").format(pct=100 * values[1] / rated, kva=rated)
            text = f"{values[0]:,.1f} kW" if values else "—"
            self.transformer_tiles[node.id].show_value(text, not problems, "\n".join([device.id, *problems]), note)

    def _show_energy(self) -> None:
        totals = self._totals
        stale = bool(self._energy_error)
        if totals is None:
            self.energy_tile.show_value("—", False, self._energy_error,
                                        self.tr("Reading the historian…") if not stale else self.tr("Database unreachable"))
        else:
            note = self.tr("since 00:00, {n} feeders").format(n=len(self._meters))
            complete = not totals.no_data
            tooltip = self._energy_error or "\n".join(
                [self.tr("No data today from:"), *totals.no_data] if totals.no_data else [])
            self.energy_tile.show_value(f"{totals.total:,.1f} kWh", complete and not stale, tooltip, note)
            cats = sorted(totals.by_category.items(),
                          key=lambda kv: CATEGORY_ORDER.index(kv[0]) if kv[0] in CATEGORY_ORDER else 99)
            self.by_category.show_rows([(k, category_label(k), v) for k, v in cats], stale)
            areas = sorted(totals.by_area.items(), key=lambda kv: -kv[1])
            self.by_area.show_rows([(k, self._area_name(k), v) for k, v in areas], stale)
        if stale:
            when = (datetime.fromtimestamp(self._energy_ok_at, self.services.site.tzinfo).strftime("%H:%M:%S")
                    if self._energy_ok_at else "—")
            self.energy_note.setText(self.tr("Database unreachable — energy figures as of {time}").format(time=when))
            self.energy_note.setToolTip(self._energy_error)
            _restyle(self.energy_note, "state", "offline")
        elif totals is not None:
            when = datetime.fromtimestamp(self._energy_ok_at, self.services.site.tzinfo).strftime("%H:%M:%S")
            text = self.tr("Energy since local midnight from the historian's 15-minute rollups; updated {time}.")
            missing = ""
            if totals.no_data:
                missing = " " + self.tr("{n} meters have no data yet today.").format(n=len(totals.no_data))
            self.energy_note.setText(text.format(time=when) + missing)
            self.energy_note.setToolTip("\n".join(totals.no_data))
            _restyle(self.energy_note, "state", "")

    def _area_name(self, area_id: str) -> str:
        try:
            return self.services.site.area(area_id).name or area_id
        except KeyError:
            return area_id

    def _show_alarm_tile(self) -> None:
        if self._alarm_counts is None:
            return
        total = sum(self._alarm_counts.values())
        parts = "  ".join(self.tr("priority {p}: {n}").format(p=p, n=n)
                          for p, n in sorted(self._alarm_counts.items()) if n)
        self.alarm_tile.show_value(str(total), True, "", parts or self.tr("none"))
