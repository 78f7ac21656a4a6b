"""ModbusDriver against real pymodbus servers on 127.0.0.1: values, blocks, writes,
refused connections, back-off and reconnection, concurrency."""

from __future__ import annotations

import asyncio
import itertools
import math

import pytest
from modbus_peers import HostileServer, Request, SimServer, answer, async_test, free_port

from app.points import Quality
from drivers.base import DriverError
from drivers.modbus.codec import decode, encode
from drivers.modbus.driver import ModbusDriver
from drivers.modbus.spec import DataType, ModbusParams, ModbusPoint, Order, Table

HR, IR, CO, DI = Table.HOLDING_REGISTER, Table.INPUT_REGISTER, Table.COIL, Table.DISCRETE_INPUT

VALUES = {
    DataType.INT16: -1234, DataType.UINT16: 54321, DataType.INT32: -123456789,
    DataType.UINT32: 3_000_000_123, DataType.FLOAT32: -2.5, DataType.FLOAT64: math.e,
}


def params(port: int, **kw) -> ModbusParams:
    kw.setdefault("timeout_s", 0.3)
    kw.setdefault("retries", 0)
    return ModbusParams("M1", port=port, **kw)


def by_name(values):
    return {pv.tag.split(".", 1)[1]: pv for pv in values}


def all_type_points(table: Table) -> list[ModbusPoint]:
    points, address = [], 0
    for dtype, (word, byte) in itertools.product(VALUES, itertools.product(Order, Order)):
        points.append(ModbusPoint(f"{dtype.value}_{word.value}_{byte.value}", table, address, dtype,
                                  word, byte, scale=1.0, writable=table is HR))
        address += dtype.registers
    return points


@async_test
async def test_every_type_and_order_server_registers_to_driver():
    async with SimServer() as server:
        points = all_type_points(IR)
        for p in points:
            await server.set(IR, p.address, encode(p, VALUES[p.dtype]))
        driver = ModbusDriver(params(server.port), points)
        values = by_name(await driver.read())
        await driver.close()
    assert len(values) == len(points) == 24
    for p in points:
        pv = values[p.name]
        assert pv.quality is Quality.GOOD and pv.reason == ""
        assert pv.tag == f"M1.{p.name}"
        assert pv.value == pytest.approx(VALUES[p.dtype], rel=1e-7), p.name
    # 24 points in 60 contiguous registers: one request
    assert len(driver.blocks) == 1 and driver.stats.requests == 1


@async_test
async def test_every_type_and_order_driver_write_to_server_registers():
    async with SimServer() as server:
        points = all_type_points(HR)
        driver = ModbusDriver(params(server.port), points)
        for p in points:
            await driver.write(p.name, VALUES[p.dtype])
        for p in points:
            registers = await server.get(HR, p.address, p.dtype.registers)
            assert decode(p, registers) == pytest.approx(VALUES[p.dtype], rel=1e-7), p.name
        back = by_name(await driver.read())
        await driver.close()
    assert all(back[p.name].value == pytest.approx(VALUES[p.dtype], rel=1e-7) for p in points)


