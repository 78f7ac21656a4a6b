"""Text on the single-line diagram: live values, names, and off-sheet connectors.

A value whose quality is not good is never drawn as a clean number: it is greyed,
hatched, prefixed with '?' and (bad or offline) struck through.
"""

from __future__ import annotations

import enum

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QFontMetricsF, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from widgets.sld.palette import SldPalette, sld_font


class ValueState(str, enum.Enum):
    """How trustworthy a shown value is."""

    GOOD = "good"
    UNCERTAIN = "uncertain"     #: e.g. stale: greyed, hatched, '?'
    BAD = "bad"                 #: greyed, hatched, '?', struck through
    OFFLINE = "offline"         #: the device does not answer: as bad


class ValueLabelItem(QGraphicsItem):
    """One live value, e.g. ``P 12.3 kW``, anchored at its top-left corner.

    Parameters
    ----------
    key : str
        Tag of the point shown (for tooltips).
    palette : SldPalette
    """

    FONT_PX = 11

    def __init__(self, key: str, palette: SldPalette) -> None:
        super().__init__()
        self.key = key
        self._palette = palette
        self._font = sld_font(self.FONT_PX)
        self._metrics = QFontMetricsF(self._font)
        self._text = ""
        self._state = ValueState.BAD
        self._rect = QRectF(0, 0, 0, self._metrics.height())
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    @property
    def text(self) -> str:
        """The text as drawn, marker included."""
        return self._shown()

    @property
    def state(self) -> ValueState:
        return self._state

    def _shown(self) -> str:
        return self._text if self._state is ValueState.GOOD else "?" + self._text

    def set_value(self, text: str, state: ValueState) -> bool:
        """Show ``text`` in ``state``; returns True when anything changed (and repaints)."""
        if text == self._text and state == self._state:
            return False
        self._text, self._state = text, ValueState(state)
        width = self._metrics.horizontalAdvance(self._shown()) + 4.0
        if abs(width - self._rect.width()) > 0.5:
            self.prepareGeometryChange()
            self._rect = QRectF(0, 0, width, self._metrics.height())
        self.update()
        return True

    def set_palette(self, palette: SldPalette) -> None:
        self._palette = palette
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        p = self._palette
        if self._state is not ValueState.GOOD:
            painter.fillRect(self._rect, QBrush(p.hatch, Qt.BrushStyle.BDiagPattern))
        font = self._font
        if self._state in (ValueState.BAD, ValueState.OFFLINE):
            font = sld_font(self.FONT_PX)
            font.setStrikeOut(True)
        painter.setFont(font)
        painter.setPen(p.text if self._state is ValueState.GOOD else p.text_dim)
        painter.drawText(self._rect.adjusted(2, 0, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         self._shown())


def is_cjk(text: str) -> bool:
    """True if ``text`` holds a CJK ideograph (drawn one character a line when vertical)."""
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


class NameLabelItem(QGraphicsItem):
    """A name on the diagram.

    Parameters
    ----------
    text : str
    palette : SldPalette
    vertical : bool
        Chinese text stacked one character a line (as circuit names under a panel's
        feeders are written); other text rotated a quarter turn. Anchored at top centre.
        Horizontal text is anchored at its left end, vertically centred.
    pixel_size : int
    bold : bool
    """

    def __init__(self, text: str, palette: SldPalette, vertical: bool = False, pixel_size: int = 12,
                 bold: bool = False) -> None:
        super().__init__()
        self._text = text
        self._palette = palette
        self._vertical = vertical
        self._font = sld_font(pixel_size, bold)
        m = QFontMetricsF(self._font)
        self._stacked = vertical and is_cjk(text)
        if self._stacked:
            w = max((m.horizontalAdvance(ch) for ch in text), default=0.0)
            h = m.height() * 0.92 * len(text)
            self._rect = QRectF(-w / 2 - 1, 0, w + 2, h)
        elif vertical:
            w = m.horizontalAdvance(text)
            self._rect = QRectF(-m.height() / 2, 0, m.height(), w + 2)
        else:
            w = m.horizontalAdvance(text)
            self._rect = QRectF(0, -m.height() / 2, w + 2, m.height())
        self._line_h = m.height() * 0.92
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    @property
    def text(self) -> str:
        return self._text

    def set_palette(self, palette: SldPalette) -> None:
        self._palette = palette
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setFont(self._font)
        painter.setPen(self._palette.text)
        r = self._rect
        if self._stacked:
            for i, ch in enumerate(self._text):
                painter.drawText(QRectF(r.left(), i * self._line_h, r.width(), self._line_h),
                                 Qt.AlignmentFlag.AlignCenter, ch)
        elif self._vertical:
            painter.save()
            painter.rotate(90)
            painter.drawText(QRectF(0, -r.width() / 2, r.height(), r.width()), Qt.AlignmentFlag.AlignVCenter,
                             self._text)
            painter.restore()
        else:
            painter.drawText(r, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self._text)


class ConnectorItem(QGraphicsItem):
    """Off-sheet connector: a flag naming where the wire goes on; clicking it navigates.

    Parameters
    ----------
    target : str
        Id of the sheet to open.
    text : str
        Shown in the flag, e.g. the busbar name and the number of circuits.
    palette : SldPalette
    direction : {'down', 'up', 'left', 'right'}
        Where the wire leaves the sheet; the flag points that way, its attachment point
        (item origin) on the opposite side.
    """

    clickable = True

    def __init__(self, target: str, text: str, palette: SldPalette, direction: str = "down") -> None:
        super().__init__()
        if direction not in ("down", "up", "left", "right"):
            raise ValueError(f"connector direction must be down/up/left/right, got {direction!r}")
        self.key = target
        self.target = target
        self._text = text
        self._palette = palette
        self.direction = direction
        self._font = sld_font(11)
        m = QFontMetricsF(self._font)
        w, h = m.horizontalAdvance(text) + 22.0, m.height() + 8.0
        if direction == "down":
            self._rect = QRectF(-w / 2, 0, w, h)
        elif direction == "up":
            self._rect = QRectF(-w / 2, -h, w, h)
        elif direction == "right":
            self._rect = QRectF(0, -h / 2, w, h)
        else:
            self._rect = QRectF(-w, -h / 2, w, h)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    @property
    def text(self) -> str:
        return self._text

    def set_palette(self, palette: SldPalette) -> None:
        self._palette = palette
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = self._rect
        tip = 9.0
        if self.direction == "down":
            poly = [r.topLeft(), r.topRight(), QPointF(r.right(), r.bottom() - tip),
                    QPointF(r.center().x(), r.bottom()), QPointF(r.left(), r.bottom() - tip)]
            text_rect = r.adjusted(0, 0, 0, -tip / 2)
        elif self.direction == "up":
            poly = [QPointF(r.left(), r.top() + tip), QPointF(r.center().x(), r.top()),
                    QPointF(r.right(), r.top() + tip), r.bottomRight(), r.bottomLeft()]
            text_rect = r.adjusted(0, tip / 2, 0, 0)
        elif self.direction == "right":
            poly = [r.topLeft(), QPointF(r.right() - tip, r.top()), QPointF(r.right(), r.center().y()),
                    QPointF(r.right() - tip, r.bottom()), r.bottomLeft()]
            text_rect = r.adjusted(0, 0, -tip / 2, 0)
        else:
            poly = [QPointF(r.left() + tip, r.top()), r.topRight(), r.bottomRight(),
                    QPointF(r.left() + tip, r.bottom()), QPointF(r.left(), r.center().y())]
            text_rect = r.adjusted(tip / 2, 0, 0, 0)
        painter.setPen(QPen(self._palette.link, 1.5))
        painter.setBrush(self._palette.background)
        painter.drawPolygon(QPolygonF(poly))
        painter.setFont(self._font)
        painter.setPen(self._palette.link)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, self._text)
