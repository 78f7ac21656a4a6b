"""DL/T 645 driver against real peers: the meter-gateway simulator over TCP and over a pty
pair, faults injected per meter, a gateway restart, and the ``dlt645`` package's server."""

from __future__ import annotations

import asyncio

import pytest
from dlt645_peers import METER_1997, METER_A, METER_B, gateway, params
from driver_reads import by_name
from modbus_peers import async_test, free_port
from serial_peers import pty_pair

from app.points import Quality
from drivers.base import DriverError
from drivers.dlt645.codec import Version
from drivers.dlt645.driver import Dlt645Driver, bus_for
from drivers.dlt645.spec import Dlt645Params, Dlt645Point
from drivers.sim.dlt645_meters import MeterGateway, ResidentialMeter

POINTS = [
    Dlt645Point("energy", 0x00010000),
    Dlt645Point("tariff2", 0x0001FF00, index=2),
    Dlt645Point("voltage", 0x02010100),
    Dlt645Point("current", 0x02020100),
    Dlt645Point("power", 0x02030000),
    Dlt645Point("pf", 0x02060000),
    Dlt645Point("frequency", 0x02800002),
    Dlt645Point("demand", 0x01010000),
    Dlt645Point("power_w", 0x02030000, scale=1000.0),
]



@async_test
async def test_reads_energy_voltage_current_power_demand():
    async with gateway() as gw:
        driver = Dlt645Driver(params(gw), POINTS)
        values = by_name(await driver.read())
        online = driver.online
        await driver.close()
    assert online and all(pv.good for pv in values.values()), values
    assert values["energy"].value == 1000.0 and values["tariff2"].value == 400.0
    assert values["voltage"].value == 228.4 and values["frequency"].value == 50.0
    assert values["current"].value == pytest.approx(800 / (228.4 * 0.95), abs=0.001)
    assert values["power"].value == 0.8 and values["power_w"].value == 800.0
    assert values["pf"].value == 0.95 and values["demand"].value == 0.8
    assert values["energy"].tag == "M01.energy"
    assert gw.requests == 8  # power and power_w share one request


@async_test
async def test_two_meters_share_one_gateway_connection():
    async with gateway() as gw:
        bus = bus_for(params(gw))
        a = Dlt645Driver(params(gw, METER_A), POINTS[:1], bus=bus)
        b = Dlt645Driver(params(gw, METER_B), POINTS[:1], bus=bus)
        values = await asyncio.gather(a.read(), b.read(), a.read())
        connections = len(gw._writers)
        await a.close()
        await b.close()
        bus.close()
    assert [v[0].value for v in values] == [1000.0, 2500.5, 1000.0]
    assert connections == 1


@async_test
async def test_unknown_data_identifier_is_the_meters_error():
    async with gateway() as gw:
        driver = Dlt645Driver(params(gw), [Dlt645Point("odd", 0x04000401, fmt="XXXXXXXXXXXX"),
                                          Dlt645Point("energy", 0x00010000)])
        values = by_name(await driver.read())
        await driver.close()
    assert values["odd"].quality is Quality.BAD
    assert values["odd"].reason == "meter error 0x02 (no data requested (unknown data identifier))"
    assert values["energy"].good


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("silent", "timeout after 0.2 s"),
        ("bad_checksum", "malformed reply: bad checksum"),
        ("wrong_length", "timeout after 0.2 s; incomplete frame"),
        ("wrong_address", "timeout after 0.2 s; reply from meter 010000000000 ignored (wrong address)"),
        ("not_bcd", "not BCD: ee ee ee ee"),
    ],
)
@async_test
async def test_faults_are_bad_with_reason_and_the_other_meter_is_unaffected(fault, reason):
    async with gateway() as gw:
        gw.faults[METER_A] = fault
        bus = bus_for(params(gw))
        a = Dlt645Driver(params(gw, METER_A), POINTS[:1], bus=bus)
        b = Dlt645Driver(params(gw, METER_B), POINTS[:1], bus=bus)
        bad = (await a.read())[0]
        good = (await b.read())[0]
        del gw.faults[METER_A]
        for _ in range(40):  # back-off after a silent meter is at most 0.1 s
            healed = (await a.read())[0]
            if healed.good:
                break
            await asyncio.sleep(0.02)
        for driver in (a, b):
            await driver.close()
        bus.close()
    assert bad.quality is Quality.BAD and bad.reason.startswith(reason), bad.reason
    assert bad.value is None
    assert good.good and good.value == 2500.5
    assert healed.good and healed.value == 1000.0


