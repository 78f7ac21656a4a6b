"""Pure calculations behind the rules: three-phase unbalance, accumulator deltas, day types."""

from __future__ import annotations

import math
from datetime import datetime

from app.alarms.contracts import DayType


def deviation_unbalance(a: float, b: float, c: float) -> float:
    """Largest deviation from the mean over the mean, %.

    Parameters
    ----------
    a, b, c : float
        Magnitudes of the three phases (A, V, ...), same unit.

    Returns
    -------
    float
        ``max(|x - mean|) / mean * 100``; 0 when the mean is 0.
    """
    mean = (a + b + c) / 3.0
    if mean <= 0.0:
        return 0.0
    return max(abs(a - mean), abs(b - mean), abs(c - mean)) / mean * 100.0


def negative_sequence_unbalance(a: float, b: float, c: float) -> float:
    """Negative- to positive-sequence ratio from the three magnitudes, % (GB/T 15543-2008, A.3).

    ``L = (a^4 + b^4 + c^4) / (a^2 + b^2 + c^2)^2`` and
    ``epsilon = sqrt((1 - sqrt(3 - 6L)) / (1 + sqrt(3 - 6L))) * 100``. Exact for line
    voltages (no zero sequence); for phase magnitudes it is exact when the zero-sequence
    component is nil, an approximation otherwise.

    Parameters
    ----------
    a, b, c : float
        Magnitudes, same unit, >= 0.

    Returns
    -------
    float
        0 for a balanced set, 100 when the magnitudes cannot form a positive-sequence
        system (e.g. one phase 0); 0 when all are 0.
    """
    squares = a * a + b * b + c * c
    if squares <= 0.0:
        return 0.0
    ratio = (a ** 4 + b ** 4 + c ** 4) / (squares * squares)
    root = math.sqrt(max(0.0, 3.0 - 6.0 * ratio))
    return math.sqrt((1.0 - root) / (1.0 + root)) * 100.0


def accumulator_delta(previous: float, current: float, rollover: float | None) -> float:
    """Consumption between two readings of an accumulator.

    Parameters
    ----------
    previous, current : float
        Readings in the accumulator's unit (kWh, m³).
    rollover : float | None
        Value at which the counter wraps to 0.

    Returns
    -------
    float
        ``current - previous``; across a wrap ``current + rollover - previous``; 0 when
        the counter went back without a rollover (meter replaced or reset).
    """
    delta = current - previous
    if delta >= 0.0:
        return delta
    if rollover is not None:
        return current + rollover - previous
    return 0.0


def day_type(local: datetime) -> DayType:
    """Workday (Monday-Friday) or weekend of a local date."""
    return DayType.WEEKEND if local.weekday() >= 5 else DayType.WORKDAY
