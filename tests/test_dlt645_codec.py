"""DL/T 645 frame codec and BCD values, checked against hand-worked frames and the
independent ``dlt645`` package's codec."""

from __future__ import annotations

import pytest
from dlt645 import DLT645Protocol

from drivers.dlt645.codec import (
    FrameError,
    Version,
    address_bytes,
    address_text,
    build_frame,
    decode_bcd,
    encode_bcd,
    find_frame,
    read_request,
)


def test_address_is_bcd_least_significant_byte_first():
    assert address_bytes("000012345678") == bytes.fromhex("785634120000")
    assert address_bytes("1") == bytes.fromhex("010000000000")
    assert address_text(bytes.fromhex("785634120000")) == "000012345678"
    assert address_bytes("aaaaaaaaaaaa") == b"\xaa" * 6
    with pytest.raises(ValueError, match="1-12 decimal digits"):
        address_bytes("12345678901234")
    with pytest.raises(ValueError, match="1-12 decimal digits"):
        address_bytes("12AB")


def test_read_request_worked_by_hand():
    # 2007: read forward active energy total (DI 00 01 00 00) of meter 000000000001
    frame = read_request(address_bytes("000000000001"), 0x00010000)
    body = bytes.fromhex("68 010000000000 68 11 04 33 33 34 33")
    assert frame == b"\xfe" * 4 + body + bytes((sum(body) & 0xFF, 0x16))
    # 1997: read 9010 -> control 01, 2-byte DI 10 90 + 0x33 each
    old = read_request(address_bytes("1"), 0x9010, Version.V1997)
    assert old[4 + 8:4 + 12] == bytes.fromhex("01 02 43 C3")


def test_frames_agree_with_the_dlt645_package():
    address = address_bytes("202400012345")
    ours = build_frame(address, 0x91, bytes.fromhex("00010000 78563412"))
    theirs = bytes(DLT645Protocol.build_frame(address, 0x91, bytes.fromhex("00010000 78563412")))
    assert ours == theirs
    frame, used = find_frame(b"\x00\xfe" + theirs + b"\x68")
    assert used == 2 + len(theirs)
    assert frame is not None and frame.address == address and frame.control == 0x91
    assert frame.data == bytes.fromhex("00010000 78563412") and frame.is_reply and not frame.is_abnormal


def test_incomplete_and_malformed_frames():
    whole = build_frame(address_bytes("1"), 0x91, b"\x00\x01\x00\x00")
    assert find_frame(whole[:-1]) == (None, 4)  # wait for more, drop the preamble
    assert find_frame(b"\x01\x02\x03") == (None, 3)
    bad_sum = whole[:-2] + bytes(((whole[-2] + 1) & 0xFF, 0x16))
    with pytest.raises(FrameError, match="bad checksum"):
        find_frame(bad_sum)
    with pytest.raises(FrameError, match="end byte 0x00"):
        find_frame(whole[:-1] + b"\x00")


@pytest.mark.parametrize(
    ("value", "fmt", "signed", "raw"),
    [
        (123456.78, "XXXXXX.XX", False, "78 56 34 12"),
        (228.4, "XXX.X", False, "84 22"),
        (-3.502, "XXX.XXX", True, "02 35 80"),
        (0.95, "X.XXX", True, "50 09"),
        (-12.3456, "XX.XXXX", True, "56 34 92"),
    ],
)
def test_bcd_values(value, fmt, signed, raw):
    assert encode_bcd(value, fmt, signed) == bytes.fromhex(raw)
    assert decode_bcd(bytes.fromhex(raw), fmt, signed) == pytest.approx(value)


def test_bcd_rejects_what_is_not_a_value():
    with pytest.raises(ValueError, match="not BCD: ee ee"):
        decode_bcd(b"\xee\xee", "XXX.X")
    with pytest.raises(ValueError, match="needs 4 bytes, got 3"):
        decode_bcd(b"\x00\x00\x00", "XXXXXX.XX")
    with pytest.raises(ValueError, match="does not fit"):
        encode_bcd(100.0, "XX.XX")
    with pytest.raises(ValueError, match="even number of X"):
        decode_bcd(b"\x00", "XXX")
