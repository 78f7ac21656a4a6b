"""A small site for the alarm tests: a breaker feeding a meter, a room sensor, an I/O box.

Topology: IL -> F1 (breaker QF) -> M1 (meter PM). ENV and IO are not fed through QF.
"""

from __future__ import annotations

from pathlib import Path

from app.config import SiteConfig, load_site
from app.points import PointValue, Quality

SITE = """\
site: {name: Alarm test, timezone: Asia/Shanghai}
areas:
  - id: B
    kind: building
    children:
      - {id: R1, kind: room}
      - {id: R2, kind: room}
devices:
  - id: QF
    name: Feeder breaker
    area: R1
    protocol: modbus_tcp
    host: 127.0.0.1
    port: 1502
    template: iot_breaker
    ratings: {In_A: 40, Pn_kW: 25, residual_mA: 30}
    alarms:
      - {id: over_voltage, alarm: 270}
      - {id: consumption_surge, enabled: false}
  - {id: PM, name: Feeder meter, area: R2, protocol: modbus_tcp, host: 127.0.0.1, port: 1503,
     template: multifunction_meter}
  - {id: ENV, area: R2, protocol: modbus_tcp, host: 127.0.0.1, port: 1504, template: env_sensor}
  - id: IO
    name: IO box
    area: R2
    protocol: modbus_tcp
    host: 127.0.0.1
    port: 1505
    points:
      - name: smoke
        kind: teleindication
        table: discrete_input
        address: 0
        type: bit
        states: {0: clear, 1: smoke}
        alarms:
          - {type: state, states: [1], priority: 1}
          - {type: bad_quality, priority: 3}
      - {name: door, kind: teleindication, table: discrete_input, address: 1, type: bit,
         alarms: [{type: state, states: [1], priority: 4, off_delay_s: 5}]}
      - {name: Ep, kind: accumulator, unit: kWh, table: input_register, address: 0, type: uint16,
         rollover: 1000, alarms: [{type: daily_energy, warning: 80, alarm: 100}]}
    alarms:
      - {type: comm_loss}
topology:
  - {id: IL, kind: incoming_line}
  - {id: F1, kind: feeder, upstream: [IL], device: QF}
  - {id: M1, kind: meter, upstream: [F1], device: PM}
alarms:
  - {id: r2_energy, type: daily_energy, area: R2, points: [IO.Ep, PM.Ep_imp], warning: 150, alarm: 200}
"""


def write_site(directory: Path, text: str = SITE) -> SiteConfig:
    """Write the site file into ``directory`` and load it."""
    path = directory / "site.yaml"
    path.write_text(text, encoding="utf-8")
    return load_site(path)


def good(tag: str, value: float, ts: float) -> PointValue:
    """A GOOD reading."""
    return PointValue(tag, value, Quality.GOOD, ts)


def bad(tag: str, ts: float, value: float | None = None) -> PointValue:
    """A BAD reading (failed scan)."""
    return PointValue(tag, value, Quality.BAD, ts, "timeout after 1.0 s")
