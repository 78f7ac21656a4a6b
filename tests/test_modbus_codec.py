"""Codec: every data type, word order and byte order; scale/offset; bits; errors."""

from __future__ import annotations

import itertools
import math
import struct

import pytest

from drivers.modbus.codec import compile_point, decode, encode, pack_registers
from drivers.modbus.spec import DataType, ModbusPoint, Order, Table

HR = Table.HOLDING_REGISTER
B, L = Order.BIG, Order.LITTLE


def point(dtype: DataType, word: Order = B, byte: Order = B, **kw) -> ModbusPoint:
    table = kw.pop("table", HR)
    return ModbusPoint("p", table, kw.pop("address", 0), dtype, word, byte, **kw)


# wire layout of 0x01020304 / 1.0f / 1.0 in each (word order, byte order)
@pytest.mark.parametrize(
    ("word", "byte", "int32", "float32", "float64"),
    [
        (B, B, [0x0102, 0x0304], [0x3F80, 0x0000], [0x3FF0, 0, 0, 0]),           # ABCD
        (L, B, [0x0304, 0x0102], [0x0000, 0x3F80], [0, 0, 0, 0x3FF0]),           # CDAB
        (B, L, [0x0201, 0x0403], [0x803F, 0x0000], [0xF03F, 0, 0, 0]),           # BADC
        (L, L, [0x0403, 0x0201], [0x0000, 0x803F], [0, 0, 0, 0xF03F]),           # DCBA
    ],
)
def test_known_wire_layouts(word, byte, int32, float32, float64):
    assert decode(point(DataType.UINT32, word, byte), int32) == 0x01020304
    assert encode(point(DataType.UINT32, word, byte), 0x01020304) == int32
    assert decode(point(DataType.FLOAT32, word, byte), float32) == 1.0
    assert encode(point(DataType.FLOAT32, word, byte), 1.0) == float32
    assert decode(point(DataType.FLOAT64, word, byte), float64) == 1.0
    assert encode(point(DataType.FLOAT64, word, byte), 1.0) == float64


def test_16_bit_types_and_byte_order():
    assert decode(point(DataType.INT16), [0xFFFE]) == -2
    assert decode(point(DataType.UINT16), [0xFFFE]) == 65534
    assert decode(point(DataType.INT16, byte=L), [0xFEFF]) == -2
    assert encode(point(DataType.UINT16, byte=L), 0x1234) == [0x3412]
    # word order means nothing for one register
    assert encode(point(DataType.INT16, L, B), -2) == [0xFFFE]


SAMPLES = {
    DataType.INT16: [-32768, -1, 0, 32767],
    DataType.UINT16: [0, 1, 65535],
    DataType.INT32: [-(2**31), -123456, 0, 2**31 - 1],
    DataType.UINT32: [0, 123456789, 2**32 - 1],
    DataType.FLOAT32: [-1.5, 0.0, 3.25, 2.0**100],
    DataType.FLOAT64: [-1e300, math.pi, 0.0, 2.5e-300],
}


@pytest.mark.parametrize("dtype", list(SAMPLES))
@pytest.mark.parametrize(("word", "byte"), list(itertools.product(Order, Order)))
def test_round_trip_every_type_and_order(dtype, word, byte):
    p = point(dtype, word, byte)
    for value in SAMPLES[dtype]:
        registers = encode(p, value)
        assert len(registers) == dtype.registers
        assert all(0 <= r <= 0xFFFF for r in registers)
        assert decode(p, registers) == value


def test_scale_and_offset():
    p = point(DataType.INT16, scale=0.1, offset=-40.0)
    assert encode(p, 25.0) == [650]
    assert decode(p, [650]) == pytest.approx(25.0)
    assert encode(p, 25.04) == [650]  # rounded to the nearest raw step
    assert decode(point(DataType.UINT32, scale=0.01), [0, 12345]) == pytest.approx(123.45)


def test_bits_in_coils_and_registers():
    coil = point(DataType.BIT, table=Table.COIL)
    assert decode(coil, [1]) == 1.0 and decode(coil, [0]) == 0.0
    assert encode(coil, 1) == [1] and encode(coil, False) == [0]
    bit5 = point(DataType.BIT, bit=5)
    assert decode(bit5, [0b100000]) == 1.0
    assert decode(bit5, [0xFFFF & ~0b100000]) == 0.0
    assert encode(bit5, 1, register=0x8001) == [0x8021]
    assert encode(bit5, 0, register=0xFFFF) == [0xFFDF]
    # byte order LITTLE: bit 0 is the low bit of the swapped register, i.e. wire bit 8
    swapped = point(DataType.BIT, byte=L, bit=0)
    assert decode(swapped, [0x0100]) == 1.0
    assert encode(swapped, 1, register=0) == [0x0100]


@pytest.mark.parametrize(
    ("p", "value", "message"),
    [
        (point(DataType.INT16), 32768, "outside int16 range -32768..32767"),
        (point(DataType.UINT16), -1, "outside uint16 range"),
        (point(DataType.UINT32), 2**32, "outside uint32 range"),
        (point(DataType.UINT16, scale=0.1), 6553.6, "raw 65536"),
        (point(DataType.FLOAT32), 1e39, "outside float32 range"),
        (point(DataType.INT32), math.nan, "not finite"),
        (point(DataType.BIT, table=Table.COIL), 2, "bit value must be 0 or 1"),
        (point(DataType.INT16), "12", "not a number"),
    ],
)
def test_encode_out_of_range_raises_clear_value_error(p, value, message):
    with pytest.raises(ValueError, match=message) as info:
        encode(p, value)
    assert "'p'" in str(info.value)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"dtype": DataType.FLOAT32, "table": Table.COIL}, "holds bits"),
        ({"dtype": DataType.BIT}, "needs 'bit' 0..15"),
        ({"dtype": DataType.BIT, "bit": 16}, "bit 16 outside 0..15"),
        ({"dtype": DataType.INT16, "bit": 3}, "'bit' needs dtype 'bit'"),
        ({"dtype": DataType.BIT, "table": Table.COIL, "bit": 1}, "applies to register tables"),
        ({"dtype": DataType.INT16, "scale": 0.0}, "scale must be finite and non-zero"),
        ({"dtype": DataType.INT16, "address": 70000}, "address 70000 outside"),
        ({"dtype": DataType.FLOAT64, "address": 65533}, "runs past 65535"),
    ],
)
def test_bad_point_definitions(kw, message):
    dtype = kw.pop("dtype")
    with pytest.raises(ValueError, match=message):
        compile_point(point(dtype, **kw))


def test_decode_rejects_wrong_length_and_bad_registers():
    with pytest.raises(ValueError, match="expected 2 register"):
        decode(point(DataType.FLOAT32), [1])
    with pytest.raises(ValueError, match="bad register value"):
        decode(point(DataType.UINT32), [0x10000, 0])
    with pytest.raises(ValueError, match="reply has 3"):
        compile_point(point(DataType.FLOAT32)).decode_from([0, 0, 0], 2)


def test_decode_from_a_block_offset_and_pack_registers():
    codec = compile_point(point(DataType.FLOAT32, L, B))
    block = [7, 7, 0x0000, 0x4049, 9]
    assert codec.decode_from(block, 2) == pytest.approx(3.140625)
    assert pack_registers([0x0102, 0x0304]) == b"\x01\x02\x03\x04"
    assert pack_registers([0x0102], swap_bytes=True) == b"\x02\x01"
    assert struct.unpack(">f", pack_registers([0x3F80, 0]))[0] == 1.0
    with pytest.raises(ValueError, match="0..65535"):
        pack_registers([-1])