@pytest.mark.parametrize("silence_s", [0.2, 0.0])
@async_test
async def test_late_reply_is_never_taken_as_the_next_answer(silence_s):
    async with gateway() as gw:
        gw.faults[METER_A] = "late"  # answers 0.3 s after each request; the timeout is 0.2 s
        bus = bus_for(params(gw))
        energy = Dlt645Driver(params(gw, silence_s=silence_s), [Dlt645Point("energy", 0x00010000)], bus=bus)
        voltage = Dlt645Driver(params(gw, silence_s=silence_s), [Dlt645Point("voltage", 0x02010100)], bus=bus)
        first = (await energy.read())[0]
        second = (await voltage.read())[0]   # the next request on the line, to the same meter
        for driver in (energy, voltage):
            await driver.close()
        bus.close()
    assert first.reason == "timeout after 0.2 s"
    if silence_s:
        assert second.reason == "timeout after 0.2 s"
    else:  # the hazard the silence prevents: energy's late reply arrives during voltage's request
        assert second.reason == "reply carries data identifier 0x00010000, expected 0x02010100"


@async_test
async def test_a_meter_that_stops_answering_holds_the_line_for_one_timeout_per_scan():
    async with gateway() as gw:
        driver = Dlt645Driver(params(gw), POINTS)
        assert all(pv.good for pv in await driver.read())
        gw.faults[METER_A] = "silent"
        before = gw.requests
        values = await driver.read()
        asked = gw.requests - before
        await driver.close()
    assert asked == 1   # not one timeout per data identifier
    assert all(pv.quality is Quality.BAD and pv.reason == "timeout after 0.2 s" for pv in values), values
    assert not driver.online


@async_test
async def test_gateway_restart_is_recovered():
    gw = gateway()
    await gw.start()
    driver = Dlt645Driver(params(gw), POINTS[:1])
    first = (await driver.read())[0]
    port = gw.port
    await gw.stop()
    down = (await driver.read())[0]
    await gw.start()
    assert gw.port == port
    for _ in range(50):
        back = (await driver.read())[0]
        if back.good:
            break
        await asyncio.sleep(0.02)
    await driver.close()
    await gw.stop()
    assert first.good
    assert down.quality is Quality.BAD and down.value == 1000.0
    assert down.reason.startswith(("connection closed by", "connection refused", "offline"))
    assert back.good


@async_test
async def test_no_gateway_is_bad_with_reason():
    driver = Dlt645Driver(Dlt645Params("M1", "1", port=free_port(), timeout_s=0.2), POINTS[:1])
    value = (await driver.read())[0]
    await driver.close()
    assert value.quality is Quality.BAD and value.reason.startswith("connection refused (127.0.0.1:")


@async_test
async def test_serial_line_over_a_pty_pair(tmp_path):
    with pty_pair(tmp_path) as (client_end, server_end):
        async with gateway(serial_port=server_end) as gw:
            gw.faults[METER_B] = "silent"
            bus = bus_for(params(gw, serial_port=client_end, parity="N"))
            a = Dlt645Driver(params(gw, METER_A, serial_port=client_end, parity="N"), POINTS[:3], bus=bus)
            b = Dlt645Driver(params(gw, METER_B, serial_port=client_end, parity="N"), POINTS[:1], bus=bus)
            values = by_name(await a.read())
            silent = (await b.read())[0]
            after = by_name(await a.read())
            for driver in (a, b):
                await driver.close()
            bus.close()
    assert values["energy"].value == 1000.0 and values["voltage"].value == 228.4
    assert all(pv.good for pv in values.values()) and all(pv.good for pv in after.values())
    assert silent.quality is Quality.BAD and silent.reason == "timeout after 0.2 s"


@async_test
async def test_missing_serial_port_is_a_reason(tmp_path):
    driver = Dlt645Driver(Dlt645Params("M1", "1", serial_port=str(tmp_path / "ttyNone")), POINTS[:1])
    value = (await driver.read())[0]
    await driver.close()
    assert value.quality is Quality.BAD and value.reason.startswith(f"cannot open {tmp_path / 'ttyNone'}")


