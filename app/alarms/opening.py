"""Opening readings of accumulators from the historian, for the consumption alarm rules
(:data:`app.alarms.contracts.OpeningProvider`)."""

from __future__ import annotations

import logging
import math
from typing import Protocol

import numpy as np

from app.alarms.contracts import OpeningProvider
from app.points import Quality

log = logging.getLogger(__name__)


class RangeReader(Protocol):
    """What the provider reads: :meth:`db.historian.Historian.read_range`."""

    def read_range(self, tag: str, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(ts, value, quality)`` arrays of ``tag`` with ``t0 <= ts < t1``, ascending."""


def historian_opening(historian: RangeReader) -> OpeningProvider:
    """An :data:`OpeningProvider` answering from the historian's stored samples.

    Parameters
    ----------
    historian : RangeReader
        The historian (``read_range(tag, t0, t1)``, epoch s UTC).

    Returns
    -------
    OpeningProvider
        ``(tag, start, now) -> float | None``: the first GOOD, non-NaN value stored with
        ``start <= ts < now`` (the accumulator's unit); None if there is none or the
        database cannot be read (logged: the rule then counts from the first live reading).
    """

    def opening(tag: str, start: float, now: float) -> float | None:
        try:
            _, values, quality = historian.read_range(tag, start, now)
        except Exception as err:  # any database fault: count from the live reading instead
            log.warning("opening reading of %s not read from the historian: %s", tag, err)
            return None
        for value, q in zip(values.tolist(), quality.tolist()):
            if q == Quality.GOOD and not math.isnan(value):
                return float(value)
        return None

    return opening
