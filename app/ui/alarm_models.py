"""What the alarm views show: filters, grouping, item models of alarms and journal events, CSV.

Qt item models only (no widgets): :class:`AlarmTreeModel` (active alarms, consequential
alarms grouped under their cause) and :class:`EventTableModel` (journal rows), the
active list's :class:`AlarmFilter`, and :data:`EventReader`, the journal read the event
history needs from the historian.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from PySide6.QtCore import (QAbstractItemModel, QAbstractTableModel, QCoreApplication, QModelIndex, QObject,
                            QPersistentModelIndex, Qt)
from PySide6.QtGui import QBrush, QColor, QFont

from app.alarms import Alarm, AlarmState, AlarmText, EventKind
from app.alarms.messages import VALUELESS_RULE_TYPES, cause_text, compose
from app.config import SiteConfig
from app.ui.alarm_bridge import ANNUNCIATED, UNACKNOWLEDGED
from app.ui.theme import colours
from widgets.alarm_banner import PRIORITIES, PRIORITY_COLOURS, PRIORITY_TEXT

_CJK_FAMILY = "Noto Sans CJK SC"
#: Item data role holding the alarm id.
ID_ROLE = Qt.ItemDataRole.UserRole
#: Most events one history query returns.
EVENT_LIMIT = 10_000


class EventReader(Protocol):
    """The journal read the event history tab needs (the historian's, to be added to
    :class:`db.historian.Historian` as ``read_events``); called on a worker thread.

    ``read_events(t0, t1, *, areas=None, priorities=None, kinds=None, text=None, limit=10000)``

    Parameters
    ----------
    t0, t1 : float
        Epoch s UTC; events with ``t0 <= ts < t1``.
    areas : collection of str, optional
        Area ids (the view passes an area and all areas below it); None: every area.
    priorities : collection of int, optional
        Priorities 0..4 (0: flood events); None: all.
    kinds : collection of str, optional
        ``events.kind`` values (:class:`~app.alarms.EventKind` values); None: all.
    text : str, optional
        Case-insensitive substring of ``source`` or ``message``, or of ``data.alarm_id``.
    limit : int
        Most rows returned, newest first.

    Returns
    -------
    list of dict
        Rows of the ``events`` table, newest first, shaped as
        :meth:`app.alarms.AlarmEvent.to_row` gives them: ``ts`` (int, ms UTC), ``kind``,
        ``source``, ``area``, ``priority``, ``message``, ``user``, ``workstation``,
        ``data`` (dict with ``alarm_id``, ``state``, ``value``, ``limit``, ``reason``,
        ``cause``; may be None).

    Raises
    ------
    db.historian.HistorianError
        The database cannot be reached.
    """

    def __call__(self, t0: float, t1: float, *, areas: Collection[str] | None = None,
                 priorities: Collection[int] | None = None, kinds: Collection[str] | None = None,
                 text: str | None = None, limit: int = EVENT_LIMIT) -> list[dict[str, Any]]: ...


# ---------------------------------------------------------------------------- filtering
@dataclass(frozen=True)
class AlarmFilter:
    """What the active list shows.

    Attributes
    ----------
    since_s : float or None
        Raised within this many seconds; None: any time.
    areas : frozenset of str or None
        Area ids (with those below them); None: every area.
    priorities : frozenset of int
        Priorities shown.
    states : frozenset of AlarmState or None
        States shown; None: every state the engine shows.
    text : str
        Case-insensitive substring of the id, source, device name, message or note.
    """

    since_s: float | None = None
    areas: frozenset[str] | None = None
    priorities: frozenset[int] = frozenset(PRIORITIES)
    states: frozenset[AlarmState] | None = ANNUNCIATED
    text: str = ""

    def matches(self, alarm: Alarm, now: float, names: Mapping[str, str]) -> bool:
        """True if ``alarm`` passes; ``names`` maps device ids to their names for the text search."""
        if self.since_s is not None and alarm.raised_ts < now - self.since_s:
            return False
        if self.areas is not None and alarm.area not in self.areas:
            return False
        if alarm.priority not in self.priorities:
            return False
        if self.states is not None and alarm.state not in self.states:
            return False
        if self.text:
            needle = self.text.casefold()
            hay = (alarm.id, alarm.source, names.get(alarm.device, ""), alarm.message, alarm.note)
            if not any(needle in h.casefold() for h in hay):
                return False
        return True


def group_alarms(alarms: Sequence[Alarm]) -> list[tuple[Alarm, list[Alarm]]]:
    """Consequential alarms under their cause, keeping the engine's order.

    Parameters
    ----------
    alarms : sequence of Alarm
        As the engine lists them.

    Returns
    -------
    list of (Alarm, list of Alarm)
        Each top-level alarm with the alarms whose ``cause`` is its id. An alarm whose
        cause is not in ``alarms`` (acknowledged and cleared already) stands alone.
    """
    ids = {a.id for a in alarms}
    children: dict[str, list[Alarm]] = {}
    top: list[Alarm] = []
    for alarm in alarms:
        if alarm.cause and alarm.cause in ids and alarm.cause != alarm.id:
            children.setdefault(alarm.cause, []).append(alarm)
        else:
            top.append(alarm)
    return [(a, children.get(a.id, [])) for a in top]


def filter_groups(groups: Iterable[tuple[Alarm, list[Alarm]]], keep: Callable[[Alarm], bool]
                  ) -> list[tuple[Alarm, list[Alarm]]]:
    """Groups whose cause or any consequence passes ``keep``; a cause is kept for the
    context of a passing consequence, consequences that do not pass are left out."""
    out = []
    for parent, kids in groups:
        kept = [k for k in kids if keep(k)]
        if kept or keep(parent):
            out.append((parent, kept))
    return out


def banner_choice(alarms: Iterable[Alarm]) -> Alarm | None:
    """The alarm the banner shows: unacknowledged and not hidden, most urgent, newest raised.

    A consequential alarm (``cause`` set) gives way to the alarm that caused it: the
    operator sees the trip, not the loss of voltage it brought; consequences are shown
    only when no cause is waiting for acknowledgement.
    """
    alarms = list(alarms)
    causes = [a for a in alarms if not a.cause and a.state in UNACKNOWLEDGED]
    best: Alarm | None = None
    for a in causes or alarms:
        if a.state not in UNACKNOWLEDGED:
            continue
        if best is None or (a.priority, -a.raised_ts) < (best.priority, -best.raised_ts):
            best = a
    return best


def area_descendants(site: SiteConfig, area_id: str) -> frozenset[str]:
    """``area_id`` and the ids of every area below it.

    Raises
    ------
    KeyError
        Unknown area (from :meth:`SiteConfig.area`).
    """
    return frozenset(a.id for a in site.area(area_id).walk())


# ---------------------------------------------------------------------------- text helpers
def _state_names() -> dict[AlarmState, str]:
    return {
        AlarmState.NORMAL: tr("Normal"),
        AlarmState.UNACK_ACTIVE: tr("Unacknowledged"),
        AlarmState.ACK_ACTIVE: tr("Acknowledged"),
        AlarmState.UNACK_RTN: tr("Returned, unacknowledged"),
        AlarmState.SHELVED: tr("Shelved"),
        AlarmState.SUPPRESSED: tr("Suppressed"),
        AlarmState.OUT_OF_SERVICE: tr("Out of service"),
    }


def _kind_names() -> dict[str, str]:
    return {
        EventKind.RAISED.value: tr("Raised"),
        EventKind.CLEARED.value: tr("Cleared"),
        EventKind.ACKED.value: tr("Acknowledged"),
        EventKind.SHELVED.value: tr("Shelved"),
        EventKind.UNSHELVED.value: tr("Unshelved"),
        EventKind.SHELF_EXPIRED.value: tr("Shelving expired"),
        EventKind.SUPPRESSED.value: tr("Suppressed"),
        EventKind.UNSUPPRESSED.value: tr("Suppression ended"),
        EventKind.REMOVED.value: tr("Out of service"),
        EventKind.RESTORED.value: tr("Returned to service"),
        EventKind.FLOOD_BEGAN.value: tr("Flood began"),
        EventKind.FLOOD_ENDED.value: tr("Flood ended"),
        EventKind.NOTIFIED.value: tr("Notified"),
    }


def tr(text: str) -> str:
    """``text`` translated in the context ``AlarmView`` (for texts built outside the view)."""
    return QCoreApplication.translate("AlarmView", text)


def text_tr(text: str) -> str:
    """``text`` translated in the context ``AlarmText`` (the words of alarm texts, see
    :mod:`app.alarms.messages`)."""
    return QCoreApplication.translate("AlarmText", text)


def state_tr(label: str) -> str:
    """A point's state label translated in the context ``PointStates``."""
    return QCoreApplication.translate("PointStates", label)


