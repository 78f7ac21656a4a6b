"""Consumption baselines learnt from the historian, for the ``consumption_surge`` rule
(:data:`app.alarms.contracts.BaselineProvider`).

The baseline of an interval (an hour, say 10:00-11:00 on a Tuesday) is the mean consumption
of the same local interval on the past days of the same day type (workdays or weekends)
within ``days`` days, from the historian's rollups (``1h`` buckets for whole hours, else
``15min``). A past day counts only when its rollups cover the whole interval (a gap in the
data would understate the baseline and raise false surges); fewer than ``min_days`` such
days give no baseline, and no surge alarm.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np

from app.alarms.calc import day_type
from app.alarms.contracts import BaselineProvider, DayType

log = logging.getLogger(__name__)

#: Seconds a failed historian read keeps the provider from asking again (it runs on the engine thread).
RETRY_AFTER_S = 300.0


class RollupReader(Protocol):
    """What the provider reads: :meth:`db.historian.Historian.read_rollup`."""

    def read_rollup(self, tag: str, interval: str, t0: float, t1: float) -> np.ndarray:
        """Buckets of ``tag`` starting in ``[t0, t1)``: fields ``bucket`` (epoch s), ``consumption``."""


def historian_baseline(historian: RollupReader, *, days: int = 28, min_days: int = 2,
                       clock: Callable[[], float] = time.monotonic) -> BaselineProvider:
    """A :data:`BaselineProvider` answering from the historian's rollups.

    Parameters
    ----------
    historian : RollupReader
        The historian (``read_rollup(tag, interval, t0, t1)``).
    days : int
        How many past days are looked at.
    min_days : int
        Past days of the same day type with complete data needed for a baseline.
    clock : callable
        Monotonic seconds, for the pause after a failed read.

    Returns
    -------
    BaselineProvider
        ``(tag, local interval start, interval_s, day type) -> mean consumption`` in the
        accumulator's unit, or None (too little history, an interval not a multiple of
        15 minutes, or the database unreadable — logged, and not asked again for
        :data:`RETRY_AFTER_S`).
    """
    down_until = -math.inf

    def baseline(tag: str, start: datetime, interval_s: int, kind: DayType) -> float | None:
        nonlocal down_until
        bucket_s = 3600 if interval_s % 3600 == 0 else 900
        if interval_s % bucket_s or clock() < down_until:
            return None
        try:
            rows = historian.read_rollup(tag, "1h" if bucket_s == 3600 else "15min",
                                         (start - timedelta(days=days)).timestamp(), start.timestamp())
        except Exception as err:  # any database fault: no baseline now, ask again later
            log.warning("consumption baseline of %s not read from the historian: %s", tag, err)
            down_until = clock() + RETRY_AFTER_S
            return None
        buckets, consumption = rows["bucket"], rows["consumption"]
        needed = interval_s // bucket_s
        totals = []
        for k in range(1, days + 1):
            day = start - timedelta(days=k)              # the same wall-clock interval k days ago
            if day_type(day) is not kind:
                continue
            t0 = day.timestamp()
            inside = (buckets >= t0) & (buckets < t0 + interval_s)
            values = consumption[inside]
            if len(values) == needed and not np.isnan(values).any():
                totals.append(float(values.sum()))
        return sum(totals) / len(totals) if len(totals) >= min_days else None

    return baseline
