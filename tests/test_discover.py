"""``wattdesk discover``: BACnet Who-Is and OPC UA browse written as device entries that a site
accepts and the drivers read, against the real AHU controller and pump station.

The broadcast Who-Is runs between two network namespaces joined by a veth pair (private
10.x addresses inside them only); it is skipped where namespaces cannot be made.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from bacnet_peers import serve_process, stop_process, udp_port
from modbus_peers import free_port
from opcua_peers import CLIENT_URI, StationThread, client_certificate

from app.cli import main
from app.config import Protocol, load_site
from app.drivers_factory import DriverFactory
from app.points import Quality

ROOT = Path(__file__).resolve().parent.parent
SITE_HEAD = """site: {name: Test site, timezone: Asia/Shanghai}
areas:
  - {id: B1, name: Building 1, kind: building}
devices:
"""


def _site_with(tmp_path: Path, devices_yaml: str) -> Path:
    site = tmp_path / "site.yaml"
    site.write_text(SITE_HEAD + devices_yaml, encoding="utf-8")
    return site


def _read_once(device) -> list:
    async def read() -> list:
        driver = DriverFactory()(device)
        try:
            for _ in range(50):
                values = await driver.read()
                if all(v.good for v in values):
                    break
                await asyncio.sleep(0.05)
            return values
        finally:
            await driver.close()
    return asyncio.run(read())


def test_bacnet_directed_discovery_writes_a_device_the_site_takes_and_the_driver_reads(tmp_path, capsys):
    port = udp_port()
    peer = serve_process(f"127.0.0.1/8:{port}")
    out = tmp_path / "ahu.yaml"
    try:
        code = main(["discover", "bacnet", f"127.0.0.1:{port}", "--local-address", f"127.0.0.1/8:{udp_port()}",
                     "--area", "B1", "--id", "AHU_1", "--timeout", "1", "-o", str(out)])
        assert code == 0, capsys.readouterr().err
        assert "wrote 1 device(s), 9 points" in capsys.readouterr().out
        site_path = _site_with(tmp_path, out.read_text(encoding="utf-8"))
        assert main(["check", "--site", str(site_path)]) == 0
        (device,) = load_site(site_path).devices
        values = {v.tag.split(".", 1)[1]: v for v in _read_once(device)}
    finally:
        stop_process(peer)
    assert "device 3001 'AHU-3001'" in out.read_text(encoding="utf-8")
    assert (device.id, device.name, device.protocol, device.device_instance) == ("AHU_1", "AHU-3001",
                                                                                 Protocol.BACNET_IP, 3001)
    points = {p.name: p for p in device.points}
    assert list(points) == ["SupplyAirTemp", "ReturnAirTemp", "OutdoorAirTemp", "SupplyAirSetpoint", "CoolingValve",
                            "SupplyFanCmd", "SupplyFanStatus", "FilterAlarm", "Mode"]
    temp, setpoint = points["SupplyAirTemp"], points["SupplyAirSetpoint"]
    assert (temp.kind.value, temp.unit, temp.object, temp.writable) == ("telemetry", "°C", "analog-input:1", False)
    assert temp.description == "Supply air temperature"
    assert (setpoint.kind.value, setpoint.writable, setpoint.object) == ("telecontrol", True, "analog-value:1")
    assert points["CoolingValve"].unit == "%" and points["SupplyFanCmd"].kind.value == "telecontrol"
    assert points["FilterAlarm"].kind.value == "teleindication" and dict(points["FilterAlarm"].states) == {
        0: "Clean", 1: "Dirty"}
    assert dict(points["Mode"].states) == {1: "Off", 2: "Heat", 3: "Cool", 4: "Auto"}
    assert all(v.quality is Quality.GOOD for v in values.values()), values
    assert values["SupplyAirTemp"].value == 16.5 and values["Mode"].value == 4


def test_opcua_browse_writes_a_device_the_site_takes_and_the_driver_reads(tmp_path, capsys):
    out = tmp_path / "pumps.yaml"
    with StationThread() as peer:
        endpoint = peer.server.endpoint
        code = main(["discover", "opcua", endpoint, "--area", "B1", "--id", "PS1", "--name", "Pump station",
                     "-o", str(out)])
        assert code == 0, capsys.readouterr().err
        text = out.read_text(encoding="utf-8")
        site_path = _site_with(tmp_path, text)
        assert main(["check", "--site", str(site_path)]) == 0
        (device,) = load_site(site_path).devices
        values = {v.tag.split(".", 1)[1]: v for v in _read_once(device)}
    assert "left out (not numbers): PumpStation/StationState (String)" in text
    assert (device.name, device.endpoint, device.protocol) == ("Pump station", endpoint, Protocol.OPC_UA)
    points = {p.name: p for p in device.points}
    assert set(points) == {"InletLevel", "EnergyTotal", *(f"Pump{n}_{v}" for n in (1, 2) for v in (
        "Running", "SpeedSetpoint", "Speed", "Flow", "Pressure", "Power"))}
    power = points["Pump1_Power"]
    assert (power.kind.value, power.unit, power.writable) == ("telemetry", "kW", False)
    assert power.node == "nsu=urn:wattdesk:sim:pump-station;s=PumpStation.Pump1.Power"
    assert (points["EnergyTotal"].kind.value, points["EnergyTotal"].unit) == ("accumulator", "kWh")
    assert points["Pump2_Running"].kind.value == "telecontrol" and points["Pump2_Running"].writable
    assert points["Pump1_SpeedSetpoint"].kind.value == "telecontrol"
    assert all(v.quality is Quality.GOOD for v in values.values()), values
    assert values["InletLevel"].value == 3.2


def test_opcua_browse_with_basic256sha256_and_a_user_writes_the_same_security(tmp_path, capsys, monkeypatch):
    from app.security.secrets import ENV_FILE, ENV_PASSPHRASE_FILE, open_secret_store

    phrase = tmp_path / "passphrase"
    phrase.write_text("discovery test passphrase", encoding="utf-8")
    monkeypatch.setenv(ENV_FILE, str(tmp_path / "secrets.cfg"))
    monkeypatch.setenv(ENV_PASSPHRASE_FILE, str(phrase))
    open_secret_store().set("wattdesk-opcua", "operator", "s3cret")
    cert = client_certificate(tmp_path)
    out = tmp_path / "secure.yaml"
    secure = ["--security", "sign_and_encrypt", "--certificate", str(cert.certificate), "--private-key",
              str(cert.private_key), "--application-uri", CLIENT_URI, "--username", "operator"]
    with StationThread(tmp_path, users={"operator": "s3cret"}) as peer:
        endpoint = peer.server.endpoint
        anonymous = main(["discover", "opcua", endpoint, "--area", "B1", "--id", "PS1", "--timeout", "1",
                          "--security", "sign_and_encrypt", "--certificate", str(cert.certificate),
                          "--private-key", str(cert.private_key), "--application-uri", CLIENT_URI])
        refused = capsys.readouterr().err
        code = main(["discover", "opcua", endpoint, "--area", "B1", "--id", "PS1", *secure,
                     "--password-service", "wattdesk-opcua", "-o", str(out)])
        assert code == 0, capsys.readouterr().err
        site_path = _site_with(tmp_path, out.read_text(encoding="utf-8"))
        (device,) = load_site(site_path).devices
        factory_values = _read_once(device)
    assert anonymous == 1 and "OPC UA browse failed: " in refused
    assert (device.security.value, device.username, device.password.service, device.password.username) == (
        "sign_and_encrypt", "operator", "wattdesk-opcua", "operator")
    assert device.certificate == str(cert.certificate.resolve()) and device.application_uri == CLIENT_URI
    assert len(device.points) == 14 and all(v.good for v in factory_values), factory_values
    missing = main(["discover", "opcua", endpoint, "--area", "B1", "--id", "PS1", *secure,
                    "--password-service", "no-such-service"])
    assert missing == 2 and "password of 'operator': " in capsys.readouterr().err
    half = main(["discover", "opcua", endpoint, "--area", "B1", "--id", "PS1", "--security", "sign"])
    assert half == 2 and "--security sign needs --certificate and --private-key" in capsys.readouterr().err


def test_nothing_answering_and_an_existing_file_are_errors_that_lose_nothing(tmp_path, capsys):
    silent = main(["discover", "bacnet", f"127.0.0.1:{udp_port()}", "--local-address",
                   f"127.0.0.1/8:{udp_port()}", "--area", "B1", "--timeout", "0.3"])
    assert silent == 1 and "no BACnet device answered Who-Is on 127.0.0.1:" in capsys.readouterr().err
    absent = main(["discover", "opcua", f"opc.tcp://127.0.0.1:{free_port()}/x", "--area", "B1", "--id", "X",
                   "--timeout", "0.5"])
    assert absent == 1 and "OPC UA browse failed: " in capsys.readouterr().err
    kept = tmp_path / "kept.yaml"
    kept.write_text("# mine\n", encoding="utf-8")
    with StationThread() as peer:
        refused = main(["discover", "opcua", peer.server.endpoint, "--area", "B1", "--id", "PS1", "-o", str(kept)])
    assert refused == 2 and "exists; give --force" in capsys.readouterr().err
    assert kept.read_text(encoding="utf-8") == "# mine\n"
    with pytest.raises(SystemExit):
        main(["discover", "bacnet", "--area", "B1"])   # --local-address is required


# -- broadcast Who-Is between two network namespaces ------------------------------------------

def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)


@pytest.fixture
def two_namespaces():
    """Namespaces (peer, client) joined by a veth pair: 10.213.7.1/24 and 10.213.7.2/24."""
    if shutil.which("ip") is None:
        pytest.skip("iproute2 (ip) is not installed")
    tag = uuid.uuid4().hex[:6]
    peer_ns, client_ns = f"wd-peer-{tag}", f"wd-client-{tag}"
    made = _ip("netns", "add", peer_ns)
    if made.returncode != 0:
        pytest.skip(f"network namespaces not permitted here: {made.stderr.strip()}")
    try:
        steps = [
            ("netns", "add", client_ns),
            ("link", "add", f"wdp{tag}", "netns", peer_ns, "type", "veth", "peer", "name", f"wdc{tag}",
             "netns", client_ns),
            ("-n", peer_ns, "addr", "add", "10.213.7.1/24", "dev", f"wdp{tag}"),
            ("-n", client_ns, "addr", "add", "10.213.7.2/24", "dev", f"wdc{tag}"),
            ("-n", peer_ns, "link", "set", f"wdp{tag}", "up"),
            ("-n", client_ns, "link", "set", f"wdc{tag}", "up"),
            ("-n", peer_ns, "link", "set", "lo", "up"),
            ("-n", client_ns, "link", "set", "lo", "up"),
        ]
        for step in steps:
            result = _ip(*step)
            if result.returncode != 0:
                pytest.skip(f"cannot set up the veth pair (ip {' '.join(step)}): {result.stderr.strip()}")
        yield peer_ns, client_ns
    finally:
        for ns in (peer_ns, client_ns):
            _ip("netns", "del", ns)


def test_bacnet_broadcast_who_is_finds_the_device_on_the_network(two_namespaces, tmp_path):
    peer_ns, client_ns = two_namespaces
    peer = serve_process("10.213.7.1/24:47808", instance=3001, netns=peer_ns)
    out = tmp_path / "found.yaml"
    try:
        result = subprocess.run(
            ["ip", "netns", "exec", client_ns, sys.executable, "-m", "app.cli", "discover", "bacnet",
             "--local-address", "10.213.7.2/24:47808", "--area", "B1", "--timeout", "2", "-o", str(out)],
            capture_output=True, text=True, timeout=60, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        stop_process(peer)
    assert result.returncode == 0, result.stderr
    entries = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert [(e["id"], e["host"], e["device_instance"]) for e in entries] == [("AHU-3001", "10.213.7.1", 3001)]
    assert "port" not in entries[0] and len(entries[0]["points"]) == 9
    assert "(broadcast)" in out.read_text(encoding="utf-8")