def alarm_message(text: AlarmText, message: str, language: str) -> str:
    """An alarm's text in the UI language: ``text`` worded with Qt translations and the
    configured descriptions of ``language``; ``message`` (the engine's text, in the site's
    language) when ``text`` is empty (journal rows written before alarms had parts)."""
    if not text.rule_type:
        return message
    return compose(text, language, text_tr)


def alarm_cause(code: int | None, label: str) -> str:
    """A trip's cause in the UI language (empty when not known)."""
    return cause_text(code, label, state_tr, text_tr)


def event_message(row: dict[str, Any], language: str) -> str:
    """A journal row's message in the UI language (see :data:`EventReader` for the row).

    Alarm events are worded from ``data.text`` (a raise of a trip with its cause);
    rows without parts (flood events, rows of older versions) keep the stored message,
    which is in the site's language.
    """
    data = row.get("data") or {}
    raw = data.get("text")
    text = AlarmText(**{k: str(v) for k, v in raw.items() if k in AlarmText._fields}) if isinstance(raw, dict) \
        else AlarmText()
    message = alarm_message(text, str(row.get("message") or ""), language)
    code = data.get("cause_code")
    if row.get("kind") == EventKind.RAISED.value and isinstance(code, int):
        cause = alarm_cause(code, str(data.get("cause_label") or ""))
        return f"{message} ({cause})"
    return message


