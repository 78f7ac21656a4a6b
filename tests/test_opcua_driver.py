"""OPC UA driver against the real pump-station server (asyncua) on loopback."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from asyncua import ua
from driver_reads import by_name, read_until
from modbus_peers import async_test
from opcua_peers import StationThread, client_certificate, params, station

from app.points import Quality
from drivers.base import DriverError
from drivers.opcua.browse import browse_variables
from drivers.opcua.driver import OpcUaDriver
from drivers.opcua.quality import status_quality, to_number
from drivers.opcua.session import SessionFault
from drivers.opcua.spec import AcquisitionMode, DeadbandType, OpcUaPoint, SecurityMode

POLL, SUBSCRIBE = AcquisitionMode.POLL, AcquisitionMode.SUBSCRIBE


def _points(server) -> list[OpcUaPoint]:
    return [
        OpcUaPoint("power", server.node_id("Pump1.Power")),
        OpcUaPoint("setpoint", server.node_id("Pump1.SpeedSetpoint"), writable=True),
        OpcUaPoint("running", "nsu=urn:wattdesk:sim:pump-station;s=PumpStation.Pump1.Running", writable=True),
        OpcUaPoint("level", server.node_id("InletLevel")),
        OpcUaPoint("state", server.node_id("StationState")),
        OpcUaPoint("ghost", server.node_id("Pump9.Power")),
    ]


@pytest.fixture(scope="module")
def shared_station():
    with StationThread() as peer:
        yield peer


@pytest.fixture
def peer(shared_station):
    """The shared pump station, put back to its initial state after the test."""
    yield shared_station
    shared_station.call(shared_station.server.reset())




def test_status_codes_map_to_quality():
    assert status_quality(ua.StatusCode(ua.StatusCodes.Good)) == (Quality.GOOD, "")
    assert status_quality(ua.StatusCodes.UncertainLastUsableValue) == (Quality.UNCERTAIN, "UncertainLastUsableValue")
    assert status_quality(ua.StatusCodes.BadSensorFailure) == (Quality.BAD, "BadSensorFailure")
    assert status_quality(0x80FF0000)[0] is Quality.BAD
    assert to_number(True) == 1.0 and to_number(7) == 7.0
    with pytest.raises(ValueError, match="str is not a number"):
        to_number("auto")


@pytest.mark.parametrize("mode", [POLL, SUBSCRIBE])
@async_test
async def test_read_maps_values_and_status_codes(peer, mode):
    server = peer.server
    await peer.run(server.set("InletLevel", 2.5, ua.StatusCodes.UncertainLastUsableValue))
    driver = OpcUaDriver(params(server, mode=mode), _points(server))
    values = by_name(await driver.read())
    online = driver.online
    await driver.close()
    assert online
    assert values["power"].quality is Quality.GOOD and values["power"].value == pytest.approx(30 * 0.8**3)
    assert values["running"].value == 1.0 and values["setpoint"].value == 80.0
    assert (values["level"].quality, values["level"].value, values["level"].reason) == (
        Quality.UNCERTAIN, 2.5, "UncertainLastUsableValue")
    assert values["state"].quality is Quality.BAD and values["state"].reason == "value of type str is not a number"
    assert values["ghost"].quality is Quality.BAD and values["ghost"].reason == "BadNodeIdUnknown"
    assert values["power"].tag == "PS.power"


@async_test
async def test_bad_status_keeps_last_good_value(peer):
    server = peer.server
    driver = OpcUaDriver(params(server), _points(server)[:1])
    first = (await driver.read())[0]
    await peer.run(server.set("Pump1.Power", 1.0, ua.StatusCodes.BadSensorFailure))
    second = (await driver.read())[0]
    await driver.close()
    assert first.good
    assert second.quality is Quality.BAD and second.reason == "BadSensorFailure"
    assert second.value == first.value


@async_test
async def test_subscription_honours_deadband_and_follows_changes(peer):
    server = peer.server
    points = [
        OpcUaPoint("level", server.node_id("InletLevel"), sampling_interval_s=0.02,
                   deadband=0.5, deadband_type=DeadbandType.ABSOLUTE),
        OpcUaPoint("power", server.node_id("Pump1.Power"), sampling_interval_s=0.02),
    ]
    driver = OpcUaDriver(params(server, mode=SUBSCRIBE), points)
    first = by_name(await driver.read())
    await peer.run(server.set("InletLevel", 3.4))   # within 0.5 of 3.2: not reported
    await peer.run(server.set("Pump1.Power", 9.0))  # no deadband: reported
    changed = await read_until(driver, lambda v: v["power"].value == 9.0)
    await peer.run(server.set("InletLevel", 4.0))   # 0.8 from the last reported 3.2
    moved = await read_until(driver, lambda v: v["level"].value == 4.0)
    subscribed = driver.subscribed
    await driver.close()
    assert subscribed == ["level", "power"]
    assert first["level"].value == 3.2
    assert changed["power"].value == 9.0 and changed["level"].value == 3.2
    assert moved["level"].value == 4.0 and moved["level"].good


@async_test
async def test_refused_monitored_item_is_polled(peer):
    server = peer.server
    points = [
        OpcUaPoint("ghost", server.node_id("Pump9.Power")),  # no such node: item refused
        OpcUaPoint("power", server.node_id("Pump1.Power")),
    ]
    driver = OpcUaDriver(params(server, mode=SUBSCRIBE), points)
    values = by_name(await driver.read())
    subscribed = driver.subscribed
    await driver.close()
    assert subscribed == ["power"]
    assert values["ghost"].quality is Quality.BAD and values["ghost"].reason == "BadNodeIdUnknown"
    assert values["power"].good


@async_test
async def test_write_uses_the_node_type_and_reports_refusals(peer):
    server = peer.server
    driver = OpcUaDriver(params(server), _points(server))
    await driver.write("setpoint", 65.5)
    await driver.write("running", 0)
    setpoint = await peer.run(server.get("Pump1.SpeedSetpoint"))
    running = await peer.run(server.get("Pump1.Running"))
    with pytest.raises(DriverError, match=r"PS.running: Boolean value must be 0 or 1, got 2"):
        await driver.write("running", 2)
    with pytest.raises(DriverError, match="PS.power: point is not writable"):
        await driver.write("power", 1)
    with pytest.raises(DriverError, match="PS.nope: no such point"):
        await driver.write("nope", 1)
    # the driver thinks it may write, the server's access level says no
    rogue = OpcUaDriver(params(server), [OpcUaPoint("power", server.node_id("Pump1.Power"), writable=True)])
    with pytest.raises(DriverError, match="PS.power: BadUserAccessDenied"):
        await rogue.write("power", 1)
    await rogue.close()
    await driver.close()
    assert setpoint == 65.5 and running is False


@async_test
async def test_browse_lists_variables_with_type_and_access(peer):
    server = peer.server
    found = {v.path: v for v in await browse_variables(params(server))}
    setpoint = found["PumpStation/Pump1/SpeedSetpoint"]
    assert setpoint.node_id == "ns=2;s=PumpStation.Pump1.SpeedSetpoint"
    assert setpoint.data_type == "Double" and setpoint.writable
    assert found["PumpStation/Pump2/Running"].data_type == "Boolean"
    assert not found["PumpStation/Pump1/Power"].writable


@async_test
async def test_browse_gives_engineering_units_and_leaves_properties_out(peer):
    found = {v.path: v for v in await browse_variables(params(peer.server))}
    units = {path.removeprefix("PumpStation/"): v.unit for path, v in found.items()}
    assert units == {
        "InletLevel": "m", "EnergyTotal": "kWh", "StationState": "",
        **{f"Pump{n}/{name}": unit for n in (1, 2) for name, unit in (
            ("Running", ""), ("SpeedSetpoint", "%"), ("Speed", "%"), ("Flow", "m³/h"), ("Pressure", "bar"),
            ("Power", "kW"))},
    }
    assert not [path for path in found if path.endswith("EngineeringUnits")]


@async_test
async def test_server_down_then_restarted_is_recovered():
    server = station()
    await server.start()
    drivers = [OpcUaDriver(params(server, mode=mode), _points(server)[:2]) for mode in (POLL, SUBSCRIBE)]
    first = [await d.read() for d in drivers]
    await server.stop()
    down = [await read_until(d, lambda v: v["power"].quality is Quality.BAD) for d in drivers]
    await server.start()
    back = [await read_until(d, lambda v: v["power"].good, tries=300) for d in drivers]
    for driver in drivers:
        await driver.close()
    await server.stop()
    for before, lost, again in zip(first, down, back, strict=True):
        assert all(pv.good for pv in before)
        assert lost["power"].quality is Quality.BAD and lost["power"].value == before[0].value
        assert lost["power"].reason
        assert again["power"].good and again["setpoint"].good


@async_test
async def test_no_server_is_bad_with_reason():
    server = station()
    driver = OpcUaDriver(params(server), _points(server)[:1])
    value = (await driver.read())[0]
    again = (await driver.read())[0]
    await driver.close()
    assert value.quality is Quality.BAD and value.reason.startswith("connection refused")
    assert again.quality is Quality.BAD and again.reason.startswith("offline, retry in")


@async_test
async def test_basic256sha256_with_user_and_password(tmp_path):
    cert = client_certificate(tmp_path)

    async def read_once(**kw: object):
        driver = OpcUaDriver(params(server, **kw), _points(server)[:1])
        value = (await driver.read())[0]
        await driver.close()
        return value

    async with station(tmp_path, users={"operator": "s3cret"}) as server:
        secure = dict(certificate=cert.certificate, private_key=cert.private_key,
                      username="operator", password="s3cret")
        signed = await read_once(security=SecurityMode.SIGN, **secure)
        encrypted = await read_once(security=SecurityMode.SIGN_AND_ENCRYPT, **secure)
        refused = await read_once(security=SecurityMode.SIGN_AND_ENCRYPT, **{**secure, "password": "guess"})
        anonymous = await read_once()
        no_cert = await read_once(security=SecurityMode.SIGN, **{**secure, "certificate": tmp_path / "none.der"})
    for value in (signed, encrypted):
        assert value.good and value.value == pytest.approx(15.36)
    assert refused.quality is Quality.BAD and refused.reason.startswith("BadUserAccessDenied")
    assert anonymous.quality is Quality.BAD and anonymous.reason.startswith("Bad")
    assert no_cert.quality is Quality.BAD and no_cert.reason.startswith("cannot use certificate or key")


def test_bad_configuration_is_reported():
    server = station()
    with pytest.raises(ValueError, match=r"opcua device 'PS', point 'p': bad node_id 'ns=x;q'"):
        OpcUaDriver(params(server), [OpcUaPoint("p", "ns=x;q")])
    with pytest.raises(ValueError, match="security sign needs certificate and private_key"):
        OpcUaDriver(params(server, security=SecurityMode.SIGN), [])
    with pytest.raises(ValueError, match="duplicate point 'p'"):
        OpcUaDriver(params(server), [OpcUaPoint("p", "i=1"), OpcUaPoint("p", "i=2")])


@async_test
async def test_browse_of_absent_server_raises_session_fault():
    server = station()
    with pytest.raises(SessionFault, match="connection refused"):
        await browse_variables(params(server))


class _FakeEndpoint:
    """A TCP listener at an opc.tcp endpoint that never answers (``reply=None``) or answers
    every request with ``reply`` bytes: a hung or broken server, not an OPC UA one."""

    def __init__(self, reply: bytes | None) -> None:
        self.reply = reply
        self.connections = 0
        self._server: asyncio.base_events.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._handlers: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"opc.tcp://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/x"

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await asyncio.gather(*self._handlers)   # each sees its connection end
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        self._handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        with contextlib.suppress(ConnectionError):
            while await reader.read(4096):
                if self.reply is not None:
                    writer.write(self.reply)
                    await writer.drain()


@pytest.mark.parametrize(("reply", "reason"), [
    (None, "timeout after 1 s"),   # connecting (hello, channel, session) may take twice timeout_s
    # a message header with an unknown type and a length shorter than the header itself
    (b"XYZF\x04\x00\x00\x00junk", "connection lost"),   # asyncua drops a connection that garbles
], ids=["silent", "malformed"])
@async_test
async def test_hung_or_garbling_endpoint_is_bad_with_reason_and_no_crash(reply, reason):
    async with _FakeEndpoint(reply) as endpoint:
        from drivers.opcua.spec import OpcUaParams

        driver = OpcUaDriver(OpcUaParams("PS", endpoint, timeout_s=0.5, backoff_initial_s=0.05, backoff_max_s=0.1),
                             [OpcUaPoint("power", "ns=2;s=PumpStation.Pump1.Power")])
        first = (await driver.read())[0]
        await asyncio.sleep(0.15)
        second = (await driver.read())[0]   # tried again after the back-off, still a reason
        await driver.close()
    for value in (first, second):
        assert value.quality is Quality.BAD and value.value is None and value.reason, value
        assert value.reason.startswith(reason)
    assert not driver.online
