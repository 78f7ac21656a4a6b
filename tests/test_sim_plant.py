"""The demo plant's servers seen through a real pymodbus client: register maps, physics,
remote control, incidents, offline, and the plant in a child process."""

from __future__ import annotations

import asyncio
import random
import socket
import time
from collections.abc import Iterator

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from app.config import load_site
from drivers.modbus.codec import decode
from drivers.modbus.spec import Table
from drivers.sim.breaker import TripCause
from drivers.sim.plant import DemoPlant, PlantProcess, move_ports
from resources import DEMO_SITE

SITE = load_site(DEMO_SITE)
N_PORTS = max(d.port for d in SITE.devices) - min(d.port for d in SITE.devices) + 1


def free_port_block(count: int) -> int:
    """First port of ``count`` consecutive free TCP ports on 127.0.0.1."""
    for _ in range(50):
        base = random.randrange(20000, 60000 - count)
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port block")


@pytest.fixture(scope="module")
def plant() -> Iterator[DemoPlant]:
    p = DemoPlant(base_port=free_port_block(N_PORTS), refresh_s=0.25)
    p.start()
    yield p
    p.stop()


async def read_point(device, name: str) -> float:
    """Read one point with a fresh pymodbus client and decode it with the driver's codec."""
    params, points = device.modbus()
    point = next(p for p in points if p.name == name)
    client = AsyncModbusTcpClient(params.host, port=params.port, timeout=2, retries=0)
    await client.connect()
    try:
        return await _read(client, params.unit_id, point)
    finally:
        client.close()


async def _read(client, unit: int, point) -> float:
    count = point.dtype.registers
    reader = {Table.COIL: client.read_coils, Table.DISCRETE_INPUT: client.read_discrete_inputs,
              Table.HOLDING_REGISTER: client.read_holding_registers,
              Table.INPUT_REGISTER: client.read_input_registers}[point.table]
    reply = await reader(point.address, count=count, device_id=unit)
    assert not reply.isError(), f"{point.name}: {reply}"
    raw = [int(b) for b in reply.bits[:1]] if point.table in (Table.COIL, Table.DISCRETE_INPUT) else reply.registers
    return decode(point, raw)


async def read_points(device, names: list[str] | None = None) -> dict[str, float]:
    params, points = device.modbus()
    client = AsyncModbusTcpClient(params.host, port=params.port, timeout=2, retries=0)
    await client.connect()
    try:
        return {p.name: await _read(client, params.unit_id, p) for p in points if names is None or p.name in names}
    finally:
        client.close()


async def write_command(device, value: int):
    params, points = device.modbus()
    point = next(p for p in points if p.name == "command")
    client = AsyncModbusTcpClient(params.host, port=params.port, timeout=2, retries=0)
    await client.connect()
    try:
        return await client.write_register(point.address, value, device_id=params.unit_id)
    finally:
        client.close()


def run(coro):
    return asyncio.run(coro)


