"""Migrations: ``upgrade(url)`` builds the schema declared in db/schema.py on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from db.engine import default_url, make_engine
from db.migrate import SCRIPT_LOCATION, alembic_config, current, upgrade
from db.schema import metadata
from tests.pg import scratch_database, server_available

#: The historian's own tables (other modules declare more on the same metadata).
HISTORIAN_TABLES = {"points", "samples", "events", "rollups", "rollup_dirty"}


def assert_schema_matches(url):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            assert HISTORIAN_TABLES <= tables and "rollup_state" not in tables
            assert tables == set(metadata.tables) | {"alembic_version"}
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()
    assert current(url) == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_upgrade_empty_sqlite_creates_file_and_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'new' / 'dir' / 'w.sqlite3'}"
    assert current(url) is None
    upgrade(url)
    assert_schema_matches(url)
    upgrade(url)  # idempotent at head
    conn = sqlite3.connect(tmp_path / "new" / "dir" / "w.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    ddl = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'samples'").fetchone()[0]
    assert "WITHOUT ROWID" in ddl
    conn.close()


def test_default_url_lives_in_user_data_dir(tmp_path):
    url = default_url()
    assert url.startswith("sqlite:///") and str(tmp_path / "xdg-data") in url
    upgrade()
    assert_schema_matches(url)


def test_migrations_are_package_files():
    assert (SCRIPT_LOCATION / "env.py").is_file() and (SCRIPT_LOCATION / "script.py.mako").is_file()
    assert not (SCRIPT_LOCATION.parent.parent / "alembic.ini").exists()


def test_upgrade_fresh_postgresql():
    why = server_available()
    if why:
        pytest.fail(why)
    with scratch_database() as url:
        upgrade(url)
        assert_schema_matches(url)


def upgrade_with_events_present(url):
    """Migrate to 0003, store two events, upgrade to head: each event keeps its row and gets a uid."""
    upgrade(url, "0003")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO events (ts, kind, source, message, data) VALUES "
                              "(1000, 'alarm_raised', 'Q1.Ua', '过压', '{\"alarm_id\": \"Q1.Ua:ov\"}'), "
                              "(2000, 'alarm_acked', 'Q1.Ua', 'ack', NULL)"))
        upgrade(url)
        assert_schema_matches(url)
        with engine.begin() as conn:
            rows = conn.execute(text("SELECT id, uid, ts, kind, message FROM events ORDER BY id")).all()
            assert [(r.uid, r.ts, r.kind, r.message) for r in rows] == [
                (f"legacy-{rows[0].id}", 1000, "alarm_raised", "过压"),
                (f"legacy-{rows[1].id}", 2000, "alarm_acked", "ack")]
            insert = text("INSERT INTO events (uid, ts, kind) VALUES (:uid, :ts, 'x') ON CONFLICT (uid) DO NOTHING")
            assert conn.execute(insert, {"uid": "u1", "ts": 3000}).rowcount == 1
            assert conn.execute(insert, {"uid": "u1", "ts": 4000}).rowcount == 0
            assert conn.execute(insert, {"uid": rows[0].uid, "ts": 5000}).rowcount == 0
            assert conn.execute(text("SELECT count(*) FROM events")).scalar() == 3
    finally:
        engine.dispose()


def test_sqlite_with_events_upgrades_to_head(tmp_path):
    upgrade_with_events_present(f"sqlite:///{tmp_path / 'old.sqlite3'}")  # events is rebuilt (batch mode)


def test_postgresql_with_events_upgrades_to_head():
    why = server_available()
    if why:
        pytest.fail(why)
    with scratch_database() as url:
        upgrade_with_events_present(url)


def test_bad_urls_are_clear_errors():
    with pytest.raises(ValueError, match="unsupported backend 'mysql'"):
        upgrade("mysql://x@localhost/db")
    with pytest.raises(ValueError, match="SQLite needs a file path"):
        upgrade("sqlite://")
