"""The Devices view: every device and point with value, quality, last update and comm state.

A tree (device rows, point rows below) over :class:`DeviceTreeModel`, a
``QAbstractItemModel`` that holds the newest :class:`~app.points.PointValue` per tag
in flat lists and signals ``dataChanged`` per changed device block, so a 10 Hz batch
of hundreds of values costs one repaint of the visible rows. Points whose quality is
not GOOD, and every point of an offline device, are greyed and marked ``?`` with the
reason in the tooltip.
"""

from __future__ import annotations

import math
from datetime import datetime

from PySide6.QtCore import (QAbstractItemModel, QCoreApplication, QEvent, QModelIndex, QObject,
                            QSortFilterProxyModel, Qt, QTimer, Signal)
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QHeaderView, QLineEdit, QTreeView, QVBoxLayout, QWidget

from app.config import Device
from app.config.point import Point, PointKind
from app.points import PointValue, Quality
from app.ui.services import UiServices
from app.ui.theme import colours

STATUS_REFRESH_MS = 1000
NAME, DESCRIPTION, VALUE, QUALITY, UPDATED, DETAILS = range(6)
_DEVICE = 0  # internalId of device rows; point rows carry device index + 1

_DECIMALS = {"V": 1, "A": 2, "kW": 2, "kvar": 2, "kVA": 2, "kWh": 1, "kvarh": 1, "Hz": 2, "%": 1,
             "%RH": 1, "°C": 1, "mA": 1, "m³": 2, "m³/h": 2, "kPa": 1, "": 3}


def state_label(point: Point, value: float) -> str:
    """The state text of a teleindication value (translated in context ``PointStates``)."""
    if not math.isfinite(value):
        return "—"
    label = point.states.get(int(value))
    if label is None:
        return str(int(value))
    return QCoreApplication.translate("PointStates", label)


def format_value(point: Point, value: float | None) -> str:
    """Value with unit as shown to the operator (state label for teleindications).

    Parameters
    ----------
    point : Point
    value : float or None
        Engineering value in ``point.unit``; ``None`` or NaN shows as ``"—"``.
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if point.states:
        return state_label(point, value)
    text = f"{value:.{_DECIMALS.get(point.unit, 2)}f}"
    return f"{text} {point.unit}" if point.unit else text


def quality_label(quality: Quality) -> str:
    """Operator's word for a quality (translated)."""
    return {Quality.GOOD: QCoreApplication.translate("DevicesView", "Good"), Quality.UNCERTAIN: QCoreApplication.translate("DevicesView", "Uncertain"), Quality.BAD: QCoreApplication.translate("DevicesView", "Bad")}[quality]


