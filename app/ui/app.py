"""The Qt application of the workstation: fonts, translations, themes, and the run loop.

:func:`create_application` sets up ``QApplication`` (font "Noto Sans CJK SC", so Chinese
text uses simplified Chinese glyph forms); :class:`Appearance` switches language and
theme at run time; :func:`build_services` and :func:`run_workstation` are what the
composition root (``app/cli.py``) calls to open the workstation or the wall display
on a running :class:`~app.collector.Collector`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QWidget

from app.collector import Collector
from app.ui.bridge import PointBridge
from app.ui.i18n import LanguageSwitcher
from app.ui.services import LANGUAGES, UiServices, UiSettings
from app.ui.theme import stylesheet

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

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
        self._switcher.install(language)
        self.settings.language = language
        self.language_changed.emit(language)

    def set_theme(self, theme: str) -> None:
        """Switch the stylesheet (``'dark'`` or ``'light'``).

        Raises
        ------
        ValueError
            Unknown theme or unreadable stylesheet.
        """
        qss = stylesheet(theme)
        QApplication.instance().setStyleSheet(qss)
        self.settings.theme = theme
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
    appearance.theme_changed.connect(lambda theme: banner.set_dark(theme == "dark"))
    return banner


def run_workstation(collector: Collector, settings: UiSettings | None = None, *, wall: bool = False) -> int:
    """Open the workstation (or the wall display) on ``collector`` and run until it is closed.

    Parameters
    ----------
    collector : Collector
        Started collector whose cache, historian and device status the views show.
    settings : UiSettings, optional
    wall : bool
        Full-screen wall display (read-only, rotating views, dark theme) instead of
        the operator workstation.

    Returns
    -------
    int
        The Qt event loop's exit code.
    """
    app = create_application()
    services = build_services(collector, settings)
    if wall:
        services.settings.theme = "dark"
        services.read_only = True
    appearance = Appearance(services.settings)
    appearance.apply()
    services.bridge.start()
    if wall:
        from app.ui.wall import WallWindow

        window = WallWindow(services)
        window.showFullScreen()
    else:
        from app.ui.main_window import MainWindow

        window = MainWindow(services, appearance)
        attach_alarm_banner(window, appearance)
        window.resize(1600, 950)
        window.show()
    try:
        return app.exec()
    finally:
        services.bridge.stop()
        window.close()
        window.deleteLater()
