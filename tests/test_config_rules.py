"""Every validation rule of the site and template files reports file, line and field.

Each case writes a small site file to ``tmp_path``; the line the problem must be
reported on carries the marker comment ``#!``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigError, Problem, load_site, load_template

FIXTURES = Path(__file__).parent / "fixtures" / "config"

HEAD = """\
site: {name: Rules, timezone: UTC}
areas:
  - {id: A1, kind: building}
"""


def _marked_line(text: str) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if line.rstrip().endswith("#!")]
    assert len(lines) == 1, "a case marks exactly one line"
    return lines[0]


def _problems(path: Path) -> list[Problem]:
    with pytest.raises(ConfigError) as info:
        load_site(path)
    error = info.value
    assert str(error) == "\n".join(str(p) for p in error.problems)
    return error.problems


def _expect(path: Path, text: str, field: str, fragment: str) -> None:
    line = _marked_line(text)
    problems = _problems(path)
    matching = [p for p in problems if p.field == field]
    assert matching, f"no problem at {field}; got:\n" + "\n".join(map(str, problems))
    problem = matching[0]
    assert (problem.file, problem.line) == (path.resolve(), line), str(problem)
    assert fragment in problem.message, str(problem)
    assert str(problem).startswith(f"{path.resolve()}:{line}: {field + ': ' if field else ''}")


# (case id, YAML after HEAD, field path, message fragment)
SITE_CASES = [
    ("unknown area", """
devices:
  - {id: D1, area: nowhere, protocol: modbus_tcp, host: h, template: water_meter} #!
