"""DL/T 645-2007 and -1997 frames and BCD values (pure: bytes in, fields out).

Frame (DL/T 645-2007 section 4.1; -1997 the same layout)::

    [FE FE FE FE]  68  A0..A5  68  C  L  DATA(L, each byte +0x33)  CS  16

* the wake-up preamble of 0xFE bytes is optional (0-4 bytes), not in the checksum;
* A0..A5: the meter number, 12 BCD digits, least significant byte first
  (``"000012345678"`` -> ``78 56 34 12 00 00``); ``AA`` x 6 is the wildcard;
* CS: sum modulo 256 of every byte from the first 68 to the end of DATA;
* C: bit 7 direction (1 = reply), bit 6 abnormal reply, bit 5 follow-up frames,
  bits 0-4 function: read data 0x11 (-1997: 0x01), read address 0x13.

Values are BCD, least significant byte first; a format like ``"XXX.XXX"`` gives
the digits and the decimals. Signed quantities (current, power, power factor)
carry the sign in the top bit of the most significant byte.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "ERROR_BITS",
    "ERROR_BITS_1997",
    "Frame",
    "FrameError",
    "Version",
    "address_bytes",
    "address_text",
    "build_frame",
    "decode_bcd",
    "encode_bcd",
    "find_frame",
    "format_size",
    "read_request",
]

START = 0x68
END = 0x16
WAKE = 0xFE
WILDCARD = bytes([0xAA] * 6)


class Version(str, enum.Enum):
    """Protocol edition: data identifiers of 4 bytes (2007) or 2 bytes (1997)."""

    V2007 = "2007"
    V1997 = "1997"

    @property
    def read_code(self) -> int:
        """Control code of a read-data request."""
        return 0x11 if self is Version.V2007 else 0x01

    @property
    def di_size(self) -> int:
        """Bytes in a data identifier."""
        return 4 if self is Version.V2007 else 2


#: abnormal-reply error bits (DL/T 645-2007 table 4)
ERROR_BITS = {
    0: "other error",
    1: "no data requested (unknown data identifier)",
    2: "password error or unauthorised",
    3: "baud rate cannot be changed",
    4: "year time zones exceeded",
    5: "daily time periods exceeded",
    6: "tariffs exceeded",
}
#: abnormal-reply error bits of DL/T 645-1997 (error word ERR: D0-D2, D3-D7 reserved)
ERROR_BITS_1997 = {
    0: "illegal data",
    1: "data identifier error",
    2: "password error",
}


class FrameError(ValueError):
    """A frame is malformed; the message says how (checksum, length, end byte ...)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """A decoded frame.

    Attributes
    ----------
    address : bytes
        6 bytes as on the wire (least significant first).
    control : int
        Control code C.
    data : bytes
        The data field with the 0x33 offset removed.
    """

    address: bytes
    control: int
    data: bytes

    @property
    def is_reply(self) -> bool:
        return bool(self.control & 0x80)

    @property
    def is_abnormal(self) -> bool:
        return bool(self.control & 0x40)

    @property
    def has_follow_up(self) -> bool:
        return bool(self.control & 0x20)

    @property
    def function(self) -> int:
        return self.control & 0x1F

    def error_text(self, version: Version = Version.V2007) -> str:
        """The abnormal reply's error byte in words of ``version``, e.g. ``"error 0x02 (no data
        requested ...)"`` (-2007) or ``"error 0x02 (data identifier error)"`` (-1997)."""
        if not self.data:
            return "abnormal reply without error byte"
        code = self.data[0]
        bits = ERROR_BITS if version is Version.V2007 else ERROR_BITS_1997
        words = [text for bit, text in bits.items() if code & (1 << bit)]
        return f"error 0x{code:02X} ({', '.join(words) or 'reserved'})"


def address_bytes(meter: str) -> bytes:
    """Wire address of a meter number.

    Parameters
    ----------
    meter : str
        Up to 12 decimal digits (left-padded with zeros), or ``"AAAAAAAAAAAA"``.

    Raises
    ------
    ValueError
        Not 1-12 digits.
    """
    text = meter.strip()
    if text.upper() == "AAAAAAAAAAAA":
        return WILDCARD
    if not text.isdigit() or not 1 <= len(text) <= 12:
        raise ValueError(f"meter number must be 1-12 decimal digits, got {meter!r}")
    text = text.zfill(12)
    return bytes(int(text[i:i + 2], 16) for i in range(10, -1, -2))


def address_text(address: bytes) -> str:
    """The meter number of a wire address (12 characters)."""
    return "".join(f"{b:02X}" for b in reversed(address))


