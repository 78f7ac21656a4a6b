"""Decode a whole block reply at once: one ``struct`` call per layout, precompiled.

A register block's reply is packed into bytes once (big-endian registers, and
byte-swapped registers only if a point needs them), then each *layer* — points
that share a byte packing and an endianness and do not overlap — is unpacked by
one precompiled :class:`struct.Struct` whose format carries pad bytes (``x``)
for the registers between points. A plain device (every value big-endian, no
overlap) is one layer, so its whole reply is one ``pack`` and one ``unpack``.
Scale and offset are applied only to points whose scale is not 1 or offset not
0, integer raws are turned into floats, and bits inside registers are masked
after the unpack. The byte orders are those of :mod:`drivers.modbus.codec`.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from drivers.modbus.codec import PointCodec
from drivers.modbus.spec import DataType, Table

__all__ = ["BlockCodec"]

_BIT_TABLES = (Table.COIL, Table.DISCRETE_INPUT)
_FLOAT_TYPES = (DataType.FLOAT32, DataType.FLOAT64)


class _Layer:
    """Non-overlapping points of one packing and endianness, in address order."""

    __slots__ = ("swap", "endian", "end", "parts")

    def __init__(self, swap: bool, endian: str) -> None:
        self.swap = swap
        self.endian = endian
        self.end = 0                                  # register after the last part
        self.parts: list[tuple[int, str, int, int]] = []  # (register index, letter, width, output position)

    def compile(self) -> tuple[bool, struct.Struct, tuple[int, ...]]:
        fmt = [self.endian]
        cursor = 0
        for index, letter, width, _ in self.parts:
            if index > cursor:
                fmt.append(f"{2 * (index - cursor)}x")
            fmt.append(letter)
            cursor = index + width
        return self.swap, struct.Struct("".join(fmt)), tuple(part[3] for part in self.parts)


class BlockCodec:
    """Precompiled decode of every point of one block reply.

    Parameters
    ----------
    table : Table
        The block's table.
    count : int
        Registers or bits the block reads.
    entries : sequence of (int, PointCodec)
        Each point's first register/bit index within the block and its codec,
        in the order the decoded values are returned.
    """

    __slots__ = ("count", "_bit_indices", "_big", "_swapped", "_layers", "_transforms", "_simple", "_size")

    def __init__(self, table: Table, count: int, entries: Sequence[tuple[int, PointCodec]]) -> None:
        self.count = count
        self._bit_indices: tuple[int, ...] | None = None
        self._big = struct.Struct(f">{count}H")
        self._swapped: struct.Struct | None = None
        self._layers: tuple[tuple[bool, struct.Struct, tuple[int, ...]], ...] = ()
        self._transforms: tuple[tuple[int, float, float, int | None], ...] = ()
        self._simple: struct.Struct | None = None
        self._size = len(entries)
        if table in _BIT_TABLES:
            self._bit_indices = tuple(index for index, _ in entries)
            return
        layers: list[_Layer] = []
        transforms: list[tuple[int, float, float, int | None]] = []
        for position, (index, codec) in enumerate(entries):
            point = codec.point
            if codec.value_struct is None:          # a bit inside a register
                endian, letter = ">", "H"
                transforms.append((position, 1.0, 0.0, point.bit))
            else:
                endian, letter = codec.value_struct.format[0], codec.value_struct.format[1:]
                if point.scale != 1.0 or point.offset != 0.0 or point.dtype not in _FLOAT_TYPES:
                    transforms.append((position, float(point.scale), float(point.offset), None))
            layer = next((la for la in layers if la.swap is codec.swap_bytes and la.endian == endian
                          and la.end <= index), None)
            if layer is None:
                layer = _Layer(codec.swap_bytes, endian)
                layers.append(layer)
            layer.parts.append((index, letter, codec.width, position))
            layer.end = index + codec.width
        self._layers = tuple(layer.compile() for layer in layers)
        self._transforms = tuple(transforms)
        if any(layer.swap for layer in layers):
            self._swapped = struct.Struct(f"<{count}H")
        if (len(self._layers) == 1 and not transforms and not self._layers[0][0]
                and self._layers[0][2] == tuple(range(len(entries)))):
            self._simple = self._layers[0][1]

    def decode(self, data: Sequence[int]) -> Sequence[float]:
        """Decode every point from the block's reply.

        Parameters
        ----------
        data : sequence of int
            At least ``count`` registers (0..65535) or bits, in wire order; extra
            items (bit replies are padded to whole bytes) are ignored.

        Returns
        -------
        sequence of float
            Engineering values (``raw * scale + offset``, bits 0.0/1.0), one per
            entry, in entry order.

        Raises
        ------
        ValueError
            The reply is shorter than ``count`` or holds a register outside 0..65535.
        """
        count = self.count
        if len(data) < count:
            raise ValueError(f"reply has only {len(data)} items, block needs {count}")
        if self._bit_indices is not None:
            return [1.0 if data[i] else 0.0 for i in self._bit_indices]
        if len(data) > count:
            data = data[:count]
        try:
            packed = self._big.pack(*data)
        except struct.error as exc:
            raise ValueError(f"register value outside 0..65535 ({exc})") from None
        return self.decode_bytes(packed)

    def decode_bytes(self, raw: bytes) -> Sequence[float]:
        """Decode every point of a register block from the reply's register bytes.

        Parameters
        ----------
        raw : bytes
            The registers as on the wire (2 bytes each, big-endian), at least
            ``2 * count`` bytes; more are ignored.

        Returns
        -------
        sequence of float
            As :meth:`decode`.

        Raises
        ------
        ValueError
            Fewer than ``2 * count`` bytes, or the block is a coil/discrete-input block.
        """
        if self._bit_indices is not None:
            raise ValueError("a bit block is decoded from bits, not register bytes")
        if len(raw) < 2 * self.count:
            raise ValueError(f"reply has only {len(raw) // 2} registers, block needs {self.count}")
        simple = self._simple
        if simple is not None:
            return simple.unpack_from(raw)
        swapped = self._swapped.pack(*self._big.unpack_from(raw)) if self._swapped is not None else b""
        out: list = [0.0] * self._size
        for swap, layout, positions in self._layers:
            for position, value in zip(positions, layout.unpack_from(swapped if swap else raw)):
                out[position] = value
        for position, scale, offset, bit in self._transforms:
            value = out[position]
            out[position] = float((value >> bit) & 1) if bit is not None else value * scale + offset
        return out
