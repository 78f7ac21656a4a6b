"""The Qt application of the workstation: fonts, translations, themes, and the run loop.

:func:`create_application` sets up ``QApplication`` (font "Noto Sans CJK SC", so Chinese
text uses simplified Chinese glyph forms); :class:`Appearance` switches language and
theme at run time; :func:`run_workstation` is what the composition root
(``app/cli.py``) calls to open the workstation (login first, then
:class:`~app.ui.workstation.Workstation` via :func:`open_workstation`) or the wall
display (no login, read-only) on a running :class:`~app.collector.Collector`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QWidget

from app.collector import Collector
from app.security import SecurityService, Session
from app.ui.bridge import PointBridge
from app.ui.i18n import LanguageSwitcher
from app.ui.services import LANGUAGES, UiServices, UiSettings
from app.ui.theme import stylesheet

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow
    from app.ui.workstation import Workstation

UI_FONT_FAMILY = "Noto Sans CJK SC"
UI_FONT_POINT_SIZE = 10


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    """The process's ``QApplication`` (created on first call), with the UI font set.

    Parameters
    ----------
    argv : sequence of str, optional
        Command line for Qt (default ``sys.argv``).
    """
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv if argv is not None else sys.argv))
    app.setApplicationName("WattDesk")
    app.setOrganizationName("WattDesk")
    font = QFont(UI_FONT_FAMILY, UI_FONT_POINT_SIZE)
    font.setStyleHint(QFont.StyleHint.SansSerif)
    app.setFont(font)
    return app


class Appearance(QObject):
    """Language and theme of the running application, switchable at run time.

    Parameters
    ----------
    settings : UiSettings
        Updated in place on every switch, so views reading it see the current choice.

    Signals
    -------
    theme_changed(str)
        The new theme name, after the stylesheet is applied.
    language_changed(str)
        The new language code, after the translator is swapped (widgets also receive
        ``QEvent.LanguageChange``).
    """

    theme_changed = Signal(str)
    language_changed = Signal(str)

    def __init__(self, settings: UiSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._switcher = LanguageSwitcher(parent=self)

    def apply(self) -> None:
        """Apply the settings' language and theme (at start-up)."""
        self.set_language(self.settings.language)
        self.set_theme(self.settings.theme)

    def set_language(self, language: str) -> None:
        """Switch the UI language (``'zh_CN'`` or ``'en'``).

        Raises
        ------
        ValueError
            Unknown language or no translation files for it.
        """
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}; known: {LANGUAGES}")
        previous, self.settings.language = self.settings.language, language  # read by LanguageChange handlers
        try:
            self._switcher.install(language)
        except BaseException:
            self.settings.language = previous
            raise
        self.language_changed.emit(language)

    def set_theme(self, theme: str) -> None:
        """Switch the stylesheet (``'dark'`` or ``'light'``).

        Raises
        ------
        ValueError
            Unknown theme or unreadable stylesheet.
        """
        qss = stylesheet(theme)
        self.settings.theme = theme   # first: views read it when the style change reaches them
        QApplication.instance().setStyleSheet(qss)
        self.theme_changed.emit(theme)


def build_services(collector: Collector, settings: UiSettings | None = None) -> UiServices:
    """The view services of a running collector (standalone edition).

    The bridge is created but not started; :func:`run_workstation` starts it.
    """
    engine_status = collector.engine.status
    return UiServices(site=collector.site, bridge=PointBridge(collector.cache),
                      historian=collector.historian,
                      device_status=lambda: dict(engine_status),
                      settings=settings or UiSettings(),
                      alarms=collector.alarms)


def attach_alarm_banner(window: MainWindow, appearance: Appearance) -> QWidget | None:
    """Put the alarm view's banner in the window's always-visible banner slot.

    Returns the banner, or ``None`` when the window has no alarm view (no alarm service).
    """
    view = window.views.get("alarms")
    if view is None:
        return None
    banner = view.create_banner()
    window.set_banner(banner)
    view.activation_requested.connect(lambda: window.show_view("alarms"))
    overview = window.views.get("overview")
    if overview is not None:
        overview.follow_alarms(view.bridge)
    appearance.theme_changed.connect(lambda theme: banner.set_dark(theme == "dark"))
    return banner


def open_workstation(collector: Collector, security: SecurityService, settings: UiSettings | None = None,
                     appearance: Appearance | None = None, *,
                     login: Callable[[SecurityService], Session | None] | None = None,
                     **options: Any) -> Workstation | None:
    """Log in (first-run dialog when the database has no users), then open the workstation.

    Parameters
    ----------
    collector : Collector
        Started collector (its alarm engine built with ``security.alarm_permission``).
    security : SecurityService
    settings : UiSettings, optional
    appearance : Appearance, optional
    login : callable, optional
        ``(security) -> Session or None``; default :func:`app.ui.login.login_at_start`.
    **options
        Passed to :class:`~app.ui.workstation.Workstation` (``workstation``, ``control_options``).

    Returns
    -------
    Workstation or None
        Started and shown; ``None`` when the operator quit the login.
    """
    from app.ui.login import login_at_start
    from app.ui.workstation import Workstation

    if (login or login_at_start)(security) is None:
        return None
    workstation = Workstation(collector, security, settings, appearance, **options)
    workstation.start()
    return workstation


def run_workstation(collector: Collector, settings: UiSettings | None = None, *, wall: bool = False,
                    security: SecurityService | None = None) -> int:
    """Open the workstation (or the wall display) on ``collector`` and run until it is closed.

    Parameters
    ----------
    collector : Collector
        Started collector whose cache, historian and device status the views show.
    settings : UiSettings, optional
    wall : bool
        Full-screen wall display (read-only, rotating views, dark theme, no login) instead
        of the operator workstation.
    security : SecurityService, optional
        Required for the workstation: login, lock screen, permission checks, audit.

    Returns
    -------
    int
        The Qt event loop's exit code; 0 when the operator quit at the login.

    Raises
    ------
    ValueError
        The workstation without a security service.
    """
    app = create_application()
    settings = settings or UiSettings()
    if wall:
        settings.theme = "dark"
    appearance = Appearance(settings)
    appearance.apply()
    if not wall:
        if security is None:
            raise ValueError("the operator workstation needs a security service (login, permissions, audit)")
        workstation = open_workstation(collector, security, settings, appearance)
        if workstation is None:
            return 0
        try:
            return app.exec()
        finally:
            workstation.stop()
    from app.ui.wall import WallWindow

    services = build_services(collector, settings)
    services.read_only = True
    services.bridge.start()
    window = WallWindow(services)
    window.showFullScreen()
    try:
        return app.exec()
    finally:
        services.bridge.stop()
        window.close()
        window.deleteLater()
