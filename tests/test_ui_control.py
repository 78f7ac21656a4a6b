"""The control dialog (pytest-qt, offscreen) on the real demo plant over Modbus TCP.

It shows state, mode and live I/U/P; says before the operator tries that manual mode
refuses remote commands; selects, lists the loads an opening de-energises, asks for the
password, executes, verifies by readback and shows the result; lapses; and every string
it shows has a Chinese translation.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from app.control import AuditAction, LocalSelectionRegistry
from app.ui.bridge import PointBridge
from app.ui.control_dialog import REFUSAL_TEXT, ControlDialog
from app.ui.i18n import TRANSLATIONS_DIR, LanguageSwitcher, read_ts
from app.ui.services import UiServices
from db.historian import Historian
from db.migrate import upgrade
from tests.test_control_support import PASSWORDS, AuditLog, Rig, start_rig, stop_rig
from tests.ui_services import QT_WARNINGS_FAIL

pytestmark = QT_WARNINGS_FAIL

DEVICES = ("QF1_01", "QF1_02", "QF1_03", "QF1_05", "PM1_05", "PS_PUMP")


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    rig = start_rig(DEVICES)
    yield rig
    stop_rig(rig)


@pytest.fixture
def make_dialog(qtbot, rig, tmp_path):
    """``make_dialog(device, **service options) -> (dialog, audit)`` on live plant values."""
    url = f"sqlite:///{tmp_path}/ui.sqlite"
    upgrade(url)
    historian = Historian(url, spool_dir=tmp_path / "spool")
    bridge = PointBridge(rig.cache, interval_ms=50)
    bridge.start()
    dialogs: list[ControlDialog] = []

    def make(device: str, point: str = "command", **options) -> tuple[ControlDialog, AuditLog]:
        audit = AuditLog()
        control = rig.service(audit=audit, registry=LocalSelectionRegistry(), **options)
        services = UiServices(site=rig.site, bridge=bridge, historian=historian,
                              device_status=lambda: dict(rig.acquisition.status), control=control)
        dialog = ControlDialog(services, device, "wang", point=point)
        qtbot.addWidget(dialog)
        assert not dialog.checked and not dialog.open_button.isEnabled()   # nothing offered unchecked
        dialog.show()
        qtbot.waitExposed(dialog)
        qtbot.waitUntil(lambda: dialog.checked, timeout=5000)   # what is possible: checked off the GUI thread
        dialogs.append(dialog)
        return dialog, audit

    yield make
    for dialog in dialogs:
        dialog.wait_idle()
        dialog.reject()
        dialog.wait_idle()
    bridge.stop()


@pytest.fixture
def chinese(qtbot):
    switcher = LanguageSwitcher()
    switcher.install("zh_CN")
    yield switcher
    switcher.install("en")


def finish(qtbot, dialog: ControlDialog, step: str, timeout_ms: int = 15_000) -> None:
    with qtbot.waitSignal(dialog.step_finished, timeout=timeout_ms) as blocker:
        pass
    assert blocker.args == [step]


def test_shows_state_mode_and_live_values_in_chinese(qtbot, make_dialog, chinese, tmp_path):
    dialog, _ = make_dialog("QF1_05")
    assert dialog.windowTitle() == "远程控制 — 监控指挥中心断路器"
    assert dialog.status_values["state"].text() == "合闸"
    assert dialog.status_values["mode"].text() == "自动"
    assert dialog.status_values["comm"].text() == "在线"
    assert set(dialog.live_values) == {"Ia", "Ib", "Ic", "Ua", "Ub", "Uc", "P"}
    assert re.fullmatch(r"2\d\d\.\d V", dialog.live_values["Ua"].text())
    assert dialog.live_values["P"].text().endswith(" kW") and not dialog.live_values["P"].font().strikeOut()
    assert dialog.open_button.isEnabled() and not dialog.close_button.isEnabled()   # already closed
    assert dialog.close_button.toolTip() == "已经是合闸。"
    assert dialog.availability.text() == "可以远程控制。"
    assert dialog.grab().save(str(tmp_path / "control_dialog_live.png"))


def test_manual_mode_disables_both_commands_with_the_reason_before_trying(qtbot, rig, make_dialog):
    dialog, audit = make_dialog("QF1_02")
    rig.plant.set_mode("QF1_02", 1)
    try:
        qtbot.waitUntil(lambda: dialog.status_values["mode"].text() == "manual", timeout=8000)
        qtbot.waitUntil(lambda: "Manual mode" in dialog.availability.text(), timeout=3000)  # re-checked
        assert not dialog.open_button.isEnabled() and not dialog.close_button.isEnabled()
        assert "Manual mode: the breaker refuses remote commands" in dialog.availability.text()
        assert dialog.availability.text().startswith("Remote control not possible")
        assert "Manual mode" in dialog.open_button.toolTip()
        assert audit.records == []                           # nothing was tried
    finally:
        rig.plant.set_mode("QF1_02", 0)
    qtbot.waitUntil(lambda: dialog.open_button.isEnabled(), timeout=8000)


def test_open_lists_the_loads_asks_the_password_verifies_and_shows_the_result(qtbot, rig, make_dialog, tmp_path):
    dialog, audit = make_dialog("QF1_01")
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    finish(qtbot, dialog, "select")
    assert dialog.confirm_box.isVisible() and dialog.selection is not None
    assert [dialog.loads.item(i).text() for i in range(dialog.loads.count())] == ["1#监区照明负荷"]
    assert dialog.loads_label.text() == "Opening de-energises these loads:"
    assert not dialog.execute_button.isEnabled() and dialog.confirm_button.isEnabled()
    assert re.fullmatch(r"The selection lapses in 1[45] s \(\d\d:\d\d:\d\d\)\.", dialog.countdown.text())
    assert dialog.grab().save(str(tmp_path / "control_dialog_confirm.png"))

    dialog.password.setText(PASSWORDS["wang"])
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    finish(qtbot, dialog, "confirm")
    assert dialog.execute_button.isEnabled() and dialog.selection.confirmed
    qtbot.mouseClick(dialog.execute_button, Qt.MouseButton.LeftButton)
    finish(qtbot, dialog, "operate")
    assert dialog.result is not None and dialog.result.ok, dialog.result
    assert re.fullmatch(r"Done: open, verified by readback in \d+\.\d s\.", dialog.result_label.text())
    qtbot.waitUntil(lambda: dialog.status_values["state"].text() == "open", timeout=5000)
    assert not dialog.confirm_box.isVisible()
    qtbot.waitUntil(dialog.close_button.isEnabled, timeout=3000)   # re-checked: closing is possible now
    assert dialog.grab().save(str(tmp_path / "control_dialog_result.png"))
    assert [r.action for r in audit.records] == [AuditAction.SELECT, AuditAction.CONFIRM, AuditAction.OPERATE,
                                                  AuditAction.VERIFY, AuditAction.RESULT]
    # and close it again through the dialog
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    finish(qtbot, dialog, "select")
    assert not dialog.loads.isVisible()                 # closing de-energises nothing
    dialog.password.setText(PASSWORDS["wang"])
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    finish(qtbot, dialog, "confirm")
    qtbot.mouseClick(dialog.execute_button, Qt.MouseButton.LeftButton)
    finish(qtbot, dialog, "operate")
    assert dialog.result.ok and rig.value("QF1_01.state") == 1


def test_wrong_password_is_refused_and_shown(qtbot, make_dialog):
    dialog, audit = make_dialog("QF1_03")
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    finish(qtbot, dialog, "select")
    dialog.password.setText("not my password")
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    finish(qtbot, dialog, "confirm")
    assert dialog.result_label.text() == "Password re-entry failed; the selection is withdrawn."
    assert dialog.selection is None and not dialog.confirm_box.isVisible()
    assert audit.records[-1].action is AuditAction.REFUSED


def test_the_selection_lapses_in_the_dialog(qtbot, rig, make_dialog):
    dialog, audit = make_dialog("QF1_03", selection_timeout_s=0.6)
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    finish(qtbot, dialog, "select")
    assert dialog.confirm_box.isVisible()
    finish(qtbot, dialog, "cancel", timeout_ms=3000)
    assert dialog.selection is None and not dialog.confirm_box.isVisible()
    assert dialog.log.item(dialog.log.count() - 1).text().endswith("Selection lapsed after 0.6 s")
    assert [r.action for r in audit.records] == [AuditAction.SELECT, AuditAction.CANCEL]
    assert audit.records[-1].reason == "selection lapsed" and rig.value("QF1_03.state") == 1


def test_a_pump_over_opc_ua_is_stopped_and_started_through_the_same_path(qtbot, rig, make_dialog):
    """Seed 001 item 11: loads other than breakers (here a pump on a real OPC UA server)
    are operated select-before-operate with readback and audit, like a breaker."""
    tag = "PS_PUMP.pump1_running"
    qtbot.waitUntil(lambda: rig.value(tag) is not None, timeout=15_000)
    dialog, audit = make_dialog("PS_PUMP", point="pump1_running")
    assert (dialog.close_button.text(), dialog.open_button.text()) == ("Start", "Stop")
    assert {"pump1_speed", "pump1_power"} <= {p.name for p in dialog.target.live_points}
    assert dialog.target.mode is None and dialog.target.trip_cause is None
    assert dialog.title.text() == "生活水泵站  (PS_PUMP) — 1号泵启停命令及状态"   # which of its commands (settings: zh_CN)
    assert dialog.status_values["mode"].isHidden() and dialog.status_values["trip_cause"].isHidden()
    assert dialog._live_names["pump1_power"].text() == "1号泵有功功率"
    for value in (0, 1) if rig.value(tag) == 1 else (1, 0):
        button = dialog.open_button if value == 0 else dialog.close_button
        qtbot.waitUntil(button.isEnabled, timeout=8000)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        finish(qtbot, dialog, "select")
        assert not dialog.loads.isVisible()           # no topology switch: no load list
        assert dialog.selection_label.text().startswith(f"Selected: {'Stop' if value == 0 else 'Start'} ")
        dialog.password.setText(PASSWORDS["wang"])
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
        finish(qtbot, dialog, "confirm")
        qtbot.mouseClick(dialog.execute_button, Qt.MouseButton.LeftButton)
        finish(qtbot, dialog, "operate")
        assert dialog.result is not None and dialog.result.ok, dialog.result
        assert rig.value(tag) == value
    assert [r.action for r in audit.records] == [AuditAction.SELECT, AuditAction.CONFIRM, AuditAction.OPERATE,
                                                  AuditAction.VERIFY, AuditAction.RESULT] * 2


def test_every_control_string_has_a_chinese_translation():
    from app.ui import control_dialog

    table = read_ts(TRANSLATIONS_DIR / "ControlDialog.zh_CN.ts")
    text = Path(control_dialog.__file__).read_text("utf-8")
    marked = set(re.findall(r'self\.tr\(\s*"((?:[^"\\]|\\.)*)"', text)) | set(REFUSAL_TEXT.values())
    assert len(marked) > 40
    missing = sorted(s for s in marked if not table.get(("ControlDialog", s)))
    assert not missing, f"untranslated: {missing}"
    for source, translation in ((s, table[("ControlDialog", s)]) for s in marked):
        assert set(re.findall(r"\{(\w+)\}", source)) == set(re.findall(r"\{(\w+)\}", translation)), source


def test_what_is_possible_is_checked_off_the_gui_thread(qtbot, rig, tmp_path):
    """The permission check may read the user database: never on the GUI thread."""
    import threading

    from app.control import ControlService

    threads = set()

    def permission(user: str, action: str, area: str) -> bool:
        threads.add(threading.current_thread())
        return True

    control = ControlService(rig.site, rig.acquisition, rig.cache, permission=permission,
                             password=lambda _u, _p: False, audit=AuditLog(), registry=LocalSelectionRegistry())
    bridge = PointBridge(rig.cache, interval_ms=50)
    bridge.start()
    url = f"sqlite:///{tmp_path}/ui.sqlite"
    upgrade(url)
    services = UiServices(site=rig.site, bridge=bridge, historian=Historian(url, spool_dir=tmp_path / "spool"),
                          device_status=lambda: dict(rig.acquisition.status), control=control)
    dialog = ControlDialog(services, "QF1_05", "wang")
    qtbot.addWidget(dialog)
    try:
        dialog.show()
        qtbot.waitUntil(lambda: dialog.checked and dialog.open_button.isEnabled(), timeout=5000)
        assert threads and threading.main_thread() not in threads
    finally:
        dialog.reject()
        dialog.wait_idle()
        bridge.stop()