def _number(value: float | None) -> str:
    """A value or limit as shown: at most two decimals, no trailing zeros; empty for None."""
    if value is None:
        return ""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


class Names:
    """Operator names of sources: devices by name, points as ``<device name> <point>``, areas by name."""

    def __init__(self, site: SiteConfig) -> None:
        self.devices = {d.id: d.name or d.id for d in site.devices}
        self.areas = {a.id: a.name or a.id for root in site.areas for a in root.walk()}

    def source(self, source: str) -> str:
        device, _, point = source.partition(".")
        if device in self.devices:
            return f"{self.devices[device]} {point}".rstrip()
        return self.areas.get(source, source)

    def area(self, area_id: str) -> str:
        return self.areas.get(area_id, area_id)


# ---------------------------------------------------------------------------- models
ALARM_COLUMNS = ("time", "priority", "state", "area", "source", "message", "value", "limit", "note")


class AlarmTreeModel(QAbstractItemModel):
    """Alarms as a two-level tree: causes (and lone alarms) at the top, consequences below.

    Columns: :data:`ALARM_COLUMNS`. ``UserRole`` of every cell is the alarm id. The
    priority cell is filled in its priority's colour; an unacknowledged alarm's
    priority cell flashes (:meth:`set_phase`).
    """

    def __init__(self, site: SiteConfig, theme: Callable[[], str], parent: QObject | None = None,
                 language: Callable[[], str] | None = None) -> None:
        super().__init__(parent)
        self._names = Names(site)
        self._tz = site.tzinfo
        self._theme = theme
        self._language = language or (lambda: site.language)
        self._groups: list[tuple[Alarm, list[Alarm]]] = []
        self._parent_of: dict[str, int] = {}      # child id -> row of its group
        self._phase = True
        self._states = _state_names()
        self._headers = self._header_texts()

    # -- content ------------------------------------------------------------------------------
    def set_groups(self, groups: list[tuple[Alarm, list[Alarm]]]) -> None:
        self.beginResetModel()
        self._groups = groups
        self._parent_of = {k.id: row for row, (_, kids) in enumerate(groups) for k in kids}
        self.endResetModel()

    def groups(self) -> list[tuple[Alarm, list[Alarm]]]:
        return list(self._groups)

    def alarms(self) -> list[Alarm]:
        """Every alarm in the model, causes before their consequences."""
        return [a for parent, kids in self._groups for a in (parent, *kids)]

    def alarm(self, index: QModelIndex) -> Alarm | None:
        if not index.isValid():
            return None
        parent = index.internalId()
        if parent == 0:
            return self._groups[index.row()][0]
        return self._groups[parent - 1][1][index.row()]

    def index_of(self, alarm_id: str) -> QModelIndex:
        """Index (column 0) of ``alarm_id``; invalid if not shown."""
        for row, (parent, kids) in enumerate(self._groups):
            if parent.id == alarm_id:
                return self.index(row, 0)
            for krow, kid in enumerate(kids):
                if kid.id == alarm_id:
                    return self.index(krow, 0, self.index(row, 0))
        return QModelIndex()

    def set_phase(self, phase: bool) -> None:
        """Flash phase of unacknowledged alarms' priority cells."""
        self._phase = phase
        column = ALARM_COLUMNS.index("priority")
        for row, (parent, kids) in enumerate(self._groups):
            if parent.state in UNACKNOWLEDGED:
                idx = self.index(row, column)
                self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole])
            for krow, kid in enumerate(kids):
                if kid.state in UNACKNOWLEDGED:
                    idx = self.index(krow, column, self.index(row, 0))
                    self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole])

    def retranslate(self) -> None:
        self._states = _state_names()
        self._headers = self._header_texts()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(ALARM_COLUMNS) - 1)
        if self._groups:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._groups) - 1, len(ALARM_COLUMNS) - 1))

    def cell_text(self, alarm: Alarm, column: str) -> str:
        """The text shown for ``alarm`` in ``column`` (also what CSV export writes)."""
        if column == "time":
            return datetime.fromtimestamp(alarm.raised_ts, self._tz).strftime("%Y-%m-%d %H:%M:%S") \
                if alarm.raised_ts else ""
        if column == "priority":
            return str(alarm.priority)
        if column == "state":
            return self._states.get(alarm.state, alarm.state.value)
        if column == "area":
            return self._names.area(alarm.area)
        if column == "source":
            return self._names.source(alarm.source)
        if column == "message":
            return alarm_message(alarm.text, alarm.message, self._language())
        if column in ("value", "limit") and alarm.text.rule_type in VALUELESS_RULE_TYPES:
            return ""
        if column == "value":
            return _number(alarm.value)
        if column == "limit":
            return _number(alarm.limit)
        parts = []
        if alarm.acked_by:
            parts.append(tr("acknowledged by %1").replace("%1", alarm.acked_by))
        if alarm.state is AlarmState.SHELVED and alarm.shelved_until:
            until = datetime.fromtimestamp(alarm.shelved_until, self._tz).strftime("%H:%M")
            parts.append(tr("shelved by %1 until %2").replace("%1", alarm.shelved_by)
                         .replace("%2", until))
        cause = alarm_cause(alarm.cause_code, alarm.cause_label)
        if cause:
            parts.append(cause)
        if alarm.note:
            parts.append(alarm.note)
        return "; ".join(parts)

    def headers(self) -> list[str]:
        return list(self._headers)

    # -- Qt model interface -------------------------------------------------------------------
    def index(self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = QModelIndex()
              ) -> QModelIndex:
        if not parent.isValid():
            if 0 <= row < len(self._groups):
                return self.createIndex(row, column, 0)
            return QModelIndex()
        if parent.internalId() != 0:
            return QModelIndex()
        kids = self._groups[parent.row()][1]
        if 0 <= row < len(kids):
            return self.createIndex(row, column, parent.row() + 1)
        return QModelIndex()

    def parent(self, index: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, 0)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        if not parent.isValid():
            return len(self._groups)
        if parent.internalId() == 0 and parent.column() == 0:
            return len(self._groups[parent.row()][1])
        return 0

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return len(ALARM_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        alarm = self.alarm(QModelIndex(index))
        if alarm is None:
            return None
        column = ALARM_COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell_text(alarm, column)
        if role == ID_ROLE:
            return alarm.id
        if role == Qt.ItemDataRole.ToolTipRole:
            return alarm.id
        hidden = alarm.state in (AlarmState.SHELVED, AlarmState.SUPPRESSED, AlarmState.OUT_OF_SERVICE)
        if column == "priority" and role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole):
            lit = not hidden and (self._phase or alarm.state not in UNACKNOWLEDGED)
            if role == Qt.ItemDataRole.BackgroundRole:
                return QBrush(QColor(PRIORITY_COLOURS[alarm.priority])) if lit else None
            return QBrush(QColor(PRIORITY_TEXT[alarm.priority])) if lit else None
        if column == "priority" and role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignCenter
        if role == Qt.ItemDataRole.ForegroundRole and (hidden or alarm.state is AlarmState.UNACK_RTN):
            return QBrush(colours(self._theme()).q("muted"))
        if role == Qt.ItemDataRole.FontRole and alarm.state is AlarmState.UNACK_ACTIVE:
            font = QFont(_CJK_FAMILY)
            font.setBold(True)
            return font
        return None

    def _header_texts(self) -> list[str]:
        return [tr("Time"), tr("Priority"), tr("State"), tr("Area"), tr("Source"), tr("Message"),
                tr("Value"), tr("Limit"), tr("Note")]


