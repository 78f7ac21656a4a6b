"""``wattdesk user``, ``wattdesk role``, ``wattdesk audit`` and ``wattdesk secret``.

``app/cli.py`` calls :func:`register_security_commands` with its sub-parsers. Every
command works on the database named by ``--db`` (default: the standalone edition's
SQLite file) after ``wattdesk db upgrade``.

Who acts: account and role commands go through :class:`~app.security.SecurityService`
like the workstation's users view, so the same rules hold. The acting user is named
with ``--as NAME`` and proves it with their password; the command logs them in
(audited ``login``, workstation ``cli:<OS user>@<host>``), acts in their name (an
administrator, or a user whose role has ``manage_users`` for operator and viewer
accounts), and logs them out. Refusals are audited and exit 2. The one exception is
the very first account: ``wattdesk user add NAME --role admin`` on a database with no
accounts needs no ``--as`` (audited as ``cli:<OS user>``). ``audit`` and ``secret``
commands need no account: whoever may read the database may verify and export the chain.

Passwords are typed on the terminal (a new one twice) or, for scripts, read from
standard input with ``--password-stdin``, one per line: first the acting user's (with
``--as``), then the new one (``user add``, ``user passwd``). Never on the command line.

Exit codes: 0 done, 1 ``audit verify`` found the chain broken, 2 refused (bad input,
wrong password, no permission, wrong state, database unreachable).
"""

from __future__ import annotations

import argparse
import getpass
import socket
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.security import (AuditLog, AuditStoreError, AuthError, Grant, PasswordPolicyError, PermissionDenied, Role,
                          SecurityService, UserError, UserStore)
from app.security.audit_export import ExportError, write_csv, write_pdf
from app.security.permissions import ALL_AREAS, parse_permission, parse_role
from app.security.secrets import SecretError, open_secret_store, with_db_password


def _fail(message: str) -> int:
    print(f"wattdesk: {message}", file=sys.stderr)
    return 2


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


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


class _Passwords:
    """Passwords for one command: lines of standard input (``--password-stdin``) or typed.

    Raises
    ------
    UserError
        No terminal and no ``--password-stdin``, the two entries of a new password
        differ, or standard input ended early.
    """

    def __init__(self, from_stdin: bool, stdin: TextIO | None = None) -> None:
        self.from_stdin = from_stdin
        self.stdin = stdin if stdin is not None else sys.stdin

    def existing(self, prompt: str) -> str:
        """A password the user has (typed once)."""
        return self._read(prompt, twice=False)

    def new(self, prompt: str) -> str:
        """A new password (typed twice)."""
        return self._read(prompt, twice=True)

    def _read(self, prompt: str, twice: bool) -> str:
        if self.from_stdin:
            line = self.stdin.readline()
            if not line:
                raise UserError("standard input ended before every password was read (--password-stdin: "
                                "the acting user's password first, then the new one, one per line)")
            return line.rstrip("\r\n")
        if not self.stdin.isatty():
            raise UserError("no terminal to type a password on: use --password-stdin")
        first = getpass.getpass(prompt)
        if twice and getpass.getpass("Again: ") != first:
            raise UserError("the two passwords differ")
        return first


def _security(engine: Engine) -> SecurityService:
    """The security service of this command, recorded as workstation ``cli:<OS user>@<host>``."""
    audit = AuditLog(engine, workstation=f"cli:{_os_user()}@{socket.gethostname()}")
    return SecurityService(UserStore(engine, audit))


def _run(args: argparse.Namespace, action: Callable[[Engine], int]) -> int:
    """Run ``action(engine)`` with the house error handling."""
    try:
        engine = _engine(args)
    except (ValueError, SecretError) as err:
        return _fail(str(err))
    try:
        return action(engine)
    except (UserError, PasswordPolicyError, AuditStoreError, ExportError, SecretError, PermissionDenied) as err:
        return _fail(str(err))
    except AuthError as err:
        return _fail(f"{getattr(args, 'actor', None) or 'the acting user'}: {err}")
    except SQLAlchemyError as err:
        return _fail(f"database error: {type(err).__name__}: {err.args[0] if err.args else err}")
    finally:
        engine.dispose()


