"""Every rule type, delays and deadband, trips and grouping, suppression, floods, shelving —
driven through the evaluator with PointValues and an explicit clock."""

from __future__ import annotations

import cmath
import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.alarms import AlarmEvaluator, AlarmState, DayType, EventKind
from app.alarms.calc import accumulator_delta, deviation_unbalance, negative_sequence_unbalance
from tests.alarm_site import bad, good, write_site

T0 = datetime(2025, 3, 3, 10, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()  # a Monday, 10:00 local


@pytest.fixture
def site(tmp_path):
    return write_site(tmp_path)


@pytest.fixture
def ev(site):
    return AlarmEvaluator(site)


def state(ev: AlarmEvaluator, alarm_id: str) -> AlarmState:
    return ev.record(alarm_id).status.state


def phases(prefix: str, a: float, b: float, c: float, ts: float) -> list:
    return [good(f"{prefix}a", a, ts), good(f"{prefix}b", b, ts), good(f"{prefix}c", c, ts)]


# --------------------------------------------------------------- thresholds
def test_two_level_high_with_on_delay_and_deadband(ev):
    warn, alarm = "QF.Ua:over_voltage:warning", "QF.Ua:over_voltage:alarm"
    ev.feed([good("QF.Ua", 260.0, T0)])
    assert state(ev, warn) is AlarmState.NORMAL, "on-delay of 1 s not yet over"
    ev.tick(T0 + 1.0)
    assert state(ev, warn) is AlarmState.UNACK_ACTIVE
    assert state(ev, alarm) is AlarmState.NORMAL
    ev.feed([good("QF.Ua", 271.0, T0 + 2)])   # device override: alarm at 270 V, not 275
    ev.feed([good("QF.Ua", 271.0, T0 + 3)])
    assert state(ev, alarm) is AlarmState.UNACK_ACTIVE
    ev.feed([good("QF.Ua", 266.0, T0 + 4)])   # below 270 but inside the 5 V deadband
    assert ev.record(alarm).status.active
    ev.feed([good("QF.Ua", 264.0, T0 + 5)])   # below 270 - 5: clears (no off-delay)
    assert state(ev, alarm) is AlarmState.UNACK_RTN
    assert state(ev, warn) is AlarmState.UNACK_ACTIVE
    events, changed, _ = ev.take()
    assert [e.kind for e in events] == [EventKind.RAISED, EventKind.RAISED, EventKind.CLEARED]
    assert events[1].limit == 270.0 and events[1].value == 271.0


def test_on_delay_filters_a_short_excursion(ev):
    ev.feed([good("QF.Ua", 280.0, T0)])
    ev.feed([good("QF.Ua", 230.0, T0 + 0.5)])
    ev.tick(T0 + 5)
    assert state(ev, "QF.Ua:over_voltage:alarm") is AlarmState.NORMAL
    assert ev.take()[0] == []


def test_off_delay_holds_a_digital_alarm(ev):
    door = "IO.door:door_state"
    ev.feed([good("IO.door", 1, T0)])
    assert state(ev, door) is AlarmState.UNACK_ACTIVE
    ev.feed([good("IO.door", 0, T0 + 1)])
    ev.feed([good("IO.door", 1, T0 + 3)])      # back within the 5 s off-delay: no chattering
    ev.feed([good("IO.door", 0, T0 + 4)])
    ev.tick(T0 + 8)
    assert state(ev, door) is AlarmState.UNACK_ACTIVE
    ev.tick(T0 + 9)
    assert state(ev, door) is AlarmState.UNACK_RTN
    kinds = [e.kind for e in ev.take()[0]]
    assert kinds == [EventKind.RAISED, EventKind.CLEARED]


def test_low_and_rating_relative_limits(ev, site):
    ev.feed([good("QF.Ub", 150.0, T0)])
    ev.tick(T0 + 1)
    assert state(ev, "QF.Ub:under_voltage:alarm") is AlarmState.UNACK_ACTIVE
    assert state(ev, "QF.Ub:under_voltage:warning") is AlarmState.UNACK_ACTIVE
    # overload relative to In_A = 40 A: 0.8 In = 32 A warning, 1.2 In = 48 A alarm
    assert ev.record("QF.Ia:overload:warning").limit == pytest.approx(32.0)
    assert ev.record("QF.Ia:overload:alarm").limit == pytest.approx(48.0)
    assert ev.record("QF.P:over_power:alarm").limit == pytest.approx(37.5)      # 1.5 Pn, Pn = 25 kW
    assert ev.record("QF.leakage:leakage:alarm").limit == pytest.approx(30.0)   # rated residual current
    ev.feed([good("QF.Ia", 40.0, T0)])
    ev.tick(T0 + 1)
    assert state(ev, "QF.Ia:overload:warning") is AlarmState.UNACK_ACTIVE
    assert state(ev, "QF.Ia:overload:alarm") is AlarmState.NORMAL


def test_bad_quality_reading_keeps_the_threshold_state(ev):
    ev.feed([good("QF.temperature", 95.0, T0)])
    ev.feed([bad("QF.temperature", T0 + 1, 95.0)])
    assert state(ev, "QF.temperature:over_temperature:alarm") is AlarmState.UNACK_ACTIVE


# ------------------------------------------------------------ digital states
def test_smoke_and_water_immersion(ev):
    ev.feed([good("IO.smoke", 1, T0), good("ENV.water_immersion", 1, T0)])
    assert state(ev, "IO.smoke:smoke_state") is AlarmState.UNACK_ACTIVE
    assert ev.record("IO.smoke:smoke_state").priority == 1
    assert state(ev, "ENV.water_immersion:water_immersion_state") is AlarmState.NORMAL  # 2 s on-delay
    ev.tick(T0 + 2)
    assert state(ev, "ENV.water_immersion:water_immersion_state") is AlarmState.UNACK_ACTIVE


# --------------------------------------------------------- three-phase rules
def test_unbalance_formulas():
    assert deviation_unbalance(30, 20, 10) == pytest.approx(50.0)
    assert deviation_unbalance(0, 0, 0) == 0.0
    assert negative_sequence_unbalance(230, 230, 230) == pytest.approx(0.0, abs=1e-6)
    assert negative_sequence_unbalance(1, 1, 0) == pytest.approx(100.0)
    # A system built from sequence phasors U1 = 1, U2 = 0.05 (no zero sequence): 5 %.
    a = cmath.exp(2j * math.pi / 3)
    u1, u2 = 1.0, 0.05 * cmath.exp(0.7j)
    mags = [abs(u1 + u2), abs(a * a * u1 + a * u2), abs(a * u1 + a * a * u2)]
    assert negative_sequence_unbalance(*mags) == pytest.approx(5.0, rel=1e-9)


def test_current_imbalance_deviation_with_min_mean(ev):
    ev.feed(phases("QF.I", 3.0, 2.0, 1.0, T0))             # mean 2 A < 0.1 In = 4 A: not judged
    ev.tick(T0 + 120)
    assert state(ev, "QF:current_imbalance:alarm") is AlarmState.NORMAL
    ev.feed(phases("QF.I", 30.0, 20.0, 10.0, T0 + 200))    # 50 %
    ev.tick(T0 + 259)
    assert state(ev, "QF:current_imbalance:alarm") is AlarmState.NORMAL   # 60 s on-delay
    ev.tick(T0 + 260)
    assert state(ev, "QF:current_imbalance:alarm") is AlarmState.UNACK_ACTIVE
    assert ev.record("QF:current_imbalance:alarm").value == pytest.approx(50.0)


def test_voltage_imbalance_negative_sequence(ev):
    ev.feed(phases("PM.U", 230.0, 230.0, 218.0, T0))       # 3.5 %: pre-warning (2 %), not alarm (4 %)
    ev.tick(T0 + 10)
    assert state(ev, "PM:voltage_imbalance:warning") is AlarmState.UNACK_ACTIVE
    assert state(ev, "PM:voltage_imbalance:alarm") is AlarmState.NORMAL


def test_phase_loss_and_no_voltage(ev):
    ev.feed(phases("PM.U", 230.0, 230.0, 0.0, T0))
    assert state(ev, "PM:phase_loss") is AlarmState.UNACK_ACTIVE
    assert state(ev, "PM:no_voltage") is AlarmState.NORMAL
    ev.feed(phases("PM.U", 0.0, 0.0, 0.0, T0 + 1))
    assert state(ev, "PM:phase_loss") is AlarmState.UNACK_RTN
    assert state(ev, "PM:no_voltage") is AlarmState.UNACK_ACTIVE


# ------------------------------------------------------- trips and topology
def _closed(ev, ts):
    ev.feed([good("QF.state", 1, ts), good("QF.trip_cause", 0, ts)])


def test_uncommanded_trip_with_cause_groups_downstream_alarms(ev, site):
    _closed(ev, T0)
    ev.feed(phases("PM.U", 230.0, 230.0, 230.0, T0))
    ev.take()
    # The meter is scanned first and sees no voltage; then the breaker reports the trip.
    ev.feed(phases("PM.U", 0.0, 0.0, 0.0, T0 + 2))
    ev.feed([good("QF.state", 0, T0 + 3), good("QF.trip_cause", 1, T0 + 3)])
    trip = ev.record("QF:trip")
    assert trip.status.state is AlarmState.UNACK_ACTIVE
    assert (trip.cause_code, trip.cause_label, trip.note) == (1, "overload", "")   # the cause, not a note
    assert ev.record("PM:no_voltage").cause == "QF:trip"     # raised 1 s before: grouped
    ev.feed([bad(f"PM.{p.name}", T0 + 8) for p in site.device("PM").points])
    comm = ev.record("PM:comm_loss")
    assert comm.status.state is AlarmState.UNACK_ACTIVE and comm.cause == "QF:trip"
    assert ev.record("QF.Ua:over_voltage:alarm").cause == ""   # not supply-dependent
    # Closing the breaker ends the trip condition.
    _closed(ev, T0 + 60)
    assert trip.status.state is AlarmState.UNACK_RTN


def test_trip_cause_read_after_the_state_updates_the_cause(ev):
    _closed(ev, T0)
    ev.feed([good("QF.state", 0, T0 + 1)])
    ev.take()
    ev.feed([good("QF.trip_cause", 3, T0 + 1)])
    assert (ev.record("QF:trip").cause_code, ev.record("QF:trip").cause_label) == (3, "leakage")
    changed = ev.take()[1]
    assert [(a.id, a.cause_code, a.cause_label) for a in changed] == [("QF:trip", 3, "leakage")]
    ev.feed([good("QF.trip_cause", 42, T0 + 2)])       # a code the cause point has no label for
    assert [(a.cause_code, a.cause_label) for a in ev.take()[1]] == [(42, "")]


def test_commanded_opening_is_no_trip_and_suppresses_downstream(ev):
    _closed(ev, T0)
    ev.note_command("QF", T0 + 1)
    ev.feed([good("QF.state", 0, T0 + 2)])
    assert ev.record("QF:trip").status.state is AlarmState.NORMAL
    ev.feed(phases("PM.U", 0.0, 0.0, 0.0, T0 + 3))
    no_voltage = ev.record("PM:no_voltage")
    assert no_voltage.status.state is AlarmState.SUPPRESSED and no_voltage.status.active
    # the breaker's own voltage is measured on its line side: opening it is no reason to hide it
    assert not ev.record("QF:no_voltage").status.suppressed
    # Re-closing: the condition is still present, so the alarm shows (re-evaluated).
    _closed(ev, T0 + 30)
    assert no_voltage.status.state is AlarmState.UNACK_ACTIVE
    ev.feed(phases("PM.U", 230.0, 230.0, 230.0, T0 + 31))
    assert no_voltage.status.state is AlarmState.UNACK_RTN


def test_opening_long_after_a_command_is_a_trip(ev):
    _closed(ev, T0)
    ev.note_command("QF", T0)
    ev.feed([good("QF.state", 0, T0 + 11)])       # command window is 10 s
    assert ev.record("QF:trip").status.state is AlarmState.UNACK_ACTIVE


# ------------------------------------------------------ communication/quality
def test_comm_loss_hides_bad_quality_of_the_same_device(ev, site):
    io_tags = [f"IO.{p.name}" for p in site.device("IO").points]
    ev.feed([good(t, 0, T0) for t in io_tags])
    ev.feed([bad("IO.smoke", T0 + 1)])
    assert state(ev, "IO.smoke:smoke_bad_quality") is AlarmState.UNACK_ACTIVE
    ev.feed([good("IO.smoke", 0, T0 + 2)])
    ev.feed([bad(t, T0 + 3) for t in io_tags])
    assert state(ev, "IO:comm_loss") is AlarmState.UNACK_ACTIVE
    assert not ev.record("IO.smoke:smoke_bad_quality").status.active
    ev.feed([good(t, 0, T0 + 4) for t in io_tags])
    assert state(ev, "IO:comm_loss") is AlarmState.UNACK_RTN


# ------------------------------------------------------ energy rules
def test_consumption_surge_against_baseline(tmp_path):
    site = write_site(tmp_path)
    asked = []

    def baseline(tag, start, interval_s, day):
        asked.append((tag, start.hour, interval_s, day))
        return 10.0

    ev = AlarmEvaluator(site, baseline)
    surge = "PM.Ep_imp:consumption_surge"
    ev.feed([good("PM.Ep_imp", 1000.0, T0 + 60)])
    ev.feed([good("PM.Ep_imp", 1015.0, T0 + 1200)])
    assert state(ev, surge) is AlarmState.NORMAL                 # 15 <= 2 x 10
    ev.feed([good("PM.Ep_imp", 1021.0, T0 + 2400)])
    assert state(ev, surge) is AlarmState.UNACK_ACTIVE          # 21 > 20
    assert ev.record(surge).value == pytest.approx(21.0) and ev.record(surge).limit == 20.0
    ev.tick(T0 + 3600)                                          # next hour starts at 0 consumption
    assert state(ev, surge) is AlarmState.UNACK_RTN
    assert asked == [("PM.Ep_imp", 10, 3600, DayType.WORKDAY), ("PM.Ep_imp", 11, 3600, DayType.WORKDAY)]


def test_no_baseline_no_surge_alarm(ev):
    ev.feed([good("PM.Ep_imp", 0.0, T0), good("PM.Ep_imp", 1e6, T0 + 10)])
    assert state(ev, "PM.Ep_imp:consumption_surge") is AlarmState.NORMAL


def test_daily_energy_per_point_across_rollover_and_midnight(ev):
    ev.feed([good("IO.Ep", 950.0, T0)])
    ev.feed([good("IO.Ep", 30.0, T0 + 600)])          # wrapped at 1000: 80 kWh
    assert state(ev, "IO.Ep:Ep_daily_energy:warning") is AlarmState.NORMAL   # 80 is not above 80
    ev.feed([good("IO.Ep", 51.0, T0 + 1200)])         # 101 kWh
    assert state(ev, "IO.Ep:Ep_daily_energy:alarm") is AlarmState.UNACK_ACTIVE
    midnight = datetime(2025, 3, 4, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    ev.tick(midnight)
    assert state(ev, "IO.Ep:Ep_daily_energy:alarm") is AlarmState.UNACK_RTN
    assert accumulator_delta(10.0, 5.0, None) == 0.0      # meter replaced: no negative use


def test_daily_energy_of_an_area_sums_its_tags(ev):
    ev.feed([good("IO.Ep", 0.0, T0), good("PM.Ep_imp", 5000.0, T0)])
    ev.feed([good("IO.Ep", 90.0, T0 + 60), good("PM.Ep_imp", 5100.0, T0 + 60)])
    assert state(ev, "R2:r2_energy:warning") is AlarmState.UNACK_ACTIVE
    assert state(ev, "R2:r2_energy:alarm") is AlarmState.NORMAL
    ev.feed([good("PM.Ep_imp", 5111.0, T0 + 120)])
    assert state(ev, "R2:r2_energy:alarm") is AlarmState.UNACK_ACTIVE
    assert ev.record("R2:r2_energy:alarm").area == "R2"


# ------------------------------------------------- operator actions, floods
def test_ack_shelve_expiry_and_out_of_service(ev):
    smoke = "IO.smoke:smoke_state"
    ev.feed([good("IO.smoke", 1, T0)])
    assert not ev.ack("IO.door:door_state", "op", "ws1", T0)      # nothing to acknowledge
    ev.shelve(smoke, "op", "ws1", T0 + 1, 60.0, "detector under test")
    assert state(ev, smoke) is AlarmState.SHELVED
    assert ev.shown()[0].shelved_until == T0 + 61
    ev.tick(T0 + 60)
    assert state(ev, smoke) is AlarmState.SHELVED
    ev.tick(T0 + 61)
    assert state(ev, smoke) is AlarmState.UNACK_ACTIVE          # still smoke: annunciated again
    assert ev.ack(smoke, "op", "ws1", T0 + 62)
    assert ev.record(smoke).acked_by == "op"
    assert ev.remove(smoke, "tech", "ws2", T0 + 63, "detector replaced")
    ev.feed([good("IO.smoke", 0, T0 + 64)])
    assert state(ev, smoke) is AlarmState.OUT_OF_SERVICE
    assert ev.restore(smoke, "tech", "ws2", T0 + 65)
    assert state(ev, smoke) is AlarmState.NORMAL
    events = ev.take()[0]
    kinds = [e.kind for e in events]
    assert kinds == [EventKind.RAISED, EventKind.SHELVED, EventKind.SHELF_EXPIRED, EventKind.ACKED,
                     EventKind.REMOVED, EventKind.CLEARED, EventKind.RESTORED]
    shelved = events[1]
    assert (shelved.user, shelved.workstation, shelved.reason) == ("op", "ws1", "detector under test")


def test_flood_flag_over_ten_alarms_in_ten_minutes(tmp_path):
    points = "\n".join(
        f"      - {{name: c{i}, kind: teleindication, table: discrete_input, address: {i}, type: bit,"
        f" alarms: [{{type: state, states: [1]}}]}}" for i in range(12))
    site = write_site(tmp_path, f"""\
site: {{name: Flood, timezone: UTC}}
areas: [{{id: Z, kind: zone}}]
devices:
  - id: D
    area: Z
    protocol: modbus_tcp
    host: 127.0.0.1
    points:
{points}
""")
    ev = AlarmEvaluator(site)
    for i in range(10):
        ev.feed([good(f"D.c{i}", 1, T0 + 30 * i)])
    assert ev.floods == set()
    ev.feed([good("D.c10", 1, T0 + 400)])
    assert ev.floods == {"Z"}
    events, _, floods_changed = ev.take()
    assert floods_changed and events[-1].kind is EventKind.FLOOD_BEGAN
    ev.tick(T0 + 601)                    # the first raise leaves the 10-minute window
    assert ev.floods == set()
    assert ev.take()[0][-1].kind is EventKind.FLOOD_ENDED


def test_design_suppression_by_reason(ev):
    ev.feed([good("IO.smoke", 1, T0)])
    ev.suppress("IO.smoke:smoke_state", "fire drill", T0 + 1)
    ev.suppress("IO.smoke:smoke_state", "maintenance", T0 + 1)
    ev.unsuppress("IO.smoke:smoke_state", "fire drill", T0 + 2)
    assert state(ev, "IO.smoke:smoke_state") is AlarmState.SUPPRESSED
    ev.unsuppress("IO.smoke:smoke_state", "maintenance", T0 + 3)
    assert state(ev, "IO.smoke:smoke_state") is AlarmState.UNACK_ACTIVE
