"""BACnet/IP driver against the real AHU controller (bacpypes3) on loopback."""

from __future__ import annotations

import asyncio

import pytest
from bacnet_peers import ahu, params, udp_port
from driver_reads import by_name, read_until
from modbus_peers import async_test

from app.points import Quality
from drivers.bacnet.discovery import DiscoveryError, discover
from drivers.bacnet.driver import BacnetDriver
from drivers.bacnet.network import BacnetNetwork
from drivers.bacnet.quality import flags_quality, to_number
from drivers.bacnet.spec import BacnetParams, BacnetPoint, ObjectType
from drivers.base import DriverError

AI, AV, AO = ObjectType.ANALOG_INPUT, ObjectType.ANALOG_VALUE, ObjectType.ANALOG_OUTPUT
BI, BO, MSV = ObjectType.BINARY_INPUT, ObjectType.BINARY_OUTPUT, ObjectType.MULTI_STATE_VALUE

POINTS = [
    BacnetPoint("supply_temp", AI, 1),
    BacnetPoint("setpoint", AV, 1, writable=True),
    BacnetPoint("fan_cmd", BO, 1, writable=True),
    BacnetPoint("filter_alarm", BI, 2),
    BacnetPoint("mode", MSV, 1, writable=True, priority=10),
    BacnetPoint("valve", AO, 1, writable=True),
]




def test_status_flags_map_to_quality():
    assert flags_quality([0, 0, 0, 0]) == (Quality.GOOD, "")
    assert flags_quality([1, 0, 0, 0]) == (Quality.GOOD, "")  # in-alarm: the value is real
    assert flags_quality([0, 1, 0, 0]) == (Quality.BAD, "status flag fault")
    assert flags_quality([0, 0, 1, 0]) == (Quality.UNCERTAIN, "status flag overridden")
    assert flags_quality([0, 0, 0, 1]) == (Quality.UNCERTAIN, "status flag out-of-service")
    assert to_number(True) == 1.0
    with pytest.raises(ValueError, match="not a number"):
        to_number(None)


@pytest.mark.parametrize("cov", [False, True], ids=["poll", "cov"])
@async_test
async def test_reads_present_value_and_status_flags(cov):
    async with ahu() as device:
        driver = BacnetDriver(params(device, cov=cov), [*POINTS, BacnetPoint("ghost", AI, 99)])
        first = by_name(await driver.read())
        device.set("SupplyAirTemp", 17.25, out_of_service=True)
        device.set("FilterAlarm", "active")
        changed = await read_until(driver, lambda v: v["supply_temp"].value == 17.25
                                    and v["supply_temp"].quality is Quality.UNCERTAIN
                                    and v["filter_alarm"].value == 1.0)
        device.set("SupplyAirTemp", 99.0, out_of_service=False, fault=True)
        faulted = await read_until(driver, lambda v: v["supply_temp"].quality is Quality.BAD)
        device.set("Mode", 2)   # a multi-state change is reported as any state change (no COV increment)
        mode_changed = await read_until(driver, lambda v: v["mode"].value == 2.0)
        subscribed = driver.subscribed
        await driver.close()
    assert all(first[n].good for n in ("supply_temp", "setpoint", "fan_cmd", "filter_alarm", "mode", "valve"))
    assert first["supply_temp"].value == 16.5 and first["setpoint"].value == 16.0
    assert first["fan_cmd"].value == 1.0 and first["filter_alarm"].value == 0.0 and first["mode"].value == 4.0
    assert first["ghost"].quality is Quality.BAD and first["ghost"].reason == "unknown-object"
    assert changed["supply_temp"].quality is Quality.UNCERTAIN
    assert changed["supply_temp"].reason == "status flag out-of-service"
    assert faulted["supply_temp"].reason == "status flag fault"
    assert faulted["supply_temp"].value == 16.5  # the last good value, not the faulty 99
    assert mode_changed["mode"].value == 2.0 and mode_changed["mode"].good
    if cov:  # the unknown object has no COV: polled
        assert subscribed == ["fan_cmd", "filter_alarm", "mode", "setpoint", "supply_temp", "valve"]
    else:
        assert subscribed == []


