"""Login at start, and the first-run dialog that insists on creating an administrator.

There is no default account and no default password: when the database has no
users, :func:`login_at_start` first shows :class:`FirstRunDialog`, which cannot be
left except by creating an administrator or quitting. User-supplied text (names,
error messages that quote them) is shown as plain text, never as markup.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout,
                               QWidget)

from app.security import AuthError, PasswordPolicyError, SecurityService, Session, UserError
from app.security.passwords import MIN_LENGTH


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A label that shows its text verbatim (Qt would otherwise render ``<b>…`` as markup)."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


def auth_message(widget: QWidget, err: AuthError, tz: tzinfo | None = None) -> str:
    """The operator-facing, translated text of a refused login (times in ``tz``, default local)."""
    if err.reason == "locked" and err.until is not None:
        return widget.tr("Too many failed attempts: the account is locked until {time}.").format(
            time=datetime.fromtimestamp(err.until, tz).strftime("%H:%M:%S"))
    if err.reason == "disabled":
        return widget.tr("This account is disabled.")
    return widget.tr("Wrong user name or password.")


class LoginDialog(QDialog):
    """User name and password; on success :attr:`session` holds the new session.

    Parameters
    ----------
    security : SecurityService
    parent : QWidget, optional
    """

    def __init__(self, security: SecurityService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.security = security
        self.session: Session | None = None
        self.setWindowTitle(self.tr("WattDesk — log in"))
        self.user_edit = QLineEdit(self)
        self.password_edit = QLineEdit(self)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = plain_label("", self)
        self.message.setProperty("state", "warning")
        form = QFormLayout()
        form.addRow(self.tr("User name"), self.user_edit)
        form.addRow(self.tr("Password"), self.password_edit)
        self.buttons = QDialogButtonBox(self)
        self.login_button = self.buttons.addButton(self.tr("Log in"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.tr("Quit"), QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.user_edit.setFocus()

    def _on_buttons_accepted(self) -> None:
        try:
            self.session = self.security.login(self.user_edit.text(), self.password_edit.text())
        except AuthError as err:
            self.password_edit.clear()
            self.message.setText(auth_message(self, err))
            return
        self.accept()


class FirstRunDialog(QDialog):
    """Create the first administrator; there is no other way past it but Quit.

    Parameters
    ----------
    security : SecurityService
    parent : QWidget, optional
    """

    def __init__(self, security: SecurityService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.security = security
        self.created: str | None = None
        self.setWindowTitle(self.tr("WattDesk — first start"))
        intro = QLabel(self.tr("No user accounts exist yet. Create the first administrator; "
                               "there is no default account or password."), self)
        intro.setWordWrap(True)
        self.name_edit = QLineEdit(self)
        self.full_name_edit = QLineEdit(self)
        self.password_edit = QLineEdit(self)
        self.repeat_edit = QLineEdit(self)
        for edit in (self.password_edit, self.repeat_edit):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow(self.tr("User name"), self.name_edit)
        form.addRow(self.tr("Full name"), self.full_name_edit)
        form.addRow(self.tr("Password (at least {n} characters)").format(n=MIN_LENGTH), self.password_edit)
        form.addRow(self.tr("Repeat password"), self.repeat_edit)
        self.message = plain_label("", self)
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(self)
        self.create_button = self.buttons.addButton(self.tr("Create administrator"),
                                                    QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.tr("Quit"), QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def _on_buttons_accepted(self) -> None:
        if self.password_edit.text() != self.repeat_edit.text():
            self.message.setText(self.tr("The two passwords differ."))
            return
        name = self.name_edit.text()
        try:
            self.security.add_first_admin(name, self.password_edit.text(),
                                          full_name=self.full_name_edit.text(), actor=f"first-run:{name}")
        except (UserError, PasswordPolicyError) as err:
            self.message.setText(str(err))
            return
        self.created = name
        self.accept()


def login_at_start(security: SecurityService, parent: QWidget | None = None) -> Session | None:
    """First-run dialog if there are no users, then the login dialog.

    Returns
    -------
    Session or None
        ``None`` when the operator quit.
    """
    if security.users.count() == 0:
        first = FirstRunDialog(security, parent)
        if first.exec() != QDialog.DialogCode.Accepted:
            return None
    dialog = LoginDialog(security, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.session
