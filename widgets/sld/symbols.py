"""Equipment symbols of the single-line diagram (GB/T 4728 / IEC 60617 forms).

Every symbol is centred on its item position, in scene pixels, and exposes the points
where wires attach (:meth:`SymbolItem.port_top`, :meth:`SymbolItem.port_bottom`,
:meth:`SymbolItem.port_left`, :meth:`SymbolItem.port_right`, item coordinates).
State comes in through plain setters that repaint only when something changed, so a
diagram of hundreds of items costs a repaint only where a value moved.

Energisation is passed as the strings ``'live'``, ``'dead'`` or ``'unknown'``.
An alarm draws a frame in the priority's colour around the symbol: steady once
acknowledged, flashing (driven by :class:`widgets.sld.canvas.SldCanvas`) until then.
"""

from __future__ import annotations

import enum

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from widgets.sld.palette import SldPalette, sld_font

ENERGISATIONS = ("live", "dead", "unknown")
FRAME_MARGIN = 5.0


def conductor_pen(palette: SldPalette, energised: str, width: float) -> QPen:
    """Pen of a conductor: live colour solid, dead grey dashed, unknown dotted.

    Raises
    ------
    ValueError
        ``energised`` is not 'live', 'dead' or 'unknown'.
    """
    if energised == "live":
        return QPen(palette.live, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap)
    if energised == "dead":
        return QPen(palette.dead, width, Qt.PenStyle.DashLine, Qt.PenCapStyle.FlatCap)
    if energised == "unknown":
        return QPen(palette.unknown, width, Qt.PenStyle.DotLine, Qt.PenCapStyle.FlatCap)
    raise ValueError(f"energisation must be one of {ENERGISATIONS}, got {energised!r}")


