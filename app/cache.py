"""The point cache: latest value per point, deadband/change detection, subscriber fan-out.

The acquisition thread calls :meth:`PointCache.update` with each scan's readings.
The cache always keeps the newest reading per tag (what a screen shows), and
passes on to subscribers only the readings that matter for history and alarms:
a change beyond the point's deadband, any change of quality, or a heartbeat when
a steady value has not been passed on for ``heartbeat_s``.

Subscribers are plain callables receiving a list of :class:`~app.points.PointValue`.
They run on the acquisition thread and must not block (the historian's
``submit`` only appends to a queue; the Qt bridge only stores the latest value).
A subscriber that raises is logged and kept; acquisition goes on.
"""

from __future__ import annotations

import logging
import operator
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence

from app.points import PointValue

log = logging.getLogger(__name__)

Subscriber = Callable[[Sequence[PointValue]], None]
_TAG = operator.itemgetter(0)


class PointCache:
    """Latest value, timestamp and quality per point, with deadband and fan-out.

    Parameters
    ----------
    deadbands : Mapping[str, float]
        Per tag, in the point's engineering units; a change must exceed it to be passed
        on (0 passes on every change of value). Tags not listed use 0.
    heartbeat_s : float
        A value unchanged within its deadband is still passed on this often, so the
        history of a steady point has samples at least every ``heartbeat_s`` seconds.
    """

    def __init__(self, deadbands: Mapping[str, float] | None = None, heartbeat_s: float = 300.0) -> None:
        self._deadbands = dict(deadbands or {})
        self._heartbeat_s = heartbeat_s
        self._latest: dict[str, PointValue] = {}
        self._published: dict[str, PointValue] = {}
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self.updates = 0      #: readings received
        self.published = 0    #: readings passed on to subscribers

    def update(self, values: Iterable[PointValue]) -> list[PointValue]:
        """Take scans' readings; return (and pass on) those that changed.

        Called on the acquisition thread; O(len(values)), never blocks on subscribers.
        """
        values = values if isinstance(values, list) else list(values)
        changed: list[PointValue] = []
        keep = changed.append
        deadband_of = self._deadbands.get
        published = self._published
        last_published = published.get
        heartbeat = self._heartbeat_s
        with self._lock:
            self._latest.update(zip(map(_TAG, values), values))
            for pv in values:
                tag, value, quality, ts, _ = pv
                prev = last_published(tag)
                if prev is not None and prev[2] == quality and ts - prev[3] < heartbeat:
                    old = prev[1]
                    if old is None or value is None:
                        if old is value:
                            continue
                    elif value == old:
                        continue
                    else:
                        deadband = deadband_of(tag)
                        if deadband and abs(value - old) <= deadband:
                            continue
                published[tag] = pv
                keep(pv)
            self.updates += len(values)
            self.published += len(changed)
            subscribers = list(self._subscribers)
        if changed:
            for callback in subscribers:
                _deliver(callback, changed)
        return changed

    def get(self, tag: str) -> PointValue | None:
        """Newest reading of ``tag`` or ``None`` if it was never read."""
        with self._lock:
            return self._latest.get(tag)

    def snapshot(self) -> dict[str, PointValue]:
        """Copy of the newest reading per tag."""
        with self._lock:
            return dict(self._latest)

    def subscribe(self, callback: Subscriber, replay: bool = True) -> Callable[[], None]:
        """Add a subscriber; with ``replay`` it first receives every cached reading.

        Returns a function that removes the subscriber.
        """
        with self._lock:
            self._subscribers.append(callback)
            cached = list(self._latest.values())
        if replay and cached:
            _deliver(callback, cached)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe


def _deliver(callback: Subscriber, values: Sequence[PointValue]) -> None:
    try:
        callback(values)
    except Exception:  # a faulty subscriber must never stop acquisition
        log.exception("point cache subscriber %r failed on %d values", callback, len(values))

