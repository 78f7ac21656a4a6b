"""The workstation put together (pytest-qt, offscreen) on the real demo plant over Modbus TCP:
first run and login, control from a diagram click through the dialog to the readback, refusals
for a viewer (control and acknowledgement), and emergency control from the lock screen — every
step in the hash-chained audit log."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from typing import NamedTuple

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from app.collector import Collector
from app.control import CLOSE, OPEN
from app.security import Role, SecurityService
from app.ui.app import Appearance, open_workstation
from app.ui.control_dialog import ControlDialog
from app.ui.login import FirstRunDialog, LoginDialog
from app.ui.services import UiSettings
from app.ui.workstation import Workstation
from db.migrate import upgrade
from drivers.sim.plant import DemoPlant
from tests.security_rig import PASSWORD
from tests.test_control_support import fast_site, wait_for
from tests.test_sim_plant import N_PORTS, free_port_block
from tests.ui_services import QT_WARNINGS_FAIL

pytestmark = QT_WARNINGS_FAIL

OPERATOR, VIEWER = "olga", "victor"


class Plant(NamedTuple):
    plant: DemoPlant
    collector: Collector
    security: SecurityService


@pytest.fixture
def live(tmp_path) -> Iterator[Plant]:
    """The demo plant polled every 0.3 s by a collector whose alarm engine asks the security service."""
    tmp = tmp_path
    plant = DemoPlant(base_port=free_port_block(N_PORTS), refresh_s=0.1)
    url = f"sqlite:///{tmp}/ws.sqlite3"
    upgrade(url)
    security = SecurityService.open(url, workstation="WS-TEST")
    security.users.add(OPERATOR, Role.OPERATOR, PASSWORD, actor="test")
    security.users.add(VIEWER, Role.VIEWER, PASSWORD, actor="test")
    collector = Collector(fast_site(plant, 0.3), url, alarm_permission=security.alarm_permission,
                          alarm_query=security.alarm_may)
    plant.start()
    collector.start()
    try:
        assert wait_for(lambda: collector.cache.get("QF1_05.state") is not None
                        and collector.cache.get("QF1_05.state").good, 15)
        yield Plant(plant, collector, security)
    finally:
        collector.stop()
        plant.stop()


@pytest.fixture
def appearance(qapp):
    a = Appearance(UiSettings(language="en"))
    a.apply()
    yield a
    QApplication.instance().setStyleSheet("")


@pytest.fixture
def workstation(live, qtbot, appearance) -> Iterator[Workstation]:
    """A workstation factory: ``open(user)`` logs ``user`` in and opens the workstation."""
    opened: list[Workstation] = []

    def open_for(user: str) -> Workstation:
        ws = open_workstation(live.collector, live.security, appearance.settings, appearance,
                              login=lambda s: s.login(user, PASSWORD), workstation="WS-TEST",
                              control_options={"selection_timeout_s": 30.0})
        assert ws is not None
        qtbot.addWidget(ws.window)
        opened.append(ws)
        return ws

    yield open_for
    for ws in opened:
        ws.stop()


def audit_since(security: SecurityService, seq: int) -> list[tuple[str, str, str, str]]:
    """(user, action, target, result) of the audit records after ``seq``."""
    return [(r.user, r.action, r.target, r.result) for r in security.audit.records() if r.seq > seq]


def last_seq(security: SecurityService) -> int:
    records = security.audit.records()
    return records[-1].seq if records else 0


def click_breaker(qtbot, ws: Workstation, node: str) -> None:
    """Click the breaker symbol ``node`` on the BUS1 panel of the diagram view."""
    ws.window.show_view("diagrams")
    view = ws.window.views["diagrams"]
    view.show_sheet("panel:BUS1")
    breaker = view.sheet_scene("panel:BUS1").breakers[node]
    canvas = view.canvas
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=canvas.mapFromScene(breaker.scenePos()))


def step(qtbot, dialog: ControlDialog, name: str, call) -> None:
    with qtbot.waitSignal(dialog.step_finished, timeout=20_000) as blocker:
        call()
    assert blocker.args == [name]


def operate(qtbot, dialog: ControlDialog, value: int) -> None:
    """Select, confirm with the password, execute; wait for the result."""
    qtbot.waitUntil(lambda: (dialog.open_button if value == OPEN else dialog.close_button).isEnabled(),
                    timeout=10_000)
    step(qtbot, dialog, "select", lambda: qtbot.mouseClick(
        dialog.open_button if value == OPEN else dialog.close_button, Qt.MouseButton.LeftButton))
    dialog.password.setText(PASSWORD)
    step(qtbot, dialog, "confirm", lambda: qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton))
    step(qtbot, dialog, "operate", lambda: qtbot.mouseClick(dialog.execute_button, Qt.MouseButton.LeftButton))


def test_first_run_creates_the_administrator_then_logs_in(live, qtbot, appearance, tmp_path):
    url = f"sqlite:///{tmp_path}/first.sqlite3"
    upgrade(url)
    fresh = SecurityService.open(url, workstation="WS-NEW")
    seen: list[str] = []

    def fill() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, FirstRunDialog) and "first" not in seen:
            seen.append("first")
            dialog.name_edit.setText("chief")
            dialog.password_edit.setText(PASSWORD)
            dialog.repeat_edit.setText(PASSWORD)
            dialog.create_button.click()
        elif isinstance(dialog, LoginDialog) and "login" not in seen:
            seen.append("login")
            dialog.user_edit.setText("chief")
            dialog.password_edit.setText(PASSWORD)
            dialog.login_button.click()

    timer = QTimer()
    timer.setInterval(30)
    timer.timeout.connect(fill)
    timer.start()
    ws = open_workstation(live.collector, fresh, appearance.settings, appearance)
    timer.stop()
    assert ws is not None
    qtbot.addWidget(ws.window)
    try:
        assert seen == ["first", "login"]
        assert fresh.users.get("chief").role is Role.ADMIN
        assert fresh.current_user().name == "chief"
        assert ws.window._user_label.text() == "User: chief (administrator)"
        assert ws.window.views["alarms"].bridge.user == "chief"
        actions = [(r.user, r.action) for r in fresh.audit.records()]
        assert ("first-run:chief", "user.add") in actions and ("chief", "login") in actions
    finally:
        ws.stop()
    assert fresh.session is None and fresh.audit.records()[-1].action == "logout"


def test_quitting_the_first_run_opens_nothing(live, qtbot, appearance, tmp_path):
    url = f"sqlite:///{tmp_path}/quit.sqlite3"
    upgrade(url)
    fresh = SecurityService.open(url)
    QTimer.singleShot(50, lambda: QApplication.activeModalWidget().reject())
    assert open_workstation(live.collector, fresh, appearance.settings, appearance) is None
    assert fresh.users.count() == 0


def test_viewer_clicking_a_breaker_gets_the_dialog_read_only_and_the_attempt_is_audited(live, qtbot, workstation):
    ws = workstation(VIEWER)
    seq = last_seq(live.security)
    click_breaker(qtbot, ws, "F1_01")
    dialog = ws.dialog
    assert isinstance(dialog, ControlDialog) and dialog.user == VIEWER and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.status_values["state"].text() in ("closed", "open"), timeout=5000)
    qtbot.waitUntil(lambda: dialog.checked, timeout=5000)     # checked on a worker thread
    assert not dialog.close_button.isEnabled() and not dialog.open_button.isEnabled()
    assert "Your role may not control devices in" in dialog.availability.text()
    assert "Your role may not control" in dialog.open_button.toolTip()
    assert audit_since(live.security, seq) == [(VIEWER, "control.open", "QF1_01", "denied")]
    dialog.select(OPEN)                                     # the service refuses too, whatever the buttons say
    qtbot.waitUntil(lambda: dialog.result_label.text().startswith("Your role may not control"), timeout=5000)
    assert audit_since(live.security, seq)[-1] == (VIEWER, "control.refused", "QF1_01.command=0", "refused")
    assert live.collector.cache.get("QF1_01.state").value == 1
    assert live.security.audit.verify().ok


def test_operator_opens_and_closes_a_breaker_from_the_diagram_verified_by_readback(live, qtbot, workstation):
    ws = workstation(OPERATOR)
    seq = last_seq(live.security)
    click_breaker(qtbot, ws, "F1_05")
    dialog = ws.dialog
    assert isinstance(dialog, ControlDialog) and dialog.user == OPERATOR
    operate(qtbot, dialog, OPEN)
    assert dialog.result is not None and dialog.result.ok, dialog.result_label.text()
    assert dialog.result_label.text().startswith("Done: open, verified by readback")
    assert live.collector.cache.get("QF1_05.state").value == 0
    assert not live.collector.alarms.alarm("QF1_05:trip").active     # told before the write: no trip
    operate(qtbot, dialog, CLOSE)
    assert dialog.result.ok and live.collector.cache.get("QF1_05.state").value == 1
    steps = [(user, action, result) for user, action, _target, result in audit_since(live.security, seq)]
    one = [(OPERATOR, "control.select", "ok"), (OPERATOR, "control.password", "ok"),
           (OPERATOR, "control.confirm", "ok"), (OPERATOR, "control.operate", "ok"),
           (OPERATOR, "control.verify", "ok"), (OPERATOR, "control.result", "ok")]
    assert steps == one + one
    targets = [t for _u, a, t, _r in audit_since(live.security, seq) if a == "control.operate"]
    assert targets == ["QF1_05.command=0", "QF1_05.command=1"]
    assert live.security.audit.records()[-1].workstation == "WS-TEST"
    report = live.security.audit.verify()
    assert report.ok, report


def test_viewer_acknowledging_from_the_banner_is_refused_and_audited(live, qtbot, workstation):
    ws = workstation(VIEWER)
    banner = ws.banner
    seq = last_seq(live.security)
    live.plant.trigger("trip", "QF1_03", cause=2)
    try:
        qtbot.waitUntil(lambda: banner.alarm() is not None and banner.alarm().id == "QF1_03:trip", timeout=15_000)
        ack, ack_all = banner.buttons()["ack"], banner.buttons()["ack_all"]
        assert not ack.isEnabled() and ack_all.isEnabled()    # the banner offers the viewer no single ack
        qtbot.wait(1500)                                      # banner refreshes: enquiries, not attempts
        assert [r for r in audit_since(live.security, seq) if r[2] == "QF1_03:trip"] == []
        qtbot.mouseClick(ack_all, Qt.MouseButton.LeftButton)  # the viewer tries anyway
        assert live.collector.alarms.alarm("QF1_03:trip").state.name.startswith("UNACK")
        denied = [r for r in audit_since(live.security, seq) if r[2] == "QF1_03:trip"]
        assert denied == [(VIEWER, "alarm.ack", "QF1_03:trip", "denied")]
        assert "may not acknowledge" in ws.window.views["alarms"]._active_status.text()
        assert [r for r in audit_since(live.security, seq) if r[1] == "alarm.ack"
                and r[0] != VIEWER] == []
        assert all(r[3] == "denied" for r in audit_since(live.security, seq) if r[1] == "alarm.ack")
    finally:
        live.plant.clear("trip", "QF1_03")


def test_emergency_control_from_the_lock_screen_is_audited(live, qtbot, workstation):
    ws = workstation(VIEWER)                                # the viewer's session locks
    ws.guard.lock()
    assert ws.security.current_user() is None and ws.window.views["alarms"].bridge.user == ""
    screen = ws.guard.screen
    seq = last_seq(live.security)
    screen.user_edit.setText(VIEWER)                        # a viewer may not: refused, audited
    screen.password_edit.setText(PASSWORD)
    qtbot.mouseClick(screen.emergency_button, Qt.MouseButton.LeftButton)
    assert ws.picker is None and screen.message.text() == "This user may not control breakers."
    screen.user_edit.setText(OPERATOR)
    screen.password_edit.setText(PASSWORD)
    qtbot.mouseClick(screen.emergency_button, Qt.MouseButton.LeftButton)
    assert ws.picker is not None and ws.picker.isVisible()
    ws.picker.pick("QF1_02")
    dialog = ws.dialog
    assert isinstance(dialog, ControlDialog) and dialog.user == OPERATOR and ws.guard.is_locked
    operate(qtbot, dialog, OPEN)
    assert dialog.result.ok, dialog.result_label.text()
    assert live.collector.cache.get("QF1_02.state").value == 0
    operate(qtbot, dialog, CLOSE)
    assert dialog.result.ok
    records = audit_since(live.security, seq)
    assert (VIEWER, "emergency.access", "lock screen", "denied") in records
    assert (OPERATOR, "emergency.access", "lock screen", "ok") in records
    assert [a for u, a, _t, _r in records if u == OPERATOR and a == "control.result"] == ["control.result"] * 2
    assert ws.guard.is_locked and live.security.audit.verify().ok


def test_the_wattdesk_command_carries_the_security_commands_and_the_gui(tmp_path, capsys):
    from app.cli import build_parser, cmd_gui, main

    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    assert main(["db", "upgrade", "--db", url]) == 0
    assert main(["audit", "verify", "--db", url]) == 0
    assert "audit log intact: 0 records" in capsys.readouterr().out
    args = build_parser().parse_args(["gui", "--site", "site.yaml", "--db", url])
    assert args.func is cmd_gui and str(args.site) == "site.yaml" and args.db == url