class SymbolItem(QGraphicsItem):
    """Base of every equipment symbol.

    Parameters
    ----------
    key : str
        Id of the topology node the symbol draws (for clicks and tooltips).
    palette : SldPalette
    half_size : tuple[float, float]
        Half width and half height of the symbol body, px.
    """

    clickable = False

    def __init__(self, key: str, palette: SldPalette, half_size: tuple[float, float]) -> None:
        super().__init__()
        self.key = key
        self._palette = palette
        self._hw, self._hh = half_size
        self._energised = "live"
        self._alarm_priority: int | None = None
        self._alarm_acked = True
        self._flash_on = True
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    # ports, item coordinates
    def port_top(self) -> QPointF:
        return QPointF(0.0, -self._hh)

    def port_bottom(self) -> QPointF:
        return QPointF(0.0, self._hh)

    def port_left(self) -> QPointF:
        return QPointF(-self._hw, 0.0)

    def port_right(self) -> QPointF:
        return QPointF(self._hw, 0.0)

    @property
    def energised(self) -> str:
        return self._energised

    def set_energised(self, energised: str) -> None:
        """'live' | 'dead' | 'unknown'; repaints on change.

        Raises
        ------
        ValueError
            Any other value.
        """
        if energised not in ENERGISATIONS:
            raise ValueError(f"energisation must be one of {ENERGISATIONS}, got {energised!r}")
        if energised != self._energised:
            self._energised = energised
            self.update()

    def set_palette(self, palette: SldPalette) -> None:
        self._palette = palette
        self.update()

    @property
    def alarm(self) -> tuple[int | None, bool]:
        """(priority 1..4 or None, acknowledged)."""
        return self._alarm_priority, self._alarm_acked

    def set_alarm(self, priority: int | None, acknowledged: bool = False) -> None:
        """Show an active alarm of ``priority`` (1..4) or none (None)."""
        if (priority, acknowledged) != (self._alarm_priority, self._alarm_acked):
            self._alarm_priority, self._alarm_acked = priority, acknowledged
            self.update()

    @property
    def flashing(self) -> bool:
        """True while an unacknowledged alarm makes the frame flash."""
        return self._alarm_priority is not None and not self._alarm_acked

    def set_flash_phase(self, on: bool) -> None:
        if on != self._flash_on:
            self._flash_on = on
            if self.flashing:
                self.update()

    def body_rect(self) -> QRectF:
        return QRectF(-self._hw, -self._hh, 2 * self._hw, 2 * self._hh)

    def boundingRect(self) -> QRectF:
        m = FRAME_MARGIN + 2.0
        return self.body_rect().adjusted(-m, -m, m, m)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.paint_symbol(painter)
        if self._alarm_priority is not None and (self._alarm_acked or self._flash_on):
            colour = self._palette.alarm[min(max(self._alarm_priority, 1), 4) - 1]
            painter.setPen(QPen(colour, 2.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(self.body_rect().adjusted(-FRAME_MARGIN, -FRAME_MARGIN, FRAME_MARGIN, FRAME_MARGIN))

    def paint_symbol(self, painter: QPainter) -> None:
        """Draw the symbol body (subclasses)."""
        raise NotImplementedError


class BreakerState(str, enum.Enum):
    """Position of a circuit breaker as the diagram shows it."""

    CLOSED = "closed"
    OPEN = "open"
    UNKNOWN = "unknown"


class BreakerItem(SymbolItem):
    """Circuit breaker: a square, filled when closed, hollow when open, '?' when unknown.

    Parameters
    ----------
    key : str
        Topology node id.
    palette : SldPalette
        Fill/outline colours follow its breaker convention (cn red/green or iec neutral).
    horizontal : bool
        Wires attach left and right (a bus tie) instead of top and bottom.
    """

    clickable = True
    SIZE = 20.0

    def __init__(self, key: str, palette: SldPalette, horizontal: bool = False) -> None:
        super().__init__(key, palette, (self.SIZE / 2, self.SIZE / 2))
        self.horizontal = horizontal
        self._state = BreakerState.UNKNOWN
        self._badge = ""
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    @property
    def state(self) -> BreakerState:
        return self._state

    def set_state(self, state: BreakerState) -> None:
        if state != self._state:
            self._state = BreakerState(state)
            self.update()

    @property
    def badge(self) -> str:
        return self._badge

    def set_badge(self, text: str) -> None:
        """Short text under the breaker (mode other than auto, trip); '' for none."""
        if text != self._badge:
            self.prepareGeometryChange()
            self._badge = text
            self.update()

    def fill_colour(self) -> QColor | None:
        """Fill of the square: the closed colour when closed, none when open, hatch grey when unknown."""
        if self._state is BreakerState.CLOSED:
            return self._palette.breaker_closed
        if self._state is BreakerState.UNKNOWN:
            return self._palette.breaker_unknown
        return None

    def _badge_rect(self) -> QRectF:
        if self.horizontal:
            return QRectF(-32, self._hh + 3, 64, 15)
        return QRectF(-self._hw - 70, 2, 64, 15)

    def boundingRect(self) -> QRectF:
        rect = super().boundingRect()
        return rect.united(self._badge_rect()) if self._badge else rect

    def paint_symbol(self, painter: QPainter) -> None:
        p = self._palette
        body = self.body_rect()
        if self._state is BreakerState.CLOSED:
            painter.setPen(QPen(p.breaker_closed, 2.0))
            painter.setBrush(p.breaker_closed)
        elif self._state is BreakerState.OPEN:
            painter.setPen(QPen(p.breaker_open, 2.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
        else:
            painter.setPen(QPen(p.breaker_unknown, 2.0, Qt.PenStyle.DashLine))
            painter.setBrush(QBrush(p.breaker_unknown, Qt.BrushStyle.BDiagPattern))
        painter.drawRect(body)
        if self._state is BreakerState.OPEN:
            # the contact drawn apart: a short diagonal inside the hollow square (IEC 60617 switch)
            painter.drawLine(QPointF(-5, 5), QPointF(5, -5))
        if self._state is BreakerState.UNKNOWN:
            painter.setPen(p.text)
            painter.setFont(sld_font(14, bold=True))
            painter.drawText(body, Qt.AlignmentFlag.AlignCenter, "?")
        if self._badge:
            painter.setPen(p.text)
            painter.setFont(sld_font(10))
            align = Qt.AlignmentFlag.AlignCenter if self.horizontal else \
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            painter.drawText(self._badge_rect(), align, self._badge)


class TransformerItem(SymbolItem):
    """Two-winding transformer: two overlapping circles (GB/T 4728.6 form 1)."""

    R = 14.0

    def __init__(self, key: str, palette: SldPalette) -> None:
        super().__init__(key, palette, (self.R, self.R * 1.65))

    def paint_symbol(self, painter: QPainter) -> None:
        painter.setPen(conductor_pen(self._palette, self._energised, 2.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        d = self.R * 0.65
        painter.drawEllipse(QPointF(0, -d), self.R, self.R)
        painter.drawEllipse(QPointF(0, d), self.R, self.R)


class BusbarItem(SymbolItem):
    """Busbar: a thick horizontal bar from ``x0`` to ``x1`` (item coordinates)."""

    THICKNESS = 7.0

    def __init__(self, key: str, palette: SldPalette, x0: float = -60.0, x1: float = 60.0) -> None:
        super().__init__(key, palette, (max(abs(x0), abs(x1)), self.THICKNESS / 2))
        self._x0, self._x1 = x0, x1

    @property
    def span(self) -> tuple[float, float]:
        return self._x0, self._x1

    def set_span(self, x0: float, x1: float) -> None:
        self.prepareGeometryChange()
        self._x0, self._x1 = min(x0, x1), max(x0, x1)

    def port_left(self) -> QPointF:
        return QPointF(self._x0, 0.0)

    def port_right(self) -> QPointF:
        return QPointF(self._x1, 0.0)

    def body_rect(self) -> QRectF:
        return QRectF(self._x0, -self.THICKNESS / 2, self._x1 - self._x0, self.THICKNESS)

    def paint_symbol(self, painter: QPainter) -> None:
        pen = conductor_pen(self._palette, self._energised, self.THICKNESS)
        if self._energised == "dead":
            pen.setStyle(Qt.PenStyle.SolidLine)     # a dashed bar reads as broken; grey says it all
        painter.setPen(pen)
        painter.drawLine(QPointF(self._x0, 0), QPointF(self._x1, 0))


class MeterItem(SymbolItem):
    """Energy meter: a circle marked kWh (GB/T 4728.8 indicating instrument form)."""

    R = 13.0

    def __init__(self, key: str, palette: SldPalette, mark: str = "kWh") -> None:
        super().__init__(key, palette, (self.R, self.R))
        self.mark = mark

    def paint_symbol(self, painter: QPainter) -> None:
        painter.setPen(conductor_pen(self._palette, self._energised, 1.8))
        painter.setBrush(self._palette.background)
        painter.drawEllipse(QPointF(0, 0), self.R, self.R)
        painter.setPen(self._palette.text if self._energised == "live" else self._palette.text_dim)
        painter.setFont(sld_font(8))
        painter.drawText(self.body_rect(), Qt.AlignmentFlag.AlignCenter, self.mark)


class LoadItem(SymbolItem):
    """Load: a line ending in a filled arrow pointing away from the supply."""

    def __init__(self, key: str, palette: SldPalette) -> None:
        super().__init__(key, palette, (7.0, 12.0))

    def paint_symbol(self, painter: QPainter) -> None:
        pen = conductor_pen(self._palette, self._energised, 2.0)
        painter.setPen(pen)
        painter.drawLine(QPointF(0, -self._hh), QPointF(0, 2))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(pen.color())
        painter.drawPolygon(QPolygonF([QPointF(-6, 0), QPointF(6, 0), QPointF(0, self._hh)]))


class IncomingLineItem(SymbolItem):
    """Incoming line: a feeder from off the drawing with an arrow in the direction of supply."""

    def __init__(self, key: str, palette: SldPalette) -> None:
        super().__init__(key, palette, (8.0, 22.0))

    def paint_symbol(self, painter: QPainter) -> None:
        pen = conductor_pen(self._palette, self._energised, 2.0)
        painter.setPen(pen)
        painter.drawLine(QPointF(0, -self._hh), QPointF(0, self._hh))
        path = QPainterPath()
        path.addPolygon(QPolygonF([QPointF(-7, -6), QPointF(7, -6), QPointF(0, 6)]))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.fillPath(path, pen.color())
        painter.setPen(QPen(pen.color(), 2.0))
        painter.drawLine(QPointF(-8, -self._hh), QPointF(8, -self._hh))