@async_test
async def test_write_with_priority_and_relinquish():
    async with ahu() as device:
        driver = BacnetDriver(params(device, cov=False), POINTS)
        await driver.write("setpoint", 15.5)
        slot8 = device.objects["SupplyAirSetpoint"].priorityArray[7].real
        device.set("SupplyAirSetpoint", 20.0)  # priority 16: below the HMI's 8, no effect
        held = device.get("SupplyAirSetpoint")
        await driver.write("fan_cmd", 0)
        await driver.write("mode", 3)
        slot10 = device.objects["Mode"].presentValue
        values = by_name(await driver.read())
        await driver.relinquish("setpoint")
        released = device.get("SupplyAirSetpoint")
        await driver.close()
    assert slot8 == 15.5 and held == 15.5
    assert values["setpoint"].value == 15.5 and values["fan_cmd"].value == 0.0 and values["mode"].value == 3.0
    assert slot10 == 3
    assert released == 20.0  # back to the next priority in the array


@async_test
async def test_write_refusals_are_errors_with_reasons():
    async with ahu() as device:
        rogue = [BacnetPoint("supply_temp", AI, 1, writable=True), *POINTS[1:]]
        driver = BacnetDriver(params(device, cov=False), rogue)
        with pytest.raises(DriverError, match="AHU1.fan_cmd: binary value must be 0 or 1, got 2"):
            await driver.write("fan_cmd", 2)
        with pytest.raises(DriverError, match="AHU1.mode: multi-state value must be an integer >= 1"):
            await driver.write("mode", 0)
        with pytest.raises(DriverError, match="AHU1.filter_alarm: point is not writable"):
            await driver.write("filter_alarm", 1)
        with pytest.raises(DriverError, match="AHU1.supply_temp: write-access-denied"):
            await driver.write("supply_temp", 1.0)
        await driver.close()


@async_test
async def test_discovery_lists_objects_for_the_configuration():
    async with ahu() as device:
        network = BacnetNetwork(f"127.0.0.1/8:{udp_port()}", 599)
        found = await discover(network, device.peer_address, timeout_s=0.3)
        network.close()
    assert (found.instance, found.name) == (3001, "AHU-3001")
    objects = {o.name: o for o in found.objects}
    assert len(objects) == 9
    assert objects["SupplyAirTemp"].object_type is AI and objects["SupplyAirTemp"].units == "degrees-celsius"
    assert objects["SupplyAirSetpoint"].commandable and not objects["SupplyAirTemp"].commandable
    assert objects["Mode"].object_type is MSV and objects["Mode"].instance == 1


@async_test
async def test_discovery_of_a_silent_address_raises():
    network = BacnetNetwork(f"127.0.0.1/8:{udp_port()}", 599)
    try:
        with pytest.raises(DiscoveryError, match="no I-Am within 0.2 s"):
            await discover(network, f"127.0.0.1:{udp_port()}", timeout_s=0.2)
    finally:
        network.close()


@pytest.mark.parametrize("cov", [False, True], ids=["poll", "cov"])
@async_test
async def test_device_restart_is_recovered(cov):
    port = udp_port()
    device = ahu(port)
    await device.start()
    driver = BacnetDriver(params(device, cov=cov), POINTS[:2])
    first = by_name(await driver.read())
    await device.stop()
    down = by_name(await driver.read())
    await device.start()
    back = await read_until(driver, lambda v: v["supply_temp"].good)
    device.set("SupplyAirTemp", 18.75)  # followed again after the restart (COV re-subscribed)
    moved = await read_until(driver, lambda v: v["supply_temp"].value == 18.75)
    await driver.close()
    await device.stop()
    assert first["supply_temp"].good
    assert down["supply_temp"].quality is Quality.BAD and down["supply_temp"].value == 16.5
    assert down["supply_temp"].reason == "timeout after 0.3 s"
    assert back["supply_temp"].good and moved["supply_temp"].value == 18.75


