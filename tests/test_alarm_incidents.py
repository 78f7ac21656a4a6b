"""End to end over real Modbus: the demo plant's incidents, read by the acquisition engine into
the point cache, raise the matching alarms in the alarm engine (rule, level, priority, trip
cause, and the grouping of a trip's downstream alarms under it).

One plant, one acquisition engine and one alarm engine serve the whole module; each test
works on its own feeder so the incidents do not meet. Scans every 0.2 s, physics every 0.1 s.
The plant's overload protection is slowed to 3 s (simulation file) so that the 1.2 In
overload alarm, with its 1 s on-delay, is seen before the breaker trips; the current-imbalance
rule's on-delay is cut from 60 s to 1 s.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from app.acquisition import AcquisitionEngine
from app.alarms import Alarm, AlarmEngine, AlarmState
from app.alarms.baseline import historian_baseline
from app.cache import PointCache
from app.config import SiteConfig
from app.points import PointValue, Quality
from db.historian import Historian, PointMeta
from db.migrate import upgrade
from drivers.sim.plant import DEMO_SIM, DemoPlant
from tests.test_sim_plant import N_PORTS, free_port_block

DEVICES = ("QF1_05", "PM1_05", "DM_UPS", "QF1_07", "QF1_08", "QF1_09", "QF1_10", "QF1_11", "QF2_06", "ENV_LV1",
           "QF1_02", "QF1_04", "QF2_12")
#: The current-imbalance rule's 60 s on-delay is cut to this (the rule's delay has its own tests).
IMBALANCE_ON_DELAY_S = 1.0


@dataclass
class Rig:
    plant: DemoPlant
    engine: AlarmEngine
    cache: PointCache
    site: SiteConfig


@pytest.fixture(scope="module")
def rig(tmp_path_factory) -> Iterator[Rig]:
    sim = tmp_path_factory.mktemp("sim") / "demo.sim.yaml"
    text = DEMO_SIM.read_text(encoding="utf-8")
    assert "overload_trip_s: 1.0" in text
    sim.write_text(text.replace("overload_trip_s: 1.0", "overload_trip_s: 3.0"), encoding="utf-8")
    plant = DemoPlant(sim_path=sim, base_port=free_port_block(N_PORTS), refresh_s=0.1)
    fast = tuple(d.model_copy(update={"scan_interval_s": 0.2, "timeout_s": 0.5, "alarms": tuple(
        r.model_copy(update={"on_delay_s": IMBALANCE_ON_DELAY_S}) if r.id == "current_imbalance" else r
        for r in d.alarms)}) for d in plant.site.devices)
    site = type(plant.site)(**{**dict(plant.site), "devices": fast})
    cache = PointCache({d.tag(p.name): p.deadband for d, p in site.iter_points()})
    alarms = AlarmEngine(site, tick_s=0.05)
    acquisition = AcquisitionEngine([d for d in site.devices if d.id in DEVICES], cache)
    plant.start()
    try:
        alarms.start(cache)
        acquisition.start()
        try:
            tags = [d.tag("state") for d in site.devices if d.id in DEVICES and d.template == "iot_breaker"]
            assert wait_for(lambda: all(cache.get(t) is not None for t in tags), 10), "first scan missing"
            assert alarms.flush()
            yield Rig(plant, alarms, cache, site)
        finally:
            acquisition.stop()
            alarms.stop()
    finally:
        plant.stop()


def wait_for(predicate, timeout_s: float = 8.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def raised(rig: Rig, alarm_id: str, timeout_s: float = 8.0, engine: AlarmEngine | None = None) -> Alarm:
    """The first snapshot of the alarm that shows it active (in ``engine``, default the rig's),
    else fail with the alarms that are."""
    engine = engine or rig.engine
    seen: list[Alarm] = []

    def active() -> bool:
        seen[:] = [engine.alarm(alarm_id)]
        return seen[0].active

    ok = wait_for(active, timeout_s)
    assert ok, f"{alarm_id} not raised; active: {[a.id for a in engine.alarms() if a.active]}"
    return seen[0]


def reclose(rig: Rig, kind: str, device: str) -> None:
    if kind != "trip":
        rig.plant.clear(kind, device)
    rig.plant.operate_locally(device, True)


@pytest.mark.parametrize("kind, device, params, alarm_id, priority, message, cause", [
    ("overload", "QF1_07", {"factor": 1.25}, "QF1_07.Ia:overload:alarm", 2, "电子过载 报警", "overload"),
    ("over_temperature", "QF1_08", {"temperature_c": 96}, "QF1_08.temperature:over_temperature:alarm", 2,
     "过温 报警", "over-temperature"),
    ("leakage", "QF1_09", {"leakage_ma": 45}, "QF1_09.leakage:leakage:alarm", 1, "漏电 报警", "leakage"),
    ("phase_loss", "QF1_10", {"phase": "b"}, "QF1_10:phase_loss", 1, "缺相", "phase loss"),
    ("over_voltage", "QF1_11", {"voltage_v": 282}, "QF1_11.Ua:over_voltage:alarm", 2, "过压 报警", "over-voltage"),
    ("under_voltage", "QF2_06", {"voltage_v": 150}, "QF2_06.Ua:under_voltage:alarm", 2, "欠压 报警",
     "under-voltage"),
])
def test_protection_incident_raises_its_alarm_and_a_trip_with_cause(rig, kind, device, params, alarm_id,
                                                                   priority, message, cause):
    rig.plant.trigger(kind, device, **params)
    try:
        alarm = raised(rig, alarm_id)
        assert alarm.priority == priority and alarm.message.endswith(message)
        assert alarm.state is AlarmState.UNACK_ACTIVE and alarm.area in ("LV1_ROOM", "LV2_ROOM")
        if kind == "phase_loss":
            assert alarm.value == 1.0 and alarm.limit == 60.0     # one phase below the 60 V limit
        elif alarm.limit is not None:
            assert (alarm.value < alarm.limit) if kind == "under_voltage" else (alarm.value > alarm.limit)
        trip = raised(rig, f"{device}:trip")
        assert trip.priority == 1 and trip.type == "trip"
        assert wait_for(lambda: rig.engine.alarm(f"{device}:trip").cause_label == cause), rig.engine.alarm(f"{device}:trip")
        assert not rig.engine.alarm(alarm_id).cause     # the protection alarm is a cause, not a consequence
    finally:
        reclose(rig, kind, device)


def test_overload_prewarning_without_trip(rig):
    rig.plant.trigger("overload", "QF1_07", factor=1.0)        # above 0.8 In, below the 1.2 In trip
    try:
        warning = raised(rig, "QF1_07.Ia:overload:warning")
        assert warning.level == "warning" and warning.priority == 3 and warning.message.endswith("电子过载 预警")
        assert not rig.engine.alarm("QF1_07.Ia:overload:alarm").active
        assert not rig.engine.alarm("QF1_07:trip").active
    finally:
        rig.plant.clear("overload", "QF1_07")


def test_trip_groups_downstream_alarms_under_it(rig):
    rig.plant.trigger("trip", "QF1_05", cause=2)
    try:
        trip = raised(rig, "QF1_05:trip")
        assert trip.cause_label == "short circuit" and trip.cause_code == 2 and trip.priority == 1
        meter = raised(rig, "PM1_05:no_voltage")
        assert meter.cause == "QF1_05:trip"
        grouped = [a for a in rig.engine.alarms() if a.cause == "QF1_05:trip"]
        assert {a.device for a in grouped} == {"PM1_05"}     # the UPS meter keeps talking and has no voltage rule
        assert not any(a.device == "QF1_05" and a.cause for a in rig.engine.alarms())
    finally:
        rig.plant.operate_locally("QF1_05", True)
    assert wait_for(lambda: not rig.engine.alarm("PM1_05:no_voltage").active)
    assert rig.engine.alarm("QF1_05:trip").state is AlarmState.UNACK_RTN


def test_offline_device_raises_one_comm_loss_alarm(rig):
    rig.plant.trigger("offline", "ENV_LV1")
    try:
        alarm = raised(rig, "ENV_LV1:comm_loss")
        assert alarm.priority == 2 and alarm.message.endswith("通讯中断")
        assert not any(a.device == "ENV_LV1" and a.type == "bad_quality" and a.active for a in rig.engine.alarms())
    finally:
        rig.plant.clear("offline", "ENV_LV1")
    assert wait_for(lambda: not rig.engine.alarm("ENV_LV1:comm_loss").active, 15)


def test_water_immersion_raises_its_state_alarm(rig):
    rig.plant.trigger("flood", "ENV_LV1")
    try:
        alarm = raised(rig, "ENV_LV1.water_immersion:water_immersion_state")
        assert alarm.priority == 1
    finally:
        rig.plant.clear("flood", "ENV_LV1")


def test_current_imbalance_raises_the_imbalance_alarm(rig):
    rig.plant.trigger("imbalance", "QF1_02", deviation_pct=40)     # phases 1.4 / 0.8 / 0.8 of the mean
    try:
        alarm = raised(rig, "QF1_02:current_imbalance:alarm")
        assert alarm.priority == 3 and alarm.message.endswith("三相电流不平衡 报警")
        assert 36.0 < alarm.value < 44.0 and alarm.limit == 30.0
        assert rig.engine.alarm("QF1_02:current_imbalance:warning").active   # the pre-warning came first
    finally:
        rig.plant.clear("imbalance", "QF1_02")
    assert wait_for(lambda: not rig.engine.alarm("QF1_02:current_imbalance:alarm").active)


def test_failed_sensor_raises_bad_quality_while_the_breaker_communicates(rig):
    rig.plant.trigger("sensor_fault", "QF1_04")
    try:
        alarm = raised(rig, "QF1_04.temperature:sensor_fault")
        assert alarm.priority == 3 and alarm.message.endswith("传感器故障")
        assert not rig.engine.alarm("QF1_04:comm_loss").active
        assert not rig.engine.alarm("QF1_04.leakage:sensor_fault").active
        assert not rig.engine.alarm("QF1_04.temperature:over_temperature:warning").active   # NaN judges nothing
    finally:
        rig.plant.clear("sensor_fault", "QF1_04")
    assert wait_for(lambda: not rig.engine.alarm("QF1_04.temperature:sensor_fault").active)


def seed_consumption(historian: Historian, tag: str, kwh_per_hour: float, days: int) -> None:
    """Readings of ``tag`` every quarter hour for ``days`` days up to now, ``kwh_per_hour`` apart
    per hour, folded into the historian's rollups."""
    end = time.time()
    t, value, readings = end - days * 86400 - 3600, 0.0, []
    while t < end:
        value += kwh_per_hour / 4
        readings.append(PointValue(tag, value, Quality.GOOD, t))
        t += 900
    historian.submit(readings)
    # hours with a reading, starting inside the range read: days * 24, or one fewer when the test
    # runs in the first quarter of an hour (the last reading is then in the hour before)
    start = end - days * 86400
    hours = len({pv.ts - pv.ts % 3600 for pv in readings if start <= pv.ts - pv.ts % 3600 < end})
    assert hours >= days * 24 - 1
    # the writer folds 600 buckets a step, the demo plant's ~800 points in turn, so a week of backfill
    # takes several steps of 5 s beside the plant's own filling buckets
    assert wait_for(lambda: len(historian.read_rollup(tag, "1h", start, end)) >= hours, 90)


def test_consumption_surge_against_the_historian_baseline_and_the_daily_energy_limit(rig, tmp_path):
    """The fire pumps (QF2_12, about 4 kW on standby) start: their consumption this hour passes
    twice the historian's baseline of this hour (consumption surge), and the pump room's daily
    energy passes its limits. Baseline and limits are scaled to the test's minutes: the baseline
    is 60 s of the standby draw an hour (so the surge limit is 120 s of it), the daily limits
    90 s and 150 s of it; the surge (10 x) passes them all within 15 s."""
    tag = "QF2_12.Ep"
    standby_kw = rig.cache.get("QF2_12.P").value
    assert 3.0 < standby_kw < 5.0
    url = f"sqlite:///{tmp_path}/hist.sqlite3"
    upgrade(url)
    historian = Historian(url, spool_dir=tmp_path / "spool", flush_interval_s=0.05, fold_interval_s=0.1)
    historian.register_points([PointMeta(tag, "QF2_12", "Ep", unit="kWh", kind="accumulator")])
    historian.start()
    daily = next(r for r in rig.site.alarms if r.id == "fire_pumps_daily")
    site = type(rig.site)(**{**dict(rig.site), "alarms": (daily.model_copy(update={
        "warning": standby_kw * 90 / 3600, "alarm": standby_kw * 150 / 3600}),)})
    engine = None
    try:
        seed_consumption(historian, tag, standby_kw * 60 / 3600, days=8)
        engine = AlarmEngine(site, baseline=historian_baseline(historian), tick_s=0.05)
        engine.start(rig.cache)
        seen = rig.cache.get(tag).ts
        assert wait_for(lambda: rig.cache.get(tag).ts > seen + 1.5)          # two more scans at standby
        assert engine.flush()
        surge = engine.alarm(f"{tag}:consumption_surge")
        assert surge.limit == pytest.approx(2 * standby_kw * 60 / 3600)     # 2 x the baseline
        assert not surge.active and not engine.alarm("PUMP:fire_pumps_daily:warning").active
        rig.plant.trigger("surge", "QF2_12", factor=10)
        try:
            alarm = raised(rig, f"{tag}:consumption_surge", 20, engine)
            assert alarm.priority == 4 and alarm.message.endswith("能耗突增") and alarm.value > alarm.limit
            daily_alarm = raised(rig, "PUMP:fire_pumps_daily:alarm", 20, engine)
            assert daily_alarm.priority == 3 and daily_alarm.message == "水泵房 消防水泵单日用电超限 报警"
            assert engine.alarm("PUMP:fire_pumps_daily:warning").active
        finally:
            rig.plant.clear("surge", "QF2_12")
    finally:
        if engine is not None:
            engine.stop()
        historian.stop()
