"""ModbusDriver against a hostile hand-written MBAP server: exception replies,
silence, late replies, mismatched transaction/unit ids, malformed frames,
connections closed mid-read."""

from __future__ import annotations

import asyncio

import pytest
from modbus_peers import (
    CLOSE, HostileServer, Request, answer, async_test, exception_pdu, frame, registers_pdu,
)

from app.points import Quality
from drivers.base import DriverError, DriverTimeout
from drivers.modbus.driver import ModbusDriver
from drivers.modbus.spec import DataType, ModbusParams, ModbusPoint, Table

HR, IR = Table.HOLDING_REGISTER, Table.INPUT_REGISTER
POINTS = [ModbusPoint("h", HR, 0, DataType.UINT16, writable=True), ModbusPoint("i", IR, 0, DataType.UINT16)]


def make_driver(server: HostileServer, **kw) -> ModbusDriver:
    kw.setdefault("timeout_s", 0.2)
    kw.setdefault("retries", 0)
    kw.setdefault("backoff_initial_s", 30.0)
    kw.setdefault("backoff_max_s", 60.0)
    return ModbusDriver(ModbusParams("H1", port=server.port, **kw), POINTS)


def by_name(values):
    return {pv.tag.split(".", 1)[1]: pv for pv in values}


def input_registers_ok(req: Request) -> list[bytes] | None:
    """Answer FC4 correctly with 77; None for anything else."""
    if req.fc == 4:
        return [answer(req, [77] * req.count)]
    return None


@pytest.mark.parametrize(
    ("code", "name"),
    [(1, "illegal function"), (2, "illegal data address"), (3, "illegal data value"),
     (4, "server device failure"), (6, "server device busy"), (10, "gateway path unavailable"),
     (11, "gateway target device failed to respond")],
)
@async_test
async def test_exception_replies_are_named_and_fail_only_their_block(code, name):
    def script(req: Request, n: int) -> list[bytes]:
        return input_registers_ok(req) or [frame(req.tid, req.unit, exception_pdu(req.fc, code))]

    async with HostileServer(script) as server:
        driver = make_driver(server)
        values = by_name(await driver.read())
        assert driver.online
        with pytest.raises(DriverError, match=f"exception {code} \\({name}\\) on FC6 0"):
            await driver.write("h", 1)
        await driver.close()
    assert values["h"].quality is Quality.BAD and values["h"].value is None
    assert values["h"].reason == f"exception {code} ({name}) on FC3 0..0"
    assert values["i"].quality is Quality.GOOD and values["i"].value == 77
    assert len(server.requests) == 3  # exception replies are answers: never retried


@async_test
async def test_timeout_retries_then_bad_and_offline():
    async with HostileServer(lambda req, n: []) as server:
        driver = make_driver(server, retries=2)
        values = by_name(await driver.read())
        (again_h, again_i) = await driver.read()
        await driver.close()
    for pv in values.values():
        assert pv.quality is Quality.BAD
    assert values["h"].reason == "timeout after 0.2 s (3 tries) on FC3 0..0"
    assert values["i"].reason == "timeout after 0.2 s (3 tries) on FC4 0..0"
    # 3 attempts per block, each with its own transaction id; then the silent device
    # is dropped and back-off holds further reads
    assert len(server.requests) == 6
    assert len({r.tid for r in server.requests}) == 6
    assert again_h.reason.startswith("offline, retry in") and "device not answering" in again_h.reason
    assert driver.stats.requests == 6 and driver.stats.failures == 2


@async_test
async def test_write_timeout_raises_driver_timeout():
    async with HostileServer(lambda req, n: []) as server:
        driver = make_driver(server)
        with pytest.raises(DriverTimeout, match="timeout after 0.2 s on FC6 0"):
            await driver.write("h", 5)
        await driver.close()


@async_test
async def test_late_reply_is_never_taken_for_the_newer_request():
    held: list[Request] = []

    def script(req: Request, n: int) -> list[bytes]:
        if req.fc == 4:
            return [answer(req, [0])]
        if not held:
            held.append(req)          # first FC3: no reply in time
            return []
        # the late reply to the first request arrives first, then the right one
        return [answer(held[0], [111]), answer(req, [222])]

    async with HostileServer(script) as server:
        driver = make_driver(server, retries=1)
        values = by_name(await driver.read())
        await driver.close()
    assert [r.fc for r in server.requests] == [3, 3, 4]
    assert values["h"].quality is Quality.GOOD and values["h"].value == 222


