"""Wires of the single-line diagram: orthogonal polylines coloured by energisation."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from widgets.sld.palette import SldPalette
from widgets.sld.symbols import ENERGISATIONS, conductor_pen


class WireItem(QGraphicsItem):
    """A conductor between two symbols.

    Parameters
    ----------
    points : Sequence[QPointF]
        Vertices in scene coordinates (>= 2), drawn as a polyline.
    palette : SldPalette
    upstream, downstream : str
        Node ids at the supply and load ends (for tests and tooltips).
    width : float
        Pen width, px.
    """

    def __init__(self, points: Sequence[QPointF], palette: SldPalette, upstream: str = "", downstream: str = "",
                 width: float = 2.0) -> None:
        super().__init__()
        if len(points) < 2:
            raise ValueError(f"a wire needs at least 2 points, got {len(points)}")
        self.upstream, self.downstream = upstream, downstream
        self._palette = palette
        self._width = width
        self._energised = "live"
        self._path = QPainterPath(points[0])
        for p in points[1:]:
            self._path.lineTo(p)
        self._pen = conductor_pen(palette, self._energised, width)
        self._bounds = self._path.boundingRect().adjusted(-width, -width, width, width)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(-1)

    @property
    def energised(self) -> str:
        return self._energised

    @property
    def pen(self) -> QPen:
        return QPen(self._pen)

    def set_energised(self, energised: str) -> None:
        """'live' | 'dead' | 'unknown'; repaints on change."""
        if energised not in ENERGISATIONS:
            raise ValueError(f"energisation must be one of {ENERGISATIONS}, got {energised!r}")
        if energised != self._energised:
            self._energised = energised
            self._pen = conductor_pen(self._palette, energised, self._width)
            self.update()

    def set_palette(self, palette: SldPalette) -> None:
        self._palette = palette
        self._pen = conductor_pen(palette, self._energised, self._width)
        self.update()

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(self._width + 6)
        return stroker.createStroke(self._path)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setPen(self._pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
