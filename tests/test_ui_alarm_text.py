"""The alarm list, event history and banner word alarms in the UI's language, and offer
acknowledge/shelve only to a user the permission check allows (real engine, real journal)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time

from PySide6.QtCore import QCoreApplication, QItemSelectionModel
from PySide6.QtWidgets import QApplication

from app.ui.i18n import TsTranslator, ts_files
from tests.test_ui_alarms import SMOKE, TRIP, Rig, raise_incidents, rig  # noqa: F401 (rig is a fixture)


def _cells(rig: Rig, alarm_id: str) -> dict[str, str]:
    alarm = next(a for a in rig.view.model.alarms() if a.id == alarm_id)
    return {c: rig.view.model.cell_text(alarm, c) for c in ("message", "note")}


def test_alarms_and_events_are_worded_in_the_ui_language(rig, qtbot):
    raise_incidents(rig, qtbot)
    settings = rig.view._services.settings
    translator = TsTranslator(ts_files("zh_CN"), "zh_CN")
    app = QApplication.instance()
    settings.language = "zh_CN"
    app.installTranslator(translator)
    try:
        QCoreApplication.processEvents()
        assert _cells(rig, TRIP) == {"message": "Feeder breaker 断路器跳闸", "note": "过载"}
        assert _cells(rig, SMOKE)["message"] == "IO box smoke 状态报警"
    finally:
        app.removeTranslator(translator)
        settings.language = "en"
        QCoreApplication.processEvents()
    assert _cells(rig, TRIP) == {"message": "Feeder breaker Breaker trip", "note": "overload"}
    assert _cells(rig, SMOKE)["message"] == "IO box smoke State alarm"

    view = rig.view
    view.set_event_range(time.time() - 600, time.time() + 600)
    with qtbot.waitSignal(view.events_loaded, timeout=5000):
        view.query_events()
    rows = view.events_model.rows()
    raised = [view.events_model.cell_text(r, "message") for r in rows
              if view.events_model.cell_text(r, "kind") == "Raised"]
    assert "Feeder breaker Breaker trip (overload)" in raised       # the cause read in the trip's scan


def test_actions_are_offered_only_to_a_user_allowed_to_take_them(rig, qtbot):
    raise_incidents(rig, qtbot)
    view = rig.view
    banner = view.create_banner()
    qtbot.addWidget(banner)
    rig.settle(qtbot, lambda: banner.alarm() is not None)
    buttons = {"ack": view._ack_selected, "ack_all": view._ack_visible, "shelve": view._shelve}

    def select(alarm_id: str) -> None:
        index = view.model.index_of(alarm_id)
        view.tree.selectionModel().select(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                          | QItemSelectionModel.SelectionFlag.Rows)

    select(SMOKE)
    assert all(b.isEnabled() for b in buttons.values())
    assert banner.buttons()["ack"].isEnabled()

    view.bridge.user = "viewer"              # the permission check lets a viewer look, not act
    rig.feed(("IO.smoke", 0), dt=0.5)        # any change refreshes the list and the banner
    rig.settle(qtbot, lambda: not view._ack_visible.isEnabled())
    select(SMOKE)
    assert not any(b.isEnabled() for b in buttons.values())
    assert not banner.buttons()["ack"].isEnabled()
    assert rig.engine.alarm(SMOKE).acked_by == ""             # asking acted on nothing
