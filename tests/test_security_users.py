"""Accounts and login on real SQLite and PostgreSQL: Argon2id parameters, password rules,
wrong passwords and lockout, disabled accounts, no default account, hostile names verbatim."""

from __future__ import annotations

import io

import pytest
from argon2 import extract_parameters

from app.security import AuthError, PasswordPolicyError, Role, UserError
from app.security.passwords import hash_password, verify_password
from db.security_schema import users as users_table
from tests.security_rig import PASSWORD, rig, wattdesk

BACKENDS = ["sqlite", "postgresql"]

HOSTILE = [
    "Robert'); DROP TABLE users;--",
    "<b>bold</b><script>alert(1)</script>",
    "{user} %s %(name)s %n {0!r}",
    "\u202eslaw\u202c עברית مرحبا",
    "管理员 Ünïcødé 🔥",
    "x" * 64,
]


def test_hashes_are_argon2id_with_at_least_the_owasp_parameters():
    phc = hash_password(PASSWORD)
    params = extract_parameters(phc)
    assert phc.startswith("$argon2id$")
    assert params.memory_cost >= 19 * 1024 and params.time_cost >= 2 and params.parallelism == 1
    assert verify_password(phc, PASSWORD) and not verify_password(phc, PASSWORD + "x")
    assert not verify_password("not a hash", PASSWORD)
    assert hash_password(PASSWORD) != phc                      # salted


@pytest.mark.parametrize("password, rule", [
    ("short1!", "at least 10"), ("a" * 12, "repeated"), ("my-alice-password", "user name"),
    ("x" * 200 + "y" * 57, "at most 256"),
])
def test_password_rules(tmp_path, password, rule):
    with rig("sqlite", tmp_path) as r:
        with pytest.raises(PasswordPolicyError, match=rule):
            r.users.add("alice", Role.OPERATOR, password, actor="test")
        assert r.users.count() == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_wrong_passwords_lock_the_account_for_a_while_and_every_attempt_is_audited(backend, tmp_path):
    with rig(backend, tmp_path) as r:
        r.users.add("wang", Role.OPERATOR, PASSWORD, actor="test")
        for attempt in range(1, 5):
            with pytest.raises(AuthError) as err:
                r.users.authenticate("wang", f"wrong-{attempt}-password")
            assert err.value.reason == "wrong"
            assert r.users.get("wang").failed_logins == attempt
        with pytest.raises(AuthError) as err:
            r.users.authenticate("wang", "wrong-5-password")
        assert err.value.reason == "locked" and err.value.until == r.clock.now + 15 * 60
        # locked: even the right password is refused, on every workstation sharing the database
        r.clock.advance(14 * 60)
        with pytest.raises(AuthError, match="locked"):
            r.users.authenticate("wang", PASSWORD)
        r.clock.advance(61)
        assert r.users.authenticate("wang", PASSWORD).name == "wang"
        assert r.users.get("wang").failed_logins == 0 and r.users.get("wang").locked_until is None

        log = [(a.user, a.action, a.result) for a in r.audit.records()]
        assert log == [("test", "user.add", "ok")] + [("wang", "login.failed", "wrong")] * 4 + [
            ("wang", "login.failed", "locked"), ("wang", "login.failed", "locked"), ("wang", "login", "ok")]
        assert all(a.workstation == "ws-test" for a in r.audit.records())
        assert r.audit.verify().ok


@pytest.mark.parametrize("backend", BACKENDS)
def test_unknown_users_disabled_accounts_and_the_last_administrator(backend, tmp_path):
    with rig(backend, tmp_path) as r:
        with pytest.raises(AuthError, match="wrong user name or password"):
            r.users.authenticate("nobody", PASSWORD)
        r.users.add("root", Role.ADMIN, PASSWORD, actor="test")
        r.users.add("li", Role.VIEWER, PASSWORD, actor="root")
        with pytest.raises(UserError, match="already exists"):
            r.users.add("li", Role.VIEWER, PASSWORD, actor="root")
        r.users.set_disabled("li", True, actor="root")
        with pytest.raises(AuthError) as err:
            r.users.authenticate("li", PASSWORD)
        assert err.value.reason == "disabled"
        with pytest.raises(UserError, match="last enabled administrator"):
            r.users.set_disabled("root", True, actor="root")
        with pytest.raises(UserError, match="last enabled administrator"):
            r.users.set_role("root", Role.OPERATOR, actor="root")
        with pytest.raises(ValueError, match="unknown role 'superuser'"):
            r.users.add("x", "superuser", PASSWORD, actor="root")
        actions = [(a.user, a.action, a.target, a.result) for a in r.audit.records()]
        assert actions[0] == ("nobody", "login.failed", "nobody", "wrong")
        assert ("root", "user.disable", "li", "ok") in actions and ("li", "login.failed", "li", "disabled") in actions


@pytest.mark.parametrize("backend", BACKENDS)
def test_hostile_names_and_fields_are_stored_and_listed_verbatim(backend, tmp_path, capsys, monkeypatch):
    with rig(backend, tmp_path) as r:
        for i, name in enumerate(HOSTILE):
            r.users.add(name, Role.VIEWER, PASSWORD + str(i), full_name=HOSTILE[-1 - i] * 3, actor=HOSTILE[i - 1])
        stored = {u.name: u.full_name for u in r.users.list()}
        assert stored == {name: HOSTILE[-1 - i] * 3 for i, name in enumerate(HOSTILE)}
        for i, name in enumerate(HOSTILE):
            assert r.users.authenticate(name, PASSWORD + str(i)).name == name
        with r.users.engine.connect() as conn:                      # the table is still there
            assert len(conn.execute(users_table.select()).all()) == len(HOSTILE)
        records = r.audit.records()
        assert [a.target for a in records if a.action == "user.add"] == HOSTILE
        assert [a.user for a in records if a.action == "user.add"] == [HOSTILE[i - 1] for i in range(len(HOSTILE))]
        assert r.audit.verify().ok

        r.users.add("root", Role.ADMIN, PASSWORD, actor="test")
        with monkeypatch.context() as m:
            m.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
            assert wattdesk("user", "list", "--as", "root", "--password-stdin", "--db", r.url) == 0
        out = capsys.readouterr().out.splitlines()
        assert {line.split("\t")[0] for line in out[1:]} == set(HOSTILE) | {"root"}
        assert {line.split("\t")[-1] for line in out[1:]} == {HOSTILE[-1 - i] * 3 for i in range(len(HOSTILE))} | {""}


@pytest.mark.parametrize("name, why", [
    ("", "empty"), ("x" * 65, "at most 64"), (" padded", "white space"), ("tab\there", "control"),
    ("nul\x00", "control"), ("line\nbreak", "control"),
])
def test_names_that_cannot_be_shown_faithfully_are_refused_clearly(tmp_path, name, why):
    with rig("sqlite", tmp_path) as r:
        with pytest.raises(UserError, match=why):
            r.users.add(name, Role.VIEWER, PASSWORD, actor="test")


def test_cli_on_a_database_without_the_security_tables_says_to_upgrade(tmp_path, capsys):
    from db.migrate import upgrade

    url = f"sqlite:///{tmp_path}/old.sqlite3"
    upgrade(url, "0002")
    assert wattdesk("user", "list", "--as", "root", "--db", url) == 2
    assert "wattdesk db upgrade" in capsys.readouterr().err