@async_test
async def test_blocks_across_gaps_and_limits_one_request_each():
    points = [
        ModbusPoint("a", HR, 0, DataType.UINT16),
        ModbusPoint("b", HR, 11, DataType.UINT16),      # gap 10: same block
        ModbusPoint("c", HR, 30, DataType.UINT16),      # gap 18: new block
        ModbusPoint("d", HR, 37, DataType.FLOAT32),     # block 30..38 (9 registers) ...
        ModbusPoint("e", HR, 42, DataType.UINT16),      # ... 30..42 would be 13 > 12: new block
        ModbusPoint("i", IR, 999, DataType.UINT16),
        ModbusPoint("c5", CO, 5, DataType.BIT),
        ModbusPoint("c900", CO, 900, DataType.BIT),
        ModbusPoint("d3", DI, 3, DataType.BIT),
    ]
    async with SimServer() as server:
        await server.set(HR, 0, [10])
        await server.set(HR, 11, [11])
        await server.set(HR, 30, [30])
        await server.set(HR, 37, encode(points[3], 37.5))
        await server.set(HR, 42, [42])
        await server.set(IR, 999, [999])
        await server.set(CO, 5, [1])
        await server.set(CO, 900, [1])
        await server.set(DI, 3, [1])
        driver = ModbusDriver(params(server.port, max_block_registers=12), points)
        values = by_name(await driver.read())
        await driver.close()
    assert [(b.table, b.start, b.count) for b in driver.blocks] == [
        (CO, 5, 1), (CO, 900, 1), (DI, 3, 1), (HR, 0, 12), (HR, 30, 9), (HR, 42, 1), (IR, 999, 1),
    ]
    assert driver.stats.requests == 7 and driver.stats.failures == 0
    assert {n: v.value for n, v in values.items()} == {
        "a": 10, "b": 11, "c": 30, "d": 37.5, "e": 42, "i": 999, "c5": 1, "c900": 1, "d3": 1,
    }


@async_test
async def test_requests_seen_by_the_device_match_the_plan():
    def script(req: Request, n: int) -> list[bytes]:
        return [answer(req, [req.address + i for i in range(req.count)])]

    points = [ModbusPoint(f"r{a}", HR, a, DataType.UINT16) for a in (0, 4, 10, 100, 222, 230)]
    async with HostileServer(script) as server:
        driver = ModbusDriver(params(server.port, max_gap=7), points)
        values = by_name(await driver.read())
        await driver.close()
    assert [(r.fc, r.address, r.count) for r in server.requests] == [
        (3, 0, 11), (3, 100, 1), (3, 222, 9),
    ]
    assert all(values[f"r{a}"].value == a for a in (0, 4, 10, 100, 222, 230))


@async_test
async def test_unmapped_address_fails_only_its_block_and_keeps_last_good():
    points = [ModbusPoint("ok", HR, 10, DataType.UINT16), ModbusPoint("far", HR, 1500, DataType.UINT16),
              ModbusPoint("edge", IR, 999, DataType.UINT32)]
    async with SimServer() as server:
        await server.set(HR, 10, [42])
        driver = ModbusDriver(params(server.port), points)
        first = by_name(await driver.read())
        await server.set(HR, 10, [43])
        second = by_name(await driver.read())
        assert driver.online  # the device answered
        await driver.close()
        assert not driver.online
    assert first["ok"].quality is Quality.GOOD and first["ok"].value == 42
    assert second["ok"].value == 43
    for values in (first, second):
        assert values["far"].quality is Quality.BAD and values["far"].value is None
        assert values["far"].reason == "exception 2 (illegal data address) on FC3 1500..1500"
        # 999 is mapped, 1000 is not: a UINT32 at 999 runs off the map
        assert values["edge"].quality is Quality.BAD and "exception 2" in values["edge"].reason
    assert driver.stats.failures == 4 and "exception 2" in driver.stats.last_error


@async_test
async def test_unknown_unit_id_is_exception_4():
    async with SimServer(unit_id=1) as server:
        driver = ModbusDriver(params(server.port, unit_id=9), [ModbusPoint("x", HR, 0, DataType.UINT16)])
        (pv,) = await driver.read()
        await driver.close()
    assert pv.quality is Quality.BAD
    assert pv.reason.startswith("exception 4 (server device failure)")


@async_test
async def test_connection_refused_then_back_off_without_waiting():
    port = free_port()
    driver = ModbusDriver(params(port, backoff_initial_s=30.0, backoff_max_s=60.0),
                          [ModbusPoint("x", HR, 0, DataType.UINT16, writable=True)])
    (first,) = await driver.read()
    assert first.quality is Quality.BAD and first.value is None
    assert first.reason == f"connection refused (127.0.0.1:{port})"
    for _ in range(3):
        (pv,) = await driver.read()
        assert pv.quality is Quality.BAD
        assert pv.reason.startswith("offline, retry in ") and "connection refused" in pv.reason
    assert driver.stats.requests == 0 and driver.stats.failures == 1  # no further attempts
    with pytest.raises(DriverError, match="offline, retry in"):
        await driver.write("x", 1)
    assert not driver.online
    await driver.close()