def build_frame(address: bytes, control: int, data: bytes = b"", preamble: int = 4) -> bytes:
    """Encode one frame.

    Parameters
    ----------
    address : bytes
        6 bytes, as from :func:`address_bytes`.
    control : int
        0..255.
    data : bytes
        Data field before the 0x33 offset, at most 200 bytes (-2007 section 4.1.5).
    preamble : int
        Number of 0xFE wake-up bytes, 0-4.
    """
    if len(address) != 6:
        raise ValueError(f"address must be 6 bytes, got {len(address)}")
    if len(data) > 200:
        raise ValueError(f"data field longer than 200 bytes ({len(data)})")
    body = bytes((START,)) + address + bytes((START, control, len(data))) + bytes((b + 0x33) & 0xFF for b in data)
    return bytes([WAKE] * preamble) + body + bytes(((sum(body) & 0xFF), END))


def read_request(address: bytes, di: int, version: Version = Version.V2007) -> bytes:
    """A read-data request for data identifier ``di`` (DI0 sent first)."""
    return build_frame(address, version.read_code, di.to_bytes(version.di_size, "little"))


def find_frame(buffer: bytes) -> tuple[Frame | None, int]:
    """Decode the first complete frame in ``buffer``.

    Parameters
    ----------
    buffer : bytes
        Received bytes; leading wake-up bytes and noise before a 68 are skipped.

    Returns
    -------
    (Frame or None, int)
        The frame and the bytes it used (through its end byte); ``(None, n)``
        when no complete frame is there yet, ``n`` the bytes of noise that can
        be dropped.

    Raises
    ------
    FrameError
        A frame's length fits but its checksum or end byte is wrong.
    """
    start = 0
    while True:
        start = buffer.find(START, start)
        if start < 0:
            return None, len(buffer)
        if len(buffer) < start + 10:
            return None, start
        if buffer[start + 7] != START:
            start += 1
            continue
        length = buffer[start + 9]
        end = start + 10 + length + 2
        if len(buffer) < end:
            return None, start
        body = buffer[start:start + 10 + length]
        checksum, end_byte = buffer[end - 2], buffer[end - 1]
        if sum(body) & 0xFF != checksum:
            raise FrameError(f"bad checksum 0x{checksum:02X}, expected 0x{sum(body) & 0xFF:02X}")
        if end_byte != END:
            raise FrameError(f"end byte 0x{end_byte:02X}, expected 0x16 (wrong length?)")
        data = bytes((b - 0x33) & 0xFF for b in body[10:])
        return Frame(bytes(body[1:7]), body[8], data), end


def format_size(fmt: str) -> tuple[int, int]:
    """Bytes and decimals of a value format such as ``"XXXXXX.XX"``.

    Raises
    ------
    ValueError
        Not X digits with at most one point, or an odd digit count.
    """
    digits = fmt.replace(".", "")
    if not digits or set(digits) != {"X"} or fmt.count(".") > 1 or len(digits) % 2:
        raise ValueError(f"value format must be an even number of X with at most one '.', got {fmt!r}")
    decimals = len(fmt) - fmt.index(".") - 1 if "." in fmt else 0
    return len(digits) // 2, decimals


def decode_bcd(raw: bytes, fmt: str, signed: bool = False) -> float:
    """Value of BCD bytes (least significant byte first).

    Raises
    ------
    ValueError
        Wrong byte count, or a nibble above 9 (e.g. an ``EE`` "no value" field).
    """
    size, decimals = format_size(fmt)
    if len(raw) != size:
        raise ValueError(f"value needs {size} bytes, got {len(raw)}")
    msb_first = bytearray(reversed(raw))
    negative = False
    if signed and msb_first[0] & 0x80:
        negative = True
        msb_first[0] &= 0x7F
    digits = msb_first.hex()
    if not digits.isdigit():
        raise ValueError(f"not BCD: {bytes(raw).hex(' ')}")
    value = int(digits) / 10**decimals
    return -value if negative else value


def encode_bcd(value: float, fmt: str, signed: bool = False) -> bytes:
    """BCD bytes of ``value`` (least significant first), for simulators and writes.

    Raises
    ------
    ValueError
        Negative without ``signed``, or too large for the format.
    """
    size, decimals = format_size(fmt)
    if value < 0 and not signed:
        raise ValueError(f"{value} is negative but format {fmt} is unsigned")
    magnitude = round(abs(value) * 10**decimals)
    digits = f"{magnitude:0{size * 2}d}"
    if len(digits) > size * 2 or (signed and digits[0] >= "8"):
        raise ValueError(f"{value} does not fit format {fmt}")
    msb_first = bytearray.fromhex(digits)
    if signed and value < 0:
        msb_first[0] |= 0x80
    return bytes(reversed(msb_first))
