"""The diagram canvas: a QGraphicsView with wheel zoom, drag pan, click, lazy tooltips and flashing."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsView, QToolTip, QWidget

from widgets.sld.symbols import SymbolItem

#: a press and release closer than this (px) is a click, not a pan
CLICK_SLOP_PX = 5
ZOOM_STEP = 1.15
ZOOM_MIN, ZOOM_MAX = 0.1, 8.0
FLASH_MS = 500

TooltipProvider = Callable[[QGraphicsItem], "str | None"]


class SldCanvas(QGraphicsView):
    """Shows a diagram scene; zoom with the wheel, pan by dragging, click items.

    Items that have a truthy ``clickable`` class attribute are reported by
    ``item_clicked``; after :meth:`fit` the scene stays fitted as the canvas is resized
    (a window shown later, a wall display going full screen) until the operator zooms
    or pans; tooltips are built only when asked for, by the provider set with
    :meth:`set_tooltip_provider`, so live updates never format tooltip text.

    Signals
    -------
    item_clicked(object)
        The clickable item under a click (press and release within ``CLICK_SLOP_PX``).
    """

    item_clicked = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self._press: QPoint | None = None
        self._fit_args: tuple[float, float] | None = None   # (margin, max_zoom) while fitted
        self._tooltips: TooltipProvider | None = None
        self._flashing: set[SymbolItem] = set()
        self._flash_on = True
        self._flash_timer = QTimer(self)
        self._flash_timer.setInterval(FLASH_MS)
        self._flash_timer.timeout.connect(self._on_flash_timer_timeout)

    # ------------------------------------------------------------------ public
    def set_tooltip_provider(self, provider: TooltipProvider | None) -> None:
        """``provider(item) -> text or None`` for the item under the mouse."""
        self._tooltips = provider

    def zoom(self) -> float:
        """Current scale factor (1 = one scene px per screen px)."""
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        """Scale by ``factor`` around the view centre, kept within 0.1..8."""
        self._fit_args = None
        target = min(max(self.zoom() * factor, ZOOM_MIN), ZOOM_MAX)
        applied = target / self.zoom()
        if abs(applied - 1.0) > 1e-9:
            self.scale(applied, applied)

    def fit(self, margin: float = 30.0, max_zoom: float = 1.6) -> None:
        """Show the whole scene, zooming in no further than ``max_zoom``; kept on resize."""
        scene = self.scene()
        if scene is None:
            return
        self._fit_args = (margin, max_zoom)
        rect = scene.itemsBoundingRect().adjusted(-margin, -margin, margin, margin)
        if rect.isEmpty():
            return
        self.setSceneRect(rect)
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > max_zoom:
            self.resetTransform()
            self.scale(max_zoom, max_zoom)
            self.centerOn(rect.center())

    def set_flashing(self, items: set[SymbolItem]) -> None:
        """Items whose alarm frame flashes; the timer runs only while there are any."""
        for item in self._flashing - items:
            item.set_flash_phase(True)
        self._flashing = set(items)
        if self._flashing and not self._flash_timer.isActive():
            self._flash_timer.start()
        elif not self._flashing:
            self._flash_timer.stop()

    @property
    def flash_phase(self) -> bool:
        return self._flash_on

    def clickable_item_at(self, pos: QPoint) -> QGraphicsItem | None:
        """Topmost clickable item at viewport position ``pos``."""
        for item in self.items(pos):
            if getattr(item, "clickable", False):
                return item
        return None

    def keyed_item_at(self, pos: QPoint) -> QGraphicsItem | None:
        """Topmost item with a ``key`` (symbol, value, connector) at viewport position ``pos``."""
        for item in self.items(pos):
            if getattr(item, "key", None):
                return item
        return None

    # ------------------------------------------------------------------ Qt overrides
    def setScene(self, scene: QGraphicsScene | None) -> None:  # noqa: N802 (Qt override)
        self._flashing = set()
        self._flash_timer.stop()
        super().setScene(scene)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self._fit_args is not None:
            self.fit(*self._fit_args)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(ZOOM_STEP ** steps)
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        press, self._press = self._press, None
        super().mouseReleaseEvent(event)
        if press is None or event.button() != Qt.MouseButton.LeftButton:
            return
        pos = event.position().toPoint()
        if (pos - press).manhattanLength() > CLICK_SLOP_PX:
            self._fit_args = None                       # panned: the operator's view now
        else:
            item = self.clickable_item_at(pos)
            if item is not None:
                self.item_clicked.emit(item)

    def viewportEvent(self, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.ToolTip and self._tooltips is not None:
            pos = event.pos()
            item = self.keyed_item_at(pos)
            text = self._tooltips(item) if item is not None else None
            if text:
                QToolTip.showText(event.globalPos(), text, self.viewport())
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)

    def _on_flash_timer_timeout(self) -> None:
        self._flash_on = not self._flash_on
        for item in self._flashing:
            item.set_flash_phase(self._flash_on)
