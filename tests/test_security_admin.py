"""Administration through SecurityService on real SQLite and PostgreSQL: who may manage accounts,
roles and grants (``manage_users``; administrators only for administrator accounts and grants),
every refusal audited with who, action and target; last logins from the audit chain; the
access snapshot (invalidated by a change made here, expired for a change made by another
workstation on the same database, and never hiding a change committed during a read)."""

from __future__ import annotations

import threading

import pytest

from app.security import (Account, AuditLog, AuthError, Grant, Permission, PermissionDenied, Role, SecurityService,
                          UserError, UserStore)
from app.security.access import Access, AccessCache
from app.security.permissions import PermissionModel
from db.engine import make_engine
from tests.security_rig import PASSWORD, Clock, rig

BACKENDS = ["sqlite", "postgresql"]
ADMIN_ONLY = {"permission": "manage_users", "reason": "administrators only"}


@pytest.fixture(params=BACKENDS)
def sec(request, tmp_path):
    """root (admin), mgr (operator granted manage_users), wang (operator), li (viewer)."""
    with rig(request.param, tmp_path) as r:
        r.security.add_first_admin("root", PASSWORD, full_name="值班长", actor="first-run:root")
        r.users.grant(Grant(Role.OPERATOR, Permission.MANAGE_USERS), actor="root")
        for name, role in (("mgr", Role.OPERATOR), ("wang", Role.OPERATOR), ("li", Role.VIEWER)):
            r.users.add(name, role, PASSWORD, actor="root")
        r.users.revoke(Grant(Role.OPERATOR, Permission.MANAGE_USERS), actor="root")
        yield r


def refusals(r, since: int = 0) -> list[tuple[str, str, str, object]]:
    return [(a.user, a.action, a.target, a.after) for a in r.audit.records() if a.result == "denied" and a.seq > since]


def head(r) -> int:
    return r.audit.verify().head_seq


def test_an_operator_without_manage_users_may_administer_nothing_and_every_attempt_is_audited(sec):
    sec.security.login("wang", PASSWORD)
    start = head(sec)
    before = sec.users.list()
    attempts = [
        ("user.list", "", lambda: sec.security.list_users()),
        ("role.list", "", lambda: sec.security.permission_model()),
        ("user.add", "zhao", lambda: sec.security.add_user("zhao", Role.VIEWER, PASSWORD)),
        ("user.password", "li", lambda: sec.security.set_password("li", PASSWORD + "2")),
        ("user.role", "li", lambda: sec.security.set_role("li", Role.OPERATOR)),
        ("user.disable", "li", lambda: sec.security.set_disabled("li", True)),
        ("user.enable", "li", lambda: sec.security.set_disabled("li", False)),
        ("role.grant", "viewer", lambda: sec.security.grant(Grant(Role.VIEWER, Permission.CONTROL))),
        ("role.revoke", "operator", lambda: sec.security.revoke(Grant(Role.OPERATOR, Permission.CONTROL))),
        # an unknown target is refused the same way: nobody without manage_users learns it does not exist
        ("user.password", "ghost", lambda: sec.security.set_password("ghost", PASSWORD)),
    ]
    for action, target, attempt in attempts:
        with pytest.raises(PermissionDenied, match=f"'wang' may not {action}"):
            attempt()
    assert refusals(sec, start) == [("wang", action, target, {"permission": "manage_users", "area": None})
                                    for action, target, _ in attempts]
    assert sec.users.list() == before and sec.users.count() == 4
    assert sec.users.permissions().allows(Role.OPERATOR, Permission.CONTROL, "R1")
    assert sec.audit.verify().ok


