"""Block planning: merge a device's points into as few Modbus read requests as allowed.

Pure function, no I/O. Points are grouped by table, sorted by address and merged
into blocks while the block stays within the request limit and the unused span
between the block's end and the next point is at most ``max_gap``. A point is
never split across blocks; overlapping points (several bits of one register, or
two views of the same registers) share a block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drivers.modbus.block_codec import BlockCodec
from drivers.modbus.codec import PointCodec, compile_point
from drivers.modbus.spec import ModbusPoint, Table

__all__ = ["Block", "BlockPoint", "plan_blocks"]

_BIT_TABLES = (Table.COIL, Table.DISCRETE_INPUT)
_TABLE_ORDER = (Table.COIL, Table.DISCRETE_INPUT, Table.HOLDING_REGISTER, Table.INPUT_REGISTER)


@dataclass(frozen=True, slots=True)
class BlockPoint:
    """One point inside a block.

    Attributes
    ----------
    index : int
        Position of the point's first register/bit in the block's reply.
    codec : PointCodec
        The point's precompiled codec (``codec.point`` is the point).
    """

    index: int
    codec: PointCodec

    @property
    def point(self) -> ModbusPoint:
        """The point this entry decodes."""
        return self.codec.point


@dataclass(frozen=True, slots=True)
class Block:
    """One read request: ``count`` registers or bits of ``table`` from ``start``.

    Attributes
    ----------
    table : Table
    start : int
        First protocol address (0-based).
    count : int
        Registers (FC3/FC4) or bits (FC1/FC2) to read, >= 1.
    points : tuple of BlockPoint
        The points decoded from the reply, in address order.
    codec : BlockCodec
        Decodes the whole reply at once into the points' values, in ``points`` order.
    """

    table: Table
    start: int
    count: int
    points: tuple[BlockPoint, ...]
    codec: BlockCodec

    def decode(self, data: Sequence[int]) -> list[float]:
        """Decode every point of the block from its reply.

        Parameters
        ----------
        data : sequence of int
            At least ``count`` registers (0..65535) or bits; extra items (bit
            replies are padded to whole bytes) are ignored.

        Returns
        -------
        list of float
            Engineering values, one per entry of ``points``, same order.

        Raises
        ------
        ValueError
            The reply is shorter than ``count`` or holds a register outside 0..65535.
        """
        if len(data) < self.count:
            raise ValueError(
                f"reply to {self.table.value} {self.start}+{self.count} has only {len(data)} items"
            )
        return list(self.codec.decode(data))


def plan_blocks(
    points: Sequence[ModbusPoint],
    max_registers: int = 125,
    max_bits: int = 2000,
    max_gap: int = 10,
) -> list[Block]:
    """Merge points into read blocks.

    Parameters
    ----------
    points : sequence of ModbusPoint
        Any order, any tables; duplicates by name are the caller's concern.
    max_registers : int
        Largest FC3/FC4 read, registers (Modbus limit 125; some devices less). >= 4
        when FLOAT64 points are present.
    max_bits : int
        Largest FC1/FC2 read, bits (Modbus limit 2000).
    max_gap : int
        Most unused registers/bits a block may span to join the next point; 0
        joins only adjacent or overlapping points.

    Returns
    -------
    list of Block
        Ordered by table (coil, discrete input, holding, input) then start address.

    Raises
    ------
    ValueError
        A limit is out of range, a point definition is invalid (see
        :func:`drivers.modbus.codec.compile_point`) or a point is wider than the
        block limit.
    """
    if not 1 <= max_registers <= 125:
        raise ValueError(f"max_registers must be 1..125, got {max_registers}")
    if not 1 <= max_bits <= 2000:
        raise ValueError(f"max_bits must be 1..2000, got {max_bits}")
    if max_gap < 0:
        raise ValueError(f"max_gap must be >= 0, got {max_gap}")
    by_table: dict[Table, list[PointCodec]] = {}
    for point in points:
        codec = compile_point(point)
        limit = max_bits if point.table in _BIT_TABLES else max_registers
        if codec.width > limit:
            raise ValueError(
                f"point {point.name!r}: {point.dtype.value} needs {codec.width} registers, "
                f"more than the block limit {limit}"
            )
        by_table.setdefault(point.table, []).append(codec)
    blocks: list[Block] = []
    for table in _TABLE_ORDER:
        codecs = sorted(by_table.get(table, ()), key=lambda c: (c.point.address, c.width))
        limit = max_bits if table in _BIT_TABLES else max_registers
        group: list[PointCodec] = []
        start = end = 0
        for codec in codecs:
            address = codec.point.address
            new_end = max(end, address + codec.width)
            if group and address - end <= max_gap and new_end - start <= limit:
                group.append(codec)
                end = new_end
                continue
            if group:
                blocks.append(_block(table, start, end, group))
            group, start, end = [codec], address, address + codec.width
        if group:
            blocks.append(_block(table, start, end, group))
    return blocks


def _block(table: Table, start: int, end: int, codecs: list[PointCodec]) -> Block:
    entries = tuple(BlockPoint(c.point.address - start, c) for c in codecs)
    return Block(
        table, start, end - start, entries,
        BlockCodec(table, end - start, [(bp.index, bp.codec) for bp in entries]),
    )
