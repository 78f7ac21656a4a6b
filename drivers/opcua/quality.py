"""OPC UA status codes and variant values -> point quality and number (pure).

The top two bits of a StatusCode give its severity (OPC 10000-4, 7.39):
00 Good, 01 Uncertain, 10/11 Bad. The reason is the code's symbolic name
(e.g. ``"BadNodeIdUnknown"``), taken from asyncua's table of the standard codes.
"""

from __future__ import annotations

import enum
from typing import Any

from asyncua import ua

from app.points import Quality

__all__ = ["status_quality", "to_number"]


def status_quality(code: ua.StatusCode | int) -> tuple[Quality, str]:
    """Quality and reason of a status code.

    Parameters
    ----------
    code : ua.StatusCode or int
        32-bit status code.

    Returns
    -------
    (Quality, str)
        The reason is ``""`` for Good, else the code's name (or ``0x...`` if unknown).
    """
    value = code.value if isinstance(code, ua.StatusCode) else int(code)
    severity = (value >> 30) & 0b11
    if severity == 0:
        return Quality.GOOD, ""
    try:
        name = ua.StatusCode(value).name
    except Exception:  # noqa: BLE001 - asyncua raises several types for unknown codes
        name = ""
    reason = name or f"status 0x{value:08X}"
    if severity == 1:
        return Quality.UNCERTAIN, reason
    return Quality.BAD, reason


def to_number(value: Any) -> float:
    """A variant's value as the point's float.

    Parameters
    ----------
    value : bool, int, float or IntEnum
        Booleans become 0.0/1.0, enums their integer value; NaN and infinities
        pass through (the driver returns them UNCERTAIN).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For strings, arrays, structures, None and other non-scalar numbers; the
        message names the type.
    """
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, enum.IntEnum):
        return float(int(value))
    if isinstance(value, (int, float)):
        return float(value)
    raise ValueError(f"value of type {type(value).__name__} is not a number")