class DeviceTreeModel(QAbstractItemModel):
    """Devices and their points, with live values.

    Parameters
    ----------
    services : UiServices
        Site (structure), bridge (values), device_status (comm state), settings (theme).
    """

    def __init__(self, services: UiServices, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._tz = services.site.tzinfo
        self._devices: list[Device] = list(services.site.devices)
        self._points: list[list[Point]] = [list(d.points) for d in self._devices]
        self._where: dict[str, tuple[int, int]] = {}
        self._values: list[list[PointValue | None]] = []
        for i, d in enumerate(self._devices):
            row = []
            for j, p in enumerate(self._points[i]):
                tag = d.tag(p.name)
                self._where[tag] = (i, j)
                row.append(services.bridge.value(tag))
            self._values.append(row)
        self._online = [False] * len(self._devices)
        self._last_good = [0.0] * len(self._devices)
        self._scans = [0] * len(self._devices)
        self.refresh_status()

    # -- updates --------------------------------------------------------------------------
    def update_values(self, batch: dict[str, PointValue]) -> None:
        """Take a bridge batch; one ``dataChanged`` per device block touched."""
        spans: dict[int, list[int]] = {}
        for tag, pv in batch.items():
            where = self._where.get(tag)
            if where is None:
                continue
            i, j = where
            self._values[i][j] = pv
            span = spans.setdefault(i, [j, j])
            span[0] = min(span[0], j)
            span[1] = max(span[1], j)
        for i, (lo, hi) in spans.items():
            parent = self.index(i, 0)
            self.dataChanged.emit(self.index(lo, VALUE, parent), self.index(hi, DETAILS, parent))
            self.dataChanged.emit(self.index(i, QUALITY), self.index(i, UPDATED))

    def refresh_status(self) -> None:
        """Re-read device comm state; a device going on/offline repaints its points."""
        status = self._services.device_status()
        for i, d in enumerate(self._devices):
            st = status.get(d.id)
            online = bool(st and st.online)
            self._last_good[i] = st.last_good_ts if st else 0.0
            self._scans[i] = st.scans if st else 0
            if online != self._online[i]:
                self._online[i] = online
                if self._points[i]:
                    parent = self.index(i, 0)
                    self.dataChanged.emit(self.index(0, 0, parent),
                                          self.index(len(self._points[i]) - 1, DETAILS, parent))
        if self._devices:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._devices) - 1, DETAILS))

    def retranslate(self) -> None:
        """Re-emit headers and cells after a language switch."""
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, DETAILS)
        if not self._devices:
            return
        self.dataChanged.emit(self.index(0, 0), self.index(len(self._devices) - 1, DETAILS))
        for i, points in enumerate(self._points):
            if points:
                parent = self.index(i, 0)
                self.dataChanged.emit(self.index(0, 0, parent), self.index(len(points) - 1, DETAILS, parent))

    def point_at(self, index: QModelIndex) -> tuple[str, Point] | None:
        """(device id, point) of a point row of this model; None for a device row or no row."""
        if not index.isValid() or index.internalId() == _DEVICE:
            return None
        i = index.internalId() - 1
        return self._devices[i].id, self._points[i][index.row()]

    def is_greyed(self, device_row: int, point_row: int) -> bool:
        """Whether that point is shown greyed (quality not GOOD, no value, or device offline)."""
        pv = self._values[device_row][point_row]
        return (not self._online[device_row]) or pv is None or pv.quality is not Quality.GOOD

    # -- Qt model interface ---------------------------------------------------------------
    def index(self, row: int, column: int, parent: QModelIndex = QModelIndex()) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, _DEVICE)
        return self.createIndex(row, column, parent.row() + 1)

    def parent(self, index: QModelIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid() or index.internalId() == _DEVICE:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, _DEVICE)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        if not parent.isValid():
            return len(self._devices)
        if parent.internalId() == _DEVICE and parent.column() == 0:
            return len(self._points[parent.row()])
        return 0

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 6

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return (QCoreApplication.translate("DevicesView", "Device / point"), QCoreApplication.translate("DevicesView", "Description"), QCoreApplication.translate("DevicesView", "Value"), QCoreApplication.translate("DevicesView", "Quality"),
                QCoreApplication.translate("DevicesView", "Last update"), QCoreApplication.translate("DevicesView", "Communication / reason"))[section]

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if index.internalId() == _DEVICE:
            return self._device_data(index.row(), index.column(), role)
        return self._point_data(index.internalId() - 1, index.row(), index.column(), role)

    def _time(self, ts: float) -> str:
        if ts <= 0:
            return "—"
        return datetime.fromtimestamp(ts, self._tz).strftime("%m-%d %H:%M:%S")

    def _device_data(self, i: int, col: int, role: int):
        d = self._devices[i]
        online = self._online[i]
        if role == Qt.ItemDataRole.DisplayRole:
            if col == NAME:
                return f"{d.id}  {d.name}"
            if col == DESCRIPTION:
                return f"{d.protocol.value}  {d.host}:{d.port}" if d.host else d.protocol.value
            if col == QUALITY:
                bad = sum(1 for j in range(len(self._points[i])) if self.is_greyed(i, j))
                return QCoreApplication.translate("DevicesView", "{n} not good").format(n=bad) if bad else QCoreApplication.translate("DevicesView", "All good")
            if col == UPDATED:
                return self._time(self._last_good[i])
            if col == DETAILS:
                if online:
                    return QCoreApplication.translate("DevicesView", "Online")
                return QCoreApplication.translate("DevicesView", "Offline") if self._scans[i] else QCoreApplication.translate("DevicesView", "Not yet scanned")
            return None
        if role == Qt.ItemDataRole.ForegroundRole and col == DETAILS and not online:
            return colours(self._services.settings.theme).q("offline")
        if role == Qt.ItemDataRole.FontRole and col == NAME:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.UserRole:
            return online
        return None

    def _point_data(self, i: int, j: int, col: int, role: int):
        point = self._points[i][j]
        pv = self._values[i][j]
        greyed = self.is_greyed(i, j)
        if role == Qt.ItemDataRole.DisplayRole:
            if col == NAME:
                return point.name
            if col == DESCRIPTION:
                return point.describe(self._services.settings.language)
            if col == VALUE:
                text = format_value(point, None if pv is None else pv.value)
                return f"? {text}" if greyed and pv is not None else text
            if col == QUALITY:
                if not self._online[i]:
                    return "? " + QCoreApplication.translate("DevicesView", "Device offline")
                if pv is None:
                    return QCoreApplication.translate("DevicesView", "No value yet")
                return quality_label(pv.quality) if pv.quality is Quality.GOOD else "? " + quality_label(pv.quality)
            if col == UPDATED:
                return self._time(pv.ts) if pv is not None else "—"
            if col == DETAILS:
                return pv.reason if pv is not None else ""
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            tag = self._devices[i].tag(point.name)
            lines = [tag, f"{point.kind.value}  {point.describe(self._services.settings.language)}"]
            if pv is not None and pv.reason:
                lines.append(QCoreApplication.translate("DevicesView", "Reason: {reason}").format(reason=pv.reason))
            if not self._online[i]:
                lines.append(QCoreApplication.translate("DevicesView", "Device offline: value is the last one received"))
            if is_switchable(point):
                lines.append(QCoreApplication.translate("DevicesView",
                                                        "Double-click to operate it (select before operate)"))
            return "\n".join(lines)
        if role == Qt.ItemDataRole.ForegroundRole and greyed and col in (VALUE, QUALITY, UPDATED, DETAILS):
            return colours(self._services.settings.theme).q("bad")
        if role == Qt.ItemDataRole.FontRole and col == VALUE and greyed:
            font = QFont()
            font.setItalic(True)
            font.setStrikeOut(pv is not None and pv.quality is Quality.BAD)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and col == VALUE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return not greyed
        return None


