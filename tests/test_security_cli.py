"""``wattdesk user`` and ``wattdesk role`` through ``app.cli.main`` in-process, on real SQLite and
PostgreSQL: the first administrator on an empty database, then every command in the name of an
acting user who proves it with a password (``--as``), with the same rules and audit as the
workstation's users view."""

from __future__ import annotations

import io
from datetime import datetime

import pytest

from app.security import Grant, Permission, Role
from tests.security_rig import PASSWORD, rig, wattdesk


@pytest.fixture
def stdin(monkeypatch):
    """``feed(*lines)``: what ``--password-stdin`` reads next."""
    def feed(*lines: str) -> None:
        monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    return feed


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = wattdesk(*argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_first_administrator_then_everything_as_an_authenticated_user(backend, tmp_path, capsys, stdin):
    with rig(backend, tmp_path) as r:
        db = ("--db", r.url)
        assert r.users.count() == 0                                              # no default account
        stdin(PASSWORD)
        code, _out, err = run(capsys, "user", "add", "op", "--role", "operator", "--password-stdin", *db)
        assert code == 2 and "first one must be --role admin" in err and r.users.count() == 0
        stdin(PASSWORD)
        code, out, _err = run(capsys, "user", "add", "chief", "--role", "admin", "--full-name", "值班长",
                              "--password-stdin", *db)
        assert code == 0 and "first administrator added: chief" in out
        assert r.users.get("chief").role is Role.ADMIN and r.users.get("chief").full_name == "值班长"
        first = r.audit.records()[0]
        assert (first.user[:4], first.action, first.target) == ("cli:", "user.add", "chief")
        assert first.workstation.startswith("cli:")

        # from now on an account acts: without --as, nothing happens
        stdin(PASSWORD)
        code, _out, err = run(capsys, "user", "add", "boss", "--role", "admin", "--password-stdin", *db)
        assert code == 2 and "--as NAME" in err and r.users.count() == 1

        stdin(PASSWORD, PASSWORD + "-op")                                        # chief's, then the new one
        code, out, _err = run(capsys, "user", "add", "wang", "--role", "operator", "--as", "chief",
                              "--password-stdin", *db)
        assert code == 0 and "user added: wang (operator)" in out
        stdin(PASSWORD, "short")
        code, _out, err = run(capsys, "user", "passwd", "wang", "--as", "chief", "--password-stdin", *db)
        assert code == 2 and "at least 10" in err
        stdin(PASSWORD, PASSWORD + "-new")
        assert run(capsys, "user", "passwd", "wang", "--as", "chief", "--password-stdin", *db)[0] == 0
        assert r.users.authenticate("wang", PASSWORD + "-new").name == "wang"
        for argv, check in (
                (("user", "disable", "wang"), lambda: r.users.get("wang").disabled),
                (("user", "enable", "wang"), lambda: not r.users.get("wang").disabled),
                (("user", "role", "wang", "--role", "viewer"), lambda: r.users.get("wang").role is Role.VIEWER),
                (("role", "grant", "operator", "shelve", "--area", "R1"),
                 lambda: r.users.permissions().allows(Role.OPERATOR, Permission.SHELVE, "R1")),
                (("role", "revoke", "operator", "control"),
                 lambda: not r.users.permissions().allows(Role.OPERATOR, Permission.CONTROL, "R2"))):
            stdin(PASSWORD)
            code, out, err = run(capsys, *argv, "--as", "chief", "--password-stdin", *db)
            assert code == 0 and check(), (argv, out, err)
        stdin(PASSWORD)
        code, out, _err = run(capsys, "role", "revoke", "operator", "control", "--as", "chief", "--password-stdin", *db)
        assert code == 0 and "not granted, nothing revoked" in out

        stdin(PASSWORD)
        code, out, _err = run(capsys, "role", "list", "--as", "chief", "--password-stdin", *db)
        rows = [line.split("\t") for line in out.splitlines()]
        assert rows[0] == ["role", "permission", "area"] and ["admin", "(everything)", "*"] in rows
        assert ["operator", "shelve", "R1"] in rows and ["operator", "acknowledge", "*"] in rows
        assert ["viewer", "view", "*"] in rows and not any(r[:2] == ["operator", "control"] for r in rows)

        stdin(PASSWORD)
        code, out, _err = run(capsys, "user", "list", "--as", "chief", "--password-stdin", *db)
        rows = {line.split("\t")[0]: line.split("\t") for line in out.splitlines()[1:]}
        assert out.splitlines()[0] == "name\trole\tstate\tlocked until\tlast login\tfull name"
        assert rows["wang"][1:4] == ["viewer", "enabled", "-"]
        assert rows["wang"][4] == datetime.fromtimestamp(r.clock.now).isoformat(sep=" ", timespec="seconds")
        assert rows["chief"][4] != "-" and rows["chief"][5] == "值班长"                       # the CLI's logins

        # each command is a login and a logout of the acting user, every change in their name
        records = [a for a in r.audit.records()[1:] if a.workstation != "ws-test"]   # not the test's own login
        assert {a.user for a in records} == {"chief"}
        assert [(a.action, a.target) for a in records[:3]] == [
            ("login", "chief"), ("user.add", "wang"), ("logout", "chief")]
        assert all(a.workstation.startswith("cli:") for a in records)
        assert r.audit.verify().ok


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_refusals_wrong_passwords_and_bad_input_exit_2_and_are_audited(backend, tmp_path, capsys, stdin):
    with rig(backend, tmp_path) as r:
        db = ("--db", r.url)
        r.users.add("chief", Role.ADMIN, PASSWORD, actor="test")
        r.users.add("mgr", Role.OPERATOR, PASSWORD, actor="chief")
        r.users.add("li", Role.VIEWER, PASSWORD, actor="chief")
        r.users.grant(Grant(Role.OPERATOR, Permission.MANAGE_USERS), actor="chief")
        start = r.audit.verify().head_seq

        stdin("not-the-password", PASSWORD)
        code, _out, err = run(capsys, "user", "add", "x1", "--role", "viewer", "--as", "chief", "--password-stdin", *db)
        assert code == 2 and "chief: wrong user name or password" in err
        stdin(PASSWORD)
        code, _out, err = run(capsys, "user", "disable", "chief", "--as", "li", "--password-stdin", *db)
        assert code == 2 and "'li' may not user.disable 'chief'" in err
        stdin(PASSWORD)
        code, _out, err = run(capsys, "user", "disable", "chief", "--as", "mgr", "--password-stdin", *db)
        assert code == 2 and "administrators only" in err
        stdin(PASSWORD)
        code, _out, err = run(capsys, "role", "grant", "viewer", "control", "--as", "mgr", "--password-stdin", *db)
        assert code == 2 and "'mgr' may not role.grant 'viewer': administrators only" in err
        stdin(PASSWORD, PASSWORD + "-v")
        assert run(capsys, "user", "add", "v2", "--role", "viewer", "--as", "mgr", "--password-stdin", *db)[0] == 0
        assert not r.users.get("chief").disabled and r.users.get("v2").role is Role.VIEWER
        assert [(a.user, a.action, a.target, a.result) for a in r.audit.records() if a.seq > start] == [
            ("chief", "login.failed", "chief", "wrong"),
            ("li", "login", "li", "ok"), ("li", "user.disable", "chief", "denied"), ("li", "logout", "li", "ok"),
            ("mgr", "login", "mgr", "ok"), ("mgr", "user.disable", "chief", "denied"), ("mgr", "logout", "mgr", "ok"),
            ("mgr", "login", "mgr", "ok"), ("mgr", "role.grant", "viewer", "denied"), ("mgr", "logout", "mgr", "ok"),
            ("mgr", "login", "mgr", "ok"), ("mgr", "user.add", "v2", "ok"), ("mgr", "logout", "mgr", "ok")]

        for argv, message in (
                (("role", "grant", "viewer", "fly"), "unknown permission 'fly'"),
                (("role", "grant", "superuser", "view"), "unknown role 'superuser'"),
                (("role", "grant", "admin", "view"), "takes no grants"),
                (("role", "grant", "viewer", "manage_users", "--area", "R1"), "not granted per area"),
                (("role", "grant", "operator", "control", "--area", "R1;DROP"), "area id"),
                (("user", "disable", "ghost"), "no user named 'ghost'"),
                (("user", "disable", "chief"), "last enabled administrator")):
            stdin(PASSWORD)
            code, _out, err = run(capsys, *argv, "--as", "chief", "--password-stdin", *db)
            assert code == 2 and message in err, (argv, err)
        stdin()                                                                  # stdin ends early
        code, _out, err = run(capsys, "user", "list", "--as", "chief", "--password-stdin", *db)
        assert code == 2 and "standard input ended" in err
        code, _out, err = run(capsys, "user", "list", "--as", "chief", *db)    # no terminal, no --password-stdin
        assert code == 2 and "use --password-stdin" in err
        assert r.audit.verify().ok
