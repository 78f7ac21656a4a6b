"""Real parts for the control tests (no tests here): the demo plant on free ports, a fast
acquisition engine, the alarm engine, and plain stand-ins for the security issue's
permission check, password check and audit log."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from app.acquisition import AcquisitionEngine
from app.alarms import AlarmEngine
from app.cache import PointCache
from app.config import SiteConfig
from app.control import AuditAction, AuditRecord, ControlService, LocalSelectionRegistry, SelectionRegistry
from drivers.sim.plant import DemoPlant
from tests.test_sim_plant import N_PORTS, free_port_block

SCAN_S = 0.2


class AuditLog:
    """Audit sink keeping the records in memory, in order (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: list[AuditRecord] = []

    def __call__(self, record: AuditRecord) -> None:
        with self._lock:
            self.records.append(record)

    def actions(self, target_prefix: str = "") -> list[AuditAction]:
        with self._lock:
            return [r.action for r in self.records if r.target.startswith(target_prefix)]


class Roles:
    """Permission check: user -> areas they may control (``"*"`` all)."""

    def __init__(self, grants: dict[str, set[str]]) -> None:
        self.grants = grants
        self.asked: list[tuple[str, str, str]] = []

    def __call__(self, user: str, action: str, area: str) -> bool:
        self.asked.append((user, action, area))
        areas = self.grants.get(user, set())
        return action == "control" and ("*" in areas or area in areas)


class Passwords:
    """Password check against a plain table (the security issue hashes with Argon2id)."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = table

    def __call__(self, user: str, password: str) -> bool:
        return user in self.table and self.table[user] == password


ROLES = {"wang": {"*"}, "li": {"LV1_ROOM", "LV2_ROOM"}, "zhao": set()}
PASSWORDS = {"wang": "correct horse 1", "li": "battery staple 2", "zhao": "viewer only 3"}


@dataclass
class Rig:
    """A running demo plant read by an acquisition engine into a cache, with alarms."""

    plant: DemoPlant
    site: SiteConfig
    cache: PointCache
    acquisition: AcquisitionEngine
    alarms: AlarmEngine
    services: list[ControlService] = field(default_factory=list)

    def service(self, workstation: str = "WS-1", *, audit: AuditLog | None = None,
                registry: SelectionRegistry | None = None, writer=None, reader=None,
                **kwargs) -> ControlService:
        service = ControlService(self.site, writer or self.acquisition, reader or self.cache,
                                 permission=Roles(ROLES), password=Passwords(PASSWORDS),
                                 audit=audit if audit is not None else AuditLog(), workstation=workstation,
                                 registry=registry if registry is not None else LocalSelectionRegistry(),
                                 note_command=self.alarms.note_command, **kwargs)
        service.start()
        self.services.append(service)
        return service

    def value(self, tag: str) -> float | None:
        pv = self.cache.get(tag)
        return None if pv is None or not pv.good else pv.value

    def wait_value(self, tag: str, value: float, timeout_s: float = 8.0) -> bool:
        return wait_for(lambda: self.value(tag) == value, timeout_s)


def wait_for(predicate: Callable[[], bool], timeout_s: float = 8.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def fast_site(plant: DemoPlant, scan_s: float = SCAN_S) -> SiteConfig:
    """The plant's site with every device scanned every ``scan_s`` seconds, 0.5 s timeout."""
    fast = tuple(d.model_copy(update={"scan_interval_s": scan_s, "timeout_s": 0.5, "retries": 0})
                 for d in plant.site.devices)
    return type(plant.site)(**{**dict(plant.site), "devices": fast})


def start_rig(devices: Iterable[str]) -> Rig:
    """Start the plant (physics every 0.1 s), acquisition of ``devices`` and the alarm engine."""
    plant = DemoPlant(base_port=free_port_block(N_PORTS), refresh_s=0.1)
    site = fast_site(plant)
    wanted = set(devices)
    cache = PointCache({d.tag(p.name): p.deadband for d, p in site.iter_points()})
    acquisition = AcquisitionEngine([d for d in site.devices if d.id in wanted], cache)
    alarms = AlarmEngine(site, tick_s=0.05)
    plant.start()
    try:
        alarms.start(cache)
        acquisition.start()
    except Exception:
        alarms.stop()
        plant.stop()
        raise
    rig = Rig(plant, site, cache, acquisition, alarms)
    tags = [site.device(d).tag("state") for d in wanted if site.device(d).template == "iot_breaker"]
    if not wait_for(lambda: all(rig.value(t) is not None for t in tags), 10):
        stop_rig(rig)
        raise RuntimeError("first scan of the control rig missing")
    return rig


def stop_rig(rig: Rig) -> None:
    for service in rig.services:
        service.stop()
    rig.acquisition.stop()
    rig.alarms.stop()
    rig.plant.stop()
