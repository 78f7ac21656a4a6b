"""Single-line diagram view (pytest-qt, offscreen): sheets and topology drawn right,
coordinates honoured, bad quality shown, clicks, colours, flashing, and de-energising
when a real breaker of the demo plant opens."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.acquisition import AcquisitionEngine, DeviceStatus
from app.cache import PointCache
from app.config import SiteConfig, load_site
from app.points import PointValue, Quality
from app.ui.bridge import PointBridge
from app.ui.diagram_view import DiagramView, format_value
from app.ui.services import UiServices, UiSettings
from db.historian import Historian
from drivers.sim.plant import DemoPlant
from resources import DEMO_SITE
from tests.test_sim_plant import N_PORTS, free_port_block
from widgets.sld import (BreakerItem, BreakerState, BusbarItem, IncomingLineItem, LoadItem, MeterItem,
                         TransformerItem, ValueState)
from tests.ui_services import QT_WARNINGS_FAIL

pytestmark = QT_WARNINGS_FAIL

SITE = load_site(DEMO_SITE)
NOW = time.time()


def pv(tag: str, value: float | None, quality: Quality = Quality.GOOD, reason: str = "") -> PointValue:
    return PointValue(tag, value, quality, NOW, reason)


def normal_values(site: SiteConfig) -> list[PointValue]:
    """Every breaker closed (the tie open) in auto mode, a few measurements."""
    out = []
    for device in site.devices:
        names = {p.name for p in device.points}
        if "state" in names:
            out += [pv(device.tag("state"), 0.0 if device.id == "QF_TIE" else 1.0),
                    pv(device.tag("mode"), 0.0), pv(device.tag("trip_cause"), 0.0)]
        for name, value in (("P", 12.34), ("Ia", 20.0), ("Ua", 230.0), ("Ep_imp", 1234.5), ("Ep", 99.0)):
            if name in names:
                out.append(pv(device.tag(name), value))
    return out


def make_view(qtbot, tmp_path: Path, site: SiteConfig = SITE, cache: PointCache | None = None,
              status=lambda: {}, settings: UiSettings | None = None) -> tuple[DiagramView, PointCache]:
    cache = cache if cache is not None else PointCache()
    bridge = PointBridge(cache, interval_ms=20)
    bridge.start()
    services = UiServices(site=site, bridge=bridge, historian=Historian(f"sqlite:///{tmp_path / 'h.db'}"),
                          device_status=status, settings=settings or UiSettings())
    view = DiagramView(services)
    qtbot.addWidget(view)
    view.resize(1400, 800)
    view.show()
    view.destroyed.connect(bridge.stop)
    return view, cache


def test_demo_sheets_overview_at_file_coordinates_panels_laid_out(qtbot, tmp_path):
    cache = PointCache()
    cache.update(normal_values(SITE))
    view, _ = make_view(qtbot, tmp_path, cache=cache)
    assert [s.id for s in view.sheets] == ["overview", "panel:BUS1", "panel:BUS2"]

    ov = view.sheet_scene("overview")
    kinds = {n: type(i) for n, i in ov.symbols.items()}
    assert kinds == {"IL": IncomingLineItem, "TR1": TransformerItem, "TR2": TransformerItem,
                     "BUS1": BusbarItem, "BUS2": BusbarItem, "TIE": BreakerItem}
    assert ov.layout.from_file
    for n, item in ov.symbols.items():                        # coordinates honoured
        assert (item.pos().x(), item.pos().y()) == (SITE.node(n).x, SITE.node(n).y)
    assert {(w.upstream, w.downstream) for w in ov.wires if w.upstream and w.downstream} == \
        {("IL", "TR1"), ("IL", "TR2"), ("TR1", "BUS1"), ("TR2", "BUS2"), ("BUS1", "TIE"), ("BUS2", "TIE")}
    assert sorted((c.target, c.text) for c in ov.connectors) == \
        [("panel:BUS1", "I段母线 (11)"), ("panel:BUS2", "II段母线 (12)")]

    p1 = view.sheet_scene("panel:BUS1")
    assert not p1.layout.from_file                            # LV nodes carry no x/y in demo.yaml
    count = lambda cls: sum(isinstance(i, cls) for i in p1.symbols.values())  # noqa: E731
    assert (count(BreakerItem), count(MeterItem), count(LoadItem), count(TransformerItem), count(BusbarItem)) == \
        (12, 6, 11, 1, 1)                                     # 11 feeders + tie; 5 meters + UPS sub-meter
    edges = {(w.upstream, w.downstream) for w in p1.wires if w.upstream and w.downstream}
    expected = {(u, n.id) for n in SITE.topology for u in n.upstream if n.id in p1.symbols and u in p1.symbols}
    assert edges == expected and ("M1_05", "M_UPS") in edges and ("BUS1", "F1_11") in edges
    # layered: everything below what feeds it, no two symbols on one spot, loads on one row
    for up, down in edges - {("BUS1", "TIE")}:
        assert p1.symbols[down].pos().y() > p1.symbols[up].pos().y()
    spots = [(i.pos().x(), i.pos().y()) for i in p1.symbols.values()]
    assert len(set(spots)) == len(spots)
    assert len({i.pos().y() for n, i in p1.symbols.items() if isinstance(i, LoadItem)}) == 1
    x0, x1 = p1.symbols["BUS1"].span
    bus_x = p1.symbols["BUS1"].pos().x()
    assert all(bus_x + x0 < p1.symbols[f"F1_{k:02d}"].pos().x() < bus_x + x1 for k in range(1, 12))
    assert {(c.target, c.direction) for c in p1.connectors} == {("overview", "up"), ("panel:BUS2", "right")}


def test_named_diagrams_and_coordinates(qtbot, tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text("""
site: {name: t, timezone: Asia/Shanghai}
devices: []
topology:
  - {id: IL, kind: incoming_line, diagram: 高压, x: 10, y: 0}
  - {id: B, kind: busbar, upstream: [IL], diagram: 高压, x: 10, y: 100}
  - {id: F, kind: feeder, upstream: [B], diagram: 低压}
  - {id: L, kind: load, upstream: [F], diagram: 低压}
