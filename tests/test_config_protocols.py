"""Site configuration of BACnet/IP, OPC UA, DL/T 645 and MQTT devices: driver views and every rule
reported with file, line and field (cases mark the line with ``#!``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import load_site
from app.drivers_factory import DriverFactory
from drivers.bacnet.driver import BacnetDriver
from drivers.bacnet.spec import ObjectType
from drivers.dlt645.codec import Version
from drivers.dlt645.driver import Dlt645Driver
from drivers.mqtt.driver import MqttDriver
from drivers.opcua.driver import OpcUaDriver
from drivers.opcua.spec import AcquisitionMode, DeadbandType, SecurityMode
from tests.test_config_rules import HEAD, _expect

SITE = HEAD + """\
devices:
  - {id: AHU, area: A1, protocol: bacnet_ip, host: 10.0.0.5, device_instance: 7, local_address: "10.0.0.2/24:47808",
     template: ahu_controller_bacnet, points: [{name: supply_air_setpoint, priority: 10}]}
  - {id: PS, area: A1, protocol: opc_ua, endpoint: "opc.tcp://10.0.0.6:4841/ps", mode: subscribe,
     username: hmi, password: {service: wattdesk-opcua, username: hmi}, template: pump_station_opcua,
     points: [{name: pump1_power, deadband_type: absolute, deadband: 0.5, sampling_interval_s: 0.25}]}
  - {id: M1, area: A1, protocol: dlt645, host: 10.0.0.7, meter: "12345", template: residential_meter_dlt645}
  - {id: M2, area: A1, protocol: dlt645, host: 10.0.0.7, meter: "12346", version: "1997",
     points: [{name: E, kind: accumulator, di: 0x9010}, {name: X, kind: telemetry, di: 0x9999, format: XXX.X}]}
  - {id: ENV, area: A1, protocol: mqtt, host: broker, topic_prefix: site/room1/, template: env_sensor_mqtt}
  - {id: SPB, area: A1, protocol: mqtt, host: broker, sparkplug: {group_id: Plant, edge_node_id: GW1, device_id: Meter1},
     points: [{name: P, kind: telemetry, unit: kW, metric: Power}, {name: Q, kind: telecontrol, metric: Breaker/Closed}]}
