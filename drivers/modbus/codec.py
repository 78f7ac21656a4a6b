"""Value codec between Modbus registers/bits and engineering values (pure functions).

A multi-register value is laid out on the wire as 16-bit registers. Two orders
select how its bytes are arranged (see :class:`drivers.modbus.spec.Order`):

========== ========== ============ ==========================================
word order byte order wire bytes   how it is decoded here
========== ========== ============ ==========================================
BIG        BIG        ``ABCD``     registers packed big-endian, ``>`` format
LITTLE     LITTLE     ``DCBA``     registers packed big-endian, ``<`` format
BIG        LITTLE     ``BADC``     registers packed little-endian, ``>`` format
LITTLE     BIG        ``CDAB``     registers packed little-endian, ``<`` format
========== ========== ============ ==========================================

(``A`` is the most significant byte of the value.) Packing the registers
little-endian swaps the two bytes of every register, which turns the mixed
orders into a plain big- or little-endian byte string, so every decode is one
``struct`` call on a precompiled format.

``engineering = raw * scale + offset`` for numeric types; BIT points decode to
0.0/1.0 and ignore scale and offset. A bit inside a holding/input register
(``point.bit`` 0-15) is counted from the least significant bit of the register
after its byte order is applied.

:class:`PointCodec` is the precompiled form of one point; :func:`decode` and
:func:`encode` keep a cache of them, keyed by the (frozen, hashable) point.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from drivers.modbus.spec import DataType, ModbusPoint, Order, Table

__all__ = ["PointCodec", "compile_point", "decode", "encode", "pack_registers"]

#: struct format letter and inclusive integer range of each numeric type
_FORMATS: dict[DataType, tuple[str, float, float]] = {
    DataType.INT16: ("h", -(2**15), 2**15 - 1),
    DataType.UINT16: ("H", 0, 2**16 - 1),
    DataType.INT32: ("i", -(2**31), 2**31 - 1),
    DataType.UINT32: ("I", 0, 2**32 - 1),
    DataType.FLOAT32: ("f", -math.inf, math.inf),
    DataType.FLOAT64: ("d", -math.inf, math.inf),
}
_INTEGER_TYPES = frozenset({DataType.INT16, DataType.UINT16, DataType.INT32, DataType.UINT32})
_BIT_TABLES = frozenset({Table.COIL, Table.DISCRETE_INPUT})
_REGISTER_TABLES = frozenset({Table.HOLDING_REGISTER, Table.INPUT_REGISTER})
_BIG_STRUCTS = {n: struct.Struct(f">{n}H") for n in (1, 2, 4)}
_LITTLE_STRUCTS = {n: struct.Struct(f"<{n}H") for n in (1, 2, 4)}


def pack_registers(registers: Sequence[int], swap_bytes: bool = False) -> bytes:
    """Pack 16-bit registers into bytes, each register big-endian (or byte-swapped).

    Parameters
    ----------
    registers : sequence of int
        Register values, each 0..65535, in wire order.
    swap_bytes : bool
        Pack each register little-endian (swapping its two bytes).

    Returns
    -------
    bytes
        ``2 * len(registers)`` bytes.

    Raises
    ------
    ValueError
        A register is outside 0..65535.
    """
    try:
        return struct.pack(f"{'<' if swap_bytes else '>'}{len(registers)}H", *registers)
    except struct.error as exc:
        raise ValueError(f"register values must be 0..65535: {exc}") from None


@dataclass(frozen=True, slots=True)
class PointCodec:
    """Precompiled decode/encode of one point.

    Attributes
    ----------
    point : ModbusPoint
    width : int
        Registers (or coils/discrete inputs) the point occupies: 1, 2 or 4.
    swap_bytes : bool
        Registers are packed little-endian before unpacking (mixed orders).
    value_struct : struct.Struct or None
        Unpacks the packed registers to the raw value; None for BIT points.
    """

    point: ModbusPoint
    width: int
    swap_bytes: bool
    value_struct: struct.Struct | None

    def decode(self, data: Sequence[int]) -> float:
        """Decode the point's own registers or bits.

        Parameters
        ----------
        data : sequence of int
            Exactly ``width`` registers (0..65535) or bits (0/1), starting at the
            point's address, in wire order.

        Returns
        -------
        float
            Engineering value (``raw * scale + offset``), or 0.0/1.0 for BIT.

        Raises
        ------
        ValueError
            Wrong number of registers or a register outside 0..65535.
        """
        if len(data) != self.width:
            unit = "bit" if self.point.table in _BIT_TABLES else "register"
            raise ValueError(
                f"point {self.point.name!r}: expected {self.width} {unit}(s), got {len(data)}"
            )
        return self.decode_from(data, 0)

    def decode_from(self, data: Sequence[int], index: int) -> float:
        """Decode the point from ``data[index:index + width]`` (a block reply).

        Parameters
        ----------
        data : sequence of int
            Registers or bits of a whole block, in wire order.
        index : int
            Position of the point's first register/bit within ``data``.

        Returns
        -------
        float
            Engineering value, as :meth:`decode`.

        Raises
        ------
        ValueError
            ``data`` too short or a register outside 0..65535.
        """
        point = self.point
        if index + self.width > len(data):
            raise ValueError(
                f"point {point.name!r}: needs items {index}..{index + self.width - 1}, "
                f"reply has {len(data)}"
            )
        if self.value_struct is None:
            if point.bit is None:
                return 1.0 if data[index] else 0.0
            register = data[index]
            if not 0 <= register <= 0xFFFF:
                raise ValueError(f"point {point.name!r}: register value {register} not 0..65535")
            if self.swap_bytes:
                register = ((register & 0xFF) << 8) | (register >> 8)
            return float((register >> point.bit) & 1)
        packer = _LITTLE_STRUCTS[self.width] if self.swap_bytes else _BIG_STRUCTS[self.width]
        try:
            raw_bytes = packer.pack(*data[index:index + self.width])
        except struct.error as exc:
            raise ValueError(f"point {point.name!r}: bad register value: {exc}") from None
        (raw,) = self.value_struct.unpack(raw_bytes)
        return raw * point.scale + point.offset

    def encode(self, value: float, register: int = 0) -> list[int]:
        """Encode an engineering value to the registers or bit to write.

        Parameters
        ----------
        value : float
            Engineering value; BIT points accept only 0/1 (or bool).
        register : int
            For a bit inside a register only: the register's current value, whose
            other 15 bits are kept (read-modify-write). Ignored otherwise.

        Returns
        -------
        list of int
            ``width`` registers in wire order, or ``[0]``/``[1]`` for a coil.

        Raises
        ------
        ValueError
            The value is not a number, out of the type's range after scale and
            offset, or not 0/1 for a BIT point.
        """
        point = self.point
        if isinstance(value, bool):
            value = float(value)
        if not isinstance(value, (int, float)):
            raise ValueError(f"point {point.name!r}: value {value!r} is not a number")
        if self.value_struct is None:
            if value not in (0, 1):
                raise ValueError(f"point {point.name!r}: bit value must be 0 or 1, got {value!r}")
            if point.bit is None:
                return [int(value)]
            if not 0 <= register <= 0xFFFF:
                raise ValueError(f"point {point.name!r}: register value {register} not 0..65535")
            if self.swap_bytes:
                register = ((register & 0xFF) << 8) | (register >> 8)
            register = (register | (1 << point.bit)) if value else (register & ~(1 << point.bit))
            if self.swap_bytes:
                register = ((register & 0xFF) << 8) | (register >> 8)
            return [register]
        raw: float = (value - point.offset) / point.scale
        fmt, low, high = _FORMATS[point.dtype]
        if point.dtype in _INTEGER_TYPES:
            if not math.isfinite(raw):
                raise ValueError(f"point {point.name!r}: value {value!r} is not finite")
            raw = round(raw)
            if not low <= raw <= high:
                raise ValueError(
                    f"point {point.name!r}: value {value!r} gives raw {raw}, outside "
                    f"{point.dtype.value} range {int(low)}..{int(high)}"
                )
        try:
            raw_bytes = self.value_struct.pack(raw)
        except (OverflowError, struct.error):
            raise ValueError(
                f"point {point.name!r}: value {value!r} gives raw {raw}, outside "
                f"{point.dtype.value} range"
            ) from None
        packer = _LITTLE_STRUCTS[self.width] if self.swap_bytes else _BIG_STRUCTS[self.width]
        return list(packer.unpack(raw_bytes))


def compile_point(point: ModbusPoint) -> PointCodec:
    """Check one point's definition and precompile its codec.

    Parameters
    ----------
    point : ModbusPoint

    Returns
    -------
    PointCodec

    Raises
    ------
    ValueError
        The definition is inconsistent, naming the point and the fault: a numeric
        type in a bit table, a bit number outside 0..15 or on a non-BIT type, a
        BIT register point without ``bit``, a zero or non-finite scale, an address
        outside 0..65535 or a value running past address 65535.
    """
    name = point.name
    if not 0 <= point.address <= 0xFFFF:
        raise ValueError(f"point {name!r}: address {point.address} outside 0..65535")
    if point.address + point.dtype.registers > 0x10000:
        raise ValueError(f"point {name!r}: {point.dtype.value} at {point.address} runs past 65535")
    if point.table in _BIT_TABLES:
        if point.dtype is not DataType.BIT:
            raise ValueError(
                f"point {name!r}: table {point.table.value} holds bits; dtype must be 'bit', "
                f"not {point.dtype.value!r}"
            )
        if point.bit is not None:
            raise ValueError(f"point {name!r}: 'bit' applies to register tables, not {point.table.value}")
    elif point.dtype is DataType.BIT:
        if point.bit is None:
            raise ValueError(f"point {name!r}: a bit in {point.table.value} needs 'bit' 0..15")
    elif point.bit is not None:
        raise ValueError(f"point {name!r}: 'bit' needs dtype 'bit', not {point.dtype.value!r}")
    if point.bit is not None and not 0 <= point.bit <= 15:
        raise ValueError(f"point {name!r}: bit {point.bit} outside 0..15")
    if point.dtype is not DataType.BIT and not (math.isfinite(point.scale) and point.scale != 0):
        raise ValueError(f"point {name!r}: scale must be finite and non-zero, got {point.scale!r}")
    if not math.isfinite(point.offset):
        raise ValueError(f"point {name!r}: offset must be finite, got {point.offset!r}")
    if point.dtype is DataType.BIT:
        return PointCodec(point, 1, point.byte_order is Order.LITTLE, None)
    fmt = _FORMATS[point.dtype][0]
    endian = ">" if point.word_order is Order.BIG else "<"
    return PointCodec(
        point,
        point.dtype.registers,
        point.word_order is not point.byte_order,
        struct.Struct(endian + fmt),
    )


_CACHE: dict[ModbusPoint, PointCodec] = {}
_CACHE_LIMIT = 100_000


def _codec(point: ModbusPoint) -> PointCodec:
    codec = _CACHE.get(point)
    if codec is None:
        codec = compile_point(point)
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[point] = codec
    return codec


def decode(point: ModbusPoint, words_or_bits: Sequence[int]) -> float:
    """Decode one point from its own registers or bits.

    Parameters
    ----------
    point : ModbusPoint
    words_or_bits : sequence of int
        ``point.dtype.registers`` registers (0..65535) in wire order, or one bit
        (0/1) for a coil/discrete input.

    Returns
    -------
    float
        Engineering value: ``raw * scale + offset``, or 0.0/1.0 for BIT points.

    Raises
    ------
    ValueError
        Bad point definition, wrong number of items or a register outside 0..65535.
    """
    return _codec(point).decode(words_or_bits)


def encode(point: ModbusPoint, value: float, register: int = 0) -> list[int]:
    """Encode an engineering value for writing.

    Parameters
    ----------
    point : ModbusPoint
    value : float
        Engineering value; ``raw = (value - offset) / scale``, rounded for
        integer types. BIT points take 0 or 1.
    register : int
        Bit-in-register points only: the register's current value; the result
        is that register with the point's bit set or cleared.

    Returns
    -------
    list of int
        ``point.dtype.registers`` registers in wire order, or ``[0]``/``[1]``.

    Raises
    ------
    ValueError
        Bad point definition, or value not representable (out of range, NaN
        for an integer type, not 0/1 for a bit).
    """
    return _codec(point).encode(value, register)
