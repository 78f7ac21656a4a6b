"""The legend under a trend chart: which line is which point, its unit and axis, its latest
value and whether that value can be trusted.

One row per pen: a swatch of the pen's colour, the point (tag and short label), its
description, its unit and the axis it is drawn against, the newest value with its time,
and the quality of that value. A value whose quality is not good is greyed and marked
``?`` (uncertain or bad), and a pen with no sample says so, so a stale pen never reads
as a clean one. Strings are translated in the context ``TrendPlot``.

Quality codes are those of the point value object: 0 good, 1 uncertain, 2 bad.
"""

from __future__ import annotations

import datetime as dt
import math

from PySide6.QtCore import QCoreApplication, QEvent, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QAbstractScrollArea, QHeaderView, QTreeWidget, QTreeWidgetItem, \
    QWidget

#: Columns of the legend.
PEN, DESCRIPTION, AXIS, VALUE, TIME, QUALITY = range(6)

_GOOD, _UNCERTAIN = 0, 1
_SWATCH = QSize(28, 12)


def _tr(text: str) -> str:
    return QCoreApplication.translate("TrendPlot", text)


def axis_name(slot: int) -> str:
    """Operator's name of the axis in ``slot`` (0 the left axis, 1… the right-hand ones, outwards)."""
    if slot == 0:
        return _tr("left")
    return _tr("right") if slot == 1 else _tr("right %1").replace("%1", str(slot))


def quality_name(quality: int | None) -> str:
    """Operator's word for a quality code; ``None``: no sample."""
    if quality is None:
        return _tr("no data")
    return {_GOOD: _tr("good"), _UNCERTAIN: _tr("? uncertain")}.get(quality, _tr("? bad"))