def test_nobody_administers_without_an_unlocked_session_or_as_a_disabled_user(sec):
    start = head(sec)
    with pytest.raises(PermissionDenied):                      # no session at all
        sec.security.add_user("zhao", Role.VIEWER, PASSWORD)
    sec.security.login("root", PASSWORD)
    sec.security.lock("manual")
    with pytest.raises(PermissionDenied, match="'root' may not user.add"):
        sec.security.add_user("zhao", Role.VIEWER, PASSWORD)
    sec.security.unlock(PASSWORD)
    sec.security.add_user("root2", Role.ADMIN, PASSWORD)
    sec.security.set_disabled("root2", True)
    with pytest.raises(PermissionDenied, match="'root2' may not user.add"):   # the CLI's acting user, disabled
        sec.security.add_user("zhao", Role.VIEWER, PASSWORD, user="root2")
    with pytest.raises(PermissionDenied, match="'nobody' may not user.add"):
        sec.security.add_user("zhao", Role.VIEWER, PASSWORD, user="nobody")
    assert [(u, a, t) for u, a, t, _ in refusals(sec, start)] == [
        ("", "user.add", "zhao"), ("root", "user.add", "zhao"), ("root2", "user.add", "zhao"),
        ("nobody", "user.add", "zhao")]
    assert "zhao" not in {u.name for u in sec.users.list()}


def test_an_operator_granted_manage_users_manages_operators_and_viewers_but_not_administrators(sec):
    sec.security.login("root", PASSWORD)
    assert sec.security.grant(Grant(Role.OPERATOR, Permission.MANAGE_USERS)) is True
    assert sec.security.grant(Grant(Role.OPERATOR, Permission.MANAGE_USERS)) is False    # already given
    sec.security.login("mgr", PASSWORD)

    info = sec.security.add_user("zhao", "viewer", PASSWORD, full_name="赵")
    assert (info.name, info.role, info.full_name) == ("zhao", Role.VIEWER, "赵")
    sec.security.set_password("zhao", PASSWORD + "-2")
    sec.security.set_role("zhao", Role.OPERATOR)
    sec.security.set_disabled("zhao", True)
    sec.security.set_disabled("zhao", False)
    assert sec.users.get("zhao").role is Role.OPERATOR and not sec.users.get("zhao").disabled
    assert sec.users.authenticate("zhao", PASSWORD + "-2").name == "zhao"
    assert [a.user.name for a in sec.security.list_users()] == ["li", "mgr", "root", "wang", "zhao"]
    assert sec.security.permission_model().allows(Role.OPERATOR, Permission.MANAGE_USERS)
    done = [(a.user, a.action, a.target) for a in sec.audit.records() if a.user == "mgr" and a.result == "ok"
            and a.action.startswith("user.")]
    assert done == [("mgr", "user.add", "zhao"), ("mgr", "user.password", "zhao"), ("mgr", "user.role", "zhao"),
                    ("mgr", "user.disable", "zhao"), ("mgr", "user.enable", "zhao")]

    start = head(sec)
    admin_only = [
        ("user.add", "boss", lambda: sec.security.add_user("boss", Role.ADMIN, PASSWORD)),
        ("user.password", "root", lambda: sec.security.set_password("root", PASSWORD + "-x")),
        ("user.role", "root", lambda: sec.security.set_role("root", Role.VIEWER)),
        ("user.role", "zhao", lambda: sec.security.set_role("zhao", Role.ADMIN)),   # no promotion to admin
        ("user.disable", "root", lambda: sec.security.set_disabled("root", True)),
        ("role.grant", "operator", lambda: sec.security.grant(Grant(Role.OPERATOR, Permission.SHELVE, "R1"))),
        ("role.revoke", "viewer", lambda: sec.security.revoke(Grant(Role.VIEWER, Permission.VIEW))),
        ("role.revoke", "operator",     # not even its own grant
         lambda: sec.security.revoke(Grant(Role.OPERATOR, Permission.MANAGE_USERS))),
    ]
    for action, target, attempt in admin_only:
        with pytest.raises(PermissionDenied, match=f"'mgr' may not {action} '{target}': administrators only"):
            attempt()
    assert refusals(sec, start) == [("mgr", action, target, ADMIN_ONLY) for action, target, _ in admin_only]
    root = sec.users.get("root")
    assert root.role is Role.ADMIN and not root.disabled and sec.users.authenticate("root", PASSWORD)
    assert sec.users.get("zhao").role is Role.OPERATOR and "boss" not in {u.name for u in sec.users.list()}
    model = sec.users.permissions()
    assert model.allows(Role.VIEWER, Permission.VIEW) and not model.allows(Role.OPERATOR, Permission.SHELVE, "R1")
    # a manager learns about a missing account (it holds manage_users), clearly
    with pytest.raises(UserError, match="no user named 'ghost'"):
        sec.security.set_password("ghost", PASSWORD)
    assert sec.audit.verify().ok


