"""Colours and fonts of the single-line diagram, per theme and breaker convention.

ISA-101: a calm grey ground, neutral symbols; colour only for state and abnormality.
Energised conductors get one calm colour, de-energised ones grey and dashed (so the
difference survives colour blindness); breakers follow the chosen convention:

* ``'cn'`` — Chinese power convention: closed red (filled), open green (hollow);
* ``'iec'`` — ISA-101 / IEC style: closed filled, open hollow, in neutral tones.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont

#: family set explicitly, else Qt may pick Japanese glyph forms for Chinese text
FONT_FAMILY = "Noto Sans CJK SC"


@dataclass(frozen=True)
class SldPalette:
    """Every colour a diagram item uses.

    Attributes
    ----------
    background : QColor
        Scene background.
    live, dead, unknown : QColor
        Conductors (wires, busbars, symbols' strokes) energised / de-energised /
        energisation unknown.
    text, text_dim : QColor
        Names and values; values of bad quality or offline devices.
    breaker_closed, breaker_open : QColor
        Breaker fill (closed) and outline (open) per the breaker convention.
    breaker_unknown : QColor
        Breaker of unknown position (bad quality).
    hatch : QColor
        Hatching behind a value that is not good.
    alarm : tuple[QColor, QColor, QColor, QColor]
        Alarm frame colour by priority 1..4.
    link : QColor
        Off-sheet connectors (navigation).
    """

    background: QColor
    live: QColor
    dead: QColor
    unknown: QColor
    text: QColor
    text_dim: QColor
    breaker_closed: QColor
    breaker_open: QColor
    breaker_unknown: QColor
    hatch: QColor
    alarm: tuple[QColor, QColor, QColor, QColor]
    link: QColor


def sld_palette(theme: str = "dark", breaker_colours: str = "cn") -> SldPalette:
    """The palette for ``theme`` ('dark' | 'light') and ``breaker_colours`` ('cn' | 'iec').

    Raises
    ------
    ValueError
        Unknown theme or convention.
    """
    if theme not in ("dark", "light"):
        raise ValueError(f"unknown theme {theme!r}; expected 'dark' or 'light'")
    if breaker_colours not in ("cn", "iec"):
        raise ValueError(f"unknown breaker colour convention {breaker_colours!r}; expected 'cn' or 'iec'")
    dark = theme == "dark"
    alarm = (QColor("#E5382E"), QColor("#F08A24"), QColor("#E8C31C"), QColor("#B36BD6"))
    if breaker_colours == "cn":
        closed, opened = QColor("#D93A32"), QColor("#2EA84A")
    elif dark:
        closed, opened = QColor("#E6E6E6"), QColor("#E6E6E6")
    else:
        closed, opened = QColor("#262626"), QColor("#262626")
    if dark:
        return SldPalette(
            background=QColor("#2B2E33"), live=QColor("#6FB7E8"), dead=QColor("#6A6E75"),
            unknown=QColor("#9A8F6A"), text=QColor("#DADDE1"), text_dim=QColor("#7D8188"),
            breaker_closed=closed, breaker_open=opened, breaker_unknown=QColor("#8A8E95"),
            hatch=QColor("#4A4E55"), alarm=alarm, link=QColor("#A9C7E6"))
    return SldPalette(
        background=QColor("#D6D8DB"), live=QColor("#1D5E96"), dead=QColor("#8E9298"),
        unknown=QColor("#8A7B45"), text=QColor("#1E2124"), text_dim=QColor("#80848A"),
        breaker_closed=closed, breaker_open=opened, breaker_unknown=QColor("#7A7E85"),
        hatch=QColor("#B9BCC0"), alarm=alarm, link=QColor("#1D4F80"))


def sld_font(pixel_size: int, bold: bool = False) -> QFont:
    """The diagram font (CJK-capable) at ``pixel_size`` scene pixels."""
    font = QFont(FONT_FAMILY)
    font.setPixelSize(pixel_size)
    font.setBold(bold)
    return font