@async_test
async def test_reconnects_after_server_restart_with_back_off():
    point = ModbusPoint("x", HR, 5, DataType.UINT16)
    server = SimServer()
    await server.start()
    await server.set(HR, 5, [7])
    driver = ModbusDriver(params(server.port, backoff_initial_s=0.05, backoff_max_s=0.2), [point])
    (pv,) = await driver.read()
    assert pv.quality is Quality.GOOD and driver.online
    await server.stop()
    reasons = []
    for _ in range(5):
        (pv,) = await driver.read()
        assert pv.quality is Quality.BAD and pv.value == 7  # last good value kept
        reasons.append(pv.reason)
    assert not driver.online
    assert any("connection" in r for r in reasons)             # lost / refused
    assert any(r.startswith("offline, retry in") for r in reasons)
    await server.start()
    await server.set(HR, 5, [8])
    for _ in range(100):  # back-off ceiling is 0.2 s; poll for up to ~5 s
        (pv,) = await driver.read()
        if pv.quality is Quality.GOOD:
            break
        await asyncio.sleep(0.05)
    assert pv.quality is Quality.GOOD and pv.value == 8 and driver.online
    await driver.close()
    await server.stop()


@async_test
async def test_writes_coil_registers_and_bit_in_register_read_back():
    points = [
        ModbusPoint("breaker", CO, 12, DataType.BIT, writable=True),
        ModbusPoint("setpoint", HR, 20, DataType.INT16, scale=0.1, writable=True),
        ModbusPoint("limit", HR, 21, DataType.FLOAT32, Order.LITTLE, writable=True),
        ModbusPoint("flag3", HR, 30, DataType.BIT, bit=3, writable=True),
        ModbusPoint("status", IR, 0, DataType.UINT16),
        ModbusPoint("fixed", HR, 40, DataType.UINT16),
    ]
    async with SimServer() as server:
        await server.set(HR, 30, [0x8001])
        driver = ModbusDriver(params(server.port), points)
        await driver.write("breaker", 1)
        await driver.write("setpoint", -12.3)
        await driver.write("limit", 1500.25)
        await driver.write("flag3", 1)
        assert await server.get(CO, 12, 1) == [1]
        assert await server.get(HR, 20, 1) == [(-123) & 0xFFFF]
        assert await server.get(HR, 30, 1) == [0x8009]  # other bits kept
        values = by_name(await driver.read())
        assert values["breaker"].value == 1 and values["limit"].value == 1500.25
        assert values["setpoint"].value == pytest.approx(-12.3)
        assert values["flag3"].value == 1
        await driver.write("flag3", 0)
        await driver.write("breaker", 0)
        assert await server.get(HR, 30, 1) == [0x8001]
        assert await server.get(CO, 12, 1) == [0]
        for name, value, message in [
            ("fixed", 1, "not writable"), ("nope", 1, "no such point"),
            ("setpoint", 4000, "outside int16 range"), ("breaker", 3, "0 or 1"),
        ]:
            with pytest.raises(DriverError, match=message):
                await driver.write(name, value)
        assert await server.get(HR, 40, 1) == [0]
        await driver.close()


@async_test
async def test_write_exception_reply_raises_driver_error():
    async with SimServer() as server:
        driver = ModbusDriver(params(server.port), [ModbusPoint("w", HR, 2000, DataType.UINT16, writable=True)])
        with pytest.raises(DriverError, match=r"M1.w: exception 2 \(illegal data address\) on FC6 2000"):
            await driver.write("w", 5)
        await driver.close()


