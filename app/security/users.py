"""User accounts: create, list, change password, disable; authenticate with lockout.

Accounts live in the database (``users``), so every workstation sharing a PostgreSQL
database knows the same users, and a lockout started on one holds on all. Every
change and every login attempt is written to the audit log. There is no default
account and no default password: the first administrator is made with
``wattdesk user add NAME --role admin`` or the first-run dialog.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable
from typing import Any, NamedTuple

from sqlalchemy import Engine, Row, false, func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.security.access import ACCESS_CACHE_S, Access, AccessCache
from app.security.audit import AuditLog
from app.security.passwords import check_policy, hash_password, needs_rehash, verify_password
from app.security.permissions import Grant, PermissionModel, Role, parse_role
from db.security_schema import USER_NAME_MAX, role_permissions, users

#: Consecutive failed logins after which an account is locked.
LOCKOUT_THRESHOLD = 5
#: Seconds an account stays locked after :data:`LOCKOUT_THRESHOLD` failures.
LOCKOUT_S = 15 * 60.0
#: Longest full name, characters.
FULL_NAME_MAX = 200
#: Hash checked for unknown user names, so they take as long as known ones.
_DUMMY_HASH = hash_password("wattdesk-no-such-user")


class UserError(ValueError):
    """A user operation was refused (unknown user, duplicate name, bad name); the message says why.

    Attributes
    ----------
    code : str
        What was wrong, for a translated text: ``name_empty``, ``name_too_long``,
        ``name_space``, ``name_control``, ``full_name_too_long``, ``full_name_nul``,
        ``no_such_user``, ``exists``, ``last_admin``, ``accounts_exist``, ``unknown_role``,
        ``unavailable`` (the database), or ``""`` (see the message).
    """

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class AuthError(PermissionError):
    """A login was refused.

    Attributes
    ----------
    reason : str
        ``wrong`` (unknown user or wrong password — not told apart to the caller),
        ``locked`` (too many failures; ``until`` says when it ends) or ``disabled``.
    until : float | None
        UTC epoch seconds the lockout ends, for ``locked``.
    """

    def __init__(self, reason: str, message: str, until: float | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.until = until


class UserInfo(NamedTuple):
    """A user account as shown (never its password hash).

    Attributes
    ----------
    name : str
        Login name, verbatim.
    full_name : str
    role : Role
    disabled : bool
    locked_until : float | None
        UTC epoch seconds the current lockout ends, or ``None``.
    failed_logins : int
    created : float
        UTC epoch seconds.
    """

    name: str
    full_name: str
    role: Role
    disabled: bool
    locked_until: float | None
    failed_logins: int
    created: float


def check_user_name(name: str) -> None:
    """Refuse a user name that cannot be stored or told apart on screen.

    Allowed: 1 to :data:`USER_NAME_MAX` characters, no control characters, no leading
    or trailing white space. Anything else (markup, quotes, SQL, ``{}``, ``%s``,
    right-to-left text) is a plain name, stored and shown verbatim.

    Raises
    ------
    UserError
    """
    if not name:
        raise UserError("a user name may not be empty", "name_empty")
    if len(name) > USER_NAME_MAX:
        raise UserError(f"a user name may have at most {USER_NAME_MAX} characters, got {len(name)}", "name_too_long")
    if name != name.strip():
        raise UserError("a user name may not begin or end with white space", "name_space")
    bad = [c for c in name if unicodedata.category(c) == "Cc"]
    if bad:
        raise UserError(f"a user name may not contain control characters (found {', '.join(map(repr, bad))})",
                        "name_control")


def _full_name(text: str) -> str:
    if len(text) > FULL_NAME_MAX:
        raise UserError(f"a full name may have at most {FULL_NAME_MAX} characters, got {len(text)}",
                        "full_name_too_long")
    if "\x00" in text:
        raise UserError("a full name may not contain NUL characters", "full_name_nul")
    return text


def _db_error(err: SQLAlchemyError) -> UserError:
    return UserError(f"user accounts unavailable ({type(err).__name__}: {err.args[0] if err.args else err}); "
                     "if the database predates user accounts, run: wattdesk db upgrade", "unavailable")


class UserStore:
    """The user accounts of one database.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        SQLite or PostgreSQL, migrated to 0003 or later.
    audit : AuditLog
        Where every change and login attempt is recorded.
    clock : callable
        UTC epoch seconds now.
    lockout_threshold : int
        Consecutive failures that lock an account.
    lockout_s : float
        Seconds a lockout lasts.
    access_cache_s : float
        Lifetime of the snapshot :meth:`access` answers from, seconds (see
        :mod:`app.security.access`); every change made through this store drops it at once.
    monotonic : callable
        Monotonic seconds, for the snapshot's age.
    """

    def __init__(self, engine: Engine, audit: AuditLog, clock: Callable[[], float] = time.time,
                 lockout_threshold: int = LOCKOUT_THRESHOLD, lockout_s: float = LOCKOUT_S,
                 access_cache_s: float = ACCESS_CACHE_S, monotonic: Callable[[], float] = time.monotonic) -> None:
        if lockout_threshold < 1 or lockout_s <= 0:
            raise ValueError("lockout needs a threshold >= 1 and a duration > 0 s")
        self.engine = engine
        self.audit = audit
        self._clock = clock
        self.lockout_threshold = lockout_threshold
        self.lockout_s = lockout_s
        self._access = AccessCache(self._read_access, access_cache_s, monotonic)

    # ---------------------------------------------------------------- queries
    def count(self) -> int:
        """Number of accounts (0 on first run)."""
        try:
            with self.engine.connect() as conn:
                return conn.execute(select(func.count()).select_from(users)).scalar_one()
        except SQLAlchemyError as err:
            raise _db_error(err) from None

    def list(self) -> list[UserInfo]:
        """Every account, sorted by name."""
        try:
            with self.engine.connect() as conn:
                return [_info(r) for r in conn.execute(select(users).order_by(users.c.name))]
        except SQLAlchemyError as err:
            raise _db_error(err) from None

    def get(self, name: str) -> UserInfo:
        """The account ``name``.

        Raises
        ------
        UserError
            No such user.
        """
        row = self._row(name)
        if row is None:
            raise UserError(f"no user named {name!r}", "no_such_user")
        return _info(row)

    def permissions(self) -> PermissionModel:
        """The permission model in force (read from ``role_permissions``)."""
        try:
            with self.engine.connect() as conn:
                rows = [dict(r._mapping) for r in conn.execute(select(role_permissions))]
        except SQLAlchemyError as err:
            raise _db_error(err) from None
        return PermissionModel.from_rows(rows)

    def access(self) -> Access:
        """Enabled accounts and the permission model, from a snapshot at most
        ``access_cache_s`` old (for permission checks; :meth:`list` and
        :meth:`permissions` always read the database).

        Raises
        ------
        UserError
            The database cannot be read.
        """
        return self._access.get()

    # ---------------------------------------------------------------- changes
    def add(self, name: str, role: Role | str, password: str, *, full_name: str = "", actor: str) -> UserInfo:
        """Create an account.

        Parameters
        ----------
        name : str
            See :func:`check_user_name`.
        role : Role or str
        password : str
            Must meet :func:`~app.security.passwords.check_policy`.
        full_name : str
            Up to :data:`FULL_NAME_MAX` characters, verbatim.
        actor : str
            Who creates it (audited).

        Raises
        ------
        UserError
            Bad or duplicate name, bad full name.
        ValueError
            Unknown role.
        PasswordPolicyError
        """
        check_user_name(name)
        role = role if isinstance(role, Role) else parse_role(role)
        _full_name(full_name)
        check_policy(password, name)
        now_ms = int(round(self._clock() * 1000))
        try:
            with self.engine.begin() as conn:
                conn.execute(users.insert().values(name=name, full_name=full_name, role=role.value,
                                                   password_hash=hash_password(password), disabled=False,
                                                   failed_logins=0, created_ts=now_ms, password_ts=now_ms))
        except IntegrityError:
            raise UserError(f"a user named {name!r} already exists", "exists") from None
        except SQLAlchemyError as err:
            raise _db_error(err) from None
        self._access.invalidate()
        self.audit.append(actor, "user.add", name,
                          after={"role": role.value, "full_name": full_name, "disabled": False})
        return self.get(name)

    def set_password(self, name: str, password: str, *, actor: str) -> None:
        """Replace a password (and clear any lockout).

        Raises
        ------
        UserError
            No such user.
        PasswordPolicyError
        """
        old = self.get(name)
        check_policy(password, name)
        self._update(name, password_hash=hash_password(password), failed_logins=0, locked_until=None,
                     password_ts=int(round(self._clock() * 1000)))
        self.audit.append(actor, "user.password", name,   # the lockout it clears; never a hash
                          before={"failed_logins": old.failed_logins, "locked_until": old.locked_until},
                          after={"failed_logins": 0, "locked_until": None})

    def set_role(self, name: str, role: Role | str, *, actor: str) -> None:
        """Change a user's role.

        Raises
        ------
        UserError
            No such user, or it would leave no enabled administrator.
        """
        role = role if isinstance(role, Role) else parse_role(role)
        old = self.get(name)
        if old.role is Role.ADMIN and role is not Role.ADMIN:
            self._keep_an_admin(name)
        self._update(name, role=role.value)
        self._access.invalidate()
        self.audit.append(actor, "user.role", name, before={"role": old.role.value}, after={"role": role.value})

    def set_disabled(self, name: str, disabled: bool, *, actor: str) -> None:
        """Disable (or enable again) an account.

        Raises
        ------
        UserError
            No such user, or disabling it would leave no enabled administrator.
        """
        old = self.get(name)
        if disabled and old.role is Role.ADMIN and not old.disabled:
            self._keep_an_admin(name)
        self._update(name, disabled=disabled, failed_logins=0, locked_until=None)
        self._access.invalidate()
        self.audit.append(actor, "user.disable" if disabled else "user.enable", name,
                          before={"disabled": old.disabled}, after={"disabled": disabled})

    def grant(self, grant: Grant, *, actor: str) -> bool:
        """Let ``grant.role`` do ``grant.permission`` in ``grant.scope``.

        Audited as ``role.grant`` with the grant before (``granted: false``) and after.

        Returns
        -------
        bool
            ``False`` (nothing written or audited) if the grant was already given.

        Raises
        ------
        UserError
            The database cannot be written.
        """
        if grant in self.permissions().grants:
            return False
        try:
            with self.engine.begin() as conn:
                conn.execute(role_permissions.insert().values(role=grant.role.value, permission=grant.permission.value,
                                                              scope=grant.scope))
        except IntegrityError:
            return False   # given meanwhile by another workstation
        except SQLAlchemyError as err:
            raise _db_error(err) from None
        finally:
            self._access.invalidate()
        self.audit.append(actor, "role.grant", grant.role.value, before=_grant_state(grant, False),
                          after=_grant_state(grant, True))
        return True

    def revoke(self, grant: Grant, *, actor: str) -> bool:
        """Withdraw a grant; audited as ``role.revoke`` with the grant before and after.

        Returns
        -------
        bool
            ``False`` (nothing audited) if it was not given.

        Raises
        ------
        UserError
            The database cannot be written.
        """
        g = role_permissions.c
        try:
            with self.engine.begin() as conn:
                gone = conn.execute(role_permissions.delete().where(
                    g.role == grant.role.value, g.permission == grant.permission.value, g.scope == grant.scope)).rowcount
        except SQLAlchemyError as err:
            raise _db_error(err) from None
        finally:
            self._access.invalidate()
        if gone:
            self.audit.append(actor, "role.revoke", grant.role.value, before=_grant_state(grant, True),
                              after=_grant_state(grant, False))
        return bool(gone)

    # ---------------------------------------------------------------- login
    def authenticate(self, name: str, password: str, *, action: str = "login") -> UserInfo:
        """Check a user name and password; count failures and lock after too many.

        Every attempt is audited as ``action`` (result ``ok``) or ``<action>.failed``
        (result ``wrong``, ``locked``, ``disabled``). A locked account refuses even the
        right password until the lockout ends.

        Parameters
        ----------
        name, password : str
        action : str
            Audit action: ``login``, ``unlock``, ``emergency``.

        Returns
        -------
        UserInfo

        Raises
        ------
        AuthError
        """
        now = self._clock()
        row = self._row(name)
        if row is None:
            verify_password(_DUMMY_HASH, password)
            self.audit.append(name, f"{action}.failed", name, result="wrong")
            raise AuthError("wrong", "wrong user name or password")
        if row.locked_until is not None and row.locked_until > now * 1000:
            verify_password(_DUMMY_HASH, password)
            until = row.locked_until / 1000.0
            self.audit.append(name, f"{action}.failed", name, result="locked", after={"locked_until": until})
            raise AuthError("locked", "too many failed attempts: the account is locked", until)
        if not verify_password(row.password_hash, password):
            failures = row.failed_logins + 1
            locked = failures >= self.lockout_threshold
            until = now + self.lockout_s if locked else None
            self._update(name, failed_logins=0 if locked else failures,
                         locked_until=None if until is None else int(round(until * 1000)))
            self.audit.append(name, f"{action}.failed", name, result="locked" if locked else "wrong",
                              after={"failures": failures, "locked_until": until})
            if locked:
                raise AuthError("locked", "too many failed attempts: the account is locked", until)
            raise AuthError("wrong", "wrong user name or password")
        if row.disabled:
            self.audit.append(name, f"{action}.failed", name, result="disabled")
            raise AuthError("disabled", "the account is disabled")
        changes: dict[str, object] = {"failed_logins": 0, "locked_until": None}
        if needs_rehash(row.password_hash):
            changes["password_hash"] = hash_password(password)
        self._update(name, **changes)
        self.audit.append(name, action, name, result="ok")
        return _info(row)._replace(failed_logins=0, locked_until=None)

    # ---------------------------------------------------------------- internals
    def _read_access(self) -> Access:
        try:
            with self.engine.connect() as conn:
                enabled = {r.name: _info(r) for r in conn.execute(select(users).where(users.c.disabled == false()))}
                grants = [dict(r._mapping) for r in conn.execute(select(role_permissions))]
        except SQLAlchemyError as err:
            raise _db_error(err) from None
        return Access(enabled, PermissionModel.from_rows(grants))

    def _row(self, name: str) -> Row[Any] | None:
        try:
            with self.engine.connect() as conn:
                return conn.execute(select(users).where(users.c.name == name)).one_or_none()
        except SQLAlchemyError as err:
            raise _db_error(err) from None

    def _update(self, name: str, **values: object) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(update(users).where(users.c.name == name).values(**values))
        except SQLAlchemyError as err:
            raise _db_error(err) from None

    def _keep_an_admin(self, name: str) -> None:
        others = [u for u in self.list() if u.role is Role.ADMIN and not u.disabled and u.name != name]
        if not others:
            raise UserError(f"{name!r} is the last enabled administrator; make another one first", "last_admin")


def _grant_state(grant: Grant, granted: bool) -> dict[str, object]:
    return {"permission": grant.permission.value, "scope": grant.scope, "granted": granted}


def _info(row: Row[Any]) -> UserInfo:
    """A ``users`` row as :class:`UserInfo`."""
    return UserInfo(row.name, row.full_name, parse_role(row.role), bool(row.disabled),
                    None if row.locked_until is None else row.locked_until / 1000.0, row.failed_logins,
                    row.created_ts / 1000.0)
