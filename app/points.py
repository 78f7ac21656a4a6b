"""The value object every layer passes around: one reading of one point.

A point is addressed by its *tag*, ``"<device id>.<point name>"`` (for example
``"QF1_01.Ia"``). Drivers produce :class:`PointValue` objects, the point cache
keeps the latest one per tag, and the historian stores them as samples.
"""

from __future__ import annotations

import enum
from typing import NamedTuple


class Quality(enum.IntEnum):
    """Quality of a point's value, stored as a small integer (0, 1, 2).

    GOOD
        Read from the device in the last scan and decoded without fault.
    UNCERTAIN
        A value exists but may not be trusted (e.g. out of the instrument's range).
    BAD
        The last scan failed (timeout, refused, exception reply ...). The value carried
        with a BAD quality is the last good value, kept and shown as stale, or ``None``
        if the point never had a good value.
    """

    GOOD = 0
    UNCERTAIN = 1
    BAD = 2


class PointValue(NamedTuple):
    """One immutable reading of one point.

    Attributes
    ----------
    tag : str
        ``"<device id>.<point name>"``.
    value : float | None
        Engineering value after scale and offset (bits and states as 0.0/1.0/int).
        With quality BAD it is the last good value (stale) or ``None``.
    quality : Quality
    ts : float
        UTC epoch seconds: when the reply carrying the value arrived, or, for a
        failed scan, when the failure was detected.
    reason : str
        Empty for GOOD; otherwise why, e.g. ``"timeout after 1.0 s"``,
        ``"exception 2 (illegal data address)"``, ``"connection refused"``.
    """

    tag: str
    value: float | None
    quality: Quality
    ts: float
    reason: str = ""

    @property
    def good(self) -> bool:
        return self.quality is Quality.GOOD