def test_interoperates_with_the_dlt645_package_server():
    from dlt645 import MeterServerService

    port = free_port()
    server = MeterServerService.new_tcp_server("127.0.0.1", port, 2.0)
    server.set_address(bytes.fromhex("785634120000"))
    server.set_00(0x00010000, 4321.09)
    server.set_02(0x02010100, 231.7)
    with server:
        async def read() -> list:
            driver = Dlt645Driver(Dlt645Params("X", "000012345678", port=port, timeout_s=1.0),
                                  [Dlt645Point("energy", 0x00010000), Dlt645Point("voltage", 0x02010100)])
            values = await driver.read()
            await driver.close()
            return values

        values = asyncio.run(read())
    assert [pv.value for pv in values] == [4321.09, 231.7] and all(pv.good for pv in values)


def test_configuration_errors_name_the_point():
    with pytest.raises(ValueError, match="dlt645 device 'M1': meter number must be 1-12 decimal digits"):
        Dlt645Driver(Dlt645Params("M1", "12X"), [])
    with pytest.raises(ValueError, match="point 'x': data identifier 0x4000401 is not in the catalogue; give fmt"):
        Dlt645Driver(Dlt645Params("M1", "1"), [Dlt645Point("x", 0x04000401)])
    with pytest.raises(ValueError, match="point 'x': value format must be"):
        Dlt645Driver(Dlt645Params("M1", "1"), [Dlt645Point("x", 0x04000401, fmt="XX.X")])
    with pytest.raises(ValueError, match="duplicate point 'e'"):
        Dlt645Driver(Dlt645Params("M1", "1"), [Dlt645Point("e", 0x00010000), Dlt645Point("e", 0x00010000)])


@async_test
async def test_writes_are_refused():
    driver = Dlt645Driver(Dlt645Params("M1", "1"), POINTS[:1])
    with pytest.raises(DriverError, match="M1.energy: DL/T 645 meter points are read-only"):
        await driver.write("energy", 1)


POINTS_1997 = [
    Dlt645Point("energy", 0x9010),
    Dlt645Point("demand", 0xA010),
    Dlt645Point("voltage", 0xB611),
    Dlt645Point("current", 0xB621),
    Dlt645Point("power", 0xB630),
    Dlt645Point("pf", 0xB650),
]


@async_test
async def test_1997_meter_beside_a_2007_meter_on_one_gateway():
    old = ResidentialMeter(METER_1997, version=Version.V1997, energy_kwh=8765.43)
    old.set_load(1.2)
    async with MeterGateway([ResidentialMeter(METER_A), old], step_s=None) as gw:
        bus = bus_for(params(gw))
        driver = Dlt645Driver(params(gw, METER_1997, version=Version.V1997), POINTS_1997, bus=bus)
        new = Dlt645Driver(params(gw, METER_A), POINTS[:1], bus=bus)
        values = by_name(await driver.read())
        other = (await new.read())[0]
        # the -1997 meter stays silent to a -2007 request, as on a real RS-485 line
        wrong_edition = Dlt645Driver(params(gw, METER_1997), POINTS[:1], bus=bus)
        silent = (await wrong_edition.read())[0]
        for each in (driver, new, wrong_edition):
            await each.close()
        bus.close()
    assert all(pv.good for pv in values.values()), values
    assert values["energy"].value == 8765.43 and values["demand"].value == 1.2
    assert values["voltage"].value == 228.0          # -1997 phase voltage is whole volts (XXXX)
    assert values["current"].value == pytest.approx(1200 / (228.4 * 0.95), abs=0.01)
    assert values["power"].value == 1.2 and values["pf"].value == 0.95
    assert other.good and other.value == 1000.0
    assert silent.quality is Quality.BAD and silent.reason == "timeout after 0.2 s"


@async_test
async def test_1997_abnormal_reply_reason_is_its_error_word():
    async with MeterGateway([ResidentialMeter(METER_1997, version=Version.V1997)], step_s=None) as gw:
        driver = Dlt645Driver(params(gw, METER_1997, version=Version.V1997),
                              [Dlt645Point("reverse", 0x9020), Dlt645Point("phase_b", 0xB612)])
        values = by_name(await driver.read())
        online = driver.online
        await driver.close()
    assert values["reverse"].good and values["reverse"].value == 0.0
    assert values["phase_b"].quality is Quality.BAD and values["phase_b"].value is None
    # -1997 error word: bit 1 is "data identifier error" (not -2007's "no data requested")
    assert values["phase_b"].reason == "meter error 0x02 (data identifier error)"
    assert online   # an abnormal reply is an answer: the meter is there