""", "devices[0].area", "unknown area 'nowhere'"),
    ("unknown template", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    template: no_such_meter #!
""", "devices[0].template", "unknown template 'no_such_meter'"),
    ("duplicate device id", """
devices:
  - {id: D1, area: A1, protocol: modbus_tcp, host: h, template: water_meter}
  - {id: D1, area: A1, protocol: modbus_tcp, host: h, unit_id: 2, template: water_meter} #!
""", "devices[1].id", "duplicate device id 'D1' (first at line 5)"),
    ("duplicate endpoint", """
devices:
  - {id: D1, area: A1, protocol: modbus_tcp, host: h, port: 1502, unit_id: 7, template: water_meter}
  - {id: D2, area: A1, protocol: modbus_tcp, host: h, port: 1502, unit_id: 7, template: gas_meter} #!
""", "devices[1].unit_id", "device 'D1' already uses unit id 7 on h:1502"),
    ("duplicate unit on serial line", """
devices:
  - {id: D1, area: A1, protocol: modbus_rtu, serial_port: /dev/ttyS1, unit_id: 4, template: water_meter}
  - {id: D2, area: A1, protocol: modbus_rtu, serial_port: /dev/ttyS1, unit_id: 4, template: gas_meter} #!
""", "devices[1].unit_id", "already uses unit id 4 on /dev/ttyS1"),
    ("serial line settings clash", """
devices:
  - {id: D1, area: A1, protocol: modbus_rtu, serial_port: /dev/ttyS1, unit_id: 1, template: water_meter}
  - {id: D2, area: A1, protocol: modbus_rtu, serial_port: /dev/ttyS1, unit_id: 2, baudrate: 19200, template: gas_meter} #!
""", "devices[1].serial_port", "9600/N/1/8, here 19200/N/1/8"),
    ("scan interval zero", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    scan_interval_s: 0 #!
    template: water_meter
""", "devices[0].scan_interval_s", "greater than 0"),
    ("scan interval negative", """
devices:
  - {id: D1, area: A1, protocol: modbus_tcp, host: h, scan_interval_s: -1, template: water_meter} #!
""", "devices[0].scan_interval_s", "greater than 0 (got -1)"),
    ("timeout zero", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    timeout_s: 0 #!
    template: water_meter
""", "devices[0].timeout_s", "greater than 0"),
    ("max block registers too big", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    max_block_registers: 126 #!
    template: water_meter
""", "devices[0].max_block_registers", "less than or equal to 125"),
    ("max block registers zero", """
devices:
  - {id: D1, area: A1, protocol: modbus_tcp, host: h, max_block_registers: 0, template: water_meter} #!
""", "devices[0].max_block_registers", "greater than or equal to 1"),
    ("negative max gap", """
devices:
  - {id: D1, area: A1, protocol: modbus_tcp, host: h, max_gap: -1, template: water_meter} #!
""", "devices[0].max_gap", "greater than or equal to 0"),
    ("tcp without host", """
devices:
  - {id: D1, area: A1, protocol: modbus_tcp, template: water_meter} #!
""", "devices[0].host", "modbus_tcp needs 'host'"),
    ("rtu without serial port", """
devices:
  - {id: D1, area: A1, protocol: modbus_rtu, template: water_meter} #!
""", "devices[0].serial_port", "modbus_rtu needs 'serial_port'"),
    ("rtu unit id out of range", """
devices:
  - id: D1
    area: A1
    protocol: modbus_rtu
    serial_port: COM3
    unit_id: 0 #!
    template: water_meter
""", "devices[0].unit_id", "1..247 (got 0)"),
    ("unknown protocol", """
devices:
  - id: D1
    area: A1
    protocol: profibus #!
    template: water_meter
""", "devices[0].protocol", "'dlt645' or 'mqtt' (got 'profibus')"),
    ("misspelt device field", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    scan_intervall_s: 5 #!
    template: water_meter
""", "devices[0].scan_intervall_s", "unknown field"),
    ("bad parity", """
devices:
  - {id: D1, area: A1, protocol: modbus_rtu, serial_port: COM1, parity: X, template: water_meter} #!
""", "devices[0].parity", "got 'X'"),
    ("duplicate point name", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    template: water_meter
    points:
      - {name: flow, deadband: 0.5}
      - {name: flow, deadband: 0.7} #!
""", "devices[0].points[1].name", "point 'flow' is listed twice (first at line 11)"),
    ("overlapping registers of two new points", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    points:
      - {name: P, kind: telemetry, table: holding_register, address: 100, type: float32}
      - {name: Q, kind: telemetry, table: holding_register, address: 101, type: uint16} #!
""", "devices[0].points[1].address", "holding_register 101 of point 'Q' overlaps point 'P' at 100..101"),
    ("new point overlaps a template point", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    template: water_meter
    points:
      - {name: extra, kind: telemetry, table: input_register, address: 0x0001, type: uint16} #!
""", "devices[0].points[0].address", "overlaps point 'volume' at 0..1"),
    ("same bit of one register twice", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    template: iot_breaker
    points:
      - {name: ready, kind: teleindication, table: holding_register, address: 0, type: bit, bit: 0} #!
""", "devices[0].points[0].address", "overlaps point 'state' at 0 bit 0"),
    ("register runs past 65535", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    points:
      - {name: E, kind: accumulator, table: holding_register, address: 0xFFFE, type: float64} #!
""", "devices[0].points[0].address", "address 65534 + 4 registers of float64 runs past 65535"),
    ("address above 65535", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    points:
      - name: E
        kind: telemetry
        table: holding_register
        address: 70000 #!
        type: uint16
""", "devices[0].points[0].address", "less than or equal to 65535"),
    ("bit on a 32-bit type", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    points:
      - {name: S, kind: teleindication, table: holding_register, address: 0, type: uint32, bit: 3} #!
""", "devices[0].points[0].bit", "not with uint32 (32-bit)"),
    ("bit on a coil", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    points:
      - {name: S, kind: telecontrol, table: coil, address: 0, type: bit, bit: 1} #!
""", "devices[0].points[0].bit", "a coil is already one bit"),
    ("type bit in a register without a bit number", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    points:
      - {name: S, kind: teleindication, table: input_register, address: 0, type: bit} #!
""", "devices[0].points[0].bit", "needs 'bit' (0-15)"),
    ("bit number out of range", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    points:
      - {name: S, kind: teleindication, table: input_register, address: 0, type: bit, bit: 16} #!
""", "devices[0].points[0].bit", "less than or equal to 15"),
    ("register type on a discrete input", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    points:
      - {name: S, kind: teleindication, table: discrete_input, address: 0, type: uint16} #!
""", "devices[0].points[0].type", "type must be 'bit'"),
    ("writable on a read-only table", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    points:
      - {name: S, kind: telemetry, table: input_register, address: 0, type: uint16, writable: true} #!
""", "devices[0].points[0].writable", "input_register is read-only"),
    ("telecontrol on a read-only table", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    points:
      - {name: S, kind: telecontrol, table: discrete_input, address: 0, type: bit} #!
""", "devices[0].points[0].kind", "discrete_input is read-only"),
    ("negative deadband", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    template: water_meter
    points:
      - {name: flow, deadband: -0.1} #!
""", "devices[0].points[0].deadband", "greater than or equal to 0"),
    ("override with a bad type is reported in the site file", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    template: water_meter
    points:
      - {name: flow, type: float33} #!
""", "devices[0].points[0].type", "got 'float33'"),
    ("override that breaks a cross-field rule", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    template: water_meter
    points:
      - {name: flow, bit: 2} #!
""", "devices[0].points[0].bit", "not with float32 (32-bit)"),
    ("rollover on a telemetry point", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    points:
      - {name: T, kind: telemetry, table: input_register, address: 0, type: uint16, rollover: 100} #!
""", "devices[0].points[0].rollover", "only applies to accumulator"),
    ("states on a telemetry point", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    points:
      - {name: T, kind: telemetry, table: input_register, address: 0, type: uint16, states: {0: a}} #!
""", "devices[0].points[0].states", "only apply to teleindication"),
    ("new point missing its address", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    points:
      - {name: T, kind: telemetry, table: input_register, type: uint16} #!
""", "devices[0].points[0].address", "required field is missing"),
    ("point name with a dot", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    points:
      - {name: T.x, kind: telemetry, table: input_register, address: 0, type: uint16} #!
""", "devices[0].points[0].name", "got 'T.x'"),
    ("unknown category", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    points:
      - {name: T, kind: telemetry, table: input_register, address: 0, type: uint16, category: misc} #!
""", "devices[0].points[0].category", "got 'misc'"),
    ("unknown medium on a device", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    medium: steam #!
    template: water_meter
""", "devices[0].medium", "got 'steam'"),
    ("address written as a quoted string", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    points:
      - {name: T, kind: telemetry, table: input_register, address: "0x10", type: uint16} #!
""", "devices[0].points[0].address", "valid integer"),
    ("ratings must be numbers", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    template: iot_breaker
    ratings: {In_A: big} #!
""", "devices[0].ratings.In_A", "valid number"),
    ("unknown upstream node", """
topology:
  - {id: L1, kind: incoming_line}
  - {id: B1, kind: busbar, upstream: [L9]} #!
""", "topology[1].upstream[0]", "unknown upstream node 'L9'"),
    ("topology cycle", """
topology:
  - {id: L1, kind: incoming_line}
  - {id: F1, kind: feeder, upstream: [F3]} #!
  - {id: F2, kind: feeder, upstream: [F1]}
  - {id: F3, kind: feeder, upstream: [F2, L1]}
""", "topology[1].upstream", "topology cycle: F1 -> F3 -> F2 -> F1"),
    ("node feeding itself", """
topology:
  - {id: F1, kind: feeder, upstream: [F1]} #!
""", "topology[0].upstream[0]", "cannot feed itself"),
    ("duplicate node id", """
topology:
  - {id: L1, kind: incoming_line}
  - {id: L1, kind: incoming_line} #!
""", "topology[1].id", "duplicate node id 'L1'"),
    ("bus tie with one side", """
topology:
  - {id: L1, kind: incoming_line}
  - {id: BUS1, kind: busbar, upstream: [L1]}
  - {id: TIE, kind: bus_tie, upstream: [BUS1], normally_open: true} #!
""", "topology[2].upstream", "exactly 2 nodes, got 1"),
    ("incoming line with an upstream", """
topology:
  - {id: L1, kind: incoming_line}
  - {id: L2, kind: incoming_line, upstream: [L1]} #!
""", "topology[1].upstream", "has no upstream"),
    ("topology node with unknown device", """
topology:
  - {id: L1, kind: incoming_line, device: QF9} #!
""", "topology[0].device", "unknown device 'QF9'"),
    ("unknown node kind", """
topology:
  - {id: L1, kind: generator} #!
""", "topology[0].kind", "got 'generator'"),
    ("normally_open must be a boolean", """
topology:
  - {id: L1, kind: incoming_line, normally_open: maybe} #!
""", "topology[0].normally_open", "valid boolean"),
    ("nested duplicate area id", """
  - id: A2
    kind: building
    children:
      - {id: A1, kind: floor} #!
""", "areas[1].children[0].id", "duplicate area id 'A1'"),
    ("negative floor area", """
  - {id: A2, kind: floor, floor_area_m2: -5} #!
""", "areas[1].floor_area_m2", "greater than or equal to 0"),
    ("negative headcount", """
  - {id: A2, kind: floor, headcount: -1} #!
""", "areas[1].headcount", "greater than or equal to 0"),
    ("unknown area kind", """
  - {id: A2, kind: campus} #!
""", "areas[1].kind", "got 'campus'"),
    ("unknown top-level section", """
device: [] #!
""", "device", "unknown section"),
    ("template dir that does not exist", """
template_dirs: [no_such_dir] #!
""", "template_dirs[0]", "does not exist"),
    ("duplicate YAML key", """
devices:
  - id: D1
    area: A1
    protocol: modbus_tcp
    host: h
    host: h2 #!
    template: water_meter
""", "devices[0].host", "duplicate key"),
]