def _act_as(args: argparse.Namespace, security: SecurityService,
            act: Callable[[SecurityService, _Passwords], str]) -> int:
    """Log the ``--as`` user in, run ``act(security, passwords)`` in their name, print what it
    returns, log them out."""
    security.users.count()  # fails clearly before asking for a password if the tables are missing
    if not args.actor:
        raise UserError("name the acting administrator with --as NAME (their password is asked for)")
    passwords = _Passwords(args.password_stdin)
    security.login(args.actor, passwords.existing(f"Password of {args.actor}: "))
    try:
        print(act(security, passwords))
    finally:
        security.logout()
    return 0


def _administer(args: argparse.Namespace, act: Callable[[SecurityService, _Passwords], str]) -> int:
    """:func:`_act_as` with the house error handling."""
    return _run(args, lambda engine: _act_as(args, _security(engine), act))


def _when(ts: float | None) -> str:
    """Local ISO time to the second, or ``-``."""
    return "-" if ts is None else datetime.fromtimestamp(ts).isoformat(sep=" ", timespec="seconds")


# ------------------------------------------------------------------------------ user
def cmd_user_add(args: argparse.Namespace) -> int:
    def add(security: SecurityService, passwords: _Passwords) -> str:
        password = passwords.new(f"Password for {args.name}: ")
        info = security.add_user(args.name, args.role, password, full_name=args.full_name)
        return f"user added: {info.name} ({info.role.value})"

    def action(engine: Engine) -> int:
        security = _security(engine)
        if args.actor or security.users.count():
            return _act_as(args, security, add)
        # the first account, on an empty database: an administrator, no --as
        if args.role != Role.ADMIN.value:
            raise UserError("the database has no accounts yet: the first one must be --role admin")
        password = _Passwords(args.password_stdin).new(f"Password for {args.name}: ")
        info = security.add_first_admin(args.name, password, full_name=args.full_name, actor=f"cli:{_os_user()}")
        print(f"first administrator added: {info.name}")
        return 0
    return _run(args, action)


def cmd_user_list(args: argparse.Namespace) -> int:
    def act(security: SecurityService, _passwords: _Passwords) -> str:
        lines = ["name\trole\tstate\tlocked until\tlast login\tfull name"]
        for account in security.list_users():
            u = account.user
            locked = u.locked_until is not None and u.locked_until > datetime.now().timestamp()
            state = "disabled" if u.disabled else ("locked" if locked else "enabled")
            lines.append(f"{u.name}\t{u.role.value}\t{state}\t{_when(u.locked_until if locked else None)}\t"
                         f"{_when(account.last_login)}\t{u.full_name}")
        return "\n".join(lines)
    return _administer(args, act)


def cmd_user_passwd(args: argparse.Namespace) -> int:
    def act(security: SecurityService, passwords: _Passwords) -> str:
        security.set_password(args.name, passwords.new(f"New password for {args.name}: "))
        return f"password changed: {args.name}"
    return _administer(args, act)


def cmd_user_disable(args: argparse.Namespace) -> int:
    def act(security: SecurityService, _passwords: _Passwords) -> str:
        security.set_disabled(args.name, args.disable)
        return f"user {'disabled' if args.disable else 'enabled'}: {args.name}"
    return _administer(args, act)


def cmd_user_role(args: argparse.Namespace) -> int:
    def act(security: SecurityService, _passwords: _Passwords) -> str:
        security.set_role(args.name, args.role)
        return f"role of {args.name}: {args.role}"
    return _administer(args, act)


# ------------------------------------------------------------------------------ role
def _grant(args: argparse.Namespace) -> Grant:
    """The grant named on the command line.

    Raises
    ------
    UserError
        Unknown role or permission, the administrator, or a bad area.
    """
    try:
        return Grant(parse_role(args.role), parse_permission(args.permission), args.area)
    except ValueError as err:
        raise UserError(str(err)) from None


