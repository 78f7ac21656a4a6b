"""The Devices view: every point with value, quality and comm state; bad data never looks good."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt

from app.points import Quality
from app.ui.app import Appearance
from app.ui.devices_view import QUALITY, UPDATED, VALUE, DETAILS, DevicesView, format_value
from app.ui.services import UiSettings
from app.ui.theme import colours
from tests.ui_services import DEMO, QT_WARNINGS_FAIL, make_services, put

pytestmark = QT_WARNINGS_FAIL


def point_index(view: DevicesView, tag: str, column: int):
    """Source-model index of ``tag``'s cell in ``column``."""
    i, j = view.model._where[tag]
    return view.model.index(j, column, view.model.index(i, 0))


def test_good_and_bad_values_look_different_and_bad_ones_say_why(qtbot, tmp_path):
    services, cache, _st = make_services(tmp_path)
    view = DevicesView(services)
    qtbot.addWidget(view)
    put(cache, ("T1_M.P", 158.27, Quality.GOOD), ("T1_M.Ua", 231.4, Quality.BAD, "timeout after 1.0 s"),
        ("T1_M.Ub", 229.0, Quality.UNCERTAIN, "value held: device busy"))
    qtbot.waitUntil(lambda: point_index(view, "T1_M.P", VALUE).data() == "158.27 kW", timeout=2000)
    good = point_index(view, "T1_M.P", VALUE)
    bad = point_index(view, "T1_M.Ua", VALUE)
    assert good.data(Qt.ItemDataRole.ForegroundRole) is None
    assert point_index(view, "T1_M.P", QUALITY).data() == "Good"
    assert bad.data() == "? 231.4 V"
    assert bad.data(Qt.ItemDataRole.ForegroundRole).name() == colours("dark").bad
    assert bad.data(Qt.ItemDataRole.FontRole).strikeOut()
    assert "timeout after 1.0 s" in bad.data(Qt.ItemDataRole.ToolTipRole)
    assert point_index(view, "T1_M.Ua", QUALITY).data() == "? Bad"
    assert point_index(view, "T1_M.Ua", DETAILS).data() == "timeout after 1.0 s"
    assert point_index(view, "T1_M.Ub", VALUE).data() == "? 229.0 V"
    assert not point_index(view, "T1_M.Ub", VALUE).data(Qt.ItemDataRole.FontRole).strikeOut()
    assert point_index(view, "T1_M.Uc", VALUE).data() == "—"          # nothing received yet
    assert point_index(view, "T1_M.Uc", QUALITY).data() == "No value yet"
    device_row = view.model.index(view.model._where["T1_M.P"][0], QUALITY)
    assert device_row.data() == f"{len(DEMO.device('T1_M').points) - 1} not good"
    services.bridge.stop()


def test_an_offline_device_greys_every_value_it_last_sent(qtbot, tmp_path):
    services, cache, statuses = make_services(tmp_path)
    view = DevicesView(services)
    qtbot.addWidget(view)
    put(cache, ("QF1_01.state", 1.0, Quality.GOOD), ("QF1_01.P", 12.5, Quality.GOOD))
    qtbot.waitUntil(lambda: point_index(view, "QF1_01.P", VALUE).data() == "12.50 kW", timeout=2000)
    assert point_index(view, "QF1_01.state", VALUE).data() == "closed"
    statuses.set_online(["QF1_01"], False)
    view.model.refresh_status()
    assert point_index(view, "QF1_01.P", VALUE).data() == "? 12.50 kW"
    assert point_index(view, "QF1_01.P", QUALITY).data() == "? Device offline"
    assert point_index(view, "QF1_01.state", VALUE).data(Qt.ItemDataRole.ForegroundRole) is not None
    device = view.model.index(view.model._where["QF1_01.P"][0], DETAILS)
    assert device.data() == "Offline"
    assert device.data(Qt.ItemDataRole.ForegroundRole).name() == colours("dark").offline
    statuses.set_online(["QF1_01"], True)
    view.model.refresh_status()
    assert point_index(view, "QF1_01.P", VALUE).data() == "12.50 kW"
    assert point_index(view, "QF1_01.P", UPDATED).data() != "—"
    services.bridge.stop()


def test_filters_by_text_and_to_points_not_good(qtbot, tmp_path):
    services, cache, _st = make_services(tmp_path)
    view = DevicesView(services)
    qtbot.addWidget(view)
    put(cache, *[(tag, 1.0, Quality.GOOD) for tag in DEMO.tags()])
    put(cache, ("PM2_01.Ia", 3.0, Quality.BAD, "exception 2"))
    qtbot.waitUntil(lambda: point_index(view, "PM2_01.Ia", VALUE).data() == "? 3.00 A", timeout=2000)
    assert view.proxy.rowCount() == len(DEMO.devices)
    view.abnormal_check.setChecked(True)
    assert view.proxy.rowCount() == 1
    device = view.proxy.index(0, 0)
    assert device.data().startswith("PM2_01")
    assert view.proxy.rowCount(device) == 1
    assert view.proxy.index(0, 0, device).data() == "Ia"
    view.abnormal_check.setChecked(False)
    view.filter_edit.setText("ENV_")
    assert view.proxy.rowCount() == 3
    services.bridge.stop()


def test_values_and_states_in_chinese(qtbot, tmp_path):
    appearance = Appearance(UiSettings())
    appearance.apply()
    try:
        point = next(p for p in DEMO.device("QF1_01").points if p.name == "state")
        assert format_value(point, 0.0) == "分闸"
        assert format_value(point, 1.0) == "合闸"
        mode = next(p for p in DEMO.device("QF1_01").points if p.name == "mode")
        assert format_value(mode, 2.0) == "检修"
        assert format_value(mode, 7.0) == "7"          # a code the template does not name
        energy = next(p for p in DEMO.device("PM1_02").points if p.name == "Ep_imp")
        assert format_value(energy, 12345.678) == "12345.7 kWh"
        assert format_value(energy, float("nan")) == "—"
    finally:
        appearance.set_language("en")


def test_double_clicking_a_run_command_asks_for_control_and_a_measurement_does_not(qtbot, tmp_path):
    services, _cache, _st = make_services(tmp_path)
    view = DevicesView(services)
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    qtbot.waitExposed(view)
    view.tree.expandAll()

    def double_click(tag: str) -> None:
        index = view.proxy.mapFromSource(point_index(view, tag, 0))
        view.tree.scrollTo(index)
        rect = view.tree.visualRect(index)
        qtbot.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())

    with qtbot.waitSignal(view.control_requested, timeout=2000) as blocker:
        double_click("PS_PUMP.pump1_running")
    assert blocker.args == ["PS_PUMP", "pump1_running"]
    with qtbot.waitSignal(view.control_requested, timeout=2000) as blocker:
        double_click("AHU_ADMIN.fan_command")
    assert blocker.args == ["AHU_ADMIN", "fan_command"]
    assert "Double-click to operate" in point_index(view, "AHU_ADMIN.fan_command", 0).data(
        Qt.ItemDataRole.ToolTipRole)
    with qtbot.assertNotEmitted(view.control_requested, wait=200):
        double_click("PS_PUMP.pump1_power")            # a measurement
        double_click("PS_PUMP.pump1_speed_setpoint")   # a set-point: not switched here
    services.bridge.stop()