@pytest.mark.parametrize(("body", "field", "fragment"), [c[1:] for c in SITE_CASES],
                         ids=[c[0] for c in SITE_CASES])
def test_site_rule(tmp_path, body, field, fragment):
    text = HEAD + body.lstrip("\n")
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    _expect(path, text, field, fragment)


@pytest.mark.parametrize(("text", "field", "fragment"), [
    ("site: {name: S, timezone: Mars/Base} #!\n", "site.timezone", "unknown IANA time zone 'Mars/Base'"),
    ("site:\n  name: S\n  timezone: Asia/Shanghai\n  tz: UTC #!\n", "site.tz", "unknown field"),
    ("site:\n  name: '' #!\n  timezone: UTC\n", "site.name", "at least 1 character"),
    ("areas: [] #!\n", "", "required section 'site' is missing"),
    ("- just a list #!\n", "", "a site file must be a mapping"),
    ("site: {name: S, timezone: UTC}\ndevices: {id: D1} #!\n", "devices", "'devices' must be a list"),
])
def test_site_header_rule(tmp_path, text, field, fragment):
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    _expect(path, text, field, fragment)


def test_yaml_syntax_error_has_a_line():
    path = FIXTURES / "syntax_error.yaml"
    [problem] = _problems(path)
    assert (problem.file, problem.line, problem.field) == (path.resolve(), 6, "")
    assert problem.message.startswith("YAML syntax error")