async def wait_for(device, name: str, predicate, timeout_s: float = 5.0) -> float:
    deadline = time.monotonic() + timeout_s
    while True:
        value = await read_point(device, name)
        if predicate(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


def test_every_device_serves_its_template_map(plant):
    async def check():
        for device in (d for d in plant.site.devices if d.id in plant.servers):   # the Modbus devices
            values = await read_points(device)
            assert set(values) == {p.name for p in device.points}
            if device.template == "iot_breaker":
                assert values["state"] in (0.0, 1.0) and 215 < values["Ua"] < 245
                assert values["Ep"] > 0
            elif device.template == "multifunction_meter" and device.id != "HV_M":
                assert 215 < values["Ua"] < 245 and 49.9 < values["F"] < 50.1
            elif device.template == "din_rail_meter_f32_swapped":
                assert 215 < values["U"] < 245 and values["P"] > 0
            elif device.template == "env_sensor":
                assert 10 < values["temperature"] < 40 and 20 < values["humidity"] < 80
            elif device.template in ("water_meter", "gas_meter"):
                assert values["volume"] > 0 and values["flow"] >= 0
        hv = await read_points(plant.site.device("HV_M"), ["Uab", "P"])
        assert 9500 < hv["Uab"] < 10500 and hv["P"] > 0
    run(check())


def test_unmapped_address_answers_exception_2(plant):
    async def check():
        params, _ = plant.site.device("ENV_HV").modbus()
        client = AsyncModbusTcpClient(params.host, port=params.port, timeout=2, retries=0)
        await client.connect()
        try:
            assert (await client.read_input_registers(0x0500, count=1, device_id=1)).exception_code == 2
            assert (await client.read_holding_registers(0, count=1, device_id=1)).exception_code == 2
        finally:
            client.close()
    run(check())


def test_transformer_meter_is_sum_of_feeders_plus_losses(plant):
    async def check():
        for tr, bus in (("TR1", "BUS1"), ("TR2", "BUS2")):
            breakers = [n.device for n in plant.site.topology if n.kind.value == "feeder" and n.upstream[0] == bus]
            feeders = sum([(await read_points(plant.site.device(b), ["P"]))["P"] for b in breakers])
            lv = (await read_points(plant.site.device(plant.site.node(tr).device), ["P"]))["P"]
            assert feeders < lv * 1.03 and lv < feeders * 1.04
        t1, t2, hv = [(await read_points(plant.site.device(d), ["P"]))["P"] for d in ("T1_M", "T2_M", "HV_M")]
        assert t1 + t2 < hv < (t1 + t2) * 1.05
    run(check())


def test_energy_increases(plant):
    async def check():
        first = await read_point(plant.site.device("PM2_01"), "Ep_imp")
        await asyncio.sleep(0.8)
        assert await read_point(plant.site.device("PM2_01"), "Ep_imp") > first
    run(check())


def test_command_opens_and_closes_in_auto_mode_only(plant):
    qf = plant.site.device("QF2_05")
    async def check():
        reply = await write_command(qf, 0)
        assert not reply.isError()
        assert await wait_for(qf, "state", lambda v: v == 0) == 0
        assert await read_point(qf, "P") == 0
        assert await read_point(qf, "command") == 0
        reply = await write_command(qf, 1)
        assert not reply.isError()
        assert await wait_for(qf, "state", lambda v: v == 1) == 1
        assert await wait_for(qf, "P", lambda v: v > 0) > 0
    run(check())
    plant.set_mode("QF2_05", 1)
    try:
        async def refused():
            reply = await write_command(qf, 0)
            assert reply.isError() and reply.exception_code == 1
            await asyncio.sleep(0.4)
            assert await read_point(qf, "state") == 1
            assert await read_point(qf, "mode") == 1
        run(refused())
    finally:
        plant.set_mode("QF2_05", 0)


def test_bus_tie_close_moves_bus2_to_transformer_1(plant):
    tie = plant.site.device("QF_TIE")
    async def check():
        assert await read_point(tie, "state") == 0
        assert not (await write_command(tie, 1)).isError()
        assert await wait_for(tie, "state", lambda v: v == 1) == 1
        assert await wait_for(plant.site.device("T2_M"), "P", lambda v: v == 0) == 0
        assert await read_point(tie, "P") > 0
        assert not (await write_command(tie, 0)).isError()
        assert await wait_for(plant.site.device("T2_M"), "P", lambda v: v > 0) > 0
    run(check())


def test_open_breaker_zeroes_downstream_meter(plant):
    qf, pm, ups = (plant.site.device(d) for d in ("QF1_05", "PM1_05", "DM_UPS"))
    plant.trigger("trip", "QF1_05", cause=2)
    try:
        async def check():
            values = await read_points(qf, ["state", "trip_cause", "P", "Ia", "Ua"])
            assert values["state"] == 0 and values["trip_cause"] == TripCause.SHORT_CIRCUIT
            assert values["P"] == 0 and values["Ia"] == 0 and values["Ua"] > 215
            assert (await read_points(pm, ["P", "Ua"])) == {"P": 0.0, "Ua": 0.0}
            assert await read_point(ups, "P") == 0
        run(check())
    finally:
        plant.operate_locally("QF1_05", True)


@pytest.mark.parametrize("kind, device_id, params, point, check, cause", [
    ("overload", "QF1_07", {"factor": 1.4}, "trip_cause", None, TripCause.OVERLOAD),
    ("over_temperature", "QF1_08", {"temperature_c": 96}, "temperature", lambda v: v == 96,
     TripCause.OVER_TEMPERATURE),
    ("leakage", "QF1_09", {"leakage_ma": 45}, "leakage", lambda v: v == 45, TripCause.LEAKAGE),
    ("phase_loss", "QF1_10", {"phase": "b"}, "Ub", lambda v: v == 0, TripCause.PHASE_LOSS),
    ("over_voltage", "QF1_11", {"voltage_v": 282}, "Ua", lambda v: v > 275, TripCause.OVER_VOLTAGE),
    ("under_voltage", "QF2_06", {"voltage_v": 150}, "Ua", lambda v: v < 160, TripCause.UNDER_VOLTAGE),
])
def test_incident_shows_in_registers_and_trips(plant, kind, device_id, params, point, check, cause):
    device = plant.site.device(device_id)
    plant.trigger(kind, device_id, **params)
    try:
        async def observe():
            if check is not None:
                assert check(await read_point(device, point))
            assert await wait_for(device, "trip_cause", lambda v: v == cause) == cause
            assert await read_point(device, "state") == 0
        run(observe())
    finally:
        plant.clear(kind, device_id)
        plant.operate_locally(device_id, True)


def test_flood_sets_water_immersion(plant):
    env = plant.site.device("ENV_LV1")
    plant.trigger("flood", "ENV_LV1")
    try:
        assert run(read_point(env, "water_immersion")) == 1
    finally:
        plant.clear("flood", "ENV_LV1")
    assert run(read_point(env, "water_immersion")) == 0


def test_offline_and_back(plant):
    device = plant.site.device("WM_KITCHEN")
    plant.trigger("offline", "WM_KITCHEN")
    try:
        with pytest.raises((ModbusException, AssertionError, OSError)):
            run(read_point(device, "volume"))
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((device.host, device.port), timeout=1).close()
    finally:
        plant.clear("offline", "WM_KITCHEN")
    assert run(read_point(device, "volume")) > 0


def test_bad_trigger_is_a_clear_error(plant):
    with pytest.raises(ValueError, match="unknown device 'NOPE'"):
        plant.trigger("offline", "NOPE")
    with pytest.raises(ValueError, match="applies to environment sensors"):
        plant.trigger("flood", "QF1_01")


def test_plant_process_across_processes():
    base = free_port_block(N_PORTS)
    proc = PlantProcess(base_port=base, refresh_s=0.25)
    proc.start()
    try:
        site = proc.site_config()
        qf = site.device("QF2_08")
        assert qf.port == base + SITE.device("QF2_08").port - min(d.port for d in SITE.devices)
        assert run(read_point(qf, "state")) == 1
        proc.trigger("trip", "QF2_08", cause=int(TripCause.OVER_POWER))
        assert run(read_points(qf, ["state", "trip_cause"])) == {"state": 0, "trip_cause": TripCause.OVER_POWER}
        with pytest.raises(ValueError, match="unknown incident"):
            proc.trigger("meteor", "QF2_08")
    finally:
        proc.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((qf.host, qf.port), timeout=1).close()


def test_move_ports_reindexes_the_site():
    moved = move_ports(SITE, 30000)
    assert moved.device("HV_M").port == 30000
    assert [d.port for d in moved.devices] == [30000 + d.port - 15100 for d in SITE.devices]
    with pytest.raises(ValueError, match="outside 1..65535"):
        move_ports(SITE, 65530)