def test_an_administrator_manages_administrators_and_grants_with_before_and_after_audited(sec):
    sec.security.login("root", PASSWORD)
    start = head(sec)
    sec.security.add_user("boss", Role.ADMIN, PASSWORD)
    sec.security.set_role("wang", Role.ADMIN)
    sec.security.set_role("wang", Role.OPERATOR)
    sec.security.set_disabled("boss", True)
    assert sec.security.grant(Grant(Role.OPERATOR, Permission.SHELVE, "R1"))
    assert sec.security.revoke(Grant(Role.OPERATOR, Permission.SHELVE, "R1"))
    assert sec.security.revoke(Grant(Role.OPERATOR, Permission.SHELVE, "R1")) is False   # not given: no record
    changes = [(a.user, a.action, a.target, a.before, a.after) for a in sec.audit.records() if a.seq > start]
    assert changes == [
        ("root", "user.add", "boss", None, {"role": "admin", "full_name": "", "disabled": False}),
        ("root", "user.role", "wang", {"role": "operator"}, {"role": "admin"}),
        ("root", "user.role", "wang", {"role": "admin"}, {"role": "operator"}),
        ("root", "user.disable", "boss", {"disabled": False}, {"disabled": True}),
        ("root", "role.grant", "operator", {"permission": "shelve", "scope": "R1", "granted": False},
         {"permission": "shelve", "scope": "R1", "granted": True}),
        ("root", "role.revoke", "operator", {"permission": "shelve", "scope": "R1", "granted": True},
         {"permission": "shelve", "scope": "R1", "granted": False}),
    ]
    with pytest.raises(UserError, match="last enabled administrator"):
        sec.security.set_disabled("root", True)
    with pytest.raises(UserError, match="unknown role 'superuser'"):
        sec.security.set_role("li", "superuser")
    with pytest.raises(UserError, match="unknown role 'god'"):
        sec.security.add_user("x1", "god", PASSWORD)


@pytest.mark.parametrize("role, permission, scope, why", [
    (Role.ADMIN, Permission.CONTROL, "*", "takes no grants"),
    (Role.VIEWER, Permission.MANAGE_USERS, "R1", "not granted per area"),
    (Role.OPERATOR, Permission.CONTROL, "R1'; DROP TABLE role_permissions;--", "area id"),
    (Role.OPERATOR, Permission.CONTROL, "", "area id"),
    (Role.OPERATOR, Permission.CONTROL, "x" * 65, "area id"),
])
def test_grant_scopes_are_validated(role, permission, scope, why):
    with pytest.raises(ValueError, match=why):
        Grant(role, permission, scope)


def test_the_first_administrator_only_on_an_empty_database(tmp_path):
    with rig("sqlite", tmp_path) as r:
        with pytest.raises(UserError, match="first administrator|bad|empty"):
            r.security.add_first_admin("", PASSWORD, actor="first-run:")
        info = r.security.add_first_admin("chief", PASSWORD, actor="first-run:chief")
        assert info.role is Role.ADMIN
        with pytest.raises(UserError, match="accounts exist already"):
            r.security.add_first_admin("second", PASSWORD, actor="first-run:second")
        assert [(a.user, a.action, a.target) for a in r.audit.records()] == [
            ("first-run:chief", "user.add", "chief")]


