"""A viewer attempting control and acknowledgement through every path — the security API, the
alarm engine's API, the alarm banner and list (UI), the control service, the lock screen's
emergency access — is refused, and every refusal is in the audit chain. Per-area grants."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from app.acquisition import AcquisitionEngine
from app.alarms import AlarmEngine, AlarmPermissionError, AlarmState
from app.cache import PointCache
from app.control import Command, ControlRefused
from app.control.service import ControlService
from app.security import Grant, Permission, PermissionDenied, Role
from app.ui.alarm_view import AlarmView
from app.ui.bridge import PointBridge
from app.ui.lock_screen import LockScreen
from app.ui.services import UiServices
from db.historian import Historian
from tests.alarm_site import good, write_site
from tests.security_rig import PASSWORD, rig
from tests.ui_services import DEMO

SMOKE = "IO.smoke:smoke_state"        # area R1 (room), priority 1


@pytest.fixture(params=["sqlite", "postgresql"])
def sec(request, tmp_path):
    with rig(request.param, tmp_path) as r:
        r.users.add("root", Role.ADMIN, PASSWORD, actor="test")
        r.users.add("wang", Role.OPERATOR, PASSWORD, actor="root")
        r.users.add("li", Role.VIEWER, PASSWORD, actor="root")
        yield r


def denied(r) -> list[tuple[str, str, str]]:
    return [(a.user, a.action, a.target) for a in r.audit.records() if a.result == "denied"]


def test_security_api_refuses_a_viewer_and_audits(sec):
    sec.security.login("li", PASSWORD)
    assert sec.security.may(Permission.VIEW) and not sec.security.may(Permission.CONTROL, "R1")
    for permission, action in ((Permission.CONTROL, "control.select"), (Permission.ACKNOWLEDGE, "alarm.ack"),
                               (Permission.SHELVE, "alarm.shelve"), (Permission.MANAGE_USERS, "user.add"),
                               (Permission.EDIT_SETTINGS, "setting.change")):
        with pytest.raises(PermissionDenied, match="'li' may not"):
            sec.security.authorize(permission, action=action, target="QF1_01", area="R1")
    assert denied(sec) == [("li", a, "QF1_01") for a in
                           ("control.select", "alarm.ack", "alarm.shelve", "user.add", "setting.change")]
    sec.security.login("wang", PASSWORD)
    assert sec.security.authorize(Permission.CONTROL, action="control.select", target="QF1_01", area="R1").name == "wang"
    with pytest.raises(PermissionDenied):                               # operators do not manage users
        sec.security.authorize(Permission.MANAGE_USERS, action="user.add", target="x")
    sec.security.lock()
    with pytest.raises(PermissionDenied):                               # nothing goes while locked
        sec.security.authorize(Permission.CONTROL, action="control.select", target="QF1_01", area="R1")
    assert sec.audit.verify().ok


def test_per_area_grants_are_adjustable_and_take_effect_at_once(sec):
    sec.users.revoke(Grant(Role.OPERATOR, Permission.CONTROL), actor="root")
    sec.users.grant(Grant(Role.OPERATOR, Permission.CONTROL, "R1"), actor="root")
    assert sec.security.control_permission("wang", "control", "R1")
    assert not sec.security.control_permission("wang", "control", "R2")
    assert not sec.security.control_permission("li", "control", "R1")
    assert sec.security.control_permission("root", "control", "R2")    # the administrator: everything
    sec.users.set_disabled("wang", True, actor="root")
    assert not sec.security.control_permission("wang", "control", "R1")
    with pytest.raises(ValueError, match="not granted per area"):
        Grant(Role.VIEWER, Permission.MANAGE_USERS, "R1")
    changes = [(a.action, a.before, a.after) for a in sec.audit.records() if a.action.startswith("role.")]
    assert changes == [("role.revoke", {"permission": "control", "scope": "*", "granted": True},
                        {"permission": "control", "scope": "*", "granted": False}),
                       ("role.grant", {"permission": "control", "scope": "R1", "granted": False},
                        {"permission": "control", "scope": "R1", "granted": True})]


@pytest.fixture
def alarm_rig(sec, tmp_path, qtbot) -> Iterator[tuple]:
    site = write_site(tmp_path)
    cache = PointCache()
    engine = AlarmEngine(site, permission=sec.security.alarm_permission, workstation="ws-test", tick_s=0.05)
    engine.start(cache)
    historian = Historian(f"sqlite:///{tmp_path}/journal.sqlite", spool_dir=tmp_path / "spool")
    services = UiServices(site=site, bridge=PointBridge(cache), historian=historian, device_status=dict,
                          alarms=engine)
    view = AlarmView(services, user="li")
    qtbot.addWidget(view)
    cache.update([good("IO.smoke", 1, 1.8e9)])
    assert engine.flush()
    qtbot.waitUntil(lambda: any(a.id == SMOKE for a in view.bridge.alarms()), timeout=5000)
    yield sec, engine, view
    view.shutdown()
    engine.stop()
    historian.stop()


def test_alarm_engine_api_refuses_a_viewer_and_audits(alarm_rig):
    sec, engine, _view = alarm_rig
    with pytest.raises(AlarmPermissionError):
        engine.ack(SMOKE, "li")
    with pytest.raises(AlarmPermissionError):
        engine.shelve(SMOKE, "li", 600, "nuisance")
    with pytest.raises(AlarmPermissionError):
        engine.ack(SMOKE, "nobody-at-all")
    assert engine.ack_all("li") == 0
    assert engine.alarm(SMOKE).state is AlarmState.UNACK_ACTIVE
    # each refusal once per user, action and occurrence of the alarm (views enquire on every refresh)
    assert sorted(denied(sec)) == [("li", "alarm.ack", SMOKE), ("li", "alarm.shelve", SMOKE),
                                   ("nobody-at-all", "alarm.ack", SMOKE)]
    with pytest.raises(AlarmPermissionError):                           # operators may not shelve by default
        engine.shelve(SMOKE, "wang", 600, "nuisance")
    assert engine.ack(SMOKE, "wang") is True


def test_alarm_banner_and_list_refuse_a_viewer_and_audit(alarm_rig, qtbot):
    sec, engine, view = alarm_rig
    banner = view.create_banner()
    qtbot.addWidget(banner)
    qtbot.waitUntil(lambda: banner.alarm() is not None, timeout=5000)
    qtbot.mouseClick(banner.buttons()["ack"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(banner.buttons()["ack_all"], Qt.MouseButton.LeftButton)
    done, refused = view.acknowledge_visible()
    assert done == [] and SMOKE in refused
    assert engine.alarm(SMOKE).state is AlarmState.UNACK_ACTIVE
    assert [d for d in denied(sec) if d[1] == "alarm.ack"] == [("li", "alarm.ack", SMOKE)]   # no flood


def test_control_service_refuses_a_viewer_and_audits_through_the_security_seams(sec):
    cache = PointCache()
    service = ControlService(DEMO, AcquisitionEngine([], cache), cache, permission=sec.security.control_permission,
                             password=sec.security.control_password, audit=sec.security.control_audit,
                             workstation="ws-test")
    opening = Command("QF1_01", "command", 0)
    assert service.check("li", opening)                                 # refusals listed for the dialog
    with pytest.raises(ControlRefused):
        service.select("li", opening)
    records = [a for a in sec.audit.records() if a.action.startswith("control.")]
    assert [(a.user, a.action, a.target, a.result) for a in records] == [
        ("li", "control.refused", "QF1_01.command=0", "refused")]
    assert records[0].workstation == "ws-test" and records[0].after["reason"]
    assert not sec.security.control_password("wang", "not-the-password")
    assert sec.security.control_password("wang", PASSWORD)
    assert [a.action for a in sec.audit.records()][-2:] == ["control.password.failed", "control.password"]


def test_lock_screen_emergency_access_refuses_a_viewer_and_admits_an_operator(sec, qtbot):
    opened: list[str] = []
    sec.security.login("wang", PASSWORD)
    sec.security.lock("manual")
    screen = LockScreen(sec.security, emergency=lambda user: opened.append(user.name))
    qtbot.addWidget(screen)
    screen.prepare()
    screen.user_edit.setText("li")
    screen.password_edit.setText(PASSWORD)
    qtbot.mouseClick(screen.emergency_button, Qt.MouseButton.LeftButton)
    assert opened == [] and screen.message.text()
    screen.user_edit.setText("wang")
    screen.password_edit.setText(PASSWORD)
    qtbot.mouseClick(screen.emergency_button, Qt.MouseButton.LeftButton)
    assert opened == ["wang"] and sec.security.session.locked          # still locked behind the dialog
    access = [(a.user, a.action, a.result) for a in sec.audit.records() if a.action.startswith("emergency")]
    assert access == [("li", "emergency", "ok"), ("li", "emergency.access", "denied"),
                      ("wang", "emergency", "ok"), ("wang", "emergency.access", "ok")]
