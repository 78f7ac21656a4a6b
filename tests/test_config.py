"""Loading a valid site: templates resolved, models frozen, driver parameters built."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pydantic
import pytest
from pymodbus.client import ModbusTcpClient

from app.config import (
    Category, ConfigError, Medium, PointKind, Protocol, builtin_template_names, load_site,
    load_template,
)
from drivers.modbus.spec import DataType, ModbusParams, ModbusPoint, Order, Table
from resources import TEMPLATES_DIR

FIXTURES = Path(__file__).parent / "fixtures" / "config"


@pytest.fixture(scope="module")
def site():
    return load_site(FIXTURES / "valid_site.yaml")


def test_site_header_and_area_tree(site):
    assert site.name == "Test plant"
    assert site.timezone == "Asia/Shanghai"
    assert site.tzinfo.key == "Asia/Shanghai"
    assert site.source == (FIXTURES / "valid_site.yaml").resolve()
    assert [a.id for a in site.areas] == ["B1"]
    assert site.area("SW1").floor_area_m2 == 60
    assert site.area("B1").headcount == 180
    assert [a.id for a in site.areas[0].walk()] == ["B1", "B1F1", "SW1", "B1F2"]
    with pytest.raises(KeyError, match="no area 'X'"):
        site.area("X")


def test_template_points_merged_with_overrides_and_extras(site):
    breaker = site.device("QF1_01")
    template = load_template(TEMPLATES_DIR / "iot_breaker.yaml")
    names = [p.name for p in breaker.points]
    assert names == [p.name for p in template.points] + ["alarm_word"]
    assert breaker.point("Ia").deadband == 0.5            # overridden in the site file
    assert template.drafts["Ia"].data["deadband"] == 0.1  # template untouched
    assert breaker.point("Ia").address == 0x0010           # rest comes from the template
    assert breaker.point("alarm_word").address == 3
    assert breaker.point("state").bit == 0
    assert breaker.point("command").writable is True      # telecontrol implies writable
    assert breaker.point("trip_cause").states[2] == "short circuit"
    assert breaker.point("mode").states == {0: "auto", 1: "manual", 2: "maintenance"}
    assert breaker.point("Ep").scale == 0.01 and breaker.point("Ep").rollover == 42949672.96


def test_ratings_template_defaults_overridden_per_device(site):
    assert dict(site.device("QF1_01").ratings) == {"In_A": 250.0, "Pn_kW": 40.0, "residual_mA": 30.0}
    assert dict(site.node("T1").ratings) == {"kVA": 1000.0}


def test_category_and_medium_defaults_flow_template_to_device_to_point(site):
    assert site.device("WM1").medium is Medium.WATER
    assert site.device("WM1").point("volume").medium is Medium.WATER
    assert site.device("GM1").point("flow").medium is Medium.GAS
    assert site.device("ENV1").category is Category.SPECIAL          # set on the device
    assert site.device("IO1").point("relay1").category is Category.HVAC
    assert site.device("DIN1").point("P").category is Category.LIGHTING_SOCKETS  # template default


def test_tags_and_iter_points(site):
    tags = site.tags()
    assert len(tags) == len(set(tags)) == sum(len(d.points) for d in site.devices)
    assert "QF1_01.command" in tags and "DIN1.Ep_imp" in tags and "IO1.energy" in tags
    pairs = list(site.iter_points())
    assert pairs[0][0].id == "QF1_01" and pairs[0][1].name == "state"
    assert site.device("PM1").tag("THD_Ia") == "PM1.THD_Ia"
    with pytest.raises(KeyError, match="no point 'nope'"):
        site.device("PM1").tag("nope")
    with pytest.raises(KeyError, match="no device 'nope'"):
        site.device("nope")


def test_modbus_parameters_for_tcp_and_rtu(site):
    params, points = site.device("PM1").modbus()
    assert isinstance(params, ModbusParams)
    assert (params.device_id, params.host, params.port, params.unit_id, params.serial_port) == \
        ("PM1", "127.0.0.1", 15020, 2, None)
    assert all(isinstance(p, ModbusPoint) for p in points)
    ep = next(p for p in points if p.name == "Ep_imp")
    assert (ep.table, ep.address, ep.dtype) == (Table.HOLDING_REGISTER, 0x0100, DataType.FLOAT64)
    rtu, _ = site.device("DIN1").modbus()
    assert site.device("DIN1").protocol is Protocol.MODBUS_RTU
    assert (rtu.serial_port, rtu.baudrate, rtu.parity, rtu.unit_id) == ("/dev/ttyUSB0", 9600, "E", 3)
    _, io = site.device("IO1").modbus()
    relay = next(p for p in io if p.name == "relay1")
    assert (relay.table, relay.dtype, relay.bit, relay.writable) == (Table.COIL, DataType.BIT, None, True)
    energy = next(p for p in io if p.name == "energy")
    assert (energy.word_order, energy.byte_order) == (Order.LITTLE, Order.LITTLE)


def test_din_rail_meter_with_swapped_words_needs_yaml_only(site):
    """The swapped-word float32 map decodes correctly through pymodbus's own converter."""
    _, points = site.device("DIN1").modbus()
    voltage = next(p for p in points if p.name == "U")
    assert (voltage.table, voltage.dtype, voltage.word_order) == \
        (Table.INPUT_REGISTER, DataType.FLOAT32, Order.LITTLE)
    # 230.5 V as a device with low word first puts it on the wire.
    wire = ModbusTcpClient.convert_to_registers(230.5, ModbusTcpClient.DATATYPE.FLOAT32, word_order="little")
    assert wire[0] != wire[1]
    decoded = ModbusTcpClient.convert_from_registers(wire, ModbusTcpClient.DATATYPE.FLOAT32,
                                                     word_order=voltage.word_order.value)
    assert decoded == 230.5