class TrendLegend(QTreeWidget):
    """A table of the pens of a trend chart, as tall as its rows.

    Parameters
    ----------
    tz : datetime.tzinfo
        Zone the latest sample's time is shown in.
    stale_colour : str
        Text colour of a value whose quality is not good (``#rrggbb``).
    parent : QWidget | None
    """

    def __init__(self, tz: dt.tzinfo, stale_colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tz = tz
        self._stale = QColor(stale_colour)
        self._rows: dict[str, QTreeWidgetItem] = {}
        self._latest: dict[str, tuple[float, float, int] | None] = {}
        self.setColumnCount(6)
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setIconSize(_SWATCH)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        header = self.header()
        header.setStretchLastSection(False)
        for column in (PEN, AXIS, VALUE, TIME, QUALITY):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(DESCRIPTION, QHeaderView.ResizeMode.Stretch)
        for column in (VALUE,):
            self.headerItem().setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._retranslate()
        self.setVisible(False)

    # -- public ----------------------------------------------------------------------------
    def add_pen(self, key: str, label: str, description: str, unit: str, slot: int, colour: QColor) -> None:
        """Add a row for a pen (drawn against the axis in ``slot``, see :func:`axis_name`)."""
        item = QTreeWidgetItem(self)
        item.setIcon(PEN, _swatch(colour))
        item.setText(PEN, label)
        item.setToolTip(PEN, key)
        item.setText(DESCRIPTION, description)
        item.setToolTip(DESCRIPTION, description)
        item.setData(AXIS, Qt.ItemDataRole.UserRole, (unit, slot))
        item.setTextAlignment(VALUE, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._rows[key] = item
        self._latest[key] = None
        self._show_axis(item)
        self._show_latest(key)
        self.setVisible(True)
        self.updateGeometry()

    def remove_pen(self, key: str) -> None:
        """Drop a pen's row; unknown keys are ignored."""
        item = self._rows.pop(key, None)
        self._latest.pop(key, None)
        if item is not None:
            self.takeTopLevelItem(self.indexOfTopLevelItem(item))
        self.setVisible(bool(self._rows))
        self.updateGeometry()

    def set_description(self, key: str, description: str) -> None:
        """Replace a pen's description (the operator switched language)."""
        item = self._rows[key]
        item.setText(DESCRIPTION, description)
        item.setToolTip(DESCRIPTION, description)

    def set_slot(self, key: str, slot: int) -> None:
        """The pen is now drawn against the axis in ``slot`` (axes were re-packed)."""
        item = self._rows[key]
        unit, _ = item.data(AXIS, Qt.ItemDataRole.UserRole)
        item.setData(AXIS, Qt.ItemDataRole.UserRole, (unit, slot))
        self._show_axis(item)

    def set_latest(self, key: str, latest: tuple[float, float, int] | None) -> None:
        """Show a pen's newest sample: (epoch s UTC, value in the pen's unit, quality), or ``None``."""
        if self._latest.get(key) == latest:
            return
        self._latest[key] = latest
        self._show_latest(key)

    def row_text(self, key: str) -> list[str]:
        """The texts of a pen's row, column by column (what the operator reads)."""
        item = self._rows[key]
        return [item.text(c) for c in range(self.columnCount())]

    def row_greyed(self, key: str) -> bool:
        """True if the pen's latest value is shown greyed (not good, or no sample)."""
        return self._rows[key].data(QUALITY, Qt.ItemDataRole.ForegroundRole) is not None

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override): as tall as the header and the rows
        rows = max(1, len(self._rows))
        height = self.header().sizeHint().height() + rows * max(self.sizeHintForRow(0), _SWATCH.height() + 6)
        return QSize(super().sizeHint().width(), height + 2 * self.frameWidth())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return self.sizeHint()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    # -- internals -------------------------------------------------------------------------
    def _retranslate(self) -> None:
        self.setHeaderLabels([_tr("Pen"), _tr("Description"), _tr("Unit (axis)"), _tr("Latest value"),
                              _tr("Time"), _tr("Quality")])
        for key, item in self._rows.items():
            self._show_axis(item)
            self._show_latest(key)

    def _show_axis(self, item: QTreeWidgetItem) -> None:
        unit, slot = item.data(AXIS, Qt.ItemDataRole.UserRole)
        item.setText(AXIS, f"{unit} ({axis_name(slot)})" if unit else axis_name(slot))

    def _show_latest(self, key: str) -> None:
        item = self._rows[key]
        latest = self._latest[key]
        unit, _ = item.data(AXIS, Qt.ItemDataRole.UserRole)
        if latest is None or not math.isfinite(latest[1]):
            value, when = "—", "" if latest is None else _time_text(latest[0], self.tz)
            quality = None if latest is None else latest[2]
        else:
            value = f"{fixed(latest[1])} {unit}".rstrip()
            when, quality = _time_text(latest[0], self.tz), latest[2]
        item.setText(VALUE, value if quality in (None, _GOOD) else f"? {value}")
        item.setText(TIME, when)
        item.setText(QUALITY, quality_name(quality))
        item.setToolTip(QUALITY, "" if quality == _GOOD else _tr(
            "The latest value of this pen is not good: do not rely on it"))
        for column in (VALUE, TIME, QUALITY):   # not good: greyed; good: the theme's text colour
            item.setData(column, Qt.ItemDataRole.ForegroundRole, None if quality == _GOOD else QBrush(self._stale))
        font = QFont(item.font(QUALITY))
        font.setItalic(quality != _GOOD)
        item.setFont(QUALITY, font)


def fixed(value: float) -> str:
    """Four significant figures with the decimals kept (``142.0``, ``14.74``, ``2.880``), so a
    column of values does not jump between ``142`` and ``131.2``."""
    magnitude = abs(value)
    decimals = 0 if magnitude >= 1000 else 1 if magnitude >= 100 else 2 if magnitude >= 10 else 3
    return f"{value:.{decimals}f}"


def _time_text(t: float, tz: dt.tzinfo) -> str:
    return dt.datetime.fromtimestamp(t, tz).strftime("%m-%d %H:%M:%S")


def _swatch(colour: QColor) -> QIcon:
    """A short thick line in the pen's colour."""
    pixmap = QPixmap(_SWATCH)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setPen(QPen(colour, 3))
    painter.drawLine(2, _SWATCH.height() // 2, _SWATCH.width() - 2, _SWATCH.height() // 2)
    painter.end()
    return QIcon(pixmap)
