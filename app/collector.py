"""Acquisition plus historian, wired together: the core of every edition.

``wattdesk collect`` runs a :class:`Collector` on its own (networked edition, servers);
``wattdesk demo`` runs one against the simulated plant; the workstation will run one
in the standalone edition. Start order: schema upgrade, historian, acquisition; stop
order is the reverse, so every reading taken is handed to the historian before it
flushes.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.acquisition import AcquisitionEngine, DeviceStatus
from app.alarms import AlarmEngine, AlarmNotifier
from app.alarms.baseline import historian_baseline
from app.alarms.opening import historian_opening
from app.cache import PointCache
from app.config import SiteConfig
from app.points import Quality
from app.security.audit import log_storage
from db.historian import Historian, PointMeta
from db.migrate import upgrade

log = logging.getLogger(__name__)


#: Allocations (minus frees) that trigger a young-generation collection; Python's default is 700.
GC_YOUNG_THRESHOLD = 100_000


def settle_garbage_collector() -> tuple[int, int, int]:
    """Keep Python's cyclic garbage collector off acquisition's back (process-wide).

    Every reading is a new :class:`~app.points.PointValue`, a tuple that stays tracked
    by the collector (its quality is an enum member), so tens of thousands a second
    trigger collections all the time, and each full one scans every object of the
    process — with the GIL held, stalling the acquisition loop for a tenth of a
    second and more. Freezing what exists once everything has started (site, drivers,
    libraries) takes it out of every later collection, and a higher young-generation
    threshold makes collections fewer. Reference counting still frees every reading
    as soon as it is dropped; only cycles wait longer.

    Returns
    -------
    tuple of int
        The thresholds before, for :func:`release_garbage_collector`.
    """
    gc.collect()  # garbage made while starting is freed, not frozen
    gc.freeze()
    before = gc.get_threshold()
    young, middle, old = before
    gc.set_threshold(max(young, GC_YOUNG_THRESHOLD), middle, old)
    return before


def release_garbage_collector(thresholds: tuple[int, int, int]) -> None:
    """Undo :func:`settle_garbage_collector`: frozen objects collectable again, ``thresholds`` back."""
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def point_metadata(site: SiteConfig) -> list[PointMeta]:
    """The historian's description of every point of ``site``."""
    return [
        PointMeta(tag=device.tag(point.name), device=device.id, name=point.name,
                  description=point.description, unit=point.unit, kind=point.kind,
                  category=point.category, medium=point.medium, area=device.area,
                  rollover=point.rollover)
        for device, point in site.iter_points()
    ]


@dataclass(frozen=True)
class CollectorStatus:
    """One line's worth of health figures."""

    devices: int
    devices_online: int
    points: int
    points_good: int
    committed: int
    queued: int
    spooled: int
    db_ok: bool
    alarms_active: int

    def line(self) -> str:
        db = "ok" if self.db_ok else "DOWN (buffering)"
        return (f"devices online {self.devices_online}/{self.devices}, "
                f"points good {self.points_good}/{self.points}, "
                f"samples committed {self.committed}, queued {self.queued}, "
                f"spooled {self.spooled}, database {db}, active alarms {self.alarms_active}")


class Collector:
    """Point cache, acquisition engine, alarm engine and historian for one site and one database.

    Parameters
    ----------
    site : SiteConfig
        Validated site configuration.
    db_url : str
        SQLAlchemy URL of the historian database (``sqlite:///…`` or
        ``postgresql+psycopg://…``); its schema is upgraded on :meth:`start`.
    alarm_permission : callable, optional
        ``(user, action, alarm) -> allowed`` for acknowledging and shelving
        (``SecurityService.alarm_permission``); default: the alarm engine's own (allow all),
        for headless editions where no one acts on alarms.
    alarm_query : callable, optional
        The same question asked only to enable buttons, never audited
        (``SecurityService.alarm_may``); default: ``alarm_permission``.
    """

    def __init__(self, site: SiteConfig, db_url: str,
                 alarm_permission: Callable[[str, str, Any], bool] | None = None,
                 alarm_query: Callable[[str, str, Any], bool] | None = None) -> None:
        self.site = site
        self.db_url = db_url
        deadbands = {device.tag(p.name): p.deadband for device, p in site.iter_points()}
        self.cache = PointCache(deadbands)
        self.historian = Historian(db_url)
        opening = historian_opening(self.historian)    # daily limits count from midnight after a restart
        journal = self.historian.submit_event          # alarm journal: the historian's events table
        checks = {} if alarm_permission is None else {"permission": alarm_permission,
                                                      "permission_query": alarm_query}
        history = self.historian.read_events           # a restart takes up alarms and escalations
        self.alarms = AlarmEngine(site, opening=opening, baseline=historian_baseline(self.historian),
                                  journal=journal, history=history, **checks)
        self.notifier = AlarmNotifier(site, journal=journal, history=history)
        self.engine = AcquisitionEngine(site.devices, self.cache)
        self._unsubscribe = None
        self._gc_thresholds: tuple[int, int, int] | None = None  # while started (settle_garbage_collector)

    def start(self) -> None:
        """Upgrade the schema (and log a warning if audit storage nears its limit), start the
        historian and the alarm engine, then acquisition."""
        upgrade(self.db_url)
        log_storage(self.db_url)                       # audit records are never pruned: warn in time
        self.historian.register_points(point_metadata(self.site))
        self.historian.start()
        self._unsubscribe = self.cache.subscribe(self.historian.submit, replay=False)
        self.alarms.start(self.cache)
        self.notifier.start(self.alarms.subscribe)
        try:
            self.engine.start()
        except Exception:
            self.notifier.stop()
            self.alarms.stop()
            self.historian.stop()
            raise
        self._gc_thresholds = settle_garbage_collector()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop acquisition, then the alarm engine, then flush the historian (what cannot be
        written stays spooled)."""
        self.engine.stop()
        self.alarms.stop()
        self.notifier.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.historian.stop(timeout_s)
        if self._gc_thresholds is not None:
            release_garbage_collector(self._gc_thresholds)
            self._gc_thresholds = None

    def status(self) -> CollectorStatus:
        values = self.cache.snapshot()
        devices: list[DeviceStatus] = list(self.engine.status.values())
        stats = self.historian.stats()
        return CollectorStatus(
            devices=len(devices),
            devices_online=sum(d.online for d in devices),
            points=sum(1 for _ in self.site.iter_points()),
            points_good=sum(v.quality is Quality.GOOD for v in values.values()),
            committed=stats.committed,
            queued=stats.queued_memory,
            spooled=stats.spooled,
            db_ok=stats.db_ok,
            alarms_active=sum(a.active for a in self.alarms.alarms()),
        )


def run_until(stop_requested: Callable[[], bool], collector: Collector, report_every_s: float = 10.0,
              duration_s: float | None = None, out: Callable[..., None] = print) -> None:
    """Print the collector's status every ``report_every_s`` until ``stop_requested()``
    or ``duration_s`` elapses."""
    started = time.monotonic()
    next_report = started + min(report_every_s, 2.0)
    while not stop_requested():
        if duration_s is not None and time.monotonic() - started >= duration_s:
            return
        if time.monotonic() >= next_report:
            out(collector.status().line(), flush=True)
            next_report += report_every_s
        time.sleep(0.2)
