"""Modbus RTU faults over a pty pair: late replies, bad CRC, wrong unit, truncated and
over-long frames, a silent slave that comes back. The slave is scripted byte by byte."""

from __future__ import annotations

import asyncio

import pytest
from modbus_peers import async_test
from serial_peers import HostileRtuServer, RtuRequest, pty_pair, rtu_frame, rtu_registers

from app.points import Quality
from drivers.modbus.driver import ModbusDriver
from drivers.modbus.rtu import crc16, diagnose_reply, frame_gap_s
from drivers.modbus.spec import DataType, ModbusParams, ModbusPoint, Table

HR = Table.HOLDING_REGISTER
UNIT = 7
#: two points far apart: two one-register blocks, FC3 at 0 and FC3 at 100
POINTS = [ModbusPoint("a", HR, 0, DataType.UINT16), ModbusPoint("b", HR, 100, DataType.UINT16)]


def _params(port: str, **kw: object) -> ModbusParams:
    base: dict[str, object] = dict(
        unit_id=UNIT, serial_port=port, baudrate=115200, timeout_s=0.3, retries=0,
        backoff_initial_s=0.05, backoff_max_s=0.1,
    )
    base.update(kw)
    return ModbusParams("R7", **base)  # type: ignore[arg-type]


def _reply(value: int) -> list[tuple[float, bytes]]:
    return [(0.0, rtu_registers(UNIT, 3, [value]))]


def _by_name(values):
    return {pv.tag.split(".", 1)[1]: pv for pv in values}


def test_crc_matches_the_specification_example():
    # Modbus over Serial Line V1.02, 6.2.2: "02 07" -> CRC 0x1241, sent 41 12
    assert crc16(bytes((0x02, 0x07))) == 0x1241
    assert frame_gap_s(9600) == pytest.approx(3.5 * 11 / 9600)
    assert frame_gap_s(115200) == 0.00175


def test_diagnosis_names_what_was_wrong():
    good = rtu_registers(UNIT, 3, [5])
    assert diagnose_reply(b"", UNIT) is None
    assert diagnose_reply(good[:-1] + bytes((good[-1] ^ 0xFF,)), UNIT) == "CRC error in reply (7 bytes)"
    assert diagnose_reply(rtu_registers(3, 3, [5]), UNIT) == "reply from unit 3, expected unit 7"
    assert diagnose_reply(good[:5], UNIT) == "incomplete reply (5 of 7 bytes)"
    assert diagnose_reply(good + b"\x00", UNIT) == "reply followed by 1 stray bytes"


@async_test
async def test_late_reply_is_never_taken_as_the_next_answer(tmp_path):
    def script(req: RtuRequest, n: int) -> list[tuple[float, bytes]]:
        if n == 0:          # block a of read 1: answered after the timeout
            return [(0.45, rtu_registers(UNIT, 3, [111]))]
        # slow but in time: without the post-timeout silence, a's late 111 would come first
        return [(0.2, rtu_registers(UNIT, 3, [{0: 333, 100: 222}[req.address]]))]

    with pty_pair(tmp_path) as (client_end, server_end):
        async with HostileRtuServer(server_end, script) as slave:
            driver = ModbusDriver(_params(client_end), POINTS)
            first = _by_name(await driver.read())
            second = _by_name(await driver.read())
            await driver.close()
    assert first["a"].quality is Quality.BAD and "timeout after 0.3 s on FC3 0..0" in first["a"].reason
    assert first["b"].quality is Quality.GOOD and first["b"].value == 222
    assert second["a"].quality is Quality.GOOD and second["a"].value == 333
    assert [r.address for r in slave.requests] == [0, 100, 0, 100]