class AbnormalFilterModel(QSortFilterProxyModel):
    """Text filter over every column, optionally only points shown greyed (not GOOD/offline)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.only_abnormal = False
        self.setRecursiveFilteringEnabled(True)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)

    def set_only_abnormal(self, on: bool) -> None:
        self.beginFilterChange()
        self.only_abnormal = on
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:  # Qt override
        if self.only_abnormal:
            if not parent.isValid():
                return False  # device rows show when one of their points matches (recursive)
            good = self.sourceModel().index(row, VALUE, parent).data(Qt.ItemDataRole.UserRole)
            if good:
                return False
        return super().filterAcceptsRow(row, parent)


def is_switchable(point: Point) -> bool:
    """A two-state telecontrol point (0/1: open/close, stop/run), operated through the control dialog."""
    return point.kind is PointKind.TELECONTROL and {0, 1} <= set(point.states)


class DevicesView(QWidget):
    """Every device and point of the site, live.

    Parameters
    ----------
    services : UiServices
    parent : QWidget, optional

    Signals
    -------
    control_requested(str, str)
        The operator double-clicked a two-state telecontrol point (lighting circuit,
        fan, pump, AC unit, breaker): device id, point name. The workstation opens the
        control dialog (select before operate) on it.
    """

    control_requested = Signal(str, str)

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.model = DeviceTreeModel(services, self)
        self.proxy = AbnormalFilterModel(self)
        self.proxy.setSourceModel(self.model)

        self.filter_edit = QLineEdit(self)
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.abnormal_check = QCheckBox(self)
        self.abnormal_check.toggled.connect(self._on_abnormal_toggled)
        self.tree = QTreeView(self)
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setEditTriggers(QTreeView.EditTrigger.NoEditTriggers)
        self.tree.doubleClicked.connect(self._on_tree_double_clicked)
        header = self.tree.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in ((NAME, 300), (DESCRIPTION, 260), (VALUE, 130), (QUALITY, 130), (UPDATED, 130)):
            header.resizeSection(col, width)
        header.setStretchLastSection(True)

        bar = QHBoxLayout()
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.abnormal_check)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addWidget(self.tree, 1)

        services.bridge.values_changed.connect(self.model.update_values)
        self._timer = QTimer(self)
        self._timer.setInterval(STATUS_REFRESH_MS)
        self._timer.timeout.connect(self.model.refresh_status)
        self._timer.start()
        self._retranslate()

    def _retranslate(self) -> None:
        self.filter_edit.setPlaceholderText(self.tr("Filter devices and points (id, name, description, value)"))
        self.abnormal_check.setText(self.tr("Only points not good"))
        self.model.retranslate()

    def _on_tree_double_clicked(self, index: QModelIndex) -> None:
        found = self.model.point_at(self.proxy.mapToSource(index))
        if found is not None and is_switchable(found[1]):
            self.control_requested.emit(found[0], found[1].name)

    def _on_abnormal_toggled(self, on: bool) -> None:
        self.proxy.set_only_abnormal(on)
        if on:
            self.tree.expandAll()

    def changeEvent(self, event: QEvent) -> None:  # Qt override
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)
