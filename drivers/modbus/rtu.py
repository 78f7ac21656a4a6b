"""Modbus RTU line discipline: frame gap, CRC, and why a reply was not accepted (pure).

Sources: "MODBUS over Serial Line Specification and Implementation Guide V1.02",
section 2.5.1.1 (frame gap t3.5 = 3.5 character times, fixed at 1.75 ms above
19200 baud; 11 bits per character) and 2.5.1.2 (CRC-16, polynomial 0xA001
reflected, initial 0xFFFF, low byte sent first).

pymodbus's RTU framer drops a frame with a bad CRC or a foreign unit id without
a word, so the request merely times out. :func:`diagnose_reply` looks at the
bytes that did arrive and says what was wrong with them, for the point's reason.
"""

from __future__ import annotations

__all__ = ["crc16", "diagnose_reply", "frame_gap_s", "reply_size"]

_BITS_PER_CHAR = 11  # start + 8 data + parity or second stop + stop


def crc16(data: bytes) -> int:
    """Modbus CRC-16 of ``data``.

    Returns
    -------
    int
        0..65535; on the wire the low byte comes first.
    """
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def frame_gap_s(baudrate: int) -> float:
    """Minimum silence between two frames (t3.5), seconds.

    Parameters
    ----------
    baudrate : int
        Bits per second (> 0).
    """
    if baudrate > 19200:
        return 0.00175
    return 3.5 * _BITS_PER_CHAR / baudrate


def reply_size(frame: bytes) -> int | None:
    """Length in bytes of the RTU reply that ``frame`` starts, if it can be told yet.

    Parameters
    ----------
    frame : bytes
        Received bytes: unit id, function code, data, CRC.

    Returns
    -------
    int or None
        Full frame length including the CRC; None when the function code is not
        one the driver sends (1, 2, 3, 4, 5, 6, 15, 16 or their exceptions) or
        too few bytes have arrived to know.
    """
    if len(frame) < 2:
        return None
    fc = frame[1]
    if fc & 0x80:
        return 5
    if fc in (1, 2, 3, 4):
        return 5 + frame[2] if len(frame) >= 3 else None
    if fc in (5, 6, 15, 16):
        return 8
    return None


def diagnose_reply(received: bytes, unit: int) -> str | None:
    """Why the bytes received after a request were not accepted as its reply.

    Parameters
    ----------
    received : bytes
        What arrived on the line since the request was sent.
    unit : int
        The unit id the request was addressed to.

    Returns
    -------
    str or None
        e.g. ``"CRC error in reply (9 bytes)"``, ``"reply from unit 3, expected
        unit 7"``, ``"incomplete reply (5 of 9 bytes)"``; None when nothing
        arrived.
    """
    if not received:
        return None
    if received[0] != unit:
        return f"reply from unit {received[0]}, expected unit {unit}"
    size = reply_size(received)
    if size is None:
        if len(received) >= 2:
            return f"unintelligible reply (function code {received[1]}, {len(received)} bytes)"
        return f"incomplete reply ({len(received)} bytes)"
    if len(received) < size:
        return f"incomplete reply ({len(received)} of {size} bytes)"
    body, tail = received[: size - 2], received[size - 2 : size]
    if crc16(body) != int.from_bytes(tail, "little"):
        return f"CRC error in reply ({size} bytes)"
    if len(received) > size:
        return f"reply followed by {len(received) - size} stray bytes"
    return "reply not accepted"
