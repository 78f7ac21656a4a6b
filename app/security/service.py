"""The security service of a workstation: login, lock, unlock, and every permission check.

Views, the alarm engine and the control service ask this one object whether the
user at the workstation may do something; every refusal is audited, whichever path
it came by (a button, the alarm engine's permission callable, the control API).
Roles and grants are read through :meth:`UserStore.access`, a snapshot at most a few
seconds old (:data:`app.security.access.ACCESS_CACHE_S`): a change made through this
service takes effect here at once, one made on another workstation within that time.

Administration (accounts, roles, grants) goes through this service too, for the CLI
and the users view alike: each call needs ``manage_users`` (and an administrator for
anything touching an administrator account or a grant), and is refused and audited
otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple

from app.security.audit import AuditLog
from app.security.permissions import Grant, Permission, PermissionModel, Role, parse_role
from app.security.session import DEFAULT_IDLE_TIMEOUT_S, Session
from app.security.users import AuthError, UserError, UserInfo, UserStore
from db.engine import make_engine

#: Alarm engine actions (``AlarmEngine(permission=...)``) and the permission each needs.
ALARM_ACTIONS: dict[str, Permission] = {
    "ack": Permission.ACKNOWLEDGE,
    "shelve": Permission.SHELVE,
    "unshelve": Permission.SHELVE,
    "remove": Permission.SHELVE,
    "restore": Permission.SHELVE,
}

#: Alarm refusals remembered so that each is audited once (see ``alarm_permission``).
ALARM_REFUSALS_REMEMBERED = 10_000


class PermissionDenied(PermissionError):
    """The user may not do this; already audited. The message names user, action and target.

    Attributes
    ----------
    reason : str
        ``not_permitted`` (no session, locked, unknown or disabled user, or no grant) or
        ``admin_only`` (needs an administrator: administrator accounts, grants).
    """

    def __init__(self, message: str, reason: str = "not_permitted") -> None:
        super().__init__(message)
        self.reason = reason


class Account(NamedTuple):
    """A user account as the administration lists it.

    Attributes
    ----------
    user : UserInfo
    last_login : float | None
        UTC epoch seconds of the user's last successful login or unlock (their own locked
        session, or taking over another's), ``None`` if never.
    """

    user: UserInfo
    last_login: float | None


class SecurityService:
    """Users, the session of this workstation, and permission checks.

    Parameters
    ----------
    users : UserStore
    idle_timeout_s : float
        Idle time before the session locks (default 15 min).
    clock : callable
        Monotonic seconds, for idle timing.
    """

    def __init__(self, users: UserStore, idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not idle_timeout_s > 0:
            raise ValueError(f"idle timeout must be > 0 s, got {idle_timeout_s!r}")
        self.users = users
        self.audit: AuditLog = users.audit
        self.idle_timeout_s = idle_timeout_s
        self._clock = clock
        self.session: Session | None = None
        self._alarm_refusals: set[tuple[str, str, str, Any]] = set()

    @classmethod
    def open(cls, db_url: str, workstation: str | None = None,
             idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S) -> SecurityService:
        """The security service of a workstation on the database ``db_url`` (schema 0003 or later).

        Parameters
        ----------
        db_url : str
            SQLAlchemy URL (the historian's database; ``wattdesk db upgrade`` first).
        workstation : str, optional
            Recorded with every audit record; default the host name.
        idle_timeout_s : float
        """
        audit = AuditLog(make_engine(db_url), workstation=workstation)
        return cls(UserStore(audit.engine, audit), idle_timeout_s)

    # ---------------------------------------------------------------- session
    def login(self, name: str, password: str) -> Session:
        """Log ``name`` in at this workstation (replacing any session, which is logged out).

        Raises
        ------
        AuthError
            Wrong password, locked or disabled account (audited).
        """
        user = self.users.authenticate(name, password, action="login")
        if self.session is not None:
            self.logout()
        self.session = Session(user, self.idle_timeout_s, self._clock)
        return self.session

    def logout(self) -> None:
        """End the session (audited); no-op without one."""
        if self.session is not None:
            self.audit.append(self.session.user.name, "logout", self.session.user.name)
            self.session = None

    def lock(self, reason: str = "idle") -> None:
        """Lock the session (``reason``: ``idle`` or ``manual``), audited; no-op if locked or none."""
        if self.session is not None and not self.session.locked:
            self.session.set_locked(True)
            self.audit.append(self.session.user.name, "session.lock", self.session.user.name,
                              after={"reason": reason})

    def unlock(self, password: str, name: str | None = None) -> Session:
        """Unlock with a password: the session's user, or another user taking over (shift change).

        Parameters
        ----------
        password : str
        name : str, optional
            Default the locked session's user. Another user's name logs the first out
            and that user in.

        Raises
        ------
        AuthError
            Wrong password, locked or disabled account (audited; counts toward lockout).
        RuntimeError
            No session to unlock.
        """
        if self.session is None:
            raise RuntimeError("no session to unlock; log in")
        current = self.session.user.name
        name = current if name is None else name
        user = self.users.authenticate(name, password, action="unlock")
        if name != current:
            self.logout()
            self.session = Session(user, self.idle_timeout_s, self._clock)
        else:
            self.session.user = user
            self.session.set_locked(False)
        return self.session

    def emergency_access(self, name: str, password: str) -> UserInfo:
        """Let an operator act from the lock screen after entering their own password.

        The session stays locked; the returned user is who the control dialog acts
        for (its steps are authorized per area and audited like any control).

        Raises
        ------
        AuthError
            Wrong password, locked or disabled account (audited).
        PermissionDenied
            The user may control nothing (audited).
        """
        user = self.users.authenticate(name, password, action="emergency")
        controls = user.role is Role.ADMIN or any(g.permission is Permission.CONTROL
                                                  for g in self.users.permissions().of(user.role))
        if not controls:
            self.audit.append(name, "emergency.access", "lock screen", result="denied")
            raise PermissionDenied(f"user {name!r} may not control anything")
        self.audit.append(name, "emergency.access", "lock screen", result="ok",
                          after={"session_user": self.session.user.name if self.session else None})
        return user

    # ---------------------------------------------------------------- checks
    def current_user(self) -> UserInfo | None:
        """The session's user while unlocked, else ``None``."""
        if self.session is None or self.session.locked:
            return None
        return self.session.user

    def may(self, permission: Permission, area: str | None = None, user: str | None = None) -> bool:
        """Whether ``user`` (default: the unlocked session's) may ``permission`` in ``area``; not audited.

        For enabling buttons; an action must still go through :meth:`authorize`.
        """
        info, model = self._who(user)
        return info is not None and model.allows(info.role, permission, area)

    def authorize(self, permission: Permission, *, action: str, target: str = "", area: str | None = None,
                  user: str | None = None) -> UserInfo:
        """Check a permission before an action; audit and raise if refused.

        Parameters
        ----------
        permission : Permission
        action : str
            Audit action name of what was attempted (``control.select``, ``alarm.ack``, ...).
        target : str
            What it was attempted on (tag, alarm id, setting), verbatim.
        area : str, optional
            Area of the target, for per-area grants.
        user : str, optional
            Who acts (default: the unlocked session's user). The control dialog opened
            from the lock screen passes the user returned by :meth:`emergency_access`.

        Returns
        -------
        UserInfo
            The user allowed.

        Raises
        ------
        PermissionDenied
            Refused: no session, session locked, unknown or disabled user, or no grant.
        """
        info, model = self._who(user)
        if info is not None:
            who = info.name
        elif user is not None:
            who = user        # as named: "" is nobody (the alarm view while the session is locked)
        else:
            who = self.session.user.name if self.session else ""
        if info is None or not model.allows(info.role, permission, area):
            self.audit.append(who, action, target, result="denied",
                              after={"permission": permission.value, "area": area})
            raise PermissionDenied(f"user {who!r} may not {action} {target!r}".rstrip())
        return info

    def alarm_may(self, user: str, action: str, alarm: Any) -> bool:
        """The alarm engine's question-only check (``AlarmEngine(permission_query=...)``):
        whether ``user`` may ``action`` ``alarm``, never audited — views ask it to enable
        buttons on every refresh."""
        permission = ALARM_ACTIONS.get(action)
        return permission is not None and self.may(permission, getattr(alarm, "area", None) or None, user=user)

    def alarm_permission(self, user: str, action: str, alarm: Any) -> bool:
        """The alarm engine's permission callable: ``(user, action, alarm) -> allowed``.

        ``action`` is ``ack``, ``shelve``, ``unshelve``, ``remove`` or ``restore``; the
        alarm's ``area`` scopes the grant; an unknown action is refused.

        A refusal is audited (``alarm.<action>``, result ``denied``) once per user, action
        and occurrence of the alarm (its ``raised_ts``): the engine asks the same callable
        when views only enquire (``AlarmEngine.may``, to enable buttons, on every banner
        refresh), and those enquiries must not flood the audit chain.
        """
        permission = ALARM_ACTIONS.get(action)
        target = str(getattr(alarm, "id", ""))
        if permission is not None and self.may(permission, getattr(alarm, "area", None) or None, user=user):
            return True
        key = (user, action, target, getattr(alarm, "raised_ts", None))
        if key not in self._alarm_refusals:
            if len(self._alarm_refusals) >= ALARM_REFUSALS_REMEMBERED:
                self._alarm_refusals.clear()
            self._alarm_refusals.add(key)
            if permission is None:
                self.audit.append(user, f"alarm.{action}", target, result="denied",
                                  after={"reason": "unknown action"})
            else:
                try:
                    self.authorize(permission, action=f"alarm.{action}", target=target,
                                   area=getattr(alarm, "area", None) or None, user=user)
                except PermissionDenied:
                    return False
                return True   # granted in the meantime
        return False

    # ------------------------------------------------ control service (app.control) seams
    def control_permission(self, user: str, action: str, area: str) -> bool:
        """The control service's ``PermissionCheck``: may ``user`` ``control`` devices of ``area``.

        Not audited here: the control service audits its refused steps through
        :meth:`control_audit`.
        """
        return action == Permission.CONTROL.value and self.may(Permission.CONTROL, area or None, user=user)

    def control_password(self, user: str, password: str) -> bool:
        """The control service's ``PasswordCheck``: the operator's password re-entered at confirm.

        Audited as ``control.password`` (``.failed`` when wrong); failures count toward lockout.
        """
        try:
            self.users.authenticate(user, password, action="control.password")
        except AuthError:
            return False
        return True

    def control_audit(self, record: Any) -> None:
        """The control service's ``AuditSink``: one control step into the audit chain.

        ``record`` is an :class:`app.control.AuditRecord` (``who``, ``workstation``,
        ``action``, ``target``, ``before``, ``after``, ``result``, ``reason``, ``selection``);
        stored as action ``control.<step>``.
        """
        step = getattr(record.action, "value", record.action)
        self.audit.append(record.who, f"control.{step}", record.target, workstation=record.workstation,
                          before={"state": record.before},
                          after={"state": record.after, "reason": record.reason, "selection": record.selection},
                          result=record.result or "ok")

    # ---------------------------------------------------------------- administration
    def add_first_admin(self, name: str, password: str, *, full_name: str = "", actor: str) -> UserInfo:
        """Create the first administrator; only while there is no account at all.

        For the first-run dialog and the first ``wattdesk user add``; afterwards accounts
        are made by someone allowed to (:meth:`add_user`).

        Raises
        ------
        UserError
            Accounts exist already, or a bad name.
        PasswordPolicyError
        """
        if self.users.count():
            raise UserError("accounts exist already: an administrator adds users (log in as one)", "accounts_exist")
        return self.users.add(name, Role.ADMIN, password, full_name=full_name, actor=actor)

    def list_users(self, *, user: str | None = None) -> list[Account]:
        """Every account with its last login, sorted by name (needs ``manage_users``).

        Raises
        ------
        PermissionDenied
        UserError, AuditStoreError
            The database cannot be read.
        """
        self._manage("user.list", "", user)
        last = self.audit.last_logins()
        return [Account(info, last.get(info.name)) for info in self.users.list()]

    def permission_model(self, *, user: str | None = None) -> PermissionModel:
        """The grants in force, read now (needs ``manage_users``).

        Raises
        ------
        PermissionDenied
        """
        self._manage("role.list", "", user)
        return self.users.permissions()

    def add_user(self, name: str, role: Role | str, password: str, *, full_name: str = "",
                 user: str | None = None) -> UserInfo:
        """Create an account (``manage_users``; an administrator account only by an administrator).

        Raises
        ------
        PermissionDenied
        UserError
            Bad or duplicate name, bad full name, unknown role.
        PasswordPolicyError
        """
        role = _role(role)
        actor = self._manage("user.add", name, user, admin_only=lambda: role is Role.ADMIN)
        return self.users.add(name, role, password, full_name=full_name, actor=actor)

    def set_password(self, name: str, password: str, *, user: str | None = None) -> None:
        """Set a new password and clear any lockout (``manage_users``; an administrator's only by
        an administrator).

        Raises
        ------
        PermissionDenied
        UserError
            No such user.
        PasswordPolicyError
        """
        actor = self._manage("user.password", name, user, admin_only=lambda: self.users.get(name).role is Role.ADMIN)
        self.users.set_password(name, password, actor=actor)

    def set_role(self, name: str, role: Role | str, *, user: str | None = None) -> None:
        """Change an account's role (``manage_users``; to or from administrator only by an administrator).

        Raises
        ------
        PermissionDenied
        UserError
            No such user, unknown role, or it would leave no enabled administrator.
        """
        role = _role(role)
        actor = self._manage("user.role", name, user,
                             admin_only=lambda: Role.ADMIN in (self.users.get(name).role, role))
        self.users.set_role(name, role, actor=actor)

    def set_disabled(self, name: str, disabled: bool, *, user: str | None = None) -> None:
        """Disable or enable an account (``manage_users``; an administrator's only by an administrator).

        Raises
        ------
        PermissionDenied
        UserError
            No such user, or disabling it would leave no enabled administrator.
        """
        action = "user.disable" if disabled else "user.enable"
        actor = self._manage(action, name, user, admin_only=lambda: self.users.get(name).role is Role.ADMIN)
        self.users.set_disabled(name, disabled, actor=actor)

    def grant(self, grant: Grant, *, user: str | None = None) -> bool:
        """Give a role a permission (in an area); administrators only. ``False`` if already given.

        Raises
        ------
        PermissionDenied
        UserError
            The database cannot be written.
        """
        actor = self._manage("role.grant", grant.role.value, user, admin_only=lambda: True)
        return self.users.grant(grant, actor=actor)

    def revoke(self, grant: Grant, *, user: str | None = None) -> bool:
        """Withdraw a grant; administrators only. ``False`` if it was not given.

        Raises
        ------
        PermissionDenied
        UserError
            The database cannot be written.
        """
        actor = self._manage("role.revoke", grant.role.value, user, admin_only=lambda: True)
        return self.users.revoke(grant, actor=actor)

    # ---------------------------------------------------------------- internals
    def _manage(self, action: str, target: str, user: str | None,
                admin_only: Callable[[], bool] = lambda: False) -> str:
        """The name of who may make this administrative change; refuse (audited) anyone else.

        ``admin_only()`` is asked only after ``manage_users`` is granted, so nobody without
        it learns anything about the target (such as whether it exists).
        """
        info = self.authorize(Permission.MANAGE_USERS, action=action, target=target, user=user)
        if info.role is not Role.ADMIN and admin_only():
            self.audit.append(info.name, action, target, result="denied",
                              after={"permission": Permission.MANAGE_USERS.value, "reason": "administrators only"})
            raise PermissionDenied(f"user {info.name!r} may not {action} {target!r}: administrators only",
                                   "admin_only")
        return info.name

    def _who(self, user: str | None) -> tuple[UserInfo | None, PermissionModel]:
        """The acting user's account if it may act (enabled; session unlocked when ``user`` is
        ``None``), and the permission model; both from the access snapshot."""
        access = self.users.access()
        if user is None:
            if self.session is None or self.session.locked:
                return None, access.model
            user = self.session.user.name
        return access.users.get(user), access.model


def _role(role: Role | str) -> Role:
    try:
        return role if isinstance(role, Role) else parse_role(role)
    except ValueError as err:
        raise UserError(str(err), "unknown_role") from None