def test_last_logins_come_from_successful_logins_and_unlocks_only(sec):
    sec.security.login("root", PASSWORD)
    accounts = {a.user.name: a for a in sec.security.list_users()}
    assert isinstance(accounts["root"], Account)
    assert accounts["root"].last_login == sec.clock.now and accounts["wang"].last_login is None
    t_root = sec.clock.now

    sec.clock.advance(60)
    sec.security.login("wang", PASSWORD)
    t_wang = sec.clock.now
    sec.clock.advance(60)
    with pytest.raises(AuthError):
        sec.users.authenticate("wang", "not-the-password")                # a failure is no login
    with pytest.raises(AuthError):
        sec.users.authenticate("li", "not-the-password")
    sec.security.lock("manual")
    sec.clock.advance(60)
    sec.security.unlock(PASSWORD, name="mgr")                             # shift change: mgr takes over
    t_mgr = sec.clock.now
    sec.clock.advance(60)
    sec.users.set_disabled("li", True, actor="root")
    with pytest.raises(AuthError):
        sec.users.authenticate("li", PASSWORD)                            # disabled: refused, no login
    assert sec.audit.last_logins() == {"root": t_root, "wang": t_wang, "mgr": t_mgr}

    sec.security.login("root", PASSWORD)
    accounts = {a.user.name: a for a in sec.security.list_users()}
    assert {n: a.last_login for n, a in accounts.items()} == {
        "root": sec.clock.now, "wang": t_wang, "mgr": t_mgr, "li": None}
    assert accounts["li"].user.disabled and accounts["root"].user.full_name == "值班长"


def test_lockout_is_listed_until_it_ends(sec):
    for _ in range(5):
        with pytest.raises(AuthError):
            sec.users.authenticate("wang", "not-the-password")
    sec.security.login("root", PASSWORD)
    wang = {a.user.name: a.user for a in sec.security.list_users()}["wang"]
    assert wang.locked_until == sec.clock.now + 15 * 60
    sec.security.set_password("wang", PASSWORD + "-new")                  # a reset clears the lockout
    assert {a.user.name: a.user for a in sec.security.list_users()}["wang"].locked_until is None


# ------------------------------------------------------------------------------ access snapshot
def second_workstation(url: str, clock: Clock) -> SecurityService:
    """Another workstation on the same database: its own engine, store, cache and session."""
    engine = make_engine(url)
    audit = AuditLog(engine, workstation="ws-2", clock=clock)
    return SecurityService(UserStore(engine, audit, clock=clock, monotonic=clock), clock=clock)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_change_here_is_seen_at_once_one_from_another_workstation_within_the_snapshot_age(backend, tmp_path):
    with rig(backend, tmp_path) as r:
        here_engine = make_engine(r.url)
        here = SecurityService(UserStore(here_engine, AuditLog(here_engine, "ws-1", r.clock), clock=r.clock,
                                         monotonic=r.clock), clock=r.clock)
        there = second_workstation(r.url, r.clock)
        try:
            here.add_first_admin("root", PASSWORD, actor="test")
            here.users.add("wang", Role.OPERATOR, PASSWORD, actor="root")
            age = here.users._access.max_age_s
            assert there.control_permission("wang", "control", "R1")           # snapshot taken on ws-2
            assert here.control_permission("wang", "control", "R1")

            here.login("root", PASSWORD)
            here.revoke(Grant(Role.OPERATOR, Permission.CONTROL))
            here.grant(Grant(Role.OPERATOR, Permission.CONTROL, "R2"))
            assert not here.control_permission("wang", "control", "R1")       # here: at once
            assert here.control_permission("wang", "control", "R2")
            assert there.control_permission("wang", "control", "R1")          # there: still the old snapshot
            r.clock.advance(age - 0.1)
            assert there.control_permission("wang", "control", "R1")
            r.clock.advance(0.2)                                               # older than the lifetime
            assert not there.control_permission("wang", "control", "R1")
            assert there.control_permission("wang", "control", "R2")

            here.set_disabled("wang", True)
            assert not here.may(Permission.VIEW, user="wang")
            assert there.may(Permission.VIEW, user="wang")
            r.clock.advance(age + 0.1)
            assert not there.may(Permission.VIEW, user="wang")
            # a disabled user is refused on the other workstation too, audited there
            with pytest.raises(PermissionDenied):
                there.authorize(Permission.CONTROL, action="control.select", target="QF1_01", area="R2", user="wang")
            assert [(a.user, a.workstation, a.result) for a in r.audit.records()][-1] == ("wang", "ws-2", "denied")

            # a change made on ws-2 through its own service drops ws-2's snapshot at once, not ws-1's
            assert not here.may(Permission.VIEW, user="wang")                  # ws-1 reads a fresh snapshot
            there.login("root", PASSWORD)
            there.set_disabled("wang", False)
            assert there.may(Permission.VIEW, user="wang") and not here.may(Permission.VIEW, user="wang")
            r.clock.advance(age + 0.1)
            assert here.may(Permission.VIEW, user="wang")
        finally:
            here_engine.dispose()
            there.users.engine.dispose()