""", encoding="utf-8")
    site = load_site(path)
    view, _ = make_view(qtbot, tmp_path, site=site)
    assert [s.id for s in view.sheets] == ["diagram:高压", "diagram:低压"]
    hv = view.sheet_scene("diagram:高压")
    assert hv.layout.from_file and hv.symbols["B"].pos().y() == 100.0
    assert [(c.node, c.target, c.others) for c in hv.sheet.connectors] == [("B", "diagram:低压", ("F",))]
    assert [c.target for c in hv.connectors] == ["diagram:低压"]
    lv = view.sheet_scene("diagram:低压")
    assert not lv.layout.from_file and lv.symbols["L"].pos().y() > lv.symbols["F"].pos().y()
    # a feeder with no device keeps its normal (closed) position: the load is live
    assert lv.breakers["F"].state is BreakerState.CLOSED and lv.symbols["L"].energised == "live"


def test_bad_quality_and_offline_devices_are_shown_as_such(qtbot, tmp_path):
    cache = PointCache()
    cache.update(normal_values(SITE))
    offline = {"PM1_04": DeviceStatus("PM1_04", 5.0, online=False)}
    status = {"now": {}}
    view, cache = make_view(qtbot, tmp_path, cache=cache, status=lambda: status["now"])
    p1 = view.sheet_scene("panel:BUS1")
    (_, good), = [(lb, i) for lb, i in p1.values["PM1_02.P"]]
    assert good.state is ValueState.GOOD and good.text == "P 12.3 kW"

    cache.update([pv("PM1_02.P", 12.34, Quality.BAD, "timeout after 1.0 s")])
    qtbot.waitUntil(lambda: good.state is ValueState.BAD, timeout=2000)
    assert good.text.startswith("?P 12.3")                      # the stale number is marked
    tip = view._tooltip(good)
    assert "timeout after 1.0 s" in tip and "<s>" in tip

    # a breaker position of bad quality: '?' breaker, downstream energisation unknown
    cache.update([pv("QF1_02.state", 1.0, Quality.BAD, "connection refused")])
    qtbot.waitUntil(lambda: p1.breakers["F1_02"].state is BreakerState.UNKNOWN, timeout=2000)
    assert p1.symbols["L1_02"].energised == "unknown" and p1.symbols["F1_02"].energised == "live"

    status["now"] = offline                                     # device status: PM1_04 offline
    (_, label), = p1.values["PM1_04.Ua"]
    qtbot.waitUntil(lambda: label.state is ValueState.OFFLINE, timeout=3000)
    assert "device offline" in view._tooltip(label)


def test_breaker_click_emits_device_and_connector_navigates(qtbot, tmp_path):
    cache = PointCache()
    cache.update(normal_values(SITE))
    view, _ = make_view(qtbot, tmp_path, cache=cache)
    view.show_sheet("panel:BUS1")
    breaker = view.sheet_scene("panel:BUS1").breakers["F1_06"]
    canvas = view.canvas
    with qtbot.waitSignal(view.breaker_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=canvas.mapFromScene(breaker.scenePos()))
    assert blocker.args == ["QF1_06"]
    tie_link = next(c for c in view.sheet_scene("panel:BUS1").connectors if c.target == "panel:BUS2")
    with qtbot.waitSignal(view.sheet_changed, timeout=1000) as blocker:
        qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton,
                         pos=canvas.mapFromScene(tie_link.sceneBoundingRect().center()))
    assert blocker.args == ["panel:BUS2"] and view.current_sheet() == "panel:BUS2"
    zoom = canvas.zoom()
    canvas.zoom_by(2.0)
    assert canvas.zoom() == pytest.approx(zoom * 2.0)


@pytest.mark.parametrize("convention", ["cn", "iec"])
def test_breaker_colours_follow_the_setting(qtbot, tmp_path, convention):
    cache = PointCache()
    cache.update(normal_values(SITE))
    view, _ = make_view(qtbot, tmp_path, cache=cache, settings=UiSettings(breaker_colours=convention))
    ov = view.sheet_scene("panel:BUS1")
    closed = ov.breakers["F1_01"]
    tie = ov.breakers["TIE"]
    assert closed.state is BreakerState.CLOSED and tie.state is BreakerState.OPEN
    fill = closed.fill_colour()
    if convention == "cn":
        assert fill.red() > 180 and fill.green() < 90           # red = closed
        assert view._palette.breaker_open.green() > 140 and view._palette.breaker_open.red() < 90
    else:
        assert abs(fill.red() - fill.green()) < 20 and abs(fill.green() - fill.blue()) < 20   # neutral
    assert tie.fill_colour() is None                            # open: hollow in both conventions


def test_alarmed_elements_flash_until_acknowledged(qtbot, tmp_path):
    cache = PointCache()
    cache.update(normal_values(SITE))
    view, _ = make_view(qtbot, tmp_path, cache=cache)
    view.show_sheet("panel:BUS2")
    breaker = view.sheet_scene("panel:BUS2").breakers["F2_03"]
    view.set_alarms({"QF2_03": (1, False)})
    assert breaker.flashing and breaker in view.canvas._flashing
    phase = view.canvas.flash_phase
    qtbot.waitUntil(lambda: view.canvas.flash_phase != phase, timeout=2000)
    view.set_alarms({"QF2_03": (1, True)})
    assert not breaker.flashing and breaker.alarm == (1, True) and not view.canvas._flashing
    view.set_alarms({})
    assert breaker.alarm == (None, True)


def test_format_value():
    assert format_value(12.345, "kW") == "12.3 kW"
    assert format_value(1234567.8, "kWh") == "1234568 kWh"
    assert format_value(10021.7, "V") == "10.02 kV"
    assert format_value(234.56, "V") == "234.6 V"
    assert format_value(0.96, "") == "1.0"
    assert format_value(None, "A") == "—"


@pytest.fixture
def live_plant(tmp_path):
    """The demo plant with real Modbus servers, scanned every 0.3 s by the real engine."""
    plant = DemoPlant(base_port=free_port_block(N_PORTS), refresh_s=0.2)
    plant.start()
    devices = tuple(d.model_copy(update={"scan_interval_s": 0.3}) for d in plant.site.devices)
    site = type(plant.site)(**{**dict(plant.site), "devices": devices})
    cache = PointCache()
    engine = AcquisitionEngine(site.devices, cache)
    engine.start()
    yield plant, site, cache, engine
    engine.stop()
    plant.stop()


def test_real_breaker_trip_deenergises_everything_downstream(qtbot, tmp_path, live_plant):
    plant, site, cache, engine = live_plant
    view, _ = make_view(qtbot, tmp_path, site=site, cache=cache, status=lambda: engine.status)
    p1 = view.sheet_scene("panel:BUS1")
    downstream = ["M1_05", "L1_05", "M_UPS"]
    qtbot.waitUntil(lambda: p1.breakers["F1_05"].state is BreakerState.CLOSED
                    and all(p1.symbols[n].energised == "live" for n in downstream), timeout=10000)

    plant.trigger("trip", "QF1_05")                             # short circuit: the breaker opens
    qtbot.waitUntil(lambda: p1.breakers["F1_05"].state is BreakerState.OPEN, timeout=5000)
    qtbot.waitUntil(lambda: all(p1.symbols[n].energised == "dead" for n in downstream), timeout=2000)
    assert p1.symbols["F1_05"].energised == "live"             # line side still on the busbar
    wires = {(w.upstream, w.downstream): w for w in p1.wires}
    assert wires[("F1_05", "M1_05")].energised == "dead" and wires[("BUS1", "F1_05")].energised == "live"
    assert p1.symbols["L1_06"].energised == "live" and p1.symbols["BUS1"].energised == "live"
    qtbot.waitUntil(lambda: "Tripped" in p1.breakers["F1_05"].badge, timeout=3000)

    plant.operate_locally("QF1_07", False)                      # opened by hand at the panel
    qtbot.waitUntil(lambda: p1.symbols["L1_07"].energised == "dead", timeout=5000)
    assert p1.breakers["F1_07"].badge == ""                     # opened by hand is not a trip
    plant.set_mode("QF1_08", 2)
    qtbot.waitUntil(lambda: p1.breakers["F1_08"].badge == "Maint.", timeout=5000)
    view.close()


def test_theme_switch_and_chinese_translation(qtbot, tmp_path):
    from PySide6.QtWidgets import QApplication

    from app.ui.i18n import TsTranslator, ts_files
    cache = PointCache()
    cache.update(normal_values(SITE))
    settings = UiSettings(theme="dark")
    view, _ = make_view(qtbot, tmp_path, cache=cache, settings=settings)
    dark_bg = view.sheet_scene("overview").scene.backgroundBrush().color().name()
    settings.theme = "light"
    view.apply_settings()
    assert view.sheet_scene("overview").scene.backgroundBrush().color().name() != dark_bg
    translator = TsTranslator(ts_files("zh_CN"), "zh_CN")
    QApplication.instance().installTranslator(translator)
    try:
        qtbot.waitUntil(lambda: view._tabs.tabText(0) == "主接线总览", timeout=2000)
        texts = {c.text for c in view.sheet_scene("overview").connectors}
        assert texts == {"I段母线（11回路）", "II段母线（12回路）"}
    finally:
        QApplication.instance().removeTranslator(translator)


def test_alarms_by_device_takes_the_most_urgent_and_flashes_while_any_is_unacknowledged():
    from app.alarms.contracts import Alarm
    from app.alarms.states import AlarmState
    from app.ui.diagram_view import alarms_by_device

    def alarm(device: str, priority: int, state: AlarmState) -> Alarm:
        return Alarm(f"{device}:r{priority}", "r", "high", "alarm", f"{device}.P", device, "A", priority, state,
                     True, "", None, None, 0.0, 0.0, "", None, "", "", "")

    got = alarms_by_device([alarm("QF1", 3, AlarmState.ACK_ACTIVE), alarm("QF1", 1, AlarmState.UNACK_ACTIVE),
                            alarm("QF2", 2, AlarmState.ACK_ACTIVE), alarm("QF3", 1, AlarmState.SHELVED),
                            alarm("QF4", 2, AlarmState.SUPPRESSED), alarm("", 1, AlarmState.UNACK_ACTIVE),
                            alarm("QF5", 4, AlarmState.UNACK_RTN)])
    assert got == {"QF1": (1, False), "QF2": (2, True), "QF5": (4, False)}


@pytest.mark.parametrize("through", ["engine", "alarm_bridge"])
def test_a_trip_raised_by_the_real_alarm_engine_flashes_the_breaker_until_acknowledged(qtbot, tmp_path, through):
    from app.alarms.engine import AlarmEngine
    from app.ui.alarm_bridge import AlarmBridge

    cache = PointCache()
    cache.update(normal_values(SITE))
    engine = AlarmEngine(SITE)
    engine.start(cache)
    alarm_bridge = AlarmBridge(engine, "op1", interval_ms=20)
    if through == "alarm_bridge":
        alarm_bridge.start()
    try:
        bridge = PointBridge(cache, interval_ms=20)
        bridge.start()
        services = UiServices(site=SITE, bridge=bridge, historian=Historian(f"sqlite:///{tmp_path / 'h.db'}"),
                              device_status=dict, alarms=engine if through == "engine" else alarm_bridge)
        view = DiagramView(services)
        qtbot.addWidget(view)
        view.destroyed.connect(bridge.stop)
        view.show_sheet("panel:BUS1")
        breaker = view.sheet_scene("panel:BUS1").breakers["F1_05"]
        assert breaker.alarm == (None, True)
        cache.update([pv("QF1_05.trip_cause", 2.0), pv("QF1_05.state", 0.0)])
        qtbot.waitUntil(lambda: breaker.flashing, timeout=3000)
        assert breaker.alarm[0] == 1 and breaker in view.canvas._flashing
        trip = next(a for a in engine.alarms() if a.device == "QF1_05" and a.type == "trip")
        engine.ack(trip.id, "op1")
        qtbot.waitUntil(lambda: not breaker.flashing, timeout=3000)
        view.close()
    finally:
        alarm_bridge.stop()
        engine.stop()


def test_fitted_sheet_stays_fitted_on_resize_until_the_operator_zooms(qtbot, tmp_path):
    cache = PointCache()
    cache.update(normal_values(SITE))
    view, _ = make_view(qtbot, tmp_path, cache=cache)
    view.resize(300, 200)                       # e.g. built before its window went full screen
    qtbot.wait(20)
    small = view.canvas.zoom()
    view.resize(1600, 1000)
    qtbot.waitUntil(lambda: view.canvas.zoom() > 2 * small, timeout=1000)
    fitted = view.canvas.zoom()
    view.canvas.zoom_by(1.5)                    # the operator's zoom is kept from now on
    view.resize(800, 500)
    qtbot.wait(20)
    assert view.canvas.zoom() == pytest.approx(fitted * 1.5)


def test_theme_switched_while_hidden_is_applied_when_shown(qtbot, tmp_path):
    settings = UiSettings(theme="dark")
    view, _ = make_view(qtbot, tmp_path, settings=settings)
    dark_bg = view.sheet_scene("overview").scene.backgroundBrush().color().name()
    view.hide()                                 # another page of the main window is shown
    settings.theme = "light"                    # the theme switch's style change is not seen
    view.show()
    assert view.sheet_scene("overview").scene.backgroundBrush().color().name() != dark_bg


def test_coordinates_given_for_some_nodes_are_honoured_and_the_rest_follow(qtbot, tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text("""
site: {name: t, timezone: Asia/Shanghai}
devices: []
topology:
  - {id: IL, kind: incoming_line, diagram: 低压, x: 40, y: 0}
  - {id: B, kind: busbar, upstream: [IL], diagram: 低压, x: 400, y: 300}
  - {id: F1, kind: feeder, upstream: [B], diagram: 低压}
  - {id: F2, kind: feeder, upstream: [B], diagram: 低压}
  - {id: L1, kind: load, upstream: [F1], diagram: 低压}
  - {id: L2, kind: load, upstream: [F2], diagram: 低压, x: 900, y: 700}
""", encoding="utf-8")
    site = load_site(path)
    view, _ = make_view(qtbot, tmp_path, site=site)
    sheet = view.sheet_scene("diagram:低压")
    pos = {n: (s.pos().x(), s.pos().y()) for n, s in sheet.symbols.items()}
    assert not sheet.layout.from_file
    assert pos["IL"] == (40.0, 0.0) and pos["B"] == (400.0, 300.0) and pos["L2"] == (900.0, 700.0)
    # the feeders hang under the busbar placed by hand, one on each side, as laid out
    assert pos["F1"][1] == pos["F2"][1] > 300.0 and pos["F1"][0] < 400.0 < pos["F2"][0]
    assert pos["L1"][0] == pos["F1"][0] and pos["L1"][1] > pos["F1"][1]