def test_topology_loaded_with_bus_tie(site):
    tie = site.node("TIE")
    assert tie.upstream == ("BUS1", "BUS2") and tie.normally_open is True
    assert (tie.x, tie.y, tie.diagram) == (400.0, 120.0, "main")
    assert site.node("F1").device == "QF1_01"


def test_hex_addresses_are_read_as_integers(site):
    assert site.device("PM1").point("demand_P").address == 46   # written as 0x002E


def test_models_are_frozen(site):
    device = site.device("QF1_01")
    with pytest.raises(pydantic.ValidationError):
        device.scan_interval_s = 9
    with pytest.raises(pydantic.ValidationError):
        device.point("Ia").address = 3
    with pytest.raises(TypeError):
        device.ratings["In_A"] = 1           # type: ignore[index]
    with pytest.raises(TypeError):
        device.point("mode").states[3] = "x"  # type: ignore[index]
    assert isinstance(device.points, tuple) and isinstance(site.devices, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        load_template(TEMPLATES_DIR / "water_meter.yaml").name = "x"  # type: ignore[misc]


def test_all_builtin_templates_load():
    assert builtin_template_names() == [
        "ahu_controller_bacnet", "din_rail_meter_f32_swapped", "env_sensor", "env_sensor_mqtt", "gas_meter",
        "iot_breaker", "multifunction_meter", "pump_station_opcua", "residential_meter_dlt645", "water_meter"]
    for name in builtin_template_names():
        assert load_template(TEMPLATES_DIR / f"{name}.yaml").points


def test_builtin_templates_name_every_point_and_alarm_in_both_languages():
    missing = []
    for name in builtin_template_names():
        template = load_template(TEMPLATES_DIR / f"{name}.yaml")
        missing += [f"{name}: point {p.name}" for p in template.points
                    if not (p.description.isascii() and p.description and p.description_zh)]
        missing += [f"{name}: alarm {r.id}" for r in template.alarms
                    if not (r.description.isascii() and r.description and r.description_zh)]
    assert not missing, "English description and description_zh wanted for: " + ", ".join(missing)


def test_builtin_templates_cover_required_points():
    meter = {p.name for p in load_template(TEMPLATES_DIR / "multifunction_meter.yaml").points}
    assert {"Ua", "Ub", "Uc", "Uab", "Ubc", "Uca", "Ia", "Ib", "Ic", "P", "Q", "S", "PF", "F",
            "Pa", "Pb", "Pc", "THD_Ua", "THD_Ia", "Ep_imp", "Eq_imp", "demand_P"} <= meter
    breaker = load_template(TEMPLATES_DIR / "iot_breaker.yaml")
    assert set(breaker.ratings) == {"In_A", "Pn_kW", "residual_mA"}
    kinds = {p.name: p.kind for p in breaker.points}
    assert kinds["command"] is PointKind.TELECONTROL and kinds["Ep"] is PointKind.ACCUMULATOR
    assert breaker.drafts["Ep"].data["type"] == "uint32"
    assert len(breaker.drafts["trip_cause"].data["states"]) == 10


def test_every_data_type_and_bit_in_register_appears():
    templates = [*TEMPLATES_DIR.glob("*.yaml"), *(FIXTURES / "templates").glob("*.yaml")]
    points = [p for f in templates for p in load_template(f).points if p.family == "modbus"]
    assert {p.type for p in points} == set(DataType)
    assert {p.table for p in points} == set(Table)
    assert any(p.type is DataType.BIT and p.bit is not None for p in points)
    assert any(p.word_order is Order.LITTLE for p in points)


def test_timeout_longer_than_scan_interval_is_allowed(tmp_path):
    site_file = tmp_path / "site.yaml"
    site_file.write_text(
        "site: {name: S, timezone: UTC}\nareas: [{id: A, kind: room}]\n"
        "devices:\n  - {id: D, area: A, protocol: modbus_tcp, host: h, scan_interval_s: 0.5,"
        " timeout_s: 2, template: water_meter}\n", encoding="utf-8")
    device = load_site(site_file).device("D")
    assert (device.scan_interval_s, device.timeout_s) == (0.5, 2.0)


def test_load_site_accepts_str_path():
    assert load_site(str(FIXTURES / "valid_site.yaml")).name == "Test plant"


def test_missing_file_is_a_problem_not_a_crash(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_site(tmp_path / "absent.yaml")
    assert str(info.value) == f"{tmp_path / 'absent.yaml'}:1: file not found"
