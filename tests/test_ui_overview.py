"""The Overview view: total load from the transformer meters, today's energy by sub-item and
area from a real SQLite historian's rollups (read off the GUI thread), and a down database."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import math
import time

import pytest

from app.points import PointValue, Quality
from app.site_kpis import energy_meters, load_meter_tags, local_day_start
from app.ui.overview_view import OverviewView
from tests.ui_services import DEMO, QT_WARNINGS_FAIL, make_services, put

pytestmark = QT_WARNINGS_FAIL


def test_kpi_points_come_from_the_topology_without_double_counting():
    assert load_meter_tags(DEMO) == ["T1_M.P", "T2_M.P"]
    meters = {m.feeder: m for m in energy_meters(DEMO)}
    assert len(meters) == sum(1 for n in DEMO.topology if n.kind.value == "feeder")
    assert meters["F1_02"].tag == "PM1_02.Ep_imp"       # the feeder's meter, not its breaker too
    assert meters["F1_01"].tag == "QF1_01.Ep"           # no meter: the breaker's own kWh
    assert meters["F1_05"].tag == "PM1_05.Ep_imp"       # the UPS sub-meter below is not added
    assert all(m.tag != "DM_UPS.Ep_imp" for m in meters.values())
    assert meters["F1_06"].category == "hvac" and meters["F2_01"].area == "LV2_ROOM"


def test_total_load_is_the_sum_of_transformer_meters_and_greys_on_bad_quality(qtbot, tmp_path):
    services, cache, statuses = make_services(tmp_path)
    view = OverviewView(services)
    qtbot.addWidget(view)
    put(cache, ("T1_M.P", 150.0, Quality.GOOD), ("T2_M.P", 290.5, Quality.GOOD),
        ("T1_M.S", 189.0, Quality.GOOD), ("T2_M.S", 315.0, Quality.GOOD))
    qtbot.waitUntil(lambda: view.load_tile.value.text() == "440.5 kW", timeout=2000)
    assert view.load_tile.value.property("quality") == "good"
    assert view.transformer_tiles["TR2"].value.text() == "290.5 kW"
    assert view.transformer_tiles["TR1"].note.text() == "Loading 30 % of 630 kVA"
    put(cache, ("T2_M.P", 290.5, Quality.BAD, "timeout after 1.0 s"))
    qtbot.waitUntil(lambda: view.load_tile.value.text().startswith("?"), timeout=2000)
    assert view.load_tile.value.property("quality") == "bad"
    assert "timeout after 1.0 s" in view.load_tile.toolTip()
    put(cache, ("T2_M.P", 290.5, Quality.GOOD))
    qtbot.waitUntil(lambda: view.load_tile.value.text() == "440.5 kW", timeout=2000)
    statuses.set_online(["T1_M"], False)
    view._refresh_live()
    assert view.load_tile.value.text() == "? 440.5 kW"
    assert "T1_M.P: device offline" in view.load_tile.toolTip()
    view.wait_idle()
    services.bridge.stop()


def test_energy_today_by_sub_item_and_area_from_the_rollups(qtbot, tmp_path):
    services, _cache, _st = make_services(tmp_path)
    historian = services.historian
    now = time.time()
    bucket = max(math.floor(now / 900) * 900, local_day_start(now, DEMO.tzinfo))
    samples = []
    for tag, first, last in (("PM1_02.Ep_imp", 1000.0, 1010.0),   # power, LV1_ROOM
                             ("QF1_01.Ep", 500.0, 502.5),          # lighting, LV1_ROOM
                             ("PM2_03.Ep_imp", 80.0, 84.0),        # hvac, LV2_ROOM
                             ("DM_UPS.Ep_imp", 10.0, 40.0)):       # sub-meter: never added
        samples += [PointValue(tag, first, Quality.GOOD, bucket + 1.0),
                    PointValue(tag, last, Quality.GOOD, bucket + 2.0)]
    from app.collector import point_metadata

    historian.register_points(point_metadata(DEMO))
    historian.start()
    historian.submit(samples)
    deadline = time.monotonic() + 10
    while historian.stats().committed < len(samples) and time.monotonic() < deadline:
        time.sleep(0.05)
    committed = historian.stats().committed
    historian.stop()
    assert committed >= len(samples), historian.stats().last_error
    view = OverviewView(services)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.energy_totals() is not None, timeout=5000)
    totals = view.energy_totals()
    assert totals.by_category == pytest.approx({"power": 10.0, "lighting_sockets": 2.5, "hvac": 4.0})
    assert totals.by_area == pytest.approx({"LV1_ROOM": 12.5, "LV2_ROOM": 4.0})
    assert totals.total == pytest.approx(16.5)
    # 20 feeders have no data today: the total is incomplete, so it is marked, with who is missing
    assert view.energy_tile.value.text() == "? 16.5 kWh"
    assert "QF1_03.Ep" in view.energy_tile.toolTip()
    assert view.by_category.texts() == {"power": "10.0 kWh", "lighting_sockets": "2.5 kWh", "hvac": "4.0 kWh"}
    assert "QF1_03.Ep" in totals.no_data
    view.wait_idle()
    services.bridge.stop()


def test_an_unreachable_database_is_said_not_hidden(qtbot, tmp_path):
    services, _cache, _st = make_services(tmp_path, db_url=f"sqlite:///{tmp_path}/missing/dir/x.sqlite")
    view = OverviewView(services)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.energy_note.property("state") == "offline", timeout=5000)
    assert view.energy_note.text().startswith("Database unreachable")
    assert "HistorianError" in view.energy_note.toolTip()
    assert view.energy_tile.value.text() == "? —"
    assert view.energy_totals() is None
    view.wait_idle()
    services.bridge.stop()


def test_active_alarm_counts_appear_once_alarms_are_handed_in(qtbot, tmp_path):
    services, _cache, _st = make_services(tmp_path)
    view = OverviewView(services)
    qtbot.addWidget(view)
    view.show()
    assert view.alarm_tile.isHidden()
    view.show_alarms({1: 2, 3: 1, 4: 0})
    assert view.alarm_tile.isVisible()
    assert view.alarm_tile.value.text() == "3"
    assert view.alarm_tile.note.text() == "priority 1: 2  priority 3: 1"
    view.wait_idle()
    services.bridge.stop()


def test_the_alarms_tile_follows_the_real_alarm_engine(qtbot, tmp_path):
    from app.alarms.engine import AlarmEngine
    from app.ui.alarm_bridge import AlarmBridge

    services, cache, _st = make_services(tmp_path)
    put(cache, *[(d.tag("state"), 0.0 if d.id == "QF_TIE" else 1.0, Quality.GOOD) for d in DEMO.devices
                 if any(p.name == "state" for p in d.points)],
        *[(d.tag("trip_cause"), 0.0, Quality.GOOD) for d in DEMO.devices
          if any(p.name == "trip_cause" for p in d.points)])
    engine = AlarmEngine(DEMO)
    engine.start(cache)
    alarms = AlarmBridge(engine, "op1", interval_ms=20)
    alarms.start()
    try:
        view = OverviewView(services)
        qtbot.addWidget(view)
        view.follow_alarms(alarms)
        assert view.alarm_tile.value.text() == "0"
        put(cache, ("QF1_05.trip_cause", 2.0, Quality.GOOD), ("QF1_05.state", 0.0, Quality.GOOD))
        qtbot.waitUntil(lambda: view.alarm_tile.value.text() == "1", timeout=3000)
        assert view.alarm_tile.note.text() == "priority 1: 1"
        trip = next(a for a in engine.alarms() if a.device == "QF1_05")
        engine.ack(trip.id, "op1")
        put(cache, ("QF1_05.trip_cause", 0.0, Quality.GOOD), ("QF1_05.state", 1.0, Quality.GOOD))
        qtbot.waitUntil(lambda: view.alarm_tile.value.text() == "0", timeout=3000)   # acknowledged and cleared
        view.wait_idle()
    finally:
        alarms.stop()
        engine.stop()
        services.bridge.stop()
