"""Whole-block decode (one struct call per layout) agrees with the per-point codec."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from drivers.modbus.block_codec import BlockCodec
from drivers.modbus.codec import compile_point
from drivers.modbus.planner import plan_blocks
from drivers.modbus.spec import DataType, ModbusPoint, Order, Table

HR = Table.HOLDING_REGISTER
NUMERIC = (DataType.INT16, DataType.UINT16, DataType.INT32, DataType.UINT32,
           DataType.FLOAT32, DataType.FLOAT64)


def _random_points(rng: random.Random, n: int) -> list[ModbusPoint]:
    points = []
    for i in range(n):
        address = rng.randrange(0, 40)
        word, byte = rng.choice(list(Order)), rng.choice(list(Order))
        if rng.random() < 0.2:
            points.append(ModbusPoint(f"p{i}", HR, address, DataType.BIT, word, byte,
                                      bit=rng.randrange(16)))
            continue
        scale = rng.choice((1.0, 1.0, 0.1, -2.5))
        offset = rng.choice((0.0, 0.0, 40.0))
        points.append(ModbusPoint(f"p{i}", HR, address, rng.choice(NUMERIC), word, byte,
                                  scale=scale, offset=offset))
    return points


@pytest.mark.parametrize("seed", range(40))
def test_block_decode_equals_point_decode_for_any_mix_of_types_orders_and_overlaps(seed):
    rng = random.Random(seed)
    points = _random_points(rng, rng.randrange(1, 25))
    for block in plan_blocks(points, max_gap=rng.choice((0, 3, 10))):
        data = [rng.randrange(0x10000) for _ in range(block.count)]
        expected = [bp.codec.decode_from(data, bp.index) for bp in block.points]
        got = block.codec.decode(data)
        assert len(got) == len(expected)
        for e, g, bp in zip(expected, got, block.points):
            assert isinstance(g, float), bp.point
            assert (math.isnan(e) and math.isnan(g)) or e == g, (bp.point, e, g)


def test_plain_big_endian_floats_decode_in_one_layout_and_ignore_extra_items():
    points = [ModbusPoint("t", HR, 0, DataType.FLOAT64)] + [
        ModbusPoint(f"v{k}", HR, 4 + 2 * k, DataType.FLOAT32) for k in range(3)]
    (block,) = plan_blocks(points)
    data = [0x3FF0, 0, 0, 0, 0x4000, 0, 0x4040, 0, 0x4080, 0]
    assert list(block.codec.decode(data)) == [1.0, 2.0, 3.0, 4.0]
    assert list(block.codec.decode(data + [7, 7])) == [1.0, 2.0, 3.0, 4.0]


def test_gaps_and_bit_tables():
    codec = BlockCodec(HR, 6, [(0, compile_point(ModbusPoint("a", HR, 0, DataType.INT16))),
                               (5, compile_point(ModbusPoint("b", HR, 5, DataType.UINT16, scale=0.5)))])
    assert list(codec.decode([0xFFFF, 9, 9, 9, 9, 10])) == [-1.0, 5.0]
    coils = BlockCodec(Table.COIL, 3, [
        (i, compile_point(ModbusPoint(f"c{i}", Table.COIL, i, DataType.BIT))) for i in (0, 2)])
    assert coils.decode([True, False, False, False, False, False, False, False]) == [1.0, 0.0]


@pytest.mark.parametrize(("data", "message"), [
    ([1, 2], "reply has only 2 items, block needs 3"),
    ([1, 2, 0x10000], "register value outside 0..65535"),
    ([1, -1, 3], "register value outside 0..65535"),
])
def test_short_reply_or_bad_register_is_a_value_error(data, message):
    points = [ModbusPoint(n, HR, a, DataType.UINT16) for n, a in (("a", 0), ("b", 2))]
    (block,) = plan_blocks(points)
    with pytest.raises(ValueError, match=message):
        block.codec.decode(data)


def test_every_order_pair_in_one_block():
    points = [ModbusPoint(f"f{w.value}{b.value}", HR, 2 * k, DataType.FLOAT32, w, b)
              for k, (w, b) in enumerate(itertools.product(Order, Order))]
    (block,) = plan_blocks(points)
    # 1.0f in (word, byte) order: (big, big) ABCD, (big, little) BADC, (little, big) CDAB,
    # (little, little) DCBA
    data = [0x3F80, 0x0000, 0x803F, 0x0000, 0x0000, 0x3F80, 0x0000, 0x803F]
    assert list(block.codec.decode(data)) == [1.0, 1.0, 1.0, 1.0]
