"""Real parts for the security tests: a migrated database (SQLite file or a scratch
PostgreSQL database), its audit log and user store, a hand-driven clock, the
``wattdesk`` command run in-process through its ``main()``, and the workstation's main
window on the demo site."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import NamedTuple

import pytest

from app.cli import main
from app.security import AuditLog, SecurityService, UserStore
from db.engine import make_engine
from db.migrate import upgrade
from tests.pg import scratch_database, server_available

#: A password that meets the policy, for every test user.
PASSWORD = "Tr0ub4dor&3-horse"


class Clock:
    """A clock the test moves by hand (UTC epoch seconds, also used as monotonic seconds)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Rig(NamedTuple):
    url: str
    audit: AuditLog
    users: UserStore
    security: SecurityService
    clock: Clock


@contextlib.contextmanager
def database(backend: str, tmp_path) -> Iterator[str]:
    """A migrated database URL: a SQLite file under ``tmp_path`` or a scratch PostgreSQL database."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path}/security.sqlite3"
        upgrade(url)
        yield url
        return
    why = server_available()
    if why:
        pytest.fail(why)
    with scratch_database() as url:
        upgrade(url)
        yield url


@contextlib.contextmanager
def rig(backend: str, tmp_path, idle_timeout_s: float = 900.0) -> Iterator[Rig]:
    """Users, audit and the security service on a fresh database, with a hand-driven clock."""
    with database(backend, tmp_path) as url:
        engine = make_engine(url)
        clock = Clock()
        audit = AuditLog(engine, workstation="ws-test", clock=clock)
        users = UserStore(engine, audit, clock=clock)
        try:
            yield Rig(url, audit, users, SecurityService(users, idle_timeout_s, clock=clock), clock)
        finally:
            engine.dispose()


@contextlib.contextmanager
def main_window(tmp_path, qtbot) -> Iterator:
    """The workstation's main window on the demo site (shown, 1300 x 800), torn down with its
    worker threads joined."""
    from app.ui.main_window import MainWindow
    from tests.ui_services import make_services

    services, _cache, _statuses = make_services(tmp_path)
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.resize(1300, 800)
    window.show()
    try:
        yield window
    finally:
        users = window.views.get("users")
        if users is not None:
            users.wait_idle()
        window.wait_audit_check()
        services.bridge.stop()
        services.historian.stop()


def wattdesk(*argv: str) -> int:
    """Run ``wattdesk <argv>`` in this process (``app.cli.main``); return the exit code."""
    return main(list(argv))
