"""What every workstation view is given: the site, live values, history and status.

The composition root (``app/cli.py``) builds one :class:`UiServices` and passes it to
the main window, which passes it to each view as ``View(services, parent=None)``.
Views read live values only through :attr:`UiServices.bridge` and history only
through :attr:`UiServices.historian` on a worker thread; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from app.acquisition import DeviceStatus
from app.config import SiteConfig
from app.ui.bridge import PointBridge
from db.historian import Historian

Language = Literal["zh_CN", "en"]
Theme = Literal["dark", "light"]
BreakerColours = Literal["cn", "iec"]

LANGUAGES: tuple[Language, ...] = ("zh_CN", "en")
THEMES: tuple[Theme, ...] = ("dark", "light")
BREAKER_COLOURS: tuple[BreakerColours, ...] = ("cn", "iec")


@dataclass
class UiSettings:
    """Operator-facing presentation settings.

    Attributes
    ----------
    language : {'zh_CN', 'en'}
        UI language; Chinese by default, switchable at run time.
    theme : {'dark', 'light'}
        Stylesheet; the wall display always uses ``'dark'``.
    breaker_colours : {'cn', 'iec'}
        ``'cn'``: Chinese power convention, red = closed, green = open.
        ``'iec'``: ISA-101 / IEC style, state shown by shape and fill, not red/green.
    wall_cycle_s : float
        Seconds each view stays on the wall display before rotating to the next.
    """

    language: Language = "zh_CN"
    theme: Theme = "dark"
    breaker_colours: BreakerColours = "cn"
    wall_cycle_s: float = 20.0

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"UiSettings.language: {self.language!r} is not one of {LANGUAGES}")
        if self.theme not in THEMES:
            raise ValueError(f"UiSettings.theme: {self.theme!r} is not one of {THEMES}")
        if self.breaker_colours not in BREAKER_COLOURS:
            raise ValueError(f"UiSettings.breaker_colours: {self.breaker_colours!r} "
                             f"is not one of {BREAKER_COLOURS}")
        if not self.wall_cycle_s > 0:
            raise ValueError(f"UiSettings.wall_cycle_s: must be > 0 s, got {self.wall_cycle_s!r}")


@dataclass
class UiServices:
    """Everything a view may use; built once by the composition root.

    Attributes
    ----------
    site : SiteConfig
        Validated site: areas, devices, points, topology.
    bridge : PointBridge
        Live values on the GUI thread (``values_changed`` <= 10 Hz, ``value(tag)``).
    historian : Historian
        History reads (``read_range``, ``read_rollup``, ``read_buckets``, ``stats``);
        call the reads from a worker thread only, never on the GUI thread.
    device_status : callable
        ``() -> {device id: DeviceStatus}``; cheap, in-memory, safe on the GUI thread.
    settings : UiSettings
        Language, theme, breaker colour convention, wall cycle.
    alarms : object or None
        The alarm service (alarm issue); ``None`` until it is plugged in.
    control : object or None
        The control (select-before-operate) service; ``None`` until it is plugged in.
    read_only : bool
        Views offer no acknowledgement, shelving or control (the wall display).
    """

    site: SiteConfig
    bridge: PointBridge
    historian: Historian
    device_status: Callable[[], dict[str, DeviceStatus]]
    settings: UiSettings = field(default_factory=UiSettings)
    alarms: Any = None
    control: Any = None
    read_only: bool = False
