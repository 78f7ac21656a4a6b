"""Login at start, first run, and the idle lock on the real main window: the lock screen covers
the views but not the banner, which keeps updating; unlocking needs a password; user names are
shown verbatim."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QDialog, QLabel, QWidget

from app.security import Role
from app.ui.lock_screen import SessionGuard
from app.ui.login import FirstRunDialog, LoginDialog, login_at_start
from app.ui.main_window import MainWindow
from tests.security_rig import PASSWORD, main_window, rig

HOSTILE = "<b>root</b> {user} %s \u202eRTL"


@pytest.fixture
def sec(tmp_path):
    with rig("sqlite", tmp_path, idle_timeout_s=600.0) as r:
        yield r


@pytest.fixture
def window(tmp_path, qtbot, sec):
    with main_window(tmp_path, qtbot) as w:
        yield w


def test_first_run_insists_on_an_administrator(sec, qtbot):
    dialog = FirstRunDialog(sec.security)
    qtbot.addWidget(dialog)
    dialog.name_edit.setText("chief")
    dialog.password_edit.setText("short")
    dialog.repeat_edit.setText("short")
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    assert "at least 10" in dialog.message.text() and sec.users.count() == 0 and dialog.result() == 0
    dialog.password_edit.setText(PASSWORD)
    dialog.repeat_edit.setText(PASSWORD + "x")
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text() and sec.users.count() == 0
    dialog.repeat_edit.setText(PASSWORD)
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted and sec.users.get("chief").role is Role.ADMIN


def test_login_dialog_wrong_password_then_lockout_message(sec, qtbot):
    sec.users.add(HOSTILE, Role.OPERATOR, PASSWORD, actor="test")
    dialog = LoginDialog(sec.security)
    qtbot.addWidget(dialog)
    dialog.user_edit.setText(HOSTILE)
    for _ in range(4):
        dialog.password_edit.setText("not-the-password")
        qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
        assert dialog.message.text() == "Wrong user name or password." and dialog.password_edit.text() == ""
    dialog.password_edit.setText("not-the-password")
    qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text().startswith("Too many failed attempts") and dialog.session is None
    sec.clock.advance(15 * 60 + 1)
    dialog.password_edit.setText(PASSWORD)
    qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted and dialog.session.user.name == HOSTILE


def test_login_at_start_with_no_users_shows_the_first_run_dialog_and_quitting_logs_nobody_in(sec, qtbot):
    shown: list[str] = []

    def quit_dialog() -> None:
        from PySide6.QtWidgets import QApplication

        dialog = QApplication.activeModalWidget()
        shown.append(type(dialog).__name__)
        dialog.reject()

    QTimer.singleShot(50, quit_dialog)
    assert login_at_start(sec.security) is None
    assert shown == ["FirstRunDialog"] and sec.users.count() == 0


def test_idle_session_locks_the_banner_keeps_updating_and_unlock_needs_the_password(sec, window, qtbot):
    sec.users.add(HOSTILE, Role.OPERATOR, PASSWORD, actor="test")
    sec.security.login(HOSTILE, PASSWORD)
    banner = QLabel("tick 0")
    window.set_banner(banner)
    ticks = [0]

    def tick() -> None:                                # stands in for the alarm banner's updates
        ticks[0] += 1
        banner.setText(f"tick {ticks[0]}")

    timer = QTimer(window)
    timer.timeout.connect(tick)
    timer.start(20)
    guard = SessionGuard(window, sec.security, check_ms=20)
    user_label = window._user_label
    assert user_label.textFormat() == Qt.TextFormat.PlainText and HOSTILE in user_label.text()

    sec.clock.advance(599)
    qtbot.wait(60)
    assert not guard.is_locked                         # not idle long enough
    qtbot.keyClick(window.navigation, Qt.Key.Key_Down)  # input restarts the idle time
    sec.clock.advance(599)
    qtbot.wait(60)
    assert not guard.is_locked
    sec.clock.advance(2)
    qtbot.waitUntil(lambda: guard.is_locked, timeout=2000)

    screen = guard.screen
    assert screen.isVisible() and not window.menuBar().isEnabled()
    top = window.centralWidget().findChild(QWidget, "bannerSlot")
    assert not screen.geometry().intersects(top.geometry())          # the banner is not covered
    assert screen.geometry().contains(window.stack.geometry().center())  # the views are
    assert screen.user_edit.text() == HOSTILE
    before = ticks[0]
    qtbot.waitUntil(lambda: ticks[0] >= before + 5, timeout=2000)
    assert banner.isVisible() and banner.text() == f"tick {ticks[0]}"
    assert window.childAt(banner.mapTo(window, QPoint(2, 2))) is banner   # on top, not under the lock
    assert "locked" in user_label.text()

    screen.password_edit.setText("not-the-password")
    qtbot.mouseClick(screen.unlock_button, Qt.MouseButton.LeftButton)
    assert guard.is_locked and screen.message.text() == "Wrong user name or password."
    screen.password_edit.setText(PASSWORD)
    qtbot.mouseClick(screen.unlock_button, Qt.MouseButton.LeftButton)
    assert not guard.is_locked and not screen.isVisible() and window.menuBar().isEnabled()
    assert "locked" not in user_label.text()

    actions = [(a.action, a.result) for a in sec.audit.records()][-4:]
    assert actions == [("login", "ok"), ("session.lock", "ok"), ("unlock.failed", "wrong"), ("unlock", "ok")]
    assert sec.audit.records()[-3].after == {"reason": "idle"}
    timer.stop()
    guard.detach()


def test_another_user_may_take_over_a_locked_session(sec, window, qtbot):
    sec.users.add("wang", Role.OPERATOR, PASSWORD, actor="test")
    sec.users.add("zhao", Role.OPERATOR, PASSWORD + "2", actor="test")
    sec.security.login("wang", PASSWORD)
    guard = SessionGuard(window, sec.security, check_ms=20)
    guard.lock("manual")
    guard.screen.user_edit.setText("zhao")
    guard.screen.password_edit.setText(PASSWORD + "2")
    qtbot.mouseClick(guard.screen.unlock_button, Qt.MouseButton.LeftButton)
    assert not guard.is_locked and sec.security.session.user.name == "zhao"
    assert "zhao" in window._user_label.text()
    assert [(a.user, a.action) for a in sec.audit.records()][-3:] == [
        ("wang", "session.lock"), ("zhao", "unlock"), ("wang", "logout")]
    guard.detach()


def test_the_real_alarm_banner_keeps_updating_behind_the_idle_lock(sec, tmp_path, qtbot):
    """The alarm engine raises and clears an alarm while the session is locked: the workstation's
    own banner shows each change, uncovered, and acknowledging from it waits for the unlock."""
    import time

    from app.alarms import AlarmEngine, AlarmState
    from app.cache import PointCache
    from app.ui.app import Appearance, attach_alarm_banner
    from app.ui.bridge import PointBridge
    from app.ui.services import UiServices
    from db.historian import Historian
    from tests.alarm_site import good, write_site

    smoke = "IO.smoke:smoke_state"
    site = write_site(tmp_path)
    cache = PointCache()
    engine = AlarmEngine(site, permission=sec.security.alarm_permission, permission_query=sec.security.alarm_may,
                         workstation="ws-test", tick_s=0.05)
    engine.start(cache)
    historian = Historian(f"sqlite:///{tmp_path}/journal.sqlite", spool_dir=tmp_path / "spool")
    services = UiServices(site=site, bridge=PointBridge(cache, interval_ms=50), historian=historian,
                          device_status=dict, alarms=engine)
    services.bridge.start()
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    banner = attach_alarm_banner(window, Appearance(services.settings, window))
    alarms = window.views["alarms"]
    sec.users.add("wang", Role.OPERATOR, PASSWORD, actor="test")
    sec.security.login("wang", PASSWORD)
    alarms.set_user("wang")
    guard = SessionGuard(window, sec.security, check_ms=20)
    guard.locked_changed.connect(lambda locked: alarms.set_user("" if locked else "wang"))  # as the workstation
    try:
        sec.clock.advance(601)
        qtbot.waitUntil(lambda: guard.is_locked, timeout=2000)
        assert banner.alarm() is None

        cache.update([good("IO.smoke", 1, time.time())])              # smoke: raised while locked
        qtbot.waitUntil(lambda: banner.alarm() is not None and banner.alarm().id == smoke, timeout=5000)
        assert banner.isVisible() and not guard.screen.geometry().intersects(
            banner.geometry().translated(banner.parentWidget().mapTo(window.centralWidget(), banner.pos())
                                         - banner.pos()))
        assert window.childAt(banner.mapTo(window, banner.rect().center())) in (banner, *banner.findChildren(QWidget))
        counts = banner.counts()
        cache.update([good("IO.door", 1, time.time()),                # another alarm while locked,
                      good("IO.smoke", 0, time.time())])              # and the smoke clears: the banner follows
        qtbot.waitUntil(lambda: banner.counts() != counts and banner.counts().get(4), timeout=5000)
        assert banner.alarm().id == smoke and engine.alarm(smoke).state is AlarmState.UNACK_RTN

        assert [a for a in sec.audit.records() if a.result == "denied"] == []   # the banner's refreshes only ask
        qtbot.mouseClick(banner.buttons()["ack_all"], Qt.MouseButton.LeftButton)   # nobody acts while locked
        assert engine.alarm(smoke).state is AlarmState.UNACK_RTN
        assert sorted((a.user, a.action, a.target) for a in sec.audit.records() if a.result == "denied") == [
            ("", "alarm.ack", "IO.door:door_state"), ("", "alarm.ack", smoke)]
        guard.screen.password_edit.setText(PASSWORD)
        qtbot.mouseClick(guard.screen.unlock_button, Qt.MouseButton.LeftButton)
        assert not guard.is_locked
        qtbot.waitUntil(lambda: banner.buttons()["ack_all"].isEnabled(), timeout=5000)
        qtbot.mouseClick(banner.buttons()["ack_all"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: engine.alarm(smoke) is None or engine.alarm(smoke).state is AlarmState.NORMAL,
                        timeout=5000)
        assert ("wang", "alarm.ack", smoke, "denied") not in [(a.user, a.action, a.target, a.result)
                                                             for a in sec.audit.records()]
    finally:
        guard.detach()
        alarms.shutdown()
        window.wait_audit_check()
        services.bridge.stop()
        engine.stop()
        historian.stop()
