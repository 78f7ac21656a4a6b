"""The Qt boundary: point-cache updates re-emitted on the GUI thread, coalesced.

The point cache calls :meth:`PointBridge._on_cache_values` on the acquisition thread;
that only stores the newest value per tag under a lock (last value wins). A timer on
the GUI thread flushes what arrived as one ``values_changed`` signal carrying a dict,
so the sample rate never drives the repaint rate (at most ``1000 / interval_ms`` Hz).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from PySide6.QtCore import QObject, QTimer, Signal

from app.cache import PointCache
from app.points import PointValue


class PointBridge(QObject):
    """Coalesced, GUI-thread delivery of point values.

    Parameters
    ----------
    cache : PointCache
        Source of values; subscribed on :meth:`start` with replay, so views opened
        late are filled at once.
    interval_ms : int
        Flush period; 100 ms gives at most 10 repaints per second.

    Signals
    -------
    values_changed(dict)
        ``{tag: PointValue}`` of every point that changed since the last flush.
    """

    values_changed = Signal(dict)

    def __init__(self, cache: PointCache, interval_ms: int = 100, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cache = cache
        self._lock = threading.Lock()
        self._pending: dict[str, PointValue] = {}
        self._unsubscribe = None
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timer_timeout)

    def start(self) -> None:
        """Subscribe to the cache (with replay) and start flushing."""
        if self._unsubscribe is None:
            self._unsubscribe = self._cache.subscribe(self._on_cache_values, replay=True)
        self._timer.start()

    def stop(self) -> None:
        """Unsubscribe and stop flushing (idempotent)."""
        self._timer.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def value(self, tag: str) -> PointValue | None:
        """Newest value of ``tag`` straight from the cache (for a view being built)."""
        return self._cache.get(tag)

    def _on_cache_values(self, values: Sequence[PointValue]) -> None:
        # acquisition thread: never block, never touch Qt objects
        with self._lock:
            pending = self._pending
            for pv in values:
                pending[pv.tag] = pv

    def _on_timer_timeout(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, {}
        if batch:
            self.values_changed.emit(batch)
