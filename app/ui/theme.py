"""Themes: the stylesheets under ``resources/styles`` and the state colours views paint with.

ISA-101 high-performance HMI: calm greys for everything normal, saturated colour only
for state and abnormality. Stylesheets cover widgets; :class:`StateColours` covers
what views paint themselves (table cell foregrounds, KPI tiles, diagram items).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor

from resources import RESOURCES_DIR

STYLES_DIR = RESOURCES_DIR / "styles"


@dataclass(frozen=True)
class StateColours:
    """Colours of states, for one theme (hex ``#rrggbb``).

    Attributes
    ----------
    text : str
        Normal value text.
    muted : str
        Secondary text (units, timestamps, labels).
    bad : str
        A value whose quality is not GOOD, or of an offline device: greyed out.
    offline : str
        Communication lost (device or database): the one abnormal state of the shell.
    warning : str
        Degraded but working (database buffering, some devices offline).
    ok : str
        A health indicator that is fine; deliberately low-key.
    background : str
        Window background.
    panel : str
        Tile and panel background.
    """

    text: str
    muted: str
    bad: str
    offline: str
    warning: str
    ok: str
    background: str
    panel: str

    def q(self, name: str) -> QColor:
        """The colour called ``name`` as a :class:`QColor`."""
        return QColor(getattr(self, name))


THEMES: dict[str, StateColours] = {
    "dark": StateColours(text="#dcdcdc", muted="#8c8c8c", bad="#6e6e6e", offline="#e0a030",
                         warning="#d8c040", ok="#9aa89a", background="#262626", panel="#313131"),
    "light": StateColours(text="#161616", muted="#5a5a5a", bad="#9a9a9a", offline="#b06000",
                          warning="#8a7400", ok="#4a5a4a", background="#d6d6d6", panel="#e4e4e4"),
}


def colours(theme: str) -> StateColours:
    """State colours of ``theme`` (``"dark"`` or ``"light"``).

    Raises
    ------
    ValueError
        Unknown theme.
    """
    try:
        return THEMES[theme]
    except KeyError:
        raise ValueError(f"unknown theme {theme!r}; known: {sorted(THEMES)}") from None


def stylesheet(theme: str) -> str:
    """The Qt stylesheet text of ``theme`` from ``resources/styles/<theme>.qss``.

    Raises
    ------
    ValueError
        Unknown theme or missing stylesheet file.
    """
    colours(theme)
    path = STYLES_DIR / f"{theme}.qss"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as err:
        raise ValueError(f"theme {theme!r}: cannot read stylesheet {path}: {err}") from None
