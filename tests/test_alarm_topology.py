"""Alarm grouping follows the topology's switch positions: a trip groups the alarms of
what it actually cut off, through a closed bus tie too (app.topology via the alarm catalog)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.alarms import AlarmEvaluator, AlarmState
from tests.alarm_site import bad, good, write_site

T0 = datetime(2025, 3, 3, 10, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


def _breaker(device: str, port: int) -> str:
    return (f"  - {{id: {device}, area: R, protocol: modbus_tcp, host: 127.0.0.1, port: {port}, "
            "template: iot_breaker, ratings: {In_A: 400, Pn_kW: 250, residual_mA: 300}}\n")


#: two incomers, two busbars, a normally open bus tie, one metered feeder on each busbar
SITE = ("site: {name: Tie board, timezone: Asia/Shanghai}\n"
        "areas:\n  - {id: R, kind: room}\n"
        "devices:\n"
        + _breaker("QA", 1601) + _breaker("QB", 1602) + _breaker("QT", 1603)
        + _breaker("QF1", 1604) + _breaker("QF2", 1605) +
        "  - {id: PM1, area: R, protocol: modbus_tcp, host: 127.0.0.1, port: 1606, template: multifunction_meter}\n"
        "  - {id: PM2, area: R, protocol: modbus_tcp, host: 127.0.0.1, port: 1607, template: multifunction_meter}\n"
        "topology:\n"
        "  - {id: IL1, kind: incoming_line}\n"
        "  - {id: IL2, kind: incoming_line}\n"
        "  - {id: Q1, kind: breaker, upstream: [IL1], device: QA}\n"
        "  - {id: Q2, kind: breaker, upstream: [IL2], device: QB}\n"
        "  - {id: B1, kind: busbar, upstream: [Q1]}\n"
        "  - {id: B2, kind: busbar, upstream: [Q2]}\n"
        "  - {id: TIE, kind: bus_tie, upstream: [B1, B2], device: QT, normally_open: true}\n"
        "  - {id: F1, kind: feeder, upstream: [B1], device: QF1}\n"
        "  - {id: M1, kind: meter, upstream: [F1], device: PM1}\n"
        "  - {id: F2, kind: feeder, upstream: [B2], device: QF2}\n"
        "  - {id: M2, kind: meter, upstream: [F2], device: PM2}\n")


@pytest.fixture
def ev(tmp_path):
    return AlarmEvaluator(write_site(tmp_path, SITE))


def positions(ev: AlarmEvaluator, ts: float, **closed: int) -> None:
    ev.feed([v for dev, state in closed.items()
             for v in (good(f"{dev}.state", state, ts), good(f"{dev}.trip_cause", 0, ts))])


def voltages(ev: AlarmEvaluator, meter: str, volts: float, ts: float) -> None:
    ev.feed([good(f"{meter}.U{p}", volts, ts) for p in "abc"])


def trip(ev: AlarmEvaluator, device: str, ts: float) -> None:
    ev.feed([good(f"{device}.state", 0, ts), good(f"{device}.trip_cause", 2, ts)])


def test_tie_trip_groups_the_busbar_it_was_feeding(ev):
    positions(ev, T0, QA=1, QB=0, QT=1, QF1=1, QF2=1)        # busbar 2 fed from busbar 1 through the tie
    voltages(ev, "PM2", 230.0, T0)
    voltages(ev, "PM2", 0.0, T0 + 2)                         # the meter is scanned before the tie
    ev.feed([good(f"QF2.U{p}", 0.0, T0 + 2) for p in "abc"])
    trip(ev, "QT", T0 + 3)
    assert ev.record("QT:trip").status.state is AlarmState.UNACK_ACTIVE
    assert ev.record("PM2:no_voltage").cause == "QT:trip"
    assert ev.record("QF2:no_voltage").cause == "QT:trip"     # the feeder breaker's line side died too


def test_incomer_trip_groups_the_other_busbar_fed_through_the_closed_tie(ev):
    positions(ev, T0, QA=1, QB=0, QT=1, QF1=1, QF2=1)
    trip(ev, "QA", T0 + 1)
    voltages(ev, "PM1", 0.0, T0 + 2)                         # raised after the trip was seen
    voltages(ev, "PM2", 0.0, T0 + 2)
    assert ev.record("PM1:no_voltage").cause == "QA:trip"
    assert ev.record("PM2:no_voltage").cause == "QA:trip"     # wired below QB, fed through the tie


def test_tie_trip_with_both_incomers_in_cuts_nothing_off(ev):
    positions(ev, T0, QA=1, QB=1, QT=1, QF1=1, QF2=1)
    voltages(ev, "PM2", 0.0, T0 + 2)                         # a dead meter for another reason
    trip(ev, "QT", T0 + 3)
    assert ev.record("QT:trip").status.active
    assert ev.record("PM2:no_voltage").status.active and ev.record("PM2:no_voltage").cause == ""
    # with busbar 2 on its own incomer, an incomer-1 trip does not reach it either
    positions(ev, T0 + 10, QT=0)
    trip(ev, "QA", T0 + 11)
    voltages(ev, "PM2", 0.0, T0 + 12)
    assert ev.record("PM2:no_voltage").cause == ""


def test_position_of_unknown_quality_counts_as_closed_for_grouping(ev):
    positions(ev, T0, QA=1, QB=1, QT=0, QF1=1, QF2=1)
    ev.feed([bad("QF1.state", T0 + 1)])                     # QF1's position is unknown now
    trip(ev, "QA", T0 + 2)
    voltages(ev, "PM1", 0.0, T0 + 3)
    assert ev.record("PM1:no_voltage").cause == "QA:trip"