EVENT_COLUMNS = ("time", "kind", "priority", "area", "source", "message", "value", "limit", "user",
                 "workstation", "reason")


class EventTableModel(QAbstractTableModel):
    """Journal rows (see :data:`EventReader`), newest first; columns :data:`EVENT_COLUMNS`."""

    def __init__(self, site: SiteConfig, parent: QObject | None = None,
                 language: Callable[[], str] | None = None) -> None:
        super().__init__(parent)
        self._names = Names(site)
        self._tz = site.tzinfo
        self._language = language or (lambda: site.language)
        self._rows: list[dict[str, Any]] = []
        self._kinds = _kind_names()
        self._headers = self._header_texts()

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def rows(self) -> list[dict[str, Any]]:
        return list(self._rows)

    def headers(self) -> list[str]:
        return list(self._headers)

    def retranslate(self) -> None:
        self._kinds = _kind_names()
        self._headers = self._header_texts()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(EVENT_COLUMNS) - 1)
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(EVENT_COLUMNS) - 1))

    def cell_text(self, row: dict[str, Any], column: str) -> str:
        """The text shown for journal ``row`` in ``column`` (also what CSV export writes)."""
        data = row.get("data") or {}
        if column == "time":
            return datetime.fromtimestamp(row["ts"] / 1000.0, self._tz).strftime("%Y-%m-%d %H:%M:%S")
        if column == "kind":
            return self._kinds.get(row.get("kind", ""), row.get("kind", ""))
        if column == "priority":
            return str(row.get("priority") or "")
        if column == "area":
            return self._names.area(row.get("area", ""))
        if column == "source":
            return self._names.source(row.get("source", ""))
        if column in ("value", "limit"):
            value = data.get(column)
            return _number(value) if isinstance(value, (int, float)) else ""
        if column == "reason":
            return str(data.get("reason") or "")
        if column == "message":
            return event_message(row, self._language())
        return str(row.get(column) or "")

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return len(EVENT_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = EVENT_COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell_text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return str((row.get("data") or {}).get("alarm_id") or row.get("source", ""))
        return None

    def _header_texts(self) -> list[str]:
        return [tr("Time"), tr("Event"), tr("Priority"), tr("Area"), tr("Source"), tr("Message"), tr("Value"),
                tr("Limit"), tr("User"), tr("Workstation"), tr("Reason")]


def write_csv(path: str, headers: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    """Write a CSV file (UTF-8 with BOM, so spreadsheet programs read Chinese text right).

    Returns
    -------
    int
        Data rows written.

    Raises
    ------
    OSError
        The file cannot be written.
    """
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


@dataclass(frozen=True)
class EventQuery:
    """One event history query (arguments of :data:`EventReader`)."""

    t0: float
    t1: float
    areas: frozenset[str] | None = None
    priorities: frozenset[int] | None = None
    kinds: frozenset[str] | None = None
    text: str | None = None
    limit: int = EVENT_LIMIT