@async_test
async def test_dead_device_does_not_delay_a_healthy_one():
    finished: list[str] = []

    async with SimServer() as healthy_server, HostileServer(lambda req, n: []) as dead_server:
        await healthy_server.set(HR, 0, [1])
        healthy = ModbusDriver(ModbusParams("H", port=healthy_server.port, timeout_s=0.5),
                               [ModbusPoint("x", HR, 0, DataType.UINT16)])
        dead = ModbusDriver(ModbusParams("D", port=dead_server.port, timeout_s=0.5, retries=1),
                            [ModbusPoint("x", HR, 0, DataType.UINT16)])

        async def scan_dead() -> None:
            (pv,) = await dead.read()
            assert pv.quality is Quality.BAD and pv.reason.startswith("timeout")
            finished.append("dead")

        async def scan_healthy() -> None:
            while "dead" not in finished:
                (pv,) = await healthy.read()
                assert pv.quality is Quality.GOOD
                finished.append("healthy")

        await asyncio.gather(scan_dead(), scan_healthy())
        await healthy.close()
        await dead.close()
    # the dead device's one read (2 x 0.5 s) spans many complete healthy scans
    assert finished.index("dead") >= 20
    assert len(dead_server.requests) == 2  # retries=1: two attempts, no more


@pytest.mark.parametrize(
    ("kwargs", "points", "message"),
    [
        ({"unit_id": 300}, [], "unit_id 300 outside 0..255"),
        ({"timeout_s": 0}, [], "timeout_s must be > 0"),
        ({"retries": -1}, [], "retries must be >= 0"),
        ({}, [ModbusPoint("a", HR, 0, DataType.UINT16)] * 2, "duplicate point 'a'"),
        ({}, [ModbusPoint("a", IR, 0, DataType.UINT16, writable=True)], "read-only"),
        ({}, [ModbusPoint("a", CO, 0, DataType.FLOAT32)], "'a'.*holds bits"),
        ({"backoff_initial_s": 0}, [], "back-off"),
    ],
)
def test_bad_configuration_names_device_and_fault(kwargs, points, message):
    with pytest.raises(ValueError, match=message) as info:
        ModbusDriver(params(502, **kwargs), points)
    assert "M1" in str(info.value)


@async_test
async def test_concurrent_reads_and_writes_share_one_link():
    points = [ModbusPoint("r", HR, 0, DataType.UINT16), ModbusPoint("w", HR, 50, DataType.UINT16, writable=True)]
    async with SimServer() as server:
        await server.set(HR, 0, [5])
        driver = ModbusDriver(params(server.port), points)
        await driver.read()  # connect first

        async def reads() -> list[float | None]:
            return [by_name(await driver.read())["r"].value for _ in range(30)]

        async def writes() -> None:
            for i in range(30):
                await driver.write("w", i)

        got, _ = await asyncio.gather(reads(), writes())
        assert await server.get(HR, 50, 1) == [29]
        await driver.close()
    assert got == [5] * 30
    assert driver.stats.failures == 0


@async_test
async def test_a_cancelled_read_always_ends_cancelled_whenever_the_cancel_lands():
    # Cancel a read at every event-loop step of its exchange, including the step in which
    # the reply arrives (where asyncio.wait_for on Python 3.11 would return the reply and
    # drop the cancellation); the engine relies on a cancelled scan really ending.
    points = [ModbusPoint("h", Table.HOLDING_REGISTER, 0, DataType.UINT16)]
    async with SimServer() as server:
        await server.set(Table.HOLDING_REGISTER, 0, [42])
        driver = ModbusDriver(params(server.port, timeout_s=2.0), points)
        assert (await driver.read())[0].value == 42
        outcomes = []
        for steps in range(60):
            task = asyncio.create_task(driver.read())
            for _ in range(steps):
                await asyncio.sleep(0)
            finished_before_cancel = task.done()
            task.cancel()
            try:
                await task
                outcomes.append("finished" if finished_before_cancel else "cancel lost")
            except asyncio.CancelledError:
                outcomes.append("cancelled")
        last = await driver.read()
        await driver.close()
    assert "cancel lost" not in outcomes, outcomes
    assert outcomes[0] == "cancelled" and outcomes[-1] == "finished"
    assert last[0].good and last[0].value == 42
