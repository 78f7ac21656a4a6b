"""The Users & roles view on the real main window, session guard and SQLite database: listed only
for users who may manage users; accounts and grants changed through the security service with
refusals shown and audited; hostile names stored and shown verbatim; Chinese by default."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QApplication, QLabel

from app.security import AuthError, Grant, Permission, Role
from app.ui.i18n import TRANSLATIONS_DIR, TsTranslator, read_ts, ts_files
from app.ui.lock_screen import SessionGuard
from app.ui.login import ERROR_TEXTS, ERRORS_CONTEXT
from app.ui.main_window import MainWindow
from app.ui.users_view import AccountDialog, UsersView
from tests.security_rig import PASSWORD, main_window, rig
from tests.test_ui_shell import marked_strings

REPO = Path(__file__).resolve().parents[1]
HOSTILE = ["<b>x</b>", "=1+1", "'; DROP TABLE users;--", "\u202eRTL\u202c عربي", "zero\u200bwidth",
           "<img src=x onerror=alert(1)>", "{name} %s &amp;"]


@pytest.fixture
def sec(tmp_path):
    """root (admin, full name 值班长), mgr and wang (operators), li (viewer)."""
    with rig("sqlite", tmp_path) as r:
        r.users.add("root", Role.ADMIN, PASSWORD, full_name="值班长", actor="test")
        for name, role in (("mgr", Role.OPERATOR), ("wang", Role.OPERATOR), ("li", Role.VIEWER)):
            r.users.add(name, role, PASSWORD, actor="root")
        yield r


@pytest.fixture
def window(tmp_path, qtbot, sec):
    with main_window(tmp_path, qtbot) as w:
        yield w


@pytest.fixture
def guarded(window, sec):
    """``login(name)``: log in, then put the session guard on the window (as the workstation does)."""
    guards: list[SessionGuard] = []

    def login(name: str) -> tuple[MainWindow, UsersView]:
        sec.security.login(name, PASSWORD)
        guards.append(SessionGuard(window, sec.security, check_ms=60_000))
        window.wait_audit_check()
        return window, window.views["users"]

    yield login
    for guard in guards:
        guard.detach()


def run(qtbot, view: UsersView, action) -> list[tuple[str, bool]]:
    """Do ``action()`` and wait until the view settled: the call returned, and after a change the
    accounts were read again. Returns ``[(what, ok), ...]``."""
    events: list[tuple[str, bool]] = []

    def on_finished(what: str, ok: bool) -> None:
        events.append((what, ok))

    view.finished.connect(on_finished)
    try:
        action()
        qtbot.waitUntil(lambda: bool(events) and (not events[-1][1] or events[-1][0] == "refresh"), timeout=15_000)
    finally:
        view.finished.disconnect(on_finished)
    return events


def open_users(qtbot, window: MainWindow) -> UsersView:
    view = window.views["users"]
    run(qtbot, view, lambda: window.show_view("users"))
    return view


def cells(view: UsersView) -> dict[str, list[str]]:
    table = view.table
    return {table.item(r, 0).text(): [table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())}


def listed(window: MainWindow) -> bool:
    item = window._item("users")
    return item is not None and not item.isHidden()


def submit(qtbot, view: UsersView, dialog: AccountDialog) -> list[tuple[str, bool]]:
    return run(qtbot, view, lambda: qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton))


def add_via_dialog(qtbot, view: UsersView, name: str, full_name: str, role: Role, password: str = PASSWORD,
                   repeat: str | None = None) -> tuple[AccountDialog, list[tuple[str, bool]]]:
    qtbot.mouseClick(view.add_button, Qt.MouseButton.LeftButton)
    dialog = view.dialog
    dialog.name_edit.setText(name)
    dialog.full_name_edit.setText(full_name)
    dialog.role_combo.setCurrentIndex(dialog.role_combo.findData(role.value))
    dialog.password_edit.setText(password)
    dialog.repeat_edit.setText(password if repeat is None else repeat)
    return dialog, submit(qtbot, view, dialog)


def denied(sec) -> list[tuple[str, str, str]]:
    return [(a.user, a.action, a.target) for a in sec.audit.records() if a.result == "denied"]


# ------------------------------------------------------------------------------ who sees it
def test_every_string_of_the_view_has_a_chinese_translation():
    table = {}
    for path in ts_files("zh_CN"):
        table.update(read_ts(path))
    marked = marked_strings(REPO / "app/ui/users_view.py") | marked_strings(REPO / "app/ui/login.py")
    names = {("UsersView", s) for s in ("Administrator", "Operator", "Viewer", "View", "Control (telecontrol)",
                                        "Acknowledge alarms", "Shelve alarms", "Edit settings", "Manage users",
                                        "Export reports")}
    errors = {(ERRORS_CONTEXT, source) for source, _fields in ERROR_TEXTS.values()}
    assert len(marked) > 50
    assert sorted(m for m in marked | names | errors if m not in table) == []


def test_an_operator_without_manage_users_never_sees_the_view(sec, guarded, qtbot):
    window, view = guarded("wang")
    assert not listed(window)
    with pytest.raises(KeyError, match="not available to this user"):
        window.show_view("users")
    assert window.current_view() != "users" and view.table.rowCount() == 0
    assert not any(a.action in ("user.list", "role.list") for a in sec.audit.records())   # never even asked


def test_the_view_follows_the_session_user_through_lock_and_take_over(sec, guarded, qtbot):
    window, view = guarded("root")
    assert listed(window)
    open_users(qtbot, window)
    assert set(cells(view)) == {"root", "mgr", "wang", "li"}
    guard = window.findChild(SessionGuard)
    guard.lock("manual")
    guard.screen.user_edit.setText("li")                        # a viewer takes over the locked session
    guard.screen.password_edit.setText(PASSWORD)
    qtbot.mouseClick(guard.screen.unlock_button, Qt.MouseButton.LeftButton)
    assert sec.security.session.user.name == "li"
    assert not listed(window) and window.current_view() != "users"
    assert view.table.rowCount() == 0 and view.accounts == []   # nothing left behind for the viewer
    # an operator granted manage_users gets the view
    sec.users.grant(Grant(Role.OPERATOR, Permission.MANAGE_USERS), actor="root")
    guard.lock("manual")
    guard.screen.user_edit.setText("mgr")
    guard.screen.password_edit.setText(PASSWORD)
    qtbot.mouseClick(guard.screen.unlock_button, Qt.MouseButton.LeftButton)
    assert listed(window)


def test_a_right_withdrawn_meanwhile_is_refused_shown_and_the_view_withdrawn(sec, guarded, qtbot):
    sec.users.grant(Grant(Role.OPERATOR, Permission.MANAGE_USERS), actor="root")
    window, view = guarded("mgr")
    open_users(qtbot, window)
    sec.users.revoke(Grant(Role.OPERATOR, Permission.MANAGE_USERS), actor="root")   # by an administrator
    events = run(qtbot, view, lambda: qtbot.mouseClick(view.refresh_button, Qt.MouseButton.LeftButton))
    assert events == [("refresh", False)]
    assert not listed(window) and window.current_view() != "users" and view.accounts == []
    assert view.message.text() == ""                                     # nothing left behind ...
    assert window.statusBar().currentMessage() == "Users & roles closed: your role may no longer manage users."
    assert ("mgr", "user.list", "") in denied(sec)


def test_locking_closes_an_open_form_and_a_read_begun_before_the_view_was_withdrawn_shows_nothing(
        sec, guarded, qtbot):
    window, view = guarded("root")
    open_users(qtbot, window)
    qtbot.mouseClick(view.add_button, Qt.MouseButton.LeftButton)
    view.dialog.name_edit.setText("zhou")
    view.dialog.password_edit.setText(PASSWORD)
    guard = window.findChild(SessionGuard)
    guard.lock("manual")
    assert view.dialog is None                                  # nothing half-typed waits behind the lock
    guard.screen.password_edit.setText(PASSWORD)
    qtbot.mouseClick(guard.screen.unlock_button, Qt.MouseButton.LeftButton)
    assert not guard.is_locked
    events: list[tuple[str, bool]] = []
    view.finished.connect(lambda what, ok: events.append((what, ok)))
    view.refresh()                                              # a read on its way ...
    view.clear()                                                # ... when the view is withdrawn
    qtbot.waitUntil(lambda: events == [("refresh", True)], timeout=10_000)
    assert view.accounts == [] and view.table.rowCount() == 0


# ------------------------------------------------------------------------------ accounts
def test_the_accounts_table(sec, guarded, qtbot):
    for _ in range(5):
        with pytest.raises(AuthError):
            sec.users.authenticate("wang", "not-the-password")
    sec.users.set_disabled("li", True, actor="root")
    window, view = guarded("root")
    view.clock = sec.clock                                              # lockouts end by the rig's clock
    open_users(qtbot, window)
    rows = cells(view)
    assert [view.table.horizontalHeaderItem(c).text() for c in range(6)] == [
        "User name", "Full name", "Role", "State", "Locked out until", "Last login"]
    login = view._time(sec.clock.now)
    assert rows["root"] == ["root", "值班长", "Administrator", "Enabled", "—", login]
    assert rows["wang"] == ["wang", "", "Operator", "Enabled", view._time(sec.clock.now + 15 * 60), "Never"]
    assert rows["li"] == ["li", "", "Viewer", "Disabled", "—", "Never"]
    names = list(rows)
    assert view.table.item(names.index("li"), 3).font().bold()           # disabled: bold
    assert not view.table.item(names.index("root"), 3).font().bold()     # enabled: plain
    assert view.table.item(names.index("wang"), 4).font().bold()         # locked out: bold
    # the lockout ends: shown as over
    sec.clock.advance(15 * 60 + 1)
    run(qtbot, view, lambda: qtbot.mouseClick(view.refresh_button, Qt.MouseButton.LeftButton))
    assert cells(view)["wang"][4] == "—"


def test_add_reset_role_disable_enable_through_the_view_are_audited(sec, guarded, qtbot):
    window, view = guarded("root")
    open_users(qtbot, window)
    dialog, events = add_via_dialog(qtbot, view, "zhao", "赵师傅", Role.OPERATOR)
    assert events == [("add", True), ("refresh", True)] and view.dialog is None     # closed when done
    assert view.message.text() == "Account zhao added."
    assert cells(view)["zhao"][:4] == ["zhao", "赵师傅", "Operator", "Enabled"]

    view.select("zhao")
    qtbot.mouseClick(view.password_button, Qt.MouseButton.LeftButton)
    view.dialog.password_edit.setText(PASSWORD + "-2")
    view.dialog.repeat_edit.setText(PASSWORD + "-2")
    assert submit(qtbot, view, view.dialog) == [("password", True), ("refresh", True)]
    assert sec.users.authenticate("zhao", PASSWORD + "-2").name == "zhao"

    view.select("zhao")
    qtbot.mouseClick(view.role_button, Qt.MouseButton.LeftButton)
    assert view.dialog.role_combo.currentData() == "operator"          # the current role preselected
    view.dialog.role_combo.setCurrentIndex(view.dialog.role_combo.findData("viewer"))
    assert submit(qtbot, view, view.dialog) == [("role", True), ("refresh", True)]
    assert sec.users.get("zhao").role is Role.VIEWER and cells(view)["zhao"][2] == "Viewer"

    view.select("zhao")
    assert view.disable_button.isEnabled() and not view.enable_button.isEnabled()
    assert run(qtbot, view, lambda: qtbot.mouseClick(view.disable_button, Qt.MouseButton.LeftButton)) == [
        ("disable", True), ("refresh", True)]
    assert sec.users.get("zhao").disabled and cells(view)["zhao"][3] == "Disabled"
    view.select("zhao")                                                 # the selection survives a refresh
    assert view.enable_button.isEnabled() and not view.disable_button.isEnabled()
    run(qtbot, view, lambda: qtbot.mouseClick(view.enable_button, Qt.MouseButton.LeftButton))
    assert not sec.users.get("zhao").disabled
    changes = [(a.user, a.action, a.target) for a in sec.audit.records() if a.target == "zhao"
               and a.action.startswith("user.")]
    assert changes == [("root", "user.add", "zhao"), ("root", "user.password", "zhao"),
                       ("root", "user.role", "zhao"), ("root", "user.disable", "zhao"),
                       ("root", "user.enable", "zhao")]


def test_a_refused_form_stays_open_with_the_reason_and_keeps_what_was_typed(sec, guarded, qtbot):
    window, view = guarded("root")
    open_users(qtbot, window)
    qtbot.mouseClick(view.add_button, Qt.MouseButton.LeftButton)
    dialog = view.dialog
    assert dialog.role_combo.currentData() == "viewer"                  # a new account starts with the least
    dialog.name_edit.setText("zhou")
    dialog.password_edit.setText(PASSWORD)
    dialog.repeat_edit.setText(PASSWORD + "x")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)      # checked here, nothing sent
    assert dialog.message.text() == "The two passwords differ." and not view._busy()
    dialog.password_edit.setText("short")
    dialog.repeat_edit.setText("short")
    assert submit(qtbot, view, dialog) == [("add", False)]
    assert dialog.isVisible() and dialog.message.text() == "A password needs at least 10 characters."
    assert dialog.name_edit.text() == "zhou" and dialog.password_edit.text() == "" and dialog.ok_button.isEnabled()
    dialog.name_edit.setText("wang")                                   # exists
    dialog.password_edit.setText(PASSWORD)
    dialog.repeat_edit.setText(PASSWORD)
    assert submit(qtbot, view, dialog) == [("add", False)]
    assert dialog.message.text() == "An account with this user name exists already."
    dialog.name_edit.setText(" padded")
    dialog.password_edit.setText(PASSWORD)
    dialog.repeat_edit.setText(PASSWORD)
    submit(qtbot, view, dialog)
    assert dialog.message.text() == "A user name may not begin or end with a space."
    dialog.reject()
    assert {u.name for u in sec.users.list()} == {"root", "mgr", "wang", "li"}
    view.select("root")                                                 # the last administrator
    run(qtbot, view, lambda: qtbot.mouseClick(view.disable_button, Qt.MouseButton.LeftButton))
    assert view.message.text() == "This is the last enabled administrator: make another administrator first."
    assert view.message.property("state") == "offline"


def test_an_operator_with_manage_users_is_refused_on_administrators_and_grants_with_the_reason(sec, guarded, qtbot):
    sec.users.grant(Grant(Role.OPERATOR, Permission.MANAGE_USERS), actor="root")
    window, view = guarded("mgr")
    open_users(qtbot, window)
    admin_only = ("Refused: only an administrator may change administrator accounts or what a role may do. "
                  "The attempt was recorded.")
    view.select("root")
    qtbot.mouseClick(view.password_button, Qt.MouseButton.LeftButton)
    view.dialog.password_edit.setText(PASSWORD + "-x")
    view.dialog.repeat_edit.setText(PASSWORD + "-x")
    assert submit(qtbot, view, view.dialog) == [("password", False)]
    assert view.dialog.message.text() == admin_only
    view.dialog.reject()
    view.select("root")
    run(qtbot, view, lambda: qtbot.mouseClick(view.disable_button, Qt.MouseButton.LeftButton))
    assert view.message.text() == admin_only
    _dialog, events = add_via_dialog(qtbot, view, "boss", "", Role.ADMIN)
    assert events == [("add", False)]
    view.dialog.reject()
    view.tabs.setCurrentIndex(1)
    assert run(qtbot, view, lambda: qtbot.mouseClick(view.grant_button, Qt.MouseButton.LeftButton)) == [
        ("grant", False)]
    assert view.message.text() == admin_only
    assert denied(sec) == [("mgr", "user.password", "root"), ("mgr", "user.disable", "root"),
                           ("mgr", "user.add", "boss"), ("mgr", "role.grant", "operator")]
    assert sec.users.authenticate("root", PASSWORD) and not sec.users.get("root").disabled
    # what an operator with manage_users may do, it does
    view.tabs.setCurrentIndex(0)
    _dialog, events = add_via_dialog(qtbot, view, "zhao", "", Role.VIEWER)
    assert events == [("add", True), ("refresh", True)] and sec.users.get("zhao").role is Role.VIEWER


def test_hostile_names_and_full_names_are_stored_and_shown_verbatim(sec, guarded, qtbot):
    window, view = guarded("root")
    open_users(qtbot, window)
    for i, name in enumerate(HOSTILE):
        _dialog, events = add_via_dialog(qtbot, view, name, HOSTILE[-1 - i], Role.VIEWER)
        assert events == [("add", True), ("refresh", True)], name
        assert view.message.text() == f"Account {name} added."
        assert view.message.textFormat() == Qt.TextFormat.PlainText
    stored = {u.name: u.full_name for u in sec.users.list()}
    assert {n: stored[n] for n in HOSTILE} == {n: HOSTILE[-1 - i] for i, n in enumerate(HOSTILE)}
    rows = cells(view)
    for i, name in enumerate(HOSTILE):
        assert rows[name][:2] == [name, HOSTILE[-1 - i]]
    # no user text in a tooltip (Qt would take it for rich text) and every label is plain text
    table = view.table
    assert all(not table.item(r, c).toolTip() for r in range(table.rowCount()) for c in range(table.columnCount()))
    view.select(HOSTILE[0])
    qtbot.mouseClick(view.password_button, Qt.MouseButton.LeftButton)
    labels = [label for label in view.dialog.findChildren(QLabel) if label.text() == HOSTILE[0]]
    assert labels and all(label.textFormat() == Qt.TextFormat.PlainText for label in labels)
    view.dialog.reject()
    with sec.users.engine.connect() as conn:                               # the tables are all still there
        from sqlalchemy import inspect
        assert {"users", "role_permissions", "audit_log"} <= set(inspect(conn).get_table_names())
    assert [a.target for a in sec.audit.records() if a.action == "user.add"][-len(HOSTILE):] == HOSTILE
    assert sec.audit.verify().ok


# ------------------------------------------------------------------------------ grants
def test_grants_per_role_permission_and_area(sec, guarded, qtbot):
    window, view = guarded("root")
    open_users(qtbot, window)
    view.tabs.setCurrentIndex(1)
    perms, roles = list(Permission), list(Role)

    def cell(role: Role, permission: Permission) -> str:
        return view.grid.item(perms.index(permission), roles.index(role)).text()

    assert cell(Role.ADMIN, Permission.MANAGE_USERS) == "Always"
    assert cell(Role.OPERATOR, Permission.CONTROL) == "All areas" and cell(Role.VIEWER, Permission.CONTROL) == "—"
    assert cell(Role.OPERATOR, Permission.SHELVE) == "—"
    view.grid.setCurrentCell(perms.index(Permission.SHELVE), roles.index(Role.OPERATOR))
    view._on_grid_cell_clicked(perms.index(Permission.SHELVE), roles.index(Role.OPERATOR))
    assert view.grant_role.currentData() == "operator" and view.grant_permission.currentData() == "shelve"
    assert view.grant_area.isEnabled()
    view.grant_area.setCurrentIndex(view.grant_area.findData("HV_ROOM"))
    assert view.grant_area.currentText() == "高压配电室 (HV_ROOM)"
    assert run(qtbot, view, lambda: qtbot.mouseClick(view.grant_button, Qt.MouseButton.LeftButton)) == [
        ("grant", True), ("refresh", True)]
    assert cell(Role.OPERATOR, Permission.SHELVE) == "高压配电室"
    assert view.message.text() == "Operator may now: Shelve alarms (高压配电室)."
    assert sec.users.permissions().allows(Role.OPERATOR, Permission.SHELVE, "HV_ROOM")
    run(qtbot, view, lambda: qtbot.mouseClick(view.grant_button, Qt.MouseButton.LeftButton))
    assert view.message.text() == "Operator could already: Shelve alarms (高压配电室)."
    run(qtbot, view, lambda: qtbot.mouseClick(view.revoke_button, Qt.MouseButton.LeftButton))
    assert cell(Role.OPERATOR, Permission.SHELVE) == "—"
    # permissions that are not per area take every area
    view.grant_permission.setCurrentIndex(perms.index(Permission.EXPORT_REPORTS))
    assert not view.grant_area.isEnabled() and view.grant_area.currentData() == "*"
    view.grant_role.setCurrentIndex(view.grant_role.findData("viewer"))
    run(qtbot, view, lambda: qtbot.mouseClick(view.grant_button, Qt.MouseButton.LeftButton))
    assert cell(Role.VIEWER, Permission.EXPORT_REPORTS) == "All areas"
    grants = [(a.action, a.target, a.after) for a in sec.audit.records() if a.action.startswith("role.")]
    assert grants == [
        ("role.grant", "operator", {"permission": "shelve", "scope": "HV_ROOM", "granted": True}),
        ("role.revoke", "operator", {"permission": "shelve", "scope": "HV_ROOM", "granted": False}),
        ("role.grant", "viewer", {"permission": "export_reports", "scope": "*", "granted": True})]


# ------------------------------------------------------------------------------ language
def test_chinese_by_default_of_the_translations(sec, guarded, qtbot):
    window, view = guarded("wang")
    sec.security.login("root", PASSWORD)
    window.set_user("root", "administrator")
    translator = TsTranslator([TRANSLATIONS_DIR / "UsersView.zh_CN.ts", TRANSLATIONS_DIR / "Security.zh_CN.ts",
                               TRANSLATIONS_DIR / "MainWindow.zh_CN.ts"], "zh_CN")
    app = QApplication.instance()
    app.installTranslator(translator)
    try:
        QCoreApplication.processEvents()
        open_users(qtbot, window)
        assert view.heading.text() == "用户与角色" and view.tabs.tabText(0) == "账户"
        assert window._item("users").text() == "用户与角色"
        assert cells(view)["root"][2] == "管理员" and cells(view)["li"][5] == "从未"
        view.select("root")
        run(qtbot, view, lambda: qtbot.mouseClick(view.disable_button, Qt.MouseButton.LeftButton))
        assert view.message.text() == "这是最后一个启用的管理员：请先设立另一名管理员。"
    finally:
        app.removeTranslator(translator)
        QCoreApplication.processEvents()
    assert view.heading.text() == "Users & roles" and cells(view)["root"][2] == "Administrator"