def test_empty_file(tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text("# nothing here\n", encoding="utf-8")
    [problem] = _problems(path)
    assert (problem.line, problem.message) == (1, "file is empty")


def test_several_problems_are_all_reported():
    path = (FIXTURES / "many_problems.yaml").resolve()
    found = {(p.line, p.field) for p in _problems(path)}
    assert found == {
        (3, "site.timezone"),
        (6, "areas[1].id"),
        (6, "areas[1].kind"),
        (8, "devices[0].area"),
        (8, "devices[0].scan_interval_s"),
        (14, "devices[1].points[0].address"),
        (16, "topology[0].upstream"),
    }


def test_bad_template_reports_its_own_file_and_line_once():
    problems = _problems(FIXTURES / "bad_template_site.yaml")
    template_file = (FIXTURES / "bad_templates" / "broken_meter.yaml").resolve()
    assert [(p.file, p.line, p.field) for p in problems] == [(template_file, 4, "points[1].type")]
    assert "got 'float33'" in problems[0].message


TEMPLATE_CASES = [
    ("name must match file", "name: other_name #!\npoints:\n  - {name: U, kind: telemetry, "
     "table: input_register, address: 0, type: uint16}\n", "name", "must equal the file name 'tpl'"),
    ("no points", "name: tpl\npoints: [] #!\n", "points", "non-empty list of points"),
    ("overlap inside a template", "name: tpl\npoints:\n  - {name: U, kind: telemetry, table: "
     "input_register, address: 0, type: float32}\n  - {name: I, kind: telemetry, table: input_register, "
     "address: 1, type: float32} #!\n", "points[1].address", "overlaps point 'U' at 0..1"),
    ("duplicate point in a template", "name: tpl\npoints:\n  - {name: U, kind: telemetry, table: "
     "input_register, address: 0, type: uint16}\n  - {name: U, kind: telemetry, table: input_register, "
     "address: 1, type: uint16} #!\n", "points[1].name", "duplicate point name 'U'"),
    ("unknown template field", "name: tpl\nmaker: ACME #!\npoints:\n  - {name: U, kind: telemetry, "
     "table: input_register, address: 0, type: uint16}\n", "maker", "unknown field"),
]


@pytest.mark.parametrize(("text", "field", "fragment"), [c[1:] for c in TEMPLATE_CASES],
                         ids=[c[0] for c in TEMPLATE_CASES])
def test_template_rule(tmp_path, text, field, fragment):
    path = tmp_path / "tpl.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_template(path)
    line = _marked_line(text)
    [problem] = [p for p in info.value.problems if p.field == field]
    assert (problem.file, problem.line) == (path.resolve(), line)
    assert fragment in problem.message


def test_template_problem_through_a_site_uses_template_file(tmp_path):
    (tmp_path / "tpl").mkdir()
    tpl = tmp_path / "tpl" / "relay_box.yaml"
    tpl.write_text("name: relay_box\npoints:\n  - {name: R1, kind: telecontrol, table: coil, "
                   "address: 0, type: bit}\n  - {name: R2, kind: telecontrol, table: coil, address: 0, "
                   "type: bit}\n", encoding="utf-8")
    site = tmp_path / "site.yaml"
    site.write_text(HEAD + "template_dirs: [tpl]\ndevices:\n  - {id: D1, area: A1, protocol: modbus_tcp, "
                    "host: h, template: relay_box}\n", encoding="utf-8")
    [problem] = _problems(site)
    assert (problem.file, problem.line, problem.field) == (tpl.resolve(), 4, "points[1].address")


def test_site_template_dir_shadows_builtin(tmp_path):
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "water_meter.yaml").write_text(
        "name: water_meter\nmedium: water\npoints:\n  - {name: total, kind: accumulator, "
        "table: holding_register, address: 7, type: uint32}\n", encoding="utf-8")
    site = tmp_path / "site.yaml"
    site.write_text(HEAD + "template_dirs: [tpl]\ndevices:\n  - {id: W, area: A1, protocol: modbus_tcp, "
                    "host: h, template: water_meter}\n", encoding="utf-8")
    assert [p.name for p in load_site(site).device("W").points] == ["total"]
