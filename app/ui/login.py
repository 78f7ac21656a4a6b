"""Login at start, and the first-run dialog that insists on creating an administrator.

There is no default account and no default password: when the database has no
users, :func:`login_at_start` first shows :class:`FirstRunDialog`, which cannot be
left except by creating an administrator or quitting. User-supplied text (names,
error messages that quote them) is shown as plain text, never as markup.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout,
                               QWidget)

from app.security import AuthError, PasswordPolicyError, PermissionDenied, SecurityService, Session, UserError
from app.security.passwords import MAX_LENGTH, MIN_LENGTH
from app.security.users import FULL_NAME_MAX
from db.security_schema import USER_NAME_MAX

#: Translation context of :func:`security_error_text`.
ERRORS_CONTEXT = "SecurityErrors"
#: Operator texts of :class:`PasswordPolicyError` rules, :class:`UserError` codes and
#: :class:`PermissionDenied` reasons (English source; ``{n}`` is filled in).
ERROR_TEXTS: dict[str, tuple[str, dict[str, int]]] = {
    "too_short": ("A password needs at least {n} characters.", {"n": MIN_LENGTH}),
    "too_long": ("A password may have at most {n} characters.", {"n": MAX_LENGTH}),
    "repeated": ("A password may not be one character repeated.", {}),
    "contains_name": ("A password may not contain the user name.", {}),
    "name_empty": ("Enter a user name.", {}),
    "name_too_long": ("A user name may have at most {n} characters.", {"n": USER_NAME_MAX}),
    "name_space": ("A user name may not begin or end with a space.", {}),
    "name_control": ("A user name may not contain control characters (tabs, line breaks).", {}),
    "full_name_too_long": ("A full name may have at most {n} characters.", {"n": FULL_NAME_MAX}),
    "full_name_nul": ("A full name may not contain NUL characters.", {}),
    "no_such_user": ("This account no longer exists.", {}),
    "exists": ("An account with this user name exists already.", {}),
    "last_admin": ("This is the last enabled administrator: make another administrator first.", {}),
    "accounts_exist": ("Accounts exist already: an administrator adds users.", {}),
    "unknown_role": ("Unknown role.", {}),
    "not_permitted": ("Refused: your role may not manage users and roles. The attempt was recorded.", {}),
    "admin_only": ("Refused: only an administrator may change administrator accounts or what a role may do. "
                   "The attempt was recorded.", {}),
}


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


def security_error_text(err: Exception) -> str:
    """The operator-facing, translated text of a refused account change.

    Parameters
    ----------
    err : PasswordPolicyError, UserError, PermissionDenied or other Exception
        Known rules and codes get their translated text; anything else (the database
        unavailable, an unforeseen error) its own message, verbatim.
    """
    key = getattr(err, "rule", None) or getattr(err, "code", None) or getattr(err, "reason", None)
    if isinstance(err, (PasswordPolicyError, UserError, PermissionDenied)) and key in ERROR_TEXTS:
        source, fields = ERROR_TEXTS[key]
        return QCoreApplication.translate(ERRORS_CONTEXT, source).format(**fields)
    return str(err)


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
            self.message.setText(security_error_text(err))
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
