"""Users & roles: the accounts of the site and what each role may do, for those who manage them.

The main window shows this view only to a user whose role has ``manage_users``; every
action still goes through :class:`~app.security.SecurityService`, which checks and
audits it, so a refusal (an operator with ``manage_users`` touching an administrator
account or a grant, a right withdrawn meanwhile on another workstation) is shown here
with its reason. Each service call runs on a short-lived worker thread and reports
back by queued signal: the GUI thread never waits on the database or a password hash.

User-supplied text (names, full names) is shown verbatim: table cells are plain text,
labels are plain-text labels, and no user text goes into a tooltip or rich-text widget.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout,
                               QHeaderView, QLabel, QLineEdit, QPushButton, QTableWidget, QTableWidgetItem,
                               QTabWidget, QVBoxLayout, QWidget)

from app.security import ALL_AREAS, Account, Grant, Permission, PermissionModel, Role, SecurityService
from app.security.passwords import MIN_LENGTH
from app.security.permissions import AREA_PERMISSIONS
from app.ui.login import plain_label, security_error_text
from app.ui.theme import colours

#: Columns of the accounts table.
ACCOUNT_COLUMNS = ("name", "full_name", "role", "state", "locked_until", "last_login")
#: Roles an account may have, in the order offered (a new account starts with the least).
ROLES = (Role.VIEWER, Role.OPERATOR, Role.ADMIN)
#: Roles that take grants (the administrator may always do everything).
GRANTABLE_ROLES = (Role.OPERATOR, Role.VIEWER)


class _Relay(QObject):
    """Carries a worker's outcome to the GUI thread (queued connection)."""

    finished = Signal(str, object)   # what, return value or the exception raised