def cmd_role_list(args: argparse.Namespace) -> int:
    def act(security: SecurityService, _passwords: _Passwords) -> str:
        model = security.permission_model()
        lines = ["role\tpermission\tarea", f"{Role.ADMIN.value}\t(everything)\t{ALL_AREAS}"]
        for role in (Role.OPERATOR, Role.VIEWER):
            lines += [f"{g.role.value}\t{g.permission.value}\t{g.scope}" for g in model.of(role)]
        return "\n".join(lines)
    return _administer(args, act)


def cmd_role_change(args: argparse.Namespace) -> int:
    def act(security: SecurityService, _passwords: _Passwords) -> str:
        grant = _grant(args)
        where = "every area" if grant.scope == ALL_AREAS else f"area {grant.scope}"
        if args.grant:
            changed = security.grant(grant)
            return (f"granted: {grant.role.value} may {grant.permission.value} in {where}" if changed
                    else f"already granted: {grant.role.value} {grant.permission.value} in {where}")
        changed = security.revoke(grant)
        return (f"revoked: {grant.role.value} may no longer {grant.permission.value} in {where}" if changed
                else f"not granted, nothing revoked: {grant.role.value} {grant.permission.value} in {where}")
    return _administer(args, act)


# ------------------------------------------------------------------------------ audit
def cmd_audit_verify(args: argparse.Namespace) -> int:
    def act(engine: Engine) -> int:
        log = AuditLog(engine)
        report = log.verify()
        for problem in report.problems:
            print(f"record {problem.seq}: {problem.kind}: {problem.detail}")
        warning = log.storage().warning()
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
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
    """Add the ``user``, ``role``, ``audit`` and ``secret`` sub-commands to ``wattdesk``'s sub-parsers."""
    roles = [r.value for r in Role]

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--db", help="database URL (default: SQLite in the user data dir)")
        return p

    def acting(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        with_db(p)
        p.add_argument("--as", dest="actor", metavar="NAME",
                       help="the administrator (or user with manage_users) who acts; asked for their password")
        p.add_argument("--password-stdin", action="store_true",
                       help="read passwords from standard input, one per line: the acting user's, then the new one")
        return p

    user = sub.add_parser("user", help="user accounts: add, list, passwd, disable, enable, role")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = acting(user_sub.add_parser("add", help="create an account (the first, on an empty database: "
                                                 "--role admin, without --as)"))
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=roles)
    add.add_argument("--full-name", default="")
    add.set_defaults(func=cmd_user_add)
    acting(user_sub.add_parser("list", help="list accounts with state, lockout and last login")
           ).set_defaults(func=cmd_user_list)
    passwd = acting(user_sub.add_parser("passwd", help="set a new password (clears a lockout)"))
    passwd.add_argument("name")
    passwd.set_defaults(func=cmd_user_passwd)
    for verb, disable in (("disable", True), ("enable", False)):
        p = acting(user_sub.add_parser(verb, help=f"{verb} an account"))
        p.add_argument("name")
        p.set_defaults(func=cmd_user_disable, disable=disable)
    role = acting(user_sub.add_parser("role", help="change an account's role"))
    role.add_argument("name")
    role.add_argument("--role", required=True, choices=roles)
    role.set_defaults(func=cmd_user_role)

    grants = sub.add_parser("role", help="what each role may do: list, grant, revoke (administrators)")
    grants_sub = grants.add_subparsers(dest="role_command", required=True)
    acting(grants_sub.add_parser("list", help="the grants of every role")).set_defaults(func=cmd_role_list)
    for verb, give in (("grant", True), ("revoke", False)):
        p = acting(grants_sub.add_parser(verb, help=f"{verb} a permission to a role (in one area or all)"))
        p.add_argument("role", metavar="ROLE", help="operator or viewer (the administrator may do everything)")
        p.add_argument("permission", metavar="PERMISSION",
                       help="view, control, acknowledge, shelve, edit_settings, manage_users, export_reports")
        p.add_argument("--area", default=ALL_AREAS,
                       help="area id (control, acknowledge, shelve only); default every area")
        p.set_defaults(func=cmd_role_change, grant=give)

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
