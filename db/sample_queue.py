"""The historian's memory queue: submitted readings in arrival order, kept as submitted batches.

The point cache hands the historian one list of changed readings per update (every
20 ms); appending that list whole, and taking a writer's batch as a few slices of
such lists, costs one operation per submitted list instead of one per reading.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from itertools import chain

from app.points import PointValue

__all__ = ["SampleQueue"]


class SampleQueue:
    """FIFO of readings for the historian's writer; safe from any number of threads."""

    def __init__(self) -> None:
        self._parts: deque[Sequence[PointValue]] = deque()
        self._len = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._len

    def extend(self, values: Sequence[PointValue]) -> None:
        """Append ``values`` (copied: the caller may reuse its list)."""
        part = tuple(values)
        if not part:
            return
        with self._lock:
            self._parts.append(part)
            self._len += len(part)

    def take(self, n: int) -> list[PointValue]:
        """Remove and return the oldest ``n`` readings (fewer if fewer are queued), oldest first."""
        taken: list[Sequence[PointValue]] = []
        with self._lock:
            parts = self._parts
            need = min(n, self._len)
            self._len -= need
            while need > 0:
                part = parts.popleft()
                if len(part) > need:
                    parts.appendleft(part[need:])
                    part = part[:need]
                taken.append(part)
                need -= len(part)
        return list(chain.from_iterable(taken))