@pytest.mark.parametrize(
    ("bad_reply", "reason"),
    [
        (lambda good: good[:-2] + bytes((good[-2] ^ 0x5A, good[-1])), "CRC error in reply (7 bytes)"),
        (lambda good: rtu_registers(3, 3, [9]), "reply from unit 3, expected unit 7"),
        (lambda good: good[:5], "incomplete reply (5 of 7 bytes)"),
    ],
    ids=["bad-crc", "wrong-unit", "truncated"],
)
@async_test
async def test_garbled_reply_is_bad_with_its_cause_then_recovers(tmp_path, bad_reply, reason):
    def script(req: RtuRequest, n: int) -> list[tuple[float, bytes]]:
        good = rtu_registers(UNIT, 3, [40 + n])
        return [(0.0, bad_reply(good))] if n == 0 else [(0.0, good)]

    with pty_pair(tmp_path) as (client_end, server_end):
        async with HostileRtuServer(server_end, script):
            driver = ModbusDriver(_params(client_end), POINTS)
            first = _by_name(await driver.read())
            second = _by_name(await driver.read())
            online = driver.online
            await driver.close()
    assert first["a"].quality is Quality.BAD
    assert first["a"].reason == f"timeout after 0.3 s on FC3 0..0; {reason}"
    assert first["a"].value is None
    assert first["b"].quality is Quality.GOOD and first["b"].value == 41
    assert second["a"].quality is Quality.GOOD and second["a"].value == 42
    assert online


@async_test
async def test_reply_with_wrong_register_count_is_bad(tmp_path):
    def script(req: RtuRequest, n: int) -> list[tuple[float, bytes]]:
        return [(0.0, rtu_registers(UNIT, 3, [1, 2] if req.address == 0 else [3]))]

    with pty_pair(tmp_path) as (client_end, server_end):
        async with HostileRtuServer(server_end, script):
            driver = ModbusDriver(_params(client_end), POINTS)
            values = _by_name(await driver.read())
            await driver.close()
    assert values["a"].quality is Quality.BAD
    assert values["a"].reason == "reply to FC3 0..0 has 2 registers, expected 1"
    assert values["b"].quality is Quality.GOOD and values["b"].value == 3


@async_test
async def test_exception_reply_over_rtu(tmp_path):
    def script(req: RtuRequest, n: int) -> list[tuple[float, bytes]]:
        if req.address == 100:
            return [(0.0, rtu_frame(UNIT, bytes((0x83, 2))))]
        return _reply(5)

    with pty_pair(tmp_path) as (client_end, server_end):
        async with HostileRtuServer(server_end, script):
            driver = ModbusDriver(_params(client_end), POINTS)
            values = _by_name(await driver.read())
            await driver.close()
    assert values["a"].value == 5 and values["a"].quality is Quality.GOOD
    assert values["b"].reason == "exception 2 (illegal data address) on FC3 100..100"


@async_test
async def test_silent_slave_goes_offline_then_is_read_again(tmp_path):
    answering = False

    def script(req: RtuRequest, n: int) -> list[tuple[float, bytes]]:
        return _reply(req.address + 1) if answering else []

    with pty_pair(tmp_path) as (client_end, server_end):
        async with HostileRtuServer(server_end, script):
            driver = ModbusDriver(_params(client_end, timeout_s=0.1), POINTS)
            dead = await driver.read()
            was_online = driver.online
            answering = True
            for _ in range(50):
                alive = await driver.read()
                if all(pv.good for pv in alive):
                    break
                await asyncio.sleep(0.05)
            await driver.close()
    assert not was_online
    assert all(pv.quality is Quality.BAD for pv in dead)
    assert {pv.reason for pv in dead} == {"timeout after 0.1 s on FC3 0..0", "timeout after 0.1 s on FC3 100..100"}
    assert [pv.value for pv in alive] == [1, 101] and all(pv.good for pv in alive)


def test_bad_rtu_params_are_reported():
    with pytest.raises(ValueError, match="rtu_silence_s must be >= 0"):
        ModbusDriver(ModbusParams("X", serial_port="/dev/null", rtu_silence_s=-1), POINTS)
