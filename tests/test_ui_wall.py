"""The wall display: rotation, read-only, staleness shown and recovered from by itself."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent

from app.points import Quality
from app.ui.wall import WallWindow
from tests.ui_services import DEMO, QT_WARNINGS_FAIL, make_services, put

pytestmark = QT_WARNINGS_FAIL


def test_rotates_through_the_installed_views_and_offers_no_control(qtbot, tmp_path):
    services, _cache, _st = make_services(tmp_path)
    services.control = object()
    wall = WallWindow(services, cycle_s=0.15)
    qtbot.addWidget(wall)
    assert wall.services.control is None and services.control is not None
    assert wall.pages[0] == "overview" and "devices" not in wall.pages
    assert wall.current_page() == "overview"
    seen = {wall.current_page()}
    qtbot.waitUntil(lambda: seen.add(wall.current_page()) or seen == set(wall.pages), timeout=3000)
    assert wall.stack.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    press = QMouseEvent(QEvent.Type.MouseButtonPress, QPointF(5, 5), QPointF(5, 5),
                        Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    assert wall.eventFilter(wall.stack, press) is True            # swallowed, never reaches a view
    services.bridge.stop()


def test_staleness_is_shown_and_clears_by_itself(qtbot, tmp_path):
    services, cache, statuses = make_services(tmp_path)
    statuses.set_online(["QF1_01", "QF1_02"], False)
    wall = WallWindow(services, cycle_s=60, stale_after_s=0.3)
    qtbot.addWidget(wall)
    qtbot.waitUntil(lambda: "no live data" in wall.stale_label.text(), timeout=3000)
    assert wall.is_stale()
    assert wall.stale_label.text().startswith(f"STALE: 2/{len(DEMO.devices)} devices offline")
    statuses.set_online(["QF1_01", "QF1_02"], True)
    readings = iter(range(10_000))

    def live_and_recovered() -> bool:  # values keep arriving, as from a running plant
        put(cache, ("T1_M.P", 100.0 + next(readings), Quality.GOOD))
        return wall.stale_label.text() == "Live"

    qtbot.waitUntil(live_and_recovered, timeout=3000)
    assert not wall.is_stale()
    assert wall.stale_label.property("state") == "ok"
    services.bridge.stop()


def test_the_wall_trend_shows_the_load_meters_without_the_point_tree(qtbot, tmp_path):
    from app.site_kpis import load_meter_tags

    services, _cache, _st = make_services(tmp_path)
    wall = WallWindow(services, cycle_s=60)
    qtbot.addWidget(wall)
    trends = wall.view("trends")
    assert trends.points() == load_meter_tags(DEMO)[:4] and trends.points()
    assert trends.plot.following() == 3600.0
    assert trends._picker.isHidden() and trends._tools.isHidden()   # no input on the wall
    wall.close()
    services.bridge.stop()


def test_each_turn_of_the_diagrams_page_shows_the_next_sheet(qtbot, tmp_path):
    services, _cache, _st = make_services(tmp_path)
    wall = WallWindow(services, cycle_s=3600)
    qtbot.addWidget(wall)
    assert wall.services.read_only and not services.read_only
    diagrams = wall.view("diagrams")
    seen = []
    for _ in range(3 * len(wall.pages)):
        wall.next_page()
        if wall.current_page() == "diagrams":
            seen.append(diagrams.current_sheet())
    assert seen == ["overview", "panel:BUS1", "panel:BUS2"]
    wall.close()
    services.bridge.stop()