@async_test
async def test_only_a_stale_reply_means_timeout_not_a_value():
    held: list[Request] = []

    def script(req: Request, n: int) -> list[bytes]:
        if req.fc == 4:
            return [answer(req, [0])]
        if not held:
            held.append(req)
            return []
        return [answer(held[0], [111])]  # only ever the stale answer

    async with HostileServer(script) as server:
        driver = make_driver(server)
        first = by_name(await driver.read())
        second = by_name(await driver.read())
        await driver.close()
    for values in (first, second):
        assert values["h"].quality is Quality.BAD and values["h"].value is None
        assert values["h"].reason.startswith("timeout")
        assert values["i"].quality is Quality.GOOD


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (lambda req: frame(req.tid + 5, req.unit, registers_pdu(3, [9])), "timeout after 0.2 s"),
        (lambda req: frame(req.tid, req.unit + 1, registers_pdu(3, [9])), "timeout after 0.2 s"),
        (lambda req: frame(0, req.unit, registers_pdu(3, [9])), "carries transaction id 0"),
        (lambda req: frame(req.tid, req.unit, registers_pdu(4, [9])), "has function code 4"),
        (lambda req: frame(req.tid, req.unit, registers_pdu(3, [9, 9])), "has 2 registers, expected 1"),
        (lambda req: frame(req.tid, req.unit, bytes((3, 0))), "has 0 registers, expected 1"),
    ],
    ids=["wrong-tid", "wrong-unit", "tid-0", "wrong-fc", "too-many-registers", "empty"],
)
@async_test
async def test_mismatched_or_wrong_replies_are_bad_never_a_value(reply, reason):
    def script(req: Request, n: int) -> list[bytes]:
        return input_registers_ok(req) or [reply(req)]

    async with HostileServer(script) as server:
        driver = make_driver(server)
        values = by_name(await driver.read())
        await driver.close()
    assert values["h"].quality is Quality.BAD and values["h"].value is None
    assert reason in values["h"].reason
    assert values["i"].quality is Quality.GOOD and values["i"].value == 77


@async_test
async def test_malformed_frame_drops_the_connection_without_waiting_for_timeout():
    def script(req: Request, n: int) -> list[bytes]:
        if req.fc == 3:  # byte count 10 but 2 bytes of data
            return [frame(req.tid, req.unit, bytes((3, 10, 0, 1)))]
        return [answer(req, [77])]

    async with HostileServer(script) as server:
        driver = make_driver(server, timeout_s=5.0)
        values = by_name(await driver.read())
        await driver.close()
    # pymodbus closes the connection on an undecodable frame; the read ends at once
    # (a 5 s timeout would say "timeout"), and the unread block is BAD too
    assert values["h"].quality is Quality.BAD
    assert values["h"].reason.startswith("malformed reply to FC3 0..0 (")
    assert values["h"].reason.endswith("); connection dropped")
    assert values["i"].quality is Quality.BAD and values["i"].reason == values["h"].reason
    assert not driver.online


@async_test
async def test_server_closing_mid_read_keeps_last_good_values():
    def script(req: Request, n: int) -> list[bytes]:
        if n >= 2:  # second read: the device hangs up on the first request
            return [CLOSE]
        return [answer(req, [10 + req.fc])]

    async with HostileServer(script) as server:
        driver = make_driver(server, timeout_s=5.0)
        first = by_name(await driver.read())
        second = by_name(await driver.read())
        third = by_name(await driver.read())
        await driver.close()
    assert first["h"].value == 13 and first["i"].value == 14 and first["h"].good
    for name, value in (("h", 13), ("i", 14)):
        assert second[name].quality is Quality.BAD and second[name].value == value
        assert second[name].reason == "connection closed by device during FC3 0..0"
        assert third[name].reason.startswith("offline, retry in")
    assert server.connections == 1


@async_test
async def test_cancelling_a_waiting_read_propagates_and_a_lost_connection_does_not_leak_into_it():
    def script(req: Request, n: int) -> list[bytes]:
        if n == 1:
            return []                 # first request: silent, the read is cancelled meanwhile
        if n == 2:
            return [CLOSE]            # then the device hangs up while a read waits
        return [answer(req, [5])]

    async with HostileServer(script) as server:
        driver = make_driver(server, timeout_s=5.0)
        task = asyncio.create_task(driver.read())
        while not server.requests:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert task.cancelled()
        lost = by_name(await driver.read())
        await driver.close()
    # the engine's cancellation stays a cancellation; the hang-up is a fault with a reason,
    # and the task that saw it is not left with a pending cancel request
    assert lost["h"].quality is Quality.BAD
    assert lost["h"].reason == "connection closed by device during FC3 0..0"
    assert asyncio.current_task().cancelling() == 0


@async_test
async def test_odd_register_byte_count_is_bad_never_a_value():
    def script(req: Request, n: int) -> list[bytes]:
        if req.fc == 3:  # byte count 3: one and a half registers
            return [frame(req.tid, req.unit, bytes((3, 3, 0, 1, 2)))]
        return [answer(req, [77])]

    async with HostileServer(script) as server:
        driver = make_driver(server, timeout_s=0.3)
        values = by_name(await driver.read())
        await driver.close()
    # as with pymodbus's own reply decoding: the frame is undecodable and the connection dropped
    assert values["h"].quality is Quality.BAD and values["h"].value is None
    assert values["h"].reason.startswith("malformed reply to FC3 0..0 (")
