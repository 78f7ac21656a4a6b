"""BACnet status flags, values and errors -> point quality, number and reason (pure).

Status flags (ASHRAE 135, 12.x StatusFlags): in-alarm, fault, overridden,
out-of-service. ``fault`` makes the value BAD; ``out-of-service`` and
``overridden`` make it UNCERTAIN (the value is not the field's own);
``in-alarm`` is the device's alarm and leaves the value GOOD.
"""

from __future__ import annotations

from typing import Any

from app.points import Quality

__all__ = ["error_reason", "flags_quality", "to_number"]

_FLAG_NAMES = ("in-alarm", "fault", "overridden", "out-of-service")


def flags_quality(flags: Any) -> tuple[Quality, str]:
    """Quality and reason of a StatusFlags bit string (4 bits, in-alarm first).

    Parameters
    ----------
    flags : sequence of int or None
        None (not read) counts as no flag set.
    """
    bits = list(flags) if flags is not None else []
    bits += [0] * (4 - len(bits))
    if bits[1]:
        return Quality.BAD, "status flag fault"
    if bits[3]:
        return Quality.UNCERTAIN, "status flag out-of-service"
    if bits[2]:
        return Quality.UNCERTAIN, "status flag overridden"
    return Quality.GOOD, ""


def to_number(value: Any) -> float:
    """Present value as a float: Real as is, BinaryPV inactive/active 0/1, Unsigned state.

    Raises
    ------
    ValueError
        Null (no value) or a type that is not a number.
    """
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    raise ValueError(f"present value of type {type(value).__name__} is not a number")


def error_reason(exc: BaseException) -> str:
    """Reason of a bacpypes3 Error/Reject/Abort, e.g. ``"unknown-object"``."""
    code = getattr(exc, "errorCode", None)
    if code is not None:
        return str(code)
    for attr in ("apduAbortRejectReason", "abortReason", "rejectReason"):
        reason = getattr(exc, attr, None)
        if reason is not None:
            return f"{type(exc).__name__.lower()}: {reason}"
    return str(exc) or type(exc).__name__
