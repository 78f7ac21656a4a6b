"""The operator workstation's main window: navigation, views, banner slot and status bar.

Layout: a top bar (alarm banner slot, site name, clock) always visible; a side
navigation list; the views in a stack; a status bar with devices online, database
health and the logged-in user. Language and theme switch from the View menu.

Views are ``View(services, parent=None)`` widgets. Those written in other modules
(diagrams, trends, alarms) are imported when present; a view whose module is absent
or fails to load gets a disabled navigation entry with the reason in its tooltip.

With a security service (:meth:`MainWindow.set_security`, given by the session guard)
the window adds the Users & roles view — listed only while the session's user may
``manage_users`` — and watches the audit log's storage: nothing shows while there is
room; near the limit the status bar says so in the warning colour.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMainWindow,
                               QStackedWidget, QVBoxLayout, QWidget)

from app.security import AuditStorage, AuditStoreError, Permission, SecurityService, UserError
from app.ui.app import Appearance
from app.ui.health import DbState, Health, health
from app.ui.services import UiServices
from app.ui.users_view import UsersView

log = logging.getLogger(__name__)

STATUS_REFRESH_MS = 1000
#: Milliseconds a status-bar message stays.
STATUS_MESSAGE_MS = 10_000
#: How often the audit log's storage is checked, ms (and once when the security service is set).
AUDIT_CHECK_MS = 10 * 60 * 1000


class _AuditRelay(QObject):
    """Carries an audit-storage check to the GUI thread (queued connection)."""

    checked = Signal(object)   # AuditStorage or AuditStoreError


@dataclass(frozen=True)
class ViewSpec:
    """A view of the navigation: key and where its class lives."""

    key: str
    module: str
    class_name: str


VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec("overview", "app.ui.overview_view", "OverviewView"),
    ViewSpec("diagrams", "app.ui.diagram_view", "DiagramView"),
    ViewSpec("trends", "app.ui.trend_view", "TrendView"),
    ViewSpec("alarms", "app.ui.alarm_view", "AlarmView"),
    ViewSpec("devices", "app.ui.devices_view", "DevicesView"),
)


def load_view(spec: ViewSpec, services: UiServices, parent: QWidget | None = None) -> tuple[QWidget | None, str]:
    """Build the view of ``spec``.

    Returns
    -------
    (QWidget or None, str)
        The view, or ``None`` and why it is unavailable (module absent, import or
        construction error). Errors are logged with their traceback.
    """
    if importlib.util.find_spec(spec.module) is None:
        return None, f"{spec.module} is not installed"
    try:
        cls: Callable[..., QWidget] = getattr(importlib.import_module(spec.module), spec.class_name)
        return cls(services, parent), ""
    except Exception as err:  # a broken view must not take the workstation down
        log.exception("view %s could not be loaded", spec.key)
        return None, f"{spec.module}.{spec.class_name}: {type(err).__name__}: {err}"


class MainWindow(QMainWindow):
    """The workstation window.

    Parameters
    ----------
    services : UiServices
    appearance : Appearance, optional
        Language/theme switcher of the application; one is made if not given.
    parent : QWidget, optional
    """

    def __init__(self, services: UiServices, appearance: Appearance | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.appearance = appearance or Appearance(services.settings, self)
        self.views: dict[str, QWidget] = {}
        self.unavailable: dict[str, str] = {}

        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        top = QWidget(central)
        top.setObjectName("bannerSlot")
        self._top_layout = QHBoxLayout(top)
        self._top_layout.setContentsMargins(8, 4, 12, 4)
        self._banner: QWidget | None = None
        self._banner_stretch = QWidget(top)
        self._top_layout.addWidget(self._banner_stretch, 1)
        self._site_label = QLabel(services.site.name, top)
        self._site_label.setProperty("role", "heading")
        self._clock = QLabel(top)
        self._clock.setProperty("role", "heading")
        self._top_layout.addWidget(self._site_label)
        self._top_layout.addSpacing(24)
        self._top_layout.addWidget(self._clock)
        outer.addWidget(top)

        body = QHBoxLayout()
        body.setSpacing(0)
        self.navigation = QListWidget(central)
        self.navigation.setObjectName("navigation")
        self.navigation.setFixedWidth(190)
        self.stack = QStackedWidget(central)
        body.addWidget(self.navigation)
        body.addWidget(self.stack, 1)
        outer.addLayout(body, 1)
        self.setCentralWidget(central)

        for spec in VIEWS:
            item = QListWidgetItem(self.navigation)
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            view, why = load_view(spec, services, self.stack)
            if view is None:
                self.unavailable[spec.key] = why
                item.setFlags(Qt.ItemFlag.NoItemFlags)
                item.setToolTip(why)
                continue
            self.views[spec.key] = view
            self.stack.addWidget(view)
        self.navigation.currentItemChanged.connect(self._on_navigation_changed)

        self._devices_label = QLabel(self)
        self._db_label = QLabel(self)
        self._audit_label = QLabel(self)
        self._audit_label.hide()
        self._user_label = QLabel(self)
        self._user_label.setTextFormat(Qt.TextFormat.PlainText)  # user names are shown verbatim
        self._user: tuple[str, str] = ("", "")
        for label in (self._devices_label, self._db_label, self._audit_label):
            self.statusBar().addWidget(label)
        self.statusBar().addPermanentWidget(self._user_label)
        self.security: SecurityService | None = None
        self.audit_storage: AuditStorage | AuditStoreError | None = None
        self._audit_worker: threading.Thread | None = None
        self._audit_relay = _AuditRelay(self)
        self._audit_relay.checked.connect(self._on_audit_checked)
        self._audit_timer = QTimer(self)
        self._audit_timer.setInterval(AUDIT_CHECK_MS)
        self._audit_timer.timeout.connect(self.check_audit_storage)

        self._build_menu()
        self._retranslate()
        self.show_view(next((s.key for s in VIEWS if s.key in self.views), "overview"))

        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_REFRESH_MS)
        self._status_timer.timeout.connect(self._on_status_timer_timeout)
        self._status_timer.start()
        self._on_status_timer_timeout()

    # -- public ---------------------------------------------------------------------------
    def set_banner(self, widget: QWidget) -> None:
        """Put the alarm banner in the top bar (replacing any earlier one); always visible."""
        if self._banner is not None:
            self._top_layout.removeWidget(self._banner)
            self._banner.deleteLater()
        else:
            self._top_layout.removeWidget(self._banner_stretch)
            self._banner_stretch.hide()
        self._banner = widget
        widget.setParent(self._top_layout.parentWidget())
        self._top_layout.insertWidget(0, widget, 1)
        widget.show()

    def set_user(self, name: str, role: str) -> None:
        """Show who is logged in (and their role, as display text) in the status bar; ``""``: nobody.

        Also lists or withdraws the Users & roles view for the session's user."""
        self._user = (name, role)
        self._on_status_timer_timeout()
        self._sync_users_entry()

    def set_security(self, security: SecurityService) -> None:
        """Add the Users & roles view (listed only for users who may ``manage_users``) and start
        watching the audit log's storage (now, then every :data:`AUDIT_CHECK_MS`).

        Raises
        ------
        RuntimeError
            A security service was set already.
        """
        if self.security is not None:
            raise RuntimeError("the main window has its security service already")
        self.security = security
        site = self.services.site
        areas = [(a.id, a.name) for root in site.areas for a in root.walk()]
        view = UsersView(security, areas, site.tzinfo, theme=lambda: self.services.settings.theme, parent=self.stack)
        view.finished.connect(lambda _what, _ok: self._sync_users_entry())
        self.views["users"] = view
        self.stack.addWidget(view)
        item = QListWidgetItem(self.navigation)
        item.setData(Qt.ItemDataRole.UserRole, "users")
        item.setHidden(True)
        self._retranslate()
        self._sync_users_entry()
        self._audit_timer.start()
        self.check_audit_storage()

    def check_audit_storage(self) -> None:
        """Check the audit log's storage on a worker thread; the status bar follows."""
        if self.security is None or (self._audit_worker is not None and self._audit_worker.is_alive()):
            return
        audit, relay = self.security.audit, self._audit_relay

        def work() -> None:
            try:
                outcome: AuditStorage | AuditStoreError = audit.storage()
            except AuditStoreError as err:
                outcome = err
            relay.checked.emit(outcome)

        self._audit_worker = threading.Thread(target=work, name="audit-storage", daemon=True)
        self._audit_worker.start()

    def wait_audit_check(self, timeout_s: float = 30.0) -> None:
        """Join the audit-storage worker if one runs (tests, closing)."""
        if self._audit_worker is not None:
            self._audit_worker.join(timeout_s)

    def show_view(self, key: str) -> None:
        """Bring the view ``key`` (see :data:`VIEWS`) to the front.

        Raises
        ------
        KeyError
            The view is unknown or unavailable.
        """
        if key not in self.views:
            raise KeyError(f"view {key!r} is not available: {self.unavailable.get(key, 'unknown view')}")
        item = self._item(key)
        if item is not None and item.isHidden():
            raise KeyError(f"view {key!r} is not available to this user")
        if item is not None:
            self.navigation.setCurrentItem(item)
        self.stack.setCurrentWidget(self.views[key])

    def current_view(self) -> str:
        """Key of the view in front."""
        return next(k for k, v in self.views.items() if v is self.stack.currentWidget())

    # -- building -------------------------------------------------------------------------
    def _build_menu(self) -> None:
        bar = self.menuBar()
        self._view_menu = bar.addMenu("")
        self._language_menu = self._view_menu.addMenu("")
        self._theme_menu = self._view_menu.addMenu("")
        self._language_group = QActionGroup(self)
        self._language_actions: dict[str, QAction] = {}
        # Language names are shown in their own language, never translated.
        for code, name in (("zh_CN", "中文"), ("en", "English")):
            action = QAction(name, self, checkable=True)
            action.setData(code)
            action.setChecked(code == self.services.settings.language)
            self._language_group.addAction(action)
            self._language_menu.addAction(action)
            self._language_actions[code] = action
        self._language_group.triggered.connect(self._on_language_triggered)
        self._theme_group = QActionGroup(self)
        self._theme_actions: dict[str, QAction] = {}
        for code in ("dark", "light"):
            action = QAction(self, checkable=True)
            action.setData(code)
            action.setChecked(code == self.services.settings.theme)
            self._theme_group.addAction(action)
            self._theme_menu.addAction(action)
            self._theme_actions[code] = action
        self._theme_group.triggered.connect(self._on_theme_triggered)
        self._view_menu.addSeparator()
        self._fullscreen_action = QAction(self, checkable=True)
        self._fullscreen_action.setShortcut("F11")
        self._fullscreen_action.toggled.connect(self._on_fullscreen_toggled)
        self._view_menu.addAction(self._fullscreen_action)

    def _retranslate(self) -> None:
        self.setWindowTitle(self.tr("WattDesk — {site}").format(site=self.services.site.name))
        titles = {
            "overview": self.tr("Overview"),
            "diagrams": self.tr("Single-line diagrams"),
            "trends": self.tr("Trends"),
            "alarms": self.tr("Alarms & events"),
            "devices": self.tr("Devices"),
            "users": self.tr("Users & roles"),
        }
        for row in range(self.navigation.count()):
            item = self.navigation.item(row)
            item.setText(titles[item.data(Qt.ItemDataRole.UserRole)])
        self._view_menu.setTitle(self.tr("&View"))
        self._language_menu.setTitle(self.tr("Language"))
        self._theme_menu.setTitle(self.tr("Theme"))
        self._theme_actions["dark"].setText(self.tr("Dark"))
        self._theme_actions["light"].setText(self.tr("Light"))
        self._fullscreen_action.setText(self.tr("Full screen"))
        self._on_status_timer_timeout()
        if self.audit_storage is not None:
            self._on_audit_checked(self.audit_storage)

    # -- events ---------------------------------------------------------------------------
    def changeEvent(self, event: QEvent) -> None:  # Qt override
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt override
        self._audit_timer.stop()
        self.wait_audit_check()
        users = self.views.get("users")
        if isinstance(users, UsersView):
            users.wait_idle()
        super().closeEvent(event)

    def _item(self, key: str) -> QListWidgetItem | None:
        for row in range(self.navigation.count()):
            item = self.navigation.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == key:
                return item
        return None

    def _sync_users_entry(self) -> None:
        """List the Users & roles view while the session's user may manage users; else withdraw
        it (and what it showed)."""
        item = self._item("users")
        if item is None or self.security is None:
            return
        session = self.security.session
        view = self.views["users"]
        if session is not None and session.locked:
            view.close_dialog()           # no half-filled account form waits behind the lock
        try:
            allowed = session is not None and self.security.may(Permission.MANAGE_USERS, user=session.user.name)
        except UserError as err:          # the database cannot be read: nobody gets the view meanwhile
            log.warning("users view withdrawn: %s", err)
            allowed = False
        if allowed == (not item.isHidden()):
            return
        item.setHidden(not allowed)
        if not allowed:
            if self.stack.currentWidget() is view:
                self.show_view(next(k for k in self.views if k != "users"))
                self.statusBar().showMessage(
                    self.tr("Users & roles closed: your role may no longer manage users."), STATUS_MESSAGE_MS)
            view.clear()

    def _on_audit_checked(self, outcome: AuditStorage | AuditStoreError) -> None:
        first = self.audit_storage is None
        self.audit_storage = outcome
        if isinstance(outcome, AuditStoreError):
            log.warning("audit storage not checked: %s", outcome)
            self._set_status(self._audit_label, self.tr("Audit log storage unknown"), "warning", "")
            self._audit_label.show()
            return
        warning = outcome.warning()
        if warning is None:
            self._audit_label.hide()
            return
        if first or not self._audit_label.isVisible():
            log.warning("%s", warning)
        self._set_status(self._audit_label, self._audit_text(outcome), "warning",
                         self.tr("Audit records are never deleted. Export and archive them, then give the "
                                 "database more room."))
        self._audit_label.show()

    def _audit_text(self, storage: AuditStorage) -> str:
        def mib(n: int | None) -> str:
            return f"{(n or 0) / 1024**2:,.0f} MiB"

        if storage.disk_low:
            return self.tr("Audit log: disk almost full ({free} free)").format(free=mib(storage.free_bytes))
        return self.tr("Audit log near its storage limit: {used} of {limit}").format(
            used=mib(storage.bytes_used), limit=mib(storage.limit_bytes))

    def _on_navigation_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        if current is not None:
            key = current.data(Qt.ItemDataRole.UserRole)
            if key in self.views:
                self.stack.setCurrentWidget(self.views[key])

    def _on_language_triggered(self, action: QAction) -> None:
        self.appearance.set_language(action.data())

    def _on_theme_triggered(self, action: QAction) -> None:
        self.appearance.set_theme(action.data())

    def _on_fullscreen_toggled(self, on: bool) -> None:
        if on:
            self.showFullScreen()
        else:
            self.showNormal()

    def _on_status_timer_timeout(self) -> None:
        h = health(self.services)
        self._clock.setText(datetime.fromtimestamp(time.time(), self.services.site.tzinfo)
                            .strftime("%Y-%m-%d %H:%M:%S"))
        self._set_status(self._devices_label,
                         self.tr("Devices online {n}/{total}").format(n=h.devices_online, total=h.devices_total),
                         "ok" if h.devices_online == h.devices_total else "offline",
                         self.tr("Offline: {ids}").format(ids=", ".join(h.offline)) if h.offline else "")
        self._set_status(self._db_label, self._db_text(h),
                         {DbState.OK: "ok", DbState.CONNECTING: "warning", DbState.DOWN: "offline"}[h.db],
                         h.db_error)
        name, role = self._user
        self._user_label.setText(self.tr("User: {user} ({role})").format(user=name or "—", role=role or "—"))

    def _db_text(self, h: Health) -> str:
        if h.db is DbState.OK:
            return self.tr("Database OK")
        if h.db is DbState.CONNECTING:
            return self.tr("Database connecting…")
        return self.tr("Database DOWN — buffering {n} samples").format(n=h.buffered)

    @staticmethod
    def _set_status(label: QLabel, text: str, state: str, tooltip: str) -> None:
        label.setText(text)
        label.setToolTip(tooltip)
        if label.property("state") != state:
            label.setProperty("state", state)
            label.style().unpolish(label)
            label.style().polish(label)
