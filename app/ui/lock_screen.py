"""Idle lock of the workstation: a lock screen over the views, the banner still in sight.

:class:`SessionGuard` watches keyboard, mouse-button, wheel and touch input of the
whole application; after the session's idle time (default 15 min) it locks. The
:class:`LockScreen` then covers the navigation and views of the main window but not
its top bar, so the alarm banner, the clock and the status bar keep updating — and
nothing stops underneath: acquisition, alarms and the historian run in their own
threads and never depend on the GUI.

Unlocking needs a password: the session's user's, or another user's (shift change).
Locking never hinders an emergency: an operator enters their own user name and
password once and the ``emergency`` hook (the control dialog) opens for them; the
access and every control step are audited.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from PySide6.QtCore import QEvent, QObject, QRect, Qt, QTimer, Signal
from PySide6.QtWidgets import (QApplication, QFormLayout, QFrame, QHBoxLayout, QLabel, QLineEdit, QMainWindow,
                               QPushButton, QVBoxLayout, QWidget)

from app.security import AuthError, PermissionDenied, SecurityService, UserInfo
from app.ui.login import auth_message, plain_label

#: Input that counts as the operator being present.
ACTIVITY_EVENTS = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.Wheel,
                             QEvent.Type.TouchBegin})
#: How often the idle time is checked, ms.
IDLE_CHECK_MS = 1000

#: The hook the lock screen calls after emergency access: opens control for that user.
EmergencyControl = Callable[[UserInfo], None]


class LockScreen(QFrame):
    """The panel shown over the views while the session is locked.

    Parameters
    ----------
    security : SecurityService
    emergency : callable, optional
        ``(user) -> None``: opens the control dialog for an operator who passed
        emergency access; without it the emergency button is disabled.
    tz : tzinfo, optional
        Time zone of the times shown (the site's); default local time.
    parent : QWidget, optional

    Signals
    -------
    unlocked()
        The session was unlocked (possibly by another user).
    """

    unlocked = Signal()

    def __init__(self, security: SecurityService, emergency: EmergencyControl | None = None,
                 tz: tzinfo | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.security = security
        self.emergency = emergency
        self.tz = tz
        self.setObjectName("lockScreen")
        self.setAutoFillBackground(True)
        self.title = plain_label("", self)
        self.title.setProperty("role", "heading")
        self.subtitle = plain_label("", self)
        self.user_edit = QLineEdit(self)
        self.password_edit = QLineEdit(self)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.returnPressed.connect(self._on_unlock_clicked)
        self.unlock_button = QPushButton(self)
        self.unlock_button.clicked.connect(self._on_unlock_clicked)
        self.emergency_button = QPushButton(self)
        self.emergency_button.setEnabled(emergency is not None)
        self.emergency_button.clicked.connect(self._on_emergency_clicked)
        self.message = plain_label("", self)
        self.message.setWordWrap(True)

        self._user_caption = QLabel(self)
        self._password_caption = QLabel(self)
        self._form = QFormLayout()
        self._form.addRow(self._user_caption, self.user_edit)
        self._form.addRow(self._password_caption, self.password_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.unlock_button)
        buttons.addWidget(self.emergency_button)
        box = QWidget(self)
        box.setMaximumWidth(460)
        inner = QVBoxLayout(box)
        inner.addWidget(self.title)
        inner.addWidget(self.subtitle)
        inner.addLayout(self._form)
        inner.addLayout(buttons)
        inner.addWidget(self.message)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        self._retranslate()

    def prepare(self) -> None:
        """Fill in the locked session's user and clear the fields (on every lock)."""
        session = self.security.session
        name = session.user.name if session else ""
        self.user_edit.setText(name)
        self.password_edit.clear()
        self.message.clear()
        self.subtitle.setText(self.tr("Locked at {time}; user {user}").format(
            time=datetime.now(self.tz).strftime("%H:%M:%S"), user=name))
        self.password_edit.setFocus()

    def _retranslate(self) -> None:
        self.title.setText(self.tr("Session locked"))
        self._user_caption.setText(self.tr("User name"))
        self._password_caption.setText(self.tr("Password"))
        self.unlock_button.setText(self.tr("Unlock"))
        self.emergency_button.setText(self.tr("Emergency control…"))
        self.emergency_button.setToolTip(
            self.tr("Open a breaker without unlocking: enter your own user name and password first")
            if self.emergency is not None else self.tr("Control is not available on this workstation"))

    def changeEvent(self, event: QEvent) -> None:  # Qt override
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _on_unlock_clicked(self) -> None:
        try:
            self.security.unlock(self.password_edit.text(), self.user_edit.text())
        except AuthError as err:
            self.password_edit.clear()
            self.message.setText(auth_message(self, err, self.tz))
            return
        self.password_edit.clear()
        self.unlocked.emit()

    def _on_emergency_clicked(self) -> None:
        if self.emergency is None:
            return
        try:
            user = self.security.emergency_access(self.user_edit.text(), self.password_edit.text())
        except AuthError as err:
            self.message.setText(auth_message(self, err, self.tz))
            return
        except PermissionDenied:
            self.message.setText(self.tr("This user may not control breakers."))
            return
        finally:
            self.password_edit.clear()
        self.message.clear()
        self.emergency(user)


class SessionGuard(QObject):
    """Locks a main window's session after idle time and unlocks it with a password.

    Parameters
    ----------
    window : QMainWindow
        The workstation window; its widget named ``bannerSlot`` (the top bar) stays
        uncovered. If it has ``set_user(name, role)``, it is told of every change of
        the session (login, lock, unlock, take-over); if it has ``set_security(security)``
        (:class:`~app.ui.main_window.MainWindow`: the users view, the audit-storage
        warning), it is given the security service once; times are shown in its
        ``services.site.tzinfo`` when it has one.
    security : SecurityService
        Holds the logged-in session (its ``idle_timeout_s`` is the lock time).
    emergency : callable, optional
        See :class:`LockScreen`.
    check_ms : int
        Idle check period, ms.

    Signals
    -------
    locked_changed(bool)
    """

    locked_changed = Signal(bool)

    def __init__(self, window: QMainWindow, security: SecurityService, emergency: EmergencyControl | None = None,
                 check_ms: int = IDLE_CHECK_MS) -> None:
        super().__init__(window)
        self.window = window
        self.security = security
        self._central = window.centralWidget()
        site = getattr(getattr(window, "services", None), "site", None)
        self.screen = LockScreen(security, emergency, getattr(site, "tzinfo", None), self._central)
        self.screen.hide()
        self.screen.unlocked.connect(self._on_screen_unlocked)
        self._central.installEventFilter(self)
        QApplication.instance().installEventFilter(self)
        self._timer = QTimer(self)
        self._timer.setInterval(check_ms)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()
        set_security = getattr(window, "set_security", None)
        if set_security is not None and getattr(window, "security", None) is None:
            set_security(security)
        self._show_user()

    @property
    def is_locked(self) -> bool:
        return self.security.session is not None and self.security.session.locked

    def lock(self, reason: str = "manual") -> None:
        """Lock now (``reason`` ``idle`` or ``manual``, audited) and show the lock screen."""
        self.security.lock(reason)
        self._place()
        self.screen.prepare()
        self.screen.show()
        self.screen.raise_()
        self.window.menuBar().setEnabled(False)
        self._show_user()
        self.locked_changed.emit(True)

    def detach(self) -> None:
        """Stop watching input (before the window goes away)."""
        self._timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt override
        kind = event.type()
        if kind in ACTIVITY_EVENTS and self.security.session is not None:
            self.security.session.touch()
        elif watched is self._central and kind == QEvent.Type.Resize and self.screen.isVisible():
            self._place()
        return False

    def _place(self) -> None:
        """Cover the central widget below the top bar."""
        rect = self._central.rect()
        top = self._central.findChild(QWidget, "bannerSlot")
        below = top.geometry().bottom() + 1 if top is not None else 0
        self.screen.setGeometry(QRect(0, below, rect.width(), rect.height() - below))

    def _on_timer_timeout(self) -> None:
        session = self.security.session
        if session is not None and session.idle_due():
            self.lock("idle")

    def _on_screen_unlocked(self) -> None:
        self.screen.hide()
        self.window.menuBar().setEnabled(True)
        self._show_user()
        self.locked_changed.emit(False)

    def _show_user(self) -> None:
        set_user = getattr(self.window, "set_user", None)
        if set_user is None:
            return
        session = self.security.session
        if session is None:
            set_user("", "")
            return
        role = {"admin": self.tr("administrator"), "operator": self.tr("operator"),
                "viewer": self.tr("viewer")}[session.user.role.value]
        set_user(session.user.name, self.tr("{role}, locked").format(role=role) if session.locked else role)
