"""``wattdesk user``, ``wattdesk audit`` and ``wattdesk secret``: accounts, the audit log, secrets.

``app/cli.py`` calls :func:`register_security_commands` with its sub-parsers. Every
command works on the database named by ``--db`` (default: the standalone edition's
SQLite file) after ``wattdesk db upgrade``. Changes are audited in the name of
``cli:<operating-system user>``. Passwords are read from the terminal (twice) or,
for scripts, one line from standard input with ``--password-stdin``; never from
the command line.

Exit codes: 0 done, 1 ``audit verify`` found the chain broken, 2 refused (bad input,
wrong state, database unreachable).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.security import AuditLog, AuditStoreError, PasswordPolicyError, Role, UserError, UserStore
from app.security.audit_export import ExportError, write_csv, write_pdf
from app.security.secrets import SecretError, open_secret_store, with_db_password


def _fail(message: str) -> int:
    print(f"wattdesk: {message}", file=sys.stderr)
    return 2


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _engine(args: argparse.Namespace) -> Engine:
    from db.engine import default_url, make_engine

    url = args.db or default_url()
    if url.startswith("postgresql"):
        try:
            store = open_secret_store()
        except SecretError:
            store = None  # no keyring here: trust or peer authentication
        url = with_db_password(url, store)
    return make_engine(url)


def _read_password(args: argparse.Namespace, prompt: str) -> str:
    """One password from stdin (``--password-stdin``) or typed twice on the terminal.

    Raises
    ------
    UserError
        No terminal and no ``--password-stdin``, or the two entries differ.
    """
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UserError("no terminal to type a password on: use --password-stdin")
    first = getpass.getpass(prompt)
    if getpass.getpass("Again: ") != first:
        raise UserError("the two passwords differ")
    return first


def _run(args: argparse.Namespace, action: Any) -> int:
    """Run ``action(engine)`` with the house error handling."""
    try:
        engine = _engine(args)
    except (ValueError, SecretError) as err:
        return _fail(str(err))
    try:
        return action(engine)
    except (UserError, PasswordPolicyError, AuditStoreError, ExportError, SecretError) as err:
        return _fail(str(err))
    except SQLAlchemyError as err:
        return _fail(f"database error: {type(err).__name__}: {err.args[0] if err.args else err}")
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------ user
def cmd_user_add(args: argparse.Namespace) -> int:
    def act(engine: Engine) -> int:
        store = UserStore(engine, AuditLog(engine))
        store.count()  # fails clearly before asking for a password if the tables are missing
        password = _read_password(args, f"Password for {args.name}: ")
        info = store.add(args.name, args.role, password, full_name=args.full_name, actor=_actor())
        print(f"user added: {info.name} ({info.role.value})")
        return 0
    return _run(args, act)


def cmd_user_list(args: argparse.Namespace) -> int:
    def act(engine: Engine) -> int:
        print("name\trole\tstate\tfull name")
        for u in UserStore(engine, AuditLog(engine)).list():
            state = "disabled" if u.disabled else ("locked" if u.locked_until else "enabled")
            print(f"{u.name}\t{u.role.value}\t{state}\t{u.full_name}")
        return 0
    return _run(args, act)


def cmd_user_passwd(args: argparse.Namespace) -> int:
    def act(engine: Engine) -> int:
        store = UserStore(engine, AuditLog(engine))
        store.get(args.name)
        store.set_password(args.name, _read_password(args, f"New password for {args.name}: "), actor=_actor())
        print(f"password changed: {args.name}")
        return 0
    return _run(args, act)


def cmd_user_disable(args: argparse.Namespace) -> int:
    def act(engine: Engine) -> int:
        UserStore(engine, AuditLog(engine)).set_disabled(args.name, args.disable, actor=_actor())
        print(f"user {'disabled' if args.disable else 'enabled'}: {args.name}")
        return 0
    return _run(args, act)


def cmd_user_role(args: argparse.Namespace) -> int:
    def act(engine: Engine) -> int:
        UserStore(engine, AuditLog(engine)).set_role(args.name, args.role, actor=_actor())
        print(f"role of {args.name}: {args.role}")
        return 0
    return _run(args, act)


# ------------------------------------------------------------------------------ audit
def cmd_audit_verify(args: argparse.Namespace) -> int:
    def act(engine: Engine) -> int:
        log = AuditLog(engine)
        report = log.verify()
        for problem in report.problems:
            print(f"record {problem.seq}: {problem.kind}: {problem.detail}")
        storage = log.storage()
        if storage.near_limit:
            print(f"warning: audit storage near its limit: {storage.bytes_used} of {storage.limit_bytes} bytes"
                  + (f", {storage.free_bytes} bytes free on disk" if storage.free_bytes is not None else ""),
                  file=sys.stderr)
        if report.ok:
            print(f"audit log intact: {report.records} records, head #{report.head_seq} {report.head_hash}")
            return 0
        print(f"AUDIT LOG TAMPERED: {len(report.problems)} problem(s) in {report.records} records")
        return 1
    return _run(args, act)


def _instant(text: str) -> float:
    """argparse type: ISO 8601 date or date-time (local time if no offset) -> UTC epoch seconds."""
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date or date-time") from None


def cmd_audit_export(args: argparse.Namespace) -> int:
    if not (args.csv or args.pdf):
        return _fail("audit export needs --csv FILE and/or --pdf FILE")

    def act(engine: Engine) -> int:
        log = AuditLog(engine)
        records = log.records(since=args.since, until=args.until)
        if args.csv:
            write_csv(records, args.csv)
            print(f"{len(records)} audit records written to {args.csv}")
        if args.pdf:
            write_pdf(records, args.pdf, log.verify())
            print(f"{len(records)} audit records written to {args.pdf}")
        return 0
    return _run(args, act)


# ------------------------------------------------------------------------------ secret
def cmd_secret_set(args: argparse.Namespace) -> int:
    try:
        store = open_secret_store()
        if args.value_stdin:
            value = sys.stdin.readline().rstrip("\r\n")
        elif sys.stdin.isatty():
            value = getpass.getpass(f"Secret for {args.service}/{args.username}: ")
        else:
            return _fail("no terminal to type the secret on: use --value-stdin")
        store.set(args.service, args.username, value)
    except SecretError as err:
        return _fail(str(err))
    print(f"secret stored: {args.service}/{args.username} in {store.description}")
    return 0


def cmd_secret_delete(args: argparse.Namespace) -> int:
    try:
        store = open_secret_store()
        store.delete(args.service, args.username)
    except SecretError as err:
        return _fail(str(err))
    print(f"secret deleted: {args.service}/{args.username}")
    return 0


# ------------------------------------------------------------------------------ parser
def register_security_commands(sub: argparse._SubParsersAction) -> None:
    """Add the ``user``, ``audit`` and ``secret`` sub-commands to ``wattdesk``'s sub-parsers."""
    roles = [r.value for r in Role]

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--db", help="database URL (default: SQLite in the user data dir)")
        return p

    user = sub.add_parser("user", help="user accounts: add, list, passwd, disable, enable, role")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = with_db(user_sub.add_parser("add", help="create an account (the first: --role admin)"))
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=roles)
    add.add_argument("--full-name", default="")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=cmd_user_add)
    with_db(user_sub.add_parser("list", help="list accounts")).set_defaults(func=cmd_user_list)
    passwd = with_db(user_sub.add_parser("passwd", help="set a new password (clears a lockout)"))
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true")
    passwd.set_defaults(func=cmd_user_passwd)
    for verb, disable in (("disable", True), ("enable", False)):
        p = with_db(user_sub.add_parser(verb, help=f"{verb} an account"))
        p.add_argument("name")
        p.set_defaults(func=cmd_user_disable, disable=disable)
    role = with_db(user_sub.add_parser("role", help="change an account's role"))
    role.add_argument("name")
    role.add_argument("--role", required=True, choices=roles)
    role.set_defaults(func=cmd_user_role)

    audit = sub.add_parser("audit", help="the audit log: verify the hash chain, export")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    with_db(audit_sub.add_parser("verify", help="report edited, inserted or deleted records")
            ).set_defaults(func=cmd_audit_verify)
    export = with_db(audit_sub.add_parser("export", help="write the audit log to CSV and/or PDF"))
    export.add_argument("--csv", type=Path, help="CSV file to write")
    export.add_argument("--pdf", type=Path, help="PDF file to write")
    export.add_argument("--since", type=_instant, help="from this ISO date/time on")
    export.add_argument("--until", type=_instant, help="before this ISO date/time")
    export.set_defaults(func=cmd_audit_export)

    secret = sub.add_parser("secret", help="secrets in the OS keyring or the opted-in encrypted file")
    secret_sub = secret.add_subparsers(dest="secret_command", required=True)
    sset = secret_sub.add_parser("set", help="store a secret (typed, or --value-stdin)")
    sset.add_argument("service")
    sset.add_argument("username")
    sset.add_argument("--value-stdin", action="store_true")
    sset.set_defaults(func=cmd_secret_set)
    sdel = secret_sub.add_parser("delete", help="remove a secret")
    sdel.add_argument("service")
    sdel.add_argument("username")
    sdel.set_defaults(func=cmd_secret_delete)
