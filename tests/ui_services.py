"""Real parts for the workstation tests: the demo site, a point cache, a migrated SQLite historian."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from app.acquisition import DeviceStatus
from app.cache import PointCache
from app.config import SiteConfig, load_site
from app.points import PointValue
from app.ui.bridge import PointBridge
from app.ui.services import UiServices, UiSettings
from db.historian import Historian
from db.migrate import upgrade
from resources import DEMO_SITE

DEMO = load_site(DEMO_SITE)

#: Marks for a workstation test module (``pytestmark = QT_WARNINGS_FAIL``): a Qt warning
#: (a broken translation placeholder, a bad stylesheet, a layout fault) fails the test.
#: The offscreen platform's note that it cannot resize a window to its size hints is
#: not a fault of ours and is ignored.
QT_WARNINGS_FAIL = [pytest.mark.qt_log_level_fail("WARNING"),
                    pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]


class Statuses:
    """A mutable device-status table, as the acquisition engine keeps one."""

    def __init__(self, site: SiteConfig, online: bool = True) -> None:
        self.table = {d.id: DeviceStatus(d.id, d.scan_interval_s, online=online, scans=1,
                                         last_good_ts=time.time() if online else 0.0)
                      for d in site.devices}

    def set_online(self, device_ids: Iterable[str], online: bool) -> None:
        for i in device_ids:
            self.table[i].online = online

    def __call__(self) -> dict[str, DeviceStatus]:
        return dict(self.table)


def make_services(tmp_path: Path, *, online: bool = True, db_url: str | None = None,
                  settings: UiSettings | None = None, interval_ms: int = 50):
    """(services, cache, statuses) on the demo site; the bridge is started."""
    url = db_url or f"sqlite:///{tmp_path}/ui.sqlite"
    if db_url is None:
        upgrade(url)
    cache = PointCache()
    bridge = PointBridge(cache, interval_ms=interval_ms)
    statuses = Statuses(DEMO, online)
    historian = Historian(url, spool_dir=tmp_path / "spool")
    services = UiServices(site=DEMO, bridge=bridge, historian=historian, device_status=statuses,
                          settings=settings or UiSettings())
    bridge.start()
    return services, cache, statuses


def put(cache: PointCache, *values: tuple) -> None:
    """Feed ``(tag, value, quality[, reason])`` tuples into the cache, stamped now."""
    now = time.time()
    cache.update([PointValue(v[0], v[1], v[2], now, v[3] if len(v) > 3 else "") for v in values])