"""


def test_driver_views_of_every_protocol(tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text(SITE, encoding="utf-8")
    site = load_site(path)
    params, points = site.device("AHU").bacnet()
    assert (params.address, params.device_instance, params.local_address, params.timeout_s) == (
        "10.0.0.5:47808", 7, "10.0.0.2/24:47808", 2.0)
    setpoint = next(p for p in points if p.name == "supply_air_setpoint")
    assert (setpoint.object_type, setpoint.instance, setpoint.writable, setpoint.priority) == (
        ObjectType.ANALOG_VALUE, 1, True, 10)
    assert next(p for p in points if p.name == "fan_command").priority == 8
    params, points = site.device("PS").opcua(password="s3cret")
    assert (params.endpoint, params.mode, params.security, params.username, params.password) == (
        "opc.tcp://10.0.0.6:4841/ps", AcquisitionMode.SUBSCRIBE, SecurityMode.NONE, "hmi", "s3cret")
    assert site.device("PS").port == 4841
    power = next(p for p in points if p.name == "pump1_power")
    assert (power.deadband, power.deadband_type, power.sampling_interval_s) == (0.5, DeadbandType.ABSOLUTE, 0.25)
    assert next(p for p in points if p.name == "pump1_flow").deadband == 0.0   # WattDesk's deadband only
    params, points = site.device("M1").dlt645()
    assert (params.meter, params.host, params.port, params.baudrate, params.parity, params.version) == (
        "12345", "10.0.0.7", 8899, 2400, "E", Version.V2007)
    assert next(p for p in points if p.name == "U").di == 0x02010100
    params, points = site.device("M2").dlt645()
    assert params.version is Version.V1997 and [(p.di, p.fmt) for p in points] == [(0x9010, None), (0x9999, "XXX.X")]
    params, points = site.device("ENV").mqtt()
    assert (params.host, params.port, params.timeout_s) == ("broker", 1883, 2.0)
    co2 = next(p for p in points if p.name == "co2")
    ventilation = next(p for p in points if p.name == "ventilation")
    assert (co2.topic, co2.path, co2.command_topic) == ("site/room1/state", "co2", None)
    assert ventilation.command_topic == "site/room1/set/ventilation"
    params, points = site.device("SPB").mqtt()
    assert (params.sparkplug.group_id, params.sparkplug.edge_node_id, params.sparkplug.device_id) == (
        "Plant", "GW1", "Meter1")
    assert [(p.name, p.metric, p.topic, p.writable) for p in points] == [
        ("P", "Power", "", False), ("Q", "Breaker/Closed", "", True)]
    with pytest.raises(ValueError, match="speaks dlt645, not modbus"):
        site.device("M1").modbus()


def test_factory_shares_a_gateway_and_reads_passwords_from_the_keyring(tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text(SITE, encoding="utf-8")
    site = load_site(path)
    asked = []

    def secrets(ref):
        asked.append((ref.service, ref.username))
        return "s3cret"

    factory = DriverFactory(secrets)
    drivers = {d.id: factory(d) for d in site.devices}
    assert isinstance(drivers["AHU"], BacnetDriver) and isinstance(drivers["PS"], OpcUaDriver)
    assert isinstance(drivers["M1"], Dlt645Driver) and isinstance(drivers["ENV"], MqttDriver)
    assert drivers["PS"].params.password == "s3cret" and asked == [("wattdesk-opcua", "hmi")]
    assert drivers["M1"]._bus is drivers["M2"]._bus   # one gateway, one pipe


def test_missing_keyring_entry_names_the_device(tmp_path):
    from app.alarms.secrets import CredentialError

    path = tmp_path / "site.yaml"
    path.write_text(SITE, encoding="utf-8")
    site = load_site(path)

    def secrets(ref):
        raise CredentialError(f"no keyring entry for service {ref.service!r} user {ref.username!r}")

    with pytest.raises(ValueError, match="device PS: password: no keyring entry for service 'wattdesk-opcua'"):
        DriverFactory(secrets)(site.device("PS"))


CASES = [
    ("bacnet point on a modbus device", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    points:
      - {name: t, kind: telemetry, object: "analog-input:1"} #!
""", "devices[0].points[0].object", "has a BACnet address but device 'D1' speaks modbus_tcp"),
    ("point without an address", """
devices:
  - id: D1
    area: A1
    protocol: mqtt
    host: h
    points:
      - {name: t, kind: telemetry} #!
""", "devices[0].points[0]", "a point needs an address"),
    ("point with two addresses", """
devices:
  - id: D1
    area: A1
    protocol: mqtt
    host: h
    points:
      - {name: t, kind: telemetry, topic: a, di: 0x00010000} #!
""", "devices[0].points[0].topic", "it has DL/T 645 and MQTT address fields"),
    ("field of another protocol on a point", """
devices:
  - id: D1
    area: A1
    protocol: mqtt
    host: h
    points:
      - {name: t, kind: telemetry, topic: a, priority: 3} #!
""", "devices[0].points[0].priority", "'priority' applies to BACnet points, not to this MQTT point"),
    ("scale on a BACnet point", """
devices:
  - id: D1
    area: A1
    protocol: bacnet_ip
    host: h
    points:
      - {name: t, kind: telemetry, object: "analog-input:1", scale: 0.1} #!
""", "devices[0].points[0].scale", "'scale' is not applied"),
    ("unknown BACnet object type", """
devices:
  - id: D1
    area: A1
    protocol: bacnet_ip
    host: h
    points:
      - {name: t, kind: telemetry, object: "analog-thing:1"} #!
""", "devices[0].points[0].object", "unknown BACnet object type 'analog-thing'"),
    ("commanding a BACnet input", """
devices:
  - id: D1
    area: A1
    protocol: bacnet_ip
    host: h
    points:
      - {name: t, kind: telecontrol, object: "binary-input:1"} #!
""", "devices[0].points[0].kind", "a BACnet binary-input cannot be commanded"),
    ("writable MQTT point without a command topic", """
devices:
  - id: D1
    area: A1
    protocol: mqtt
    host: h
    points:
      - {name: t, kind: telemetry, topic: a, writable: true} #!
""", "devices[0].points[0].command_topic", "needs 'command_topic'"),
    ("writable DL/T 645 point", """
devices:
  - id: D1
    area: A1
    protocol: dlt645
    host: h
    meter: "1"
    points:
      - {name: t, kind: telemetry, di: 0x02010100, writable: true} #!
""", "devices[0].points[0].writable", "DL/T 645 meter points are read-only"),
    ("data identifier not in the catalogue", """
devices:
  - id: D1
    area: A1
    protocol: dlt645
    host: h
    meter: "1"
    points:
      - {name: t, kind: telemetry, di: 0x04000401} #!
""", "devices[0].points[0].di", "not in the DL/T 645-2007 catalogue: give its BCD 'format'"),
    ("2007 identifier on a 1997 meter", """
devices:
  - id: D1
    area: A1
    protocol: dlt645
    host: h
    meter: "1"
    version: "1997"
    points:
      - {name: t, kind: telemetry, di: 0x00010000} #!
""", "devices[0].points[0].di", "does not fit DL/T 645-1997 (2 bytes)"),
    ("meter without a number", """
devices:
  - {id: D1, area: A1, protocol: dlt645, host: h, template: residential_meter_dlt645} #!
""", "devices[0].meter", "dlt645 needs 'meter'"),
    ("gateway and serial port", """
devices:
  - id: D1
    area: A1
    protocol: dlt645
    host: h
    meter: "1"
    serial_port: /dev/ttyUSB0 #!
    template: residential_meter_dlt645
""", "devices[0].serial_port", "give 'host' (gateway) or 'serial_port', not both"),
    ("two meters with one number on one gateway", """
devices:
  - {id: D1, area: A1, protocol: dlt645, host: h, meter: "7", template: residential_meter_dlt645}
  - {id: D2, area: A1, protocol: dlt645, host: h, meter: "7", template: residential_meter_dlt645} #!
""", "devices[1].meter", "device 'D1' already has meter 7 on h:8899"),
    ("modbus field on a DL/T 645 device", """
devices:
  - {id: D1, area: A1, protocol: dlt645, host: h, meter: "1", unit_id: 3, template: residential_meter_dlt645} #!
""", "devices[0].unit_id", "'unit_id' does not apply to a dlt645 device"),
    ("OPC UA without endpoint", """
devices:
  - {id: D1, area: A1, protocol: opc_ua, template: pump_station_opcua} #!
""", "devices[0].endpoint", "opc_ua needs 'endpoint'"),
    ("OPC UA signing without a certificate", """
devices:
  - id: D1
    area: A1
    protocol: opc_ua
    endpoint: opc.tcp://h:4840/x
    security: sign #!
    template: pump_station_opcua
""", "devices[0].security", "security sign needs 'certificate'"),
    ("OPC UA certificate file missing", """
devices:
  - id: D1
    area: A1
    protocol: opc_ua
    endpoint: opc.tcp://h:4840/x
    security: sign_and_encrypt
    certificate: certs/client.der #!
    private_key: certs/client.pem
    template: pump_station_opcua
""", "devices[0].certificate", "client.der' does not exist"),
    ("OPC UA port other than the endpoint's", """
devices:
  - id: D1
    area: A1
    protocol: opc_ua
    endpoint: opc.tcp://h:4840/x
    port: 4841 #!
    template: pump_station_opcua
""", "devices[0].port", "port 4841 differs from the endpoint's port"),
    ("MQTT password without user", """
devices:
  - id: D1
    area: A1
    protocol: mqtt
    host: h
    password: {service: s, username: u} #!
    template: env_sensor_mqtt
""", "devices[0].password", "a password needs 'username'"),
    ("register point on an MQTT device", """
devices:
  - id: D1
    area: A1
    protocol: mqtt
    host: h
    points:
      - {name: p, kind: telemetry, table: holding_register, address: 0, type: uint16} #!
""", "devices[0].points[0].table", "speaks mqtt (needs topic, or metric on a Sparkplug B device)"),
    ("Sparkplug B point with a topic", """
devices:
  - id: D1
    area: A1
    protocol: mqtt
    host: h
    sparkplug: {group_id: G, edge_node_id: N}
    points:
      - {name: p, kind: telemetry, topic: a/b} #!
""", "devices[0].points[0].topic", "of Sparkplug B device 'D1' needs 'metric' (not 'topic')"),
    ("metric on a JSON MQTT device", """
devices:
  - id: D1
    area: A1
    protocol: mqtt
    host: h
    points:
      - {name: p, kind: telemetry, metric: Power} #!
""", "devices[0].points[0].metric", "names a Sparkplug B metric but device 'D1' has no 'sparkplug'"),
    ("metric with a JSON path", """
devices:
  - id: D1
    area: A1
    protocol: mqtt
    host: h
    sparkplug: {group_id: G, edge_node_id: N}
    points:
      - {name: p, kind: telemetry, metric: Power, path: a.b} #!
""", "devices[0].points[0].path", "'path' applies to JSON topics, not to a Sparkplug B metric"),
    ("Sparkplug B id with a slash", """
devices:
  - id: D1
    area: A1
    protocol: mqtt
    host: h
    sparkplug: {group_id: G/x, edge_node_id: N} #!
    points:
      - {name: p, kind: telemetry, metric: Power}
""", "devices[0].sparkplug.group_id", "String should match pattern"),
    ("BACnet without host", """
devices:
  - {id: D1, area: A1, protocol: bacnet_ip, template: ahu_controller_bacnet} #!
""", "devices[0].host", "bacnet_ip needs 'host'"),
    ("bad BACnet local address", """
devices:
  - id: D1
    area: A1
    protocol: bacnet_ip
    host: h
    local_address: "10.0.0.2/24" #!
    template: ahu_controller_bacnet
""", "devices[0].local_address", "String should match pattern"),
]


@pytest.mark.parametrize(("body", "field", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_protocol_rule(tmp_path: Path, body, field, fragment):
    path = tmp_path / "site.yaml"
    text = HEAD + body
    path.write_text(text, encoding="utf-8")
    _expect(path, text, field, fragment)