@async_test
async def test_wrong_device_instance_is_bad_with_reason():
    async with ahu() as device:
        driver = BacnetDriver(params(device, device_instance=42), POINTS[:1])
        value = (await driver.read())[0]
        await driver.close()
    assert value.quality is Quality.BAD and value.reason.startswith("no I-Am from 127.0.0.1:")


def test_configuration_errors_name_the_point():
    device = ahu()
    with pytest.raises(ValueError, match="bacnet device 'AHU1', point 'p': priority 17 outside 1..16"):
        BacnetDriver(params(device), [BacnetPoint("p", AV, 1, writable=True, priority=17)])
    with pytest.raises(ValueError, match="point 'p': instance 4194303 outside"):
        BacnetDriver(params(device), [BacnetPoint("p", AV, 4194303)])
    with pytest.raises(ValueError, match="duplicate point 'p'"):
        BacnetDriver(params(device), [BacnetPoint("p", AV, 1), BacnetPoint("p", AV, 2)])


class _Garbler(asyncio.DatagramProtocol):
    """A UDP peer at a BACnet/IP address that answers every datagram with ``reply`` (None: silent)."""

    def __init__(self, reply: bytes | None) -> None:
        self.reply = reply
        self.received = 0
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:  # noqa: ANN001 - asyncio's signature
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:  # noqa: ANN001
        self.received += 1
        assert self.transport is not None
        if self.reply is not None:
            self.transport.sendto(self.reply, addr)


@pytest.mark.parametrize("reply", [
    b"\x81\x0a\x00\x40\x01\x00",                  # BVLC length 64 on a 6-byte datagram
    b"\x81\x0a\x00\x08\x01\x00\x10\x00",          # a whole BVLC/NPDU, the I-Am APDU cut after its type
    b"\x55\xaa" * 10,                                  # not BACnet/IP at all
], ids=["wrong-length", "truncated-apdu", "not-bacnet"])
@async_test
async def test_malformed_replies_are_bad_with_reason_and_no_crash(reply):
    loop = asyncio.get_running_loop()
    port = udp_port()
    transport, garbler = await loop.create_datagram_endpoint(lambda: _Garbler(reply), local_addr=("127.0.0.1", port))
    try:
        driver = BacnetDriver(BacnetParams("AHU1", f"127.0.0.1:{port}", device_instance=3001, timeout_s=0.3,
                                           local_address=f"127.0.0.1/8:{udp_port()}", local_instance=599,
                                           backoff_initial_s=0.05, backoff_max_s=0.1), POINTS[:1])
        first = (await driver.read())[0]
        await asyncio.sleep(0.15)
        second = (await driver.read())[0]
        await driver.close()
    finally:
        transport.close()
    assert garbler.received >= 2   # asked twice, answered with junk twice
    for value in (first, second):
        assert value.quality is Quality.BAD and value.reason.startswith("no I-Am from 127.0.0.1:"), value


@async_test
async def test_a_device_gone_silent_costs_one_request_not_one_per_subscription():
    port = udp_port()
    device = ahu(port)
    await device.start()
    driver = BacnetDriver(params(device, cov=True), POINTS)
    assert all(v.good for v in (await driver.read())), "all subscribed and read"
    subscribed = len(driver.subscribed)
    await device.stop()
    # a silent listener on the device's port counts what the driver still sends it
    loop = asyncio.get_running_loop()
    transport, listener = await loop.create_datagram_endpoint(lambda: _Garbler(None), local_addr=("127.0.0.1", port))
    try:
        down = (await driver.read())[0]
        await driver.close()
    finally:
        transport.close()
    assert subscribed == 6 and down.reason == "timeout after 0.3 s"
    assert listener.received == 1   # the liveness check; the subscriptions are forgotten, not cancelled