def test_a_read_started_before_a_change_does_not_hide_it(tmp_path):
    """The generation guard: a snapshot read while a change commits is returned to that caller
    but not kept, so the next check reads the change."""
    with rig("sqlite", tmp_path) as r:
        r.users.add("root", Role.ADMIN, PASSWORD, actor="test")
        r.users.add("wang", Role.OPERATOR, PASSWORD, actor="root")
        store = UserStore(r.users.engine, r.audit, clock=r.clock, monotonic=r.clock)
        read = store._read_access
        raced = []

        def read_then_change() -> Access:
            snapshot = read()                                              # reads: wang may control
            if not raced:
                raced.append(True)
                store.revoke(Grant(Role.OPERATOR, Permission.CONTROL), actor="root")   # commits meanwhile
            return snapshot

        store._access = AccessCache(read_then_change, 3.0, r.clock)
        assert store.access().model.allows(Role.OPERATOR, Permission.CONTROL, "R1")   # the older read
        assert not store.access().model.allows(Role.OPERATOR, Permission.CONTROL, "R1")  # not kept


def test_the_snapshot_with_threads_in_flight():
    """A change invalidating while another thread is inside the load keeps the stale result out."""
    clock = Clock()
    entered, release = threading.Event(), threading.Event()
    version = [0]

    def load() -> Access:
        seen = version[0]
        if seen == 0:
            entered.set()
            assert release.wait(5)
        return Access({}, PermissionModel(frozenset({Grant(Role.VIEWER, Permission.CONTROL, f"A{seen}")})))

    cache = AccessCache(load, 3.0, clock)
    results: list[Access] = []
    reader = threading.Thread(target=lambda: results.append(cache.get()))
    reader.start()
    assert entered.wait(5)
    version[0] = 1
    cache.invalidate()                          # the change commits while the reader is loading
    release.set()
    reader.join(5)
    assert results[0].model.allows(Role.VIEWER, Permission.CONTROL, "A0")      # the reader gets what it read ...
    assert cache.get().model.allows(Role.VIEWER, Permission.CONTROL, "A1")    # ... the next caller reads again


def test_snapshot_lifetime():
    clock = Clock()
    loads = []

    def load() -> Access:
        loads.append(clock.now)
        return Access({}, PermissionModel())

    with pytest.raises(ValueError, match=">= 0"):
        AccessCache(load, -1.0, clock)
    cache = AccessCache(load, 3.0, clock)
    cache.get()
    clock.advance(2.9)
    cache.get()
    assert len(loads) == 1
    clock.advance(0.2)
    cache.get()
    assert len(loads) == 2
    cache.invalidate()
    cache.get()
    assert len(loads) == 3
    uncached = AccessCache(load, 0.0, clock)
    uncached.get()
    uncached.get()
    assert len(loads) == 5
