"""Block planner: grouping by table, gaps, limits, never splitting a point."""

from __future__ import annotations

import pytest

from drivers.modbus.planner import plan_blocks
from drivers.modbus.spec import DataType, ModbusPoint, Table

HR, IR, CO, DI = Table.HOLDING_REGISTER, Table.INPUT_REGISTER, Table.COIL, Table.DISCRETE_INPUT


def p(name: str, table: Table, address: int, dtype: DataType = DataType.UINT16, **kw) -> ModbusPoint:
    return ModbusPoint(name, table, address, dtype, **kw)


def spans(blocks):
    return [(b.table, b.start, b.count, [bp.point.name for bp in b.points]) for b in blocks]


def test_groups_by_table_and_sorts_by_address():
    blocks = plan_blocks([
        p("ir", IR, 5), p("b", HR, 3), p("a", HR, 0, DataType.FLOAT32),
        p("c1", CO, 2, DataType.BIT), p("d1", DI, 0, DataType.BIT),
    ])
    assert spans(blocks) == [
        (CO, 2, 1, ["c1"]), (DI, 0, 1, ["d1"]), (HR, 0, 4, ["a", "b"]), (IR, 5, 1, ["ir"]),
    ]


def test_gap_rule():
    # gap of exactly max_gap (10 unused registers 2..11) is spanned, 11 is not
    assert spans(plan_blocks([p("a", HR, 0, DataType.FLOAT32), p("b", HR, 12)], max_gap=10)) == [
        (HR, 0, 13, ["a", "b"]),
    ]
    assert len(plan_blocks([p("a", HR, 0, DataType.FLOAT32), p("b", HR, 13)], max_gap=10)) == 2
    assert len(plan_blocks([p("a", HR, 0), p("b", HR, 2)], max_gap=0)) == 2
    assert len(plan_blocks([p("a", HR, 0), p("b", HR, 1)], max_gap=0)) == 1


def test_block_limit_never_splits_a_point():
    points = [p(f"f{i}", HR, 2 * i, DataType.FLOAT32) for i in range(100)]  # 200 registers
    blocks = plan_blocks(points, max_registers=125)
    assert [(b.start, b.count) for b in blocks] == [(0, 124), (124, 76)]
    assert sum(len(b.points) for b in blocks) == 100
    for block in blocks:
        for bp in block.points:
            assert bp.index + bp.codec.width <= block.count
    # a float64 at 3 with a limit of 5 cannot join the register at 0 (would need 7)
    blocks = plan_blocks([p("a", HR, 0), p("d", HR, 3, DataType.FLOAT64)], max_registers=5)
    assert spans(blocks) == [(HR, 0, 1, ["a"]), (HR, 3, 4, ["d"])]


def test_bit_limits_and_overlapping_points():
    coils = [p(f"c{i}", CO, i, DataType.BIT) for i in range(0, 4000, 2)]
    blocks = plan_blocks(coils, max_bits=2000)
    assert [(b.start, b.count) for b in blocks] == [(0, 1999), (2000, 1999)]
    overlapping = [
        p("b0", HR, 7, DataType.BIT, bit=0), p("b15", HR, 7, DataType.BIT, bit=15),
        p("word", HR, 7), p("pair", HR, 6, DataType.UINT32),
    ]
    (block,) = plan_blocks(overlapping)
    assert (block.start, block.count) == (6, 2)
    assert {bp.point.name: bp.index for bp in block.points} == {"pair": 0, "b0": 1, "b15": 1, "word": 1}
    assert dict(zip([bp.point.name for bp in block.points], block.decode([0x0001, 0x8001]))) == {
        "pair": 0x00018001, "b0": 1.0, "b15": 1.0, "word": 0x8001,
    }


def test_block_decode_checks_reply_length():
    (block,) = plan_blocks([p("a", HR, 0), p("b", HR, 3)])
    assert block.decode([1, 0, 0, 4]) == [1.0, 4.0]
    with pytest.raises(ValueError, match="has only 3 items"):
        block.decode([1, 0, 0])


@pytest.mark.parametrize(
    ("kwargs", "points", "message"),
    [
        ({"max_registers": 126}, [], "max_registers must be 1..125"),
        ({"max_bits": 0}, [], "max_bits must be 1..2000"),
        ({"max_gap": -1}, [], "max_gap must be >= 0"),
        ({"max_registers": 2}, [p("d", HR, 0, DataType.FLOAT64)], "more than the block limit 2"),
        ({}, [p("x", CO, 0, DataType.INT16)], "holds bits"),
    ],
)
def test_bad_input(kwargs, points, message):
    with pytest.raises(ValueError, match=message):
        plan_blocks(points, **kwargs)


def test_empty():
    assert plan_blocks([]) == []
