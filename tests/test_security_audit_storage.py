"""The warning when audit storage nears its limit: in the workstation's status bar (nothing while
there is room, the warning colour near the limit or when the disk runs low, "unknown" when the
log cannot be read), logged when the workstation and the collector start, and printed by
``wattdesk audit verify`` — on a real SQLite database."""

from __future__ import annotations

import logging
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from app.collector import Collector
from app.config import load_site
from app.security import Role, SecurityService
from app.security.audit import log_storage
from app.ui.main_window import MainWindow
from db.migrate import upgrade
from tests.modbus_peers import free_port
from tests.security_rig import PASSWORD, main_window, rig, wattdesk

LOGGER = "app.security.audit"


@pytest.fixture
def sec(tmp_path):
    with rig("sqlite", tmp_path) as r:
        r.users.add("root", Role.ADMIN, PASSWORD, actor="test")
        r.audit.limit_bytes, r.audit.min_free_bytes = 10**12, 0
        yield r


@pytest.fixture
def window(tmp_path, qtbot):
    with main_window(tmp_path, qtbot) as w:
        yield w


def check(qtbot, window: MainWindow) -> None:
    before = window.audit_storage
    window.check_audit_storage()
    qtbot.waitUntil(lambda: window.audit_storage is not None and window.audit_storage is not before, timeout=10_000)


def warnings(caplog, logger: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger and r.levelno == logging.WARNING]


def test_the_status_bar_is_calm_with_room_and_warns_near_the_limit(sec, window, qtbot, caplog):
    caplog.set_level(logging.WARNING)
    label = window._audit_label
    window.set_security(sec.security)                            # as the session guard does at start
    qtbot.waitUntil(lambda: window.audit_storage is not None, timeout=10_000)
    assert not label.isVisible() and not label.text()
    assert window.audit_storage.records == 1 and not window.audit_storage.near_limit

    sec.audit.limit_bytes = window.audit_storage.bytes_used      # now 100 % of the limit
    check(qtbot, window)
    assert label.isVisible() and label.property("state") == "warning"
    used = f"{window.audit_storage.bytes_used / 1024**2:,.0f} MiB"
    assert label.text() == f"Audit log near its storage limit: {used} of {used}"
    assert "never deleted" in label.toolTip()
    logged = warnings(caplog, "app.ui.main_window")
    assert len(logged) == 1 and logged[0].startswith("audit storage near its limit") and "never pruned" in logged[0]
    check(qtbot, window)
    assert label.isVisible() and len(warnings(caplog, "app.ui.main_window")) == 1   # logged once, not per check

    sec.audit.limit_bytes, sec.audit.min_free_bytes = 10**12, 10**15   # the disk is the problem
    check(qtbot, window)
    assert label.isVisible() and label.text().startswith("Audit log: disk almost full (")
    sec.audit.min_free_bytes = 0
    check(qtbot, window)
    assert not label.isVisible()                                 # calm again


def test_an_audit_log_that_cannot_be_read_is_never_shown_as_fine(tmp_path, window, qtbot, caplog):
    caplog.set_level(logging.WARNING)
    url = f"sqlite:///{tmp_path}/old.sqlite3"
    upgrade(url, "0002")                                         # before the audit chain
    security = SecurityService.open(url, workstation="ws-test")
    try:
        window.set_security(security)
        qtbot.waitUntil(lambda: window.audit_storage is not None, timeout=10_000)
        assert window._audit_label.isVisible() and window._audit_label.text() == "Audit log storage unknown"
        assert any("wattdesk db upgrade" in m for m in warnings(caplog, "app.ui.main_window"))
    finally:
        window.wait_audit_check()
        security.users.engine.dispose()


def test_log_storage_at_start(sec, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    roomy = log_storage(sec.url, limit_bytes=10**12, min_free_bytes=0)
    assert roomy is not None and not roomy.near_limit and warnings(caplog, LOGGER) == []
    near = log_storage(sec.url, limit_bytes=roomy.bytes_used, min_free_bytes=0)
    assert near.near_limit
    assert warnings(caplog, LOGGER) == [near.warning()]
    assert near.warning().startswith(f"audit storage near its limit: {roomy.bytes_used / 1024**2:.1f} MiB of")
    old = f"sqlite:///{tmp_path}/old.sqlite3"
    upgrade(old, "0002")
    assert log_storage(old) is None
    assert "audit storage not checked" in warnings(caplog, LOGGER)[-1]


def test_the_collector_logs_the_warning_when_it_starts(sec, tmp_path, caplog, monkeypatch):
    caplog.set_level(logging.WARNING)
    site_file = tmp_path / "site.yaml"
    site_file.write_text(f"""\
site: {{name: Test plant, timezone: Asia/Shanghai}}
areas: [{{id: A, name: Power room, kind: room}}]
devices:
  - {{id: QF1, name: Feeder 1, area: A, protocol: modbus_tcp, host: 127.0.0.1, port: {free_port()},
      scan_interval_s: 0.5, timeout_s: 0.2, retries: 0, template: iot_breaker}}
""", encoding="utf-8")
    monkeypatch.setattr("app.security.audit.DEFAULT_LIMIT_BYTES", 1)   # any audit log is "near" this limit
    collector = Collector(load_site(site_file), sec.url)
    collector.start()
    try:
        logged = warnings(caplog, LOGGER)
        assert len(logged) == 1 and logged[0].startswith("audit storage near its limit")
    finally:
        collector.stop()


def test_audit_verify_prints_the_warning(sec, capsys, monkeypatch):
    assert wattdesk("audit", "verify", "--db", sec.url) == 0
    assert "warning" not in capsys.readouterr().err
    monkeypatch.setattr("app.security.audit.DEFAULT_LIMIT_BYTES", 1)
    assert wattdesk("audit", "verify", "--db", sec.url) == 0
    assert capsys.readouterr().err.startswith("warning: audit storage near its limit")
