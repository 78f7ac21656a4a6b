"""Modbus RTU over a pty pair (socat) with a pymodbus serial server: read and write."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from modbus_peers import SimServer, async_test
from serial_peers import pty_pair as serial_pty_pair

from app.points import Quality
from drivers.modbus.codec import encode
from drivers.modbus.driver import ModbusDriver
from drivers.modbus.spec import DataType, ModbusParams, ModbusPoint, Order, Table

HR, CO = Table.HOLDING_REGISTER, Table.COIL


@pytest.fixture
def pty_pair(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two linked pseudo-terminals (client end, server end) made by socat."""
    with serial_pty_pair(tmp_path) as ends:
        yield ends


@async_test
async def test_rtu_read_and_write(pty_pair):
    client_end, server_end = pty_pair
    points = [
        ModbusPoint("p", HR, 3, DataType.FLOAT32, Order.LITTLE, writable=True),
        ModbusPoint("n", HR, 5, DataType.INT16),
        ModbusPoint("q", CO, 1, DataType.BIT, writable=True),
    ]
    async with SimServer(serial_port=server_end, unit_id=7) as server:
        await server.set(HR, 3, encode(points[0], 12.5))
        await server.set(HR, 5, [(-3) & 0xFFFF])
        params = ModbusParams("R1", unit_id=7, serial_port=client_end, baudrate=19200, timeout_s=0.5)
        driver = ModbusDriver(params, points)
        first = {pv.tag: pv for pv in await driver.read()}
        await driver.write("p", -0.75)
        await driver.write("q", 1)
        second = {pv.tag: pv for pv in await driver.read()}
        assert await server.get(CO, 1, 1) == [1]
        await driver.close()
    assert all(pv.quality is Quality.GOOD for pv in first.values())
    assert first["R1.p"].value == 12.5 and first["R1.n"].value == -3 and first["R1.q"].value == 0
    assert second["R1.p"].value == -0.75 and second["R1.q"].value == 1
    assert driver.stats.failures == 0
