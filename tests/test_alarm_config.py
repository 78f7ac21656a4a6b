"""Alarm rules in site and template files: resolution against ratings, overrides, and
problems reported with file, line and field (the faulty line carries ``#!``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigError, RuleType, load_site, load_template
from resources import TEMPLATES_DIR

HEAD = """\
site: {name: Rules, timezone: UTC}
areas:
  - {id: A1, kind: building}
"""


def test_breaker_defaults_follow_the_ratings_of_each_device():
    site = load_site(Path(__file__).parents[1] / "resources" / "sites" / "demo.yaml")
    tie = {r.id: r for r in site.device("QF_TIE").alarms}        # In 1250 A, Pn 775 kW, 300 mA
    assert (tie["overload"].warning, tie["overload"].alarm) == (1000.0, 1500.0)
    assert (tie["over_power"].warning, tie["over_power"].alarm) == (620.0, 1162.5)
    assert tie["leakage"].alarm == 300.0
    assert (tie["over_voltage"].warning, tie["over_voltage"].alarm) == (250.0, 275.0)
    assert (tie["under_voltage"].warning, tie["under_voltage"].alarm) == (190.0, 160.0)
    assert (tie["over_temperature"].warning, tie["over_temperature"].alarm) == (65.0, 90.0)
    assert site.device("QF1_01").alarms[3].alarm == pytest.approx(48.0)   # 1.2 x 40 A
    water = [r for r in site.device("ENV_HV").alarms if r.type is RuleType.STATE]
    assert water[0].points == ("water_immersion",) and water[0].states == (1,)


def test_every_builtin_template_loads_with_its_rules():
    for file in TEMPLATES_DIR.glob("*.yaml"):
        template = load_template(file)
        assert any(r.type is RuleType.COMM_LOSS for r in template.alarms), file.name


def test_device_overrides_disables_and_adds_rules(tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text(HEAD + """
devices:
  - id: QF
    area: A1
    protocol: modbus_tcp
    host: h
    template: iot_breaker
    points:
      - {name: temperature, alarms: [{type: high, alarm: 70}]}
    alarms:
      - {id: over_voltage, alarm: 265, priority: 1}
      - {id: trip, enabled: false}
      - {id: leak_early, type: high, points: [leakage], alarm: "0.3*residual_mA"}
""", encoding="utf-8")
    rules = {r.id: r for r in load_site(path).device("QF").alarms}
    assert (rules["over_voltage"].warning, rules["over_voltage"].alarm, rules["over_voltage"].priority) \
        == (250.0, 265.0, 1)
    assert "trip" not in rules
    assert rules["leak_early"].alarm == pytest.approx(9.0)
    assert rules["temperature_high"].points == ("temperature",)


CASES = [
    ("unknown point", """
devices:
  - id: QF
    area: A1
    protocol: modbus_tcp
    host: h
    template: iot_breaker
    alarms:
      - {id: x, type: high, points: [Ux], alarm: 3} #!
""", "devices[0].alarms[0].points", "unknown point 'Ux'"),
    ("unknown rating", """
devices:
  - id: QF
    area: A1
    protocol: modbus_tcp
    host: h
    template: iot_breaker
    alarms:
      - id: x
        type: high
        points: [Ia]
        alarm: "1.1*Inom" #!
""", "devices[0].alarms[0].alarm", "unknown rating 'Inom'"),
    ("levels in the wrong order", """
devices:
  - id: QF
    area: A1
    protocol: modbus_tcp
    host: h
    template: iot_breaker
    alarms:
      - id: over_voltage
        warning: 280 #!
""", "devices[0].alarms[0].warning", "must be below the alarm limit 275"),
    ("bad type on a point", """
devices:
  - id: D
    area: A1
    protocol: modbus_tcp
    host: h
    points:
      - name: p
        kind: telemetry
        table: holding_register
        address: 0
        type: uint16
        alarms:
          - {type: highest, alarm: 3} #!
""", "devices[0].points[0].alarms[0].type", "'high'"),
    ("points inside a point's rule", """
devices:
  - id: D
    area: A1
    protocol: modbus_tcp
    host: h
    points:
      - name: p
        kind: telemetry
        table: holding_register
        address: 0
        type: uint16
        alarms:
          - type: high
            points: [p] #!
""", "devices[0].points[0].alarms[0].points", "leave out 'points'"),
    ("state rule without states", """
devices:
  - id: D
    area: A1
    protocol: modbus_tcp
    host: h
    points:
      - {name: s, kind: teleindication, table: discrete_input, address: 0, type: bit}
    alarms:
      - {type: state, points: [s]} #!
""", "devices[0].alarms[0].states", "needs 'states'"),
    ("rule id twice", """
devices:
  - id: D
    area: A1
    protocol: modbus_tcp
    host: h
    template: water_meter
    alarms:
      - {id: a, type: comm_loss}
      - {id: a, type: comm_loss} #!
""", "devices[0].alarms[1].id", "used twice"),
    ("area rule on an unknown area", """
devices:
  - {id: W, area: A1, protocol: modbus_tcp, host: h, template: water_meter}
alarms:
  - id: e
    type: daily_energy
    area: A9 #!
    points: [W.volume]
    alarm: 10
""", "alarms[0].area", "unknown area 'A9'"),
    ("area rule on a telemetry tag", """
devices:
  - {id: W, area: A1, protocol: modbus_tcp, host: h, template: water_meter}
alarms:
  - id: e
    type: daily_energy
    area: A1
    points: [W.flow] #!
    alarm: 10
""", "alarms[0].points", "sums accumulators"),
]


@pytest.mark.parametrize(("text", "field", "fragment"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_rule_problem_is_located(tmp_path, text, field, fragment):
    path = tmp_path / "site.yaml"
    full = HEAD + text
    path.write_text(full, encoding="utf-8")
    line = next(n for n, row in enumerate(full.splitlines(), start=1) if row.rstrip().endswith("#!"))
    with pytest.raises(ConfigError) as info:
        load_site(path)
    matching = [p for p in info.value.problems if p.field == field]
    assert matching, "\n".join(map(str, info.value.problems))
    assert (matching[0].file, matching[0].line) == (path.resolve(), line), str(matching[0])
    assert fragment in matching[0].message, str(matching[0])


def test_template_rule_problem_is_reported_in_the_template_file(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "probe.yaml").write_text("""\
name: probe
ratings: {In_A: 10}
points:
  - {name: I, kind: telemetry, table: input_register, address: 0, type: float32}
alarms:
  - {id: over, type: high, points: [I], alarm: "2*Pn_kW"}
""", encoding="utf-8")
    path = tmp_path / "site.yaml"
    path.write_text(HEAD + """
template_dirs: [templates]
devices:
  - {id: D, area: A1, protocol: modbus_tcp, host: h, template: probe}
""", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_site(path)
    problem = info.value.problems[0]
    assert (problem.file.name, problem.line, problem.field) == ("probe.yaml", 6, "alarms[0].alarm")
    assert "unknown rating 'Pn_kW' (the device has: In_A)" in problem.message