class AccountDialog(QDialog):
    """One account form: ``add`` (name, full name, role, password), ``password`` (new password)
    or ``role`` (new role). It stays open until the change is made, showing any refusal.

    Parameters
    ----------
    kind : {'add', 'password', 'role'}
    name : str
        The account changed (``password``, ``role``); shown verbatim.
    role : Role, optional
        The account's role now (``role``).
    parent : QWidget, optional

    Signals
    -------
    submitted()
        OK was pressed and the form is complete; :meth:`values` holds it.
    """

    submitted = Signal()

    def __init__(self, kind: str, name: str = "", role: Role | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if kind not in ("add", "password", "role"):
            raise ValueError(f"unknown account form {kind!r}")
        self.kind = kind
        self.name = name
        self.setModal(True)
        self.setMinimumWidth(420)
        self.name_edit = QLineEdit(self)
        self.full_name_edit = QLineEdit(self)
        self.role_combo = QComboBox(self)
        for r in ROLES:
            self.role_combo.addItem(role_text(r), r.value)
        if role is not None:
            self.role_combo.setCurrentIndex(ROLES.index(role))
        self.password_edit = QLineEdit(self)
        self.repeat_edit = QLineEdit(self)
        for edit in (self.password_edit, self.repeat_edit):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        if kind == "add":
            self.setWindowTitle(self.tr("Add user"))
            form.addRow(self.tr("User name"), self.name_edit)
            form.addRow(self.tr("Full name"), self.full_name_edit)
            form.addRow(self.tr("Role"), self.role_combo)
        else:
            form.addRow(self.tr("User name"), plain_label(name, self))
        if kind == "password":
            self.setWindowTitle(self.tr("Reset password"))
        if kind == "role":
            self.setWindowTitle(self.tr("Change role"))
            form.addRow(self.tr("New role"), self.role_combo)
        if kind in ("add", "password"):
            form.addRow(self.tr("Password (at least {n} characters)").format(n=MIN_LENGTH), self.password_edit)
            form.addRow(self.tr("Repeat password"), self.repeat_edit)
        used = {"add": (self.name_edit, self.full_name_edit, self.role_combo, self.password_edit, self.repeat_edit),
                "password": (self.password_edit, self.repeat_edit), "role": (self.role_combo,)}[kind]
        for widget in (self.name_edit, self.full_name_edit, self.role_combo, self.password_edit, self.repeat_edit):
            widget.setVisible(widget in used)       # fields of other forms stay out of sight
        self.message = plain_label("", self)
        self.message.setWordWrap(True)
        self.message.setProperty("role", "note")
        self.message.setProperty("state", "offline")
        buttons = QDialogButtonBox(self)
        self.ok_button = buttons.addButton(self.tr("OK"), QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def values(self) -> dict[str, Any]:
        """The form: ``name``, ``full_name``, ``role`` (:class:`Role`), ``password``."""
        return {"name": self.name_edit.text() if self.kind == "add" else self.name,
                "full_name": self.full_name_edit.text(), "role": Role(self.role_combo.currentData()),
                "password": self.password_edit.text()}

    def set_busy(self, busy: bool) -> None:
        """Disable OK while the change is being made."""
        self.ok_button.setEnabled(not busy)

    def refuse(self, text: str) -> None:
        """Show why the change was refused; passwords are cleared, everything else kept."""
        self.password_edit.clear()
        self.repeat_edit.clear()
        self.message.setText(text)
        self.set_busy(False)

    def _on_buttons_accepted(self) -> None:
        if self.kind in ("add", "password") and self.password_edit.text() != self.repeat_edit.text():
            self.refuse(self.tr("The two passwords differ."))
            return
        self.message.clear()
        self.submitted.emit()


def role_text(role: Role) -> str:
    """A role's name in the operator's language."""
    return QCoreApplication.translate("UsersView", {Role.ADMIN: "Administrator", Role.OPERATOR: "Operator",
                                                    Role.VIEWER: "Viewer"}[role])


def permission_text(permission: Permission) -> str:
    """A permission's name in the operator's language."""
    return QCoreApplication.translate("UsersView", {
        Permission.VIEW: "View", Permission.CONTROL: "Control (telecontrol)",
        Permission.ACKNOWLEDGE: "Acknowledge alarms", Permission.SHELVE: "Shelve alarms",
        Permission.EDIT_SETTINGS: "Edit settings", Permission.MANAGE_USERS: "Manage users",
        Permission.EXPORT_REPORTS: "Export reports"}[permission])


class UsersView(QWidget):
    """Accounts (add, reset password, change role, enable/disable) and grants (grant, revoke).

    Parameters
    ----------
    security : SecurityService
        With the session of the user acting (who must have ``manage_users``).
    areas : sequence of (str, str)
        ``(area id, area name)`` of the site, offered as grant scopes.
    tz : tzinfo, optional
        Time zone of the times shown (the site's); default local time.
    clock : callable
        UTC epoch seconds now (whether a lockout is still running).
    theme : callable, optional
        ``() -> theme name`` (``dark``/``light``, the settings' current one), for the
        colour of disabled accounts; default ``dark``.
    parent : QWidget, optional

    Signals
    -------
    finished(str, bool)
        A service call returned on the GUI thread: what (``refresh``, ``add``,
        ``password``, ``role``, ``disable``, ``enable``, ``grant``, ``revoke``) and
        whether it succeeded.
    """

    finished = Signal(str, bool)

    def __init__(self, security: SecurityService, areas: Sequence[tuple[str, str]] = (), tz: tzinfo | None = None,
                 clock: Callable[[], float] = time.time, theme: Callable[[], str] = lambda: "dark",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.security = security
        self._theme = theme
        self.areas = dict(areas)
        self.tz = tz
        self.clock = clock
        self.accounts: list[Account] = []
        self.model = PermissionModel()
        self.dialog: AccountDialog | None = None
        self._worker: threading.Thread | None = None
        self._epoch = 0       # bumped by clear(): results of calls begun before are not shown
        self._relay = _Relay(self)
        self._relay.finished.connect(self._on_worker_finished)
        self._build()
        self._retranslate()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.heading = QLabel(self)
        self.heading.setProperty("role", "heading")
        self.note = QLabel(self)
        self.note.setProperty("role", "note")
        self.message = plain_label("", self)
        self.message.setProperty("role", "note")
        self.message.setWordWrap(True)
        self.tabs = QTabWidget(self)

        accounts = QWidget(self.tabs)
        self.table = QTableWidget(0, len(ACCOUNT_COLUMNS), accounts)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setMinimumSectionSize(120)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.add_button = QPushButton(accounts)
        self.password_button = QPushButton(accounts)
        self.role_button = QPushButton(accounts)
        self.disable_button = QPushButton(accounts)
        self.enable_button = QPushButton(accounts)
        self.refresh_button = QPushButton(accounts)
        self.add_button.clicked.connect(lambda: self._open_dialog("add"))
        self.password_button.clicked.connect(lambda: self._open_dialog("password"))
        self.role_button.clicked.connect(lambda: self._open_dialog("role"))
        self.disable_button.clicked.connect(lambda: self._on_disable_clicked(True))
        self.enable_button.clicked.connect(lambda: self._on_disable_clicked(False))
        self.refresh_button.clicked.connect(self.refresh)
        row = QHBoxLayout()
        for button in (self.add_button, self.password_button, self.role_button, self.disable_button,
                       self.enable_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.refresh_button)
        box = QVBoxLayout(accounts)
        box.addWidget(self.table, 1)
        box.addLayout(row)
        self.tabs.addTab(accounts, "")

        grants = QWidget(self.tabs)
        self.grid = QTableWidget(len(Permission), len(Role), grants)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.grid.cellClicked.connect(self._on_grid_cell_clicked)
        self.grant_role = QComboBox(grants)
        self.grant_permission = QComboBox(grants)
        self.grant_area = QComboBox(grants)
        self.grant_permission.currentIndexChanged.connect(self._update_buttons)
        self.grant_button = QPushButton(grants)
        self.revoke_button = QPushButton(grants)
        self.grant_button.clicked.connect(lambda: self._on_grant_clicked(True))
        self.revoke_button.clicked.connect(lambda: self._on_grant_clicked(False))
        self._grant_captions = [QLabel(grants) for _ in range(3)]
        row = QHBoxLayout()
        for caption, combo in zip(self._grant_captions, (self.grant_role, self.grant_permission, self.grant_area)):
            row.addWidget(caption)
            row.addWidget(combo, 1)
        row.addWidget(self.grant_button)
        row.addWidget(self.revoke_button)
        box = QVBoxLayout(grants)
        box.addWidget(self.grid, 1)
        box.addLayout(row)
        self.tabs.addTab(grants, "")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(self.heading)
        layout.addWidget(self.note)
        layout.addWidget(self.message)
        layout.addWidget(self.tabs, 1)

    def _retranslate(self) -> None:
        self.heading.setText(self.tr("Users & roles"))
        self.note.setText(self.tr("Every change is checked against your role and recorded in the audit log."))
        self.tabs.setTabText(0, self.tr("Accounts"))
        self.tabs.setTabText(1, self.tr("Permissions"))
        self.table.setHorizontalHeaderLabels([
            self.tr("User name"), self.tr("Full name"), self.tr("Role"), self.tr("State"),
            self.tr("Locked out until"), self.tr("Last login")])
        self.add_button.setText(self.tr("Add user…"))
        self.password_button.setText(self.tr("Reset password…"))
        self.role_button.setText(self.tr("Change role…"))
        self.disable_button.setText(self.tr("Disable"))
        self.enable_button.setText(self.tr("Enable"))
        self.refresh_button.setText(self.tr("Refresh"))
        self.grid.setHorizontalHeaderLabels([role_text(r) for r in Role])
        self.grid.setVerticalHeaderLabels([permission_text(p) for p in Permission])
        for caption, text in zip(self._grant_captions, (self.tr("Role"), self.tr("Permission"), self.tr("Area"))):
            caption.setText(text)
        self.grant_button.setText(self.tr("Grant"))
        self.revoke_button.setText(self.tr("Revoke"))
        self._fill_combos()
        self._fill_tables()

    def _fill_combos(self) -> None:
        keep = (self.grant_role.currentIndex(), self.grant_permission.currentIndex(), self.grant_area.currentIndex())
        for combo in (self.grant_role, self.grant_permission, self.grant_area):
            combo.blockSignals(True)
            combo.clear()
        for r in GRANTABLE_ROLES:
            self.grant_role.addItem(role_text(r), r.value)
        for p in Permission:
            self.grant_permission.addItem(permission_text(p), p.value)
        self.grant_area.addItem(self.tr("All areas"), ALL_AREAS)
        for area_id, name in self.areas.items():
            self.grant_area.addItem(f"{name} ({area_id})" if name else area_id, area_id)
        for combo, index in zip((self.grant_role, self.grant_permission, self.grant_area), keep):
            combo.setCurrentIndex(max(index, 0))
            combo.blockSignals(False)
        self._update_buttons()

    # ------------------------------------------------------------------ public
    def refresh(self) -> None:
        """Read the accounts and grants again (on a worker thread)."""
        security = self.security
        self._run("refresh", lambda: (security.list_users(), security.permission_model()))

    def clear(self) -> None:
        """Forget everything shown (the user may no longer manage users); a call still running
        reports nothing here when it returns."""
        self._epoch += 1
        self.accounts, self.model = [], PermissionModel()
        self.close_dialog()
        self.message.clear()
        self._fill_tables()

    def close_dialog(self) -> None:
        """Close an open account form, discarding what was typed (the session locked)."""
        if self.dialog is not None:
            self.dialog.reject()

    def selected(self) -> Account | None:
        """The account selected in the table."""
        rows = self.table.selectionModel().selectedRows()
        return self.accounts[rows[0].row()] if rows and rows[0].row() < len(self.accounts) else None

    def select(self, name: str) -> None:
        """Select the account ``name``.

        Raises
        ------
        KeyError
            No such account is listed.
        """
        for row, account in enumerate(self.accounts):
            if account.user.name == name:
                self.table.selectRow(row)
                return
        raise KeyError(f"no account {name!r} is listed")

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Join the worker thread if one runs (tests, closing)."""
        if self._worker is not None:
            self._worker.join(timeout_s)

    # ------------------------------------------------------------------ tables
    def _fill_tables(self) -> None:
        selected = self.selected()
        self.table.setRowCount(len(self.accounts))
        now = self.clock()
        muted = colours(self._theme()).q("bad")
        for row, account in enumerate(self.accounts):
            u = account.user
            locked = u.locked_until is not None and u.locked_until > now
            cells = (u.name, u.full_name, role_text(u.role), self.tr("Disabled") if u.disabled else self.tr("Enabled"),
                     self._time(u.locked_until) if locked else "—",
                     self._time(account.last_login) if account.last_login is not None else self.tr("Never"))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if u.disabled:                        # an account that can do nothing: greyed out
                    item.setForeground(muted)
                if (column == 3 and u.disabled) or (column == 4 and locked):
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(row, column, item)
        if selected is not None and any(a.user.name == selected.user.name for a in self.accounts):
            self.select(selected.user.name)
        for row, permission in enumerate(Permission):
            for column, role in enumerate(Role):
                self.grid.setItem(row, column, QTableWidgetItem(self._grant_cell(role, permission)))
        self._update_buttons()

    def _grant_cell(self, role: Role, permission: Permission) -> str:
        if role is Role.ADMIN:
            return self.tr("Always")
        scopes = [g.scope for g in self.model.of(role) if g.permission is permission]
        if ALL_AREAS in scopes:
            return self.tr("All areas")
        return ", ".join(self.areas.get(s) or s for s in scopes) if scopes else "—"

    def _time(self, ts: float) -> str:
        return datetime.fromtimestamp(ts, self.tz).strftime("%Y-%m-%d %H:%M")

    def _update_buttons(self) -> None:
        idle = not self._busy()
        account = self.selected()
        self.add_button.setEnabled(idle)
        self.refresh_button.setEnabled(idle)
        for button in (self.password_button, self.role_button):
            button.setEnabled(idle and account is not None)
        self.disable_button.setEnabled(idle and account is not None and not account.user.disabled)
        self.enable_button.setEnabled(idle and account is not None and account.user.disabled)
        per_area = Permission(self.grant_permission.currentData() or Permission.VIEW.value) in AREA_PERMISSIONS
        if not per_area:
            self.grant_area.setCurrentIndex(0)
        self.grant_area.setEnabled(per_area)
        self.grant_button.setEnabled(idle)
        self.revoke_button.setEnabled(idle)

    # ------------------------------------------------------------------ actions
    def _open_dialog(self, kind: str) -> AccountDialog | None:
        account = self.selected()
        if kind != "add" and account is None:
            return None
        if self.dialog is not None:
            self.dialog.reject()
        dialog = AccountDialog(kind, account.user.name if account else "", account.user.role if account else None,
                               self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.submitted.connect(lambda d=dialog: self._on_dialog_submitted(d))
        dialog.finished.connect(lambda _code, d=dialog: self._on_dialog_finished(d))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _on_dialog_submitted(self, dialog: AccountDialog) -> None:
        v, security = dialog.values(), self.security
        calls: dict[str, Callable[[], Any]] = {
            "add": lambda: security.add_user(v["name"], v["role"], v["password"], full_name=v["full_name"]),
            "password": lambda: security.set_password(v["name"], v["password"]),
            "role": lambda: security.set_role(v["name"], v["role"]),
        }
        dialog.set_busy(True)
        self._run(dialog.kind, calls[dialog.kind], name=v["name"])

    def _on_dialog_finished(self, dialog: AccountDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def _on_disable_clicked(self, disable: bool) -> None:
        account = self.selected()
        if account is not None:
            name, security = account.user.name, self.security
            self._run("disable" if disable else "enable", lambda: security.set_disabled(name, disable), name=name)

    def _on_grid_cell_clicked(self, row: int, column: int) -> None:
        role = list(Role)[column]
        if role in GRANTABLE_ROLES:
            self.grant_role.setCurrentIndex(GRANTABLE_ROLES.index(role))
        self.grant_permission.setCurrentIndex(row)

    def _on_grant_clicked(self, give: bool) -> None:
        try:
            grant = Grant(Role(self.grant_role.currentData()), Permission(self.grant_permission.currentData()),
                          self.grant_area.currentData())
        except ValueError as err:            # the combos offer only valid grants; kept as a guard
            self._show(str(err), refused=True)
            return
        security = self.security
        if give:
            self._run("grant", lambda: security.grant(grant), grant=grant)
        else:
            self._run("revoke", lambda: security.revoke(grant), grant=grant)

    # ------------------------------------------------------------------ worker
    def _busy(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    def _run(self, what: str, call: Callable[[], Any], **context: Any) -> None:
        if self._busy():
            return
        relay, epoch = self._relay, self._epoch

        def work() -> None:
            try:
                outcome: Any = call()
            except Exception as exc:  # shown in the view, never a crash of the GUI
                outcome = exc
            relay.finished.emit(what, (outcome, context, epoch))

        self._worker = threading.Thread(target=work, name=f"users-{what}", daemon=True)
        self._worker.start()
        self._update_buttons()

    def _on_worker_finished(self, what: str, payload: tuple[Any, dict[str, Any], int]) -> None:
        if self._worker is not None:
            self._worker.join()
            self._worker = None
        outcome, context, epoch = payload
        ok = not isinstance(outcome, Exception)
        if epoch != self._epoch:          # begun for a user who may no longer see this view
            self._update_buttons()
            self.finished.emit(what, ok)
            return
        dialog = self.dialog if what in ("add", "password", "role") else None
        if not ok:
            text = security_error_text(outcome)
            if dialog is not None:
                dialog.refuse(text)
            self._show(text, refused=True)
        elif what == "refresh":
            self.accounts, self.model = outcome
            self._fill_tables()
        else:
            if dialog is not None:
                dialog.accept()
            self._show(self._done_text(what, outcome, context), refused=False)
        self._update_buttons()
        self.finished.emit(what, ok)
        if ok and what != "refresh":
            self.refresh()

    def _done_text(self, what: str, outcome: Any, context: dict[str, Any]) -> str:
        if what in ("grant", "revoke"):
            g: Grant = context["grant"]
            where = self.tr("all areas") if g.scope == ALL_AREAS else (self.areas.get(g.scope) or g.scope)
            args = {"role": role_text(g.role), "permission": permission_text(g.permission), "area": where}
            if what == "grant":
                text = self.tr("{role} may now: {permission} ({area}).") if outcome else \
                    self.tr("{role} could already: {permission} ({area}).")
            else:
                text = self.tr("{role} may no longer: {permission} ({area}).") if outcome else \
                    self.tr("{role} did not have: {permission} ({area}); nothing changed.")
            return text.format(**args)
        texts = {"add": self.tr("Account {name} added."), "password": self.tr("Password of {name} reset."),
                 "role": self.tr("Role of {name} changed."), "disable": self.tr("Account {name} disabled."),
                 "enable": self.tr("Account {name} enabled.")}
        return texts[what].format(name=context["name"])

    def _show(self, text: str, refused: bool) -> None:
        self.message.setText(text)
        state = "offline" if refused else ""
        if self.message.property("state") != state:
            self.message.setProperty("state", state)
            self.message.style().unpolish(self.message)
            self.message.style().polish(self.message)

    # ------------------------------------------------------------------ events
    def showEvent(self, event: QEvent) -> None:  # Qt override
        super().showEvent(event)
        self.refresh()

    def changeEvent(self, event: QEvent) -> None:  # Qt override
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        elif event.type() == QEvent.Type.StyleChange:      # theme switched: colours of disabled accounts
            self._fill_tables()
        super().changeEvent(event)

