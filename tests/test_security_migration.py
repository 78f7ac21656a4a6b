"""Earlier databases upgrade to the latest head (0004 and whatever follows) without losing data, on
SQLite and on a real PostgreSQL server: one made by the first schema (0001) holding samples and
audit rows, and one made by the first security schema (0003) holding accounts, a grant, a hash
chain and journal events."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from app.security import AuditLog, Permission, Role, UserStore
from db.engine import make_engine
from db.migrate import alembic_config, current, upgrade
from tests.pg import scratch_database, server_available
from tests.security_rig import PASSWORD, wattdesk


def make_0001_database(url: str) -> None:
    upgrade(url, "0001")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO points (tag, device, name) VALUES ('M1.P', 'M1', 'P')"))
        conn.execute(sa.text("INSERT INTO samples (point_id, ts, value, quality) VALUES (1, 1000, 4.5, 0)"))
        conn.execute(sa.text('INSERT INTO audit (ts, "user", workstation, action, target, before, after, result) '
                             "VALUES (1700000000000, 'zhang', 'ws-old', 'control', 'QF1.command=0', "
                             """'{"state": "closed"}', '{"state": "open"}', 'ok')"""))
        conn.execute(sa.text('INSERT INTO audit (ts, "user", action) VALUES (1700000001000, \'li\', \'login\')'))
    engine.dispose()


def check_upgraded(url: str, capsys) -> None:
    upgrade(url)
    assert current(url) == ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT value FROM samples")).scalar_one() == 4.5
        assert "audit" not in sa.inspect(conn).get_table_names()
    log = AuditLog(engine)
    records = log.records()
    assert [(r.seq, r.user, r.workstation, r.action, r.target, r.before, r.after, r.result) for r in records] == [
        (1, "zhang", "ws-old", "control", "QF1.command=0", {"state": "closed"}, {"state": "open"}, "ok"),
        (2, "li", "", "login", "", None, None, "")]
    assert records[0].ts == 1_700_000_000.0
    assert log.verify().ok
    log.append("cli:test", "user.add", "root")
    users = UserStore(engine, log)
    assert users.count() == 0                                          # no default account
    model = users.permissions()
    assert model.allows(Role.OPERATOR, Permission.CONTROL, "A1") and model.allows(Role.VIEWER, Permission.VIEW)
    assert not model.allows(Role.VIEWER, Permission.CONTROL, "A1")
    users.add("root", Role.ADMIN, PASSWORD, actor="test")
    engine.dispose()
    assert wattdesk("audit", "verify", "--db", url) == 0
    assert "audit log intact: 4 records" in capsys.readouterr().out


def test_sqlite_database_of_schema_0001_upgrades(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/old.sqlite3"
    make_0001_database(url)
    check_upgraded(url, capsys)


def test_postgresql_database_of_schema_0001_upgrades(capsys):
    why = server_available()
    if why:
        pytest.fail(why)
    with scratch_database() as url:
        make_0001_database(url)
        check_upgraded(url, capsys)


def test_downgrade_to_0002_keeps_the_audit_rows(tmp_path):
    from alembic import command

    from db.migrate import alembic_config

    url = f"sqlite:///{tmp_path}/old.sqlite3"
    make_0001_database(url)
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    with engine.connect() as conn:
        rows = conn.execute(sa.text('SELECT "user", action FROM audit ORDER BY id')).all()
        assert [tuple(r) for r in rows] == [("zhang", "control"), ("li", "login")]
        assert "users" not in sa.inspect(conn).get_table_names()
    engine.dispose()


def make_0003_database(url: str) -> None:
    """The security schema's first version with accounts, a grant, an audit chain and journal events."""
    from app.security import Grant

    upgrade(url, "0003")
    engine = make_engine(url)
    log = AuditLog(engine, workstation="ws-old")
    users = UserStore(engine, log)
    users.add("root", Role.ADMIN, PASSWORD, full_name="值班长", actor="cli:test")
    users.add("<b>wang</b>", Role.OPERATOR, PASSWORD, actor="root")
    users.grant(Grant(Role.OPERATOR, Permission.SHELVE, "R1"), actor="root")
    users.authenticate("<b>wang</b>", PASSWORD)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO events (ts, kind, source, message) VALUES "
                             "(1000, 'alarm_raised', 'Q1.Ua', '过压'), (2000, 'alarm_acked', 'Q1.Ua', 'ack')"))
    engine.dispose()


def check_0003_upgraded(url: str, capsys) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert current(url) == "0003" and script.get_current_head() != "0003"
    upgrade(url)
    assert current(url) == script.get_current_head()
    engine = make_engine(url)
    log = AuditLog(engine)
    users = UserStore(engine, log)
    assert [(u.name, u.role, u.full_name) for u in users.list()] == [
        ("<b>wang</b>", Role.OPERATOR, ""), ("root", Role.ADMIN, "值班长")]
    assert users.authenticate("<b>wang</b>", PASSWORD).name == "<b>wang</b>"
    assert users.permissions().allows(Role.OPERATOR, Permission.SHELVE, "R1")
    assert [(r.user, r.action, r.target) for r in log.records()] == [
        ("cli:test", "user.add", "root"), ("root", "user.add", "<b>wang</b>"), ("root", "role.grant", "operator"),
        ("<b>wang</b>", "login", "<b>wang</b>"), ("<b>wang</b>", "login", "<b>wang</b>")]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(DISTINCT uid) FROM events")).scalar_one() == 2
    engine.dispose()
    assert wattdesk("audit", "verify", "--db", url) == 0
    assert "audit log intact: 5 records" in capsys.readouterr().out


def test_sqlite_database_of_schema_0003_with_accounts_upgrades_to_head(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/v3.sqlite3"
    make_0003_database(url)
    check_0003_upgraded(url, capsys)


def test_postgresql_database_of_schema_0003_with_accounts_upgrades_to_head(capsys):
    why = server_available()
    if why:
        pytest.fail(why)
    with scratch_database() as url:
        make_0003_database(url)
        check_0003_upgraded(url, capsys)
