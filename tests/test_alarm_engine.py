"""The alarm engine in its thread, fed through a real point cache; actions, journal, subscribers."""

from __future__ import annotations

import threading

import pytest

from app.alarms import AlarmEngine, AlarmPermissionError, AlarmState, EventKind, UnknownAlarmError
from app.cache import PointCache
from db.historian import Historian
from db.migrate import upgrade
from tests.alarm_site import good, write_site
from tests.notify_peers import wait_until

T0 = 1_750_000_000.0


class ManualClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def site(tmp_path):
    return write_site(tmp_path)


@pytest.fixture
def running(site):
    clock = ManualClock(T0)
    journal = []
    updates = []
    engine = AlarmEngine(site, clock, journal=journal.append, workstation="ws-test", tick_s=0.01)
    cache = PointCache()
    engine.subscribe(updates.append)
    engine.start(cache)
    yield engine, cache, clock, journal, updates
    engine.stop()


def test_values_through_the_cache_raise_alarms_on_the_engine_thread(running):
    engine, cache, clock, journal, updates = running
    seen_threads = set()
    engine.subscribe(lambda update: seen_threads.add(threading.current_thread().name))
    cache.update([good("IO.smoke", 1, T0)])
    assert engine.flush()
    alarm = engine.alarm("IO.smoke:smoke_state")
    assert alarm.state is AlarmState.UNACK_ACTIVE and alarm.area == "R2" and alarm.priority == 1
    assert [e.kind for e in journal] == [EventKind.RAISED]
    assert journal[0].to_row()["data"]["alarm_id"] == "IO.smoke:smoke_state"
    last = updates[-1]
    assert [a.id for a in last.changed] == ["IO.smoke:smoke_state"]
    assert [a.id for a in last.alarms] == ["IO.smoke:smoke_state"]
    assert "alarm-engine" in seen_threads


def test_ack_and_ack_all_from_another_thread(running):
    engine, cache, clock, journal, updates = running
    cache.update([good("IO.smoke", 1, T0), good("IO.door", 1, T0)])
    assert engine.flush()
    assert engine.ack("IO.smoke:smoke_state", "alice")
    assert not engine.ack("IO.smoke:smoke_state", "alice")
    assert engine.ack_all("bob", area="R2") == 1
    assert engine.flush()
    acks = [e for e in journal if e.kind is EventKind.ACKED]
    assert [(e.alarm_id, e.user, e.workstation) for e in acks] == [
        ("IO.smoke:smoke_state", "alice", "ws-test"), ("IO.door:door_state", "bob", "ws-test")]
    assert {a.state for a in updates[-1].alarms} == {AlarmState.ACK_ACTIVE}


def test_shelving_expires_by_itself(running):
    engine, cache, clock, journal, updates = running
    cache.update([good("IO.smoke", 1, T0)])
    assert engine.flush()
    engine.shelve("IO.smoke:smoke_state", "alice", 300.0, "detector being cleaned")
    assert engine.alarm("IO.smoke:smoke_state").state is AlarmState.SHELVED
    clock.now = T0 + 301
    deadline = threading.Event()
    for _ in range(200):
        if engine.alarm("IO.smoke:smoke_state").state is AlarmState.UNACK_ACTIVE:
            break
        deadline.wait(0.01)
    assert engine.alarm("IO.smoke:smoke_state").state is AlarmState.UNACK_ACTIVE
    assert engine.flush()
    assert [e.kind for e in journal] == [EventKind.RAISED, EventKind.SHELVED, EventKind.SHELF_EXPIRED]


def test_bad_requests_are_refused_clearly(running, site):
    engine = running[0]
    with pytest.raises(ValueError, match="at most 28800 s"):
        engine.shelve("IO.smoke:smoke_state", "alice", 9 * 3600, "too long")
    with pytest.raises(ValueError, match="needs a reason"):
        engine.shelve("IO.smoke:smoke_state", "alice", 60, " ")
    with pytest.raises(UnknownAlarmError, match="no alarm 'IO.nothing:x'"):
        engine.ack("IO.nothing:x", "alice")
    refusing = AlarmEngine(site, ManualClock(T0), permission=lambda user, action, alarm: action != "shelve")
    with pytest.raises(AlarmPermissionError, match="'eve' may not shelve"):
        refusing.shelve("IO.smoke:smoke_state", "eve", 60, "no right")
    assert refusing.alarm("IO.smoke:smoke_state").state is AlarmState.NORMAL


def test_failing_journal_and_subscriber_do_not_stop_the_engine(site):
    def broken(_):
        raise RuntimeError("database down")

    engine = AlarmEngine(site, ManualClock(T0), journal=broken, tick_s=0.01)
    engine.subscribe(broken)
    engine.start()
    try:
        engine.submit([good("IO.smoke", 1, T0)])
        assert engine.flush()
        engine.submit([good("IO.door", 1, T0)])
        assert engine.flush()
        assert {a.id for a in engine.alarms()} == {"IO.smoke:smoke_state", "IO.door:door_state"}
    finally:
        engine.stop()


def test_start_stop_and_late_subscriber_replay(site):
    engine = AlarmEngine(site, ManualClock(T0), tick_s=0.01)
    cache = PointCache()
    cache.update([good("IO.smoke", 1, T0)])
    engine.start(cache)                    # replay of the cache raises the alarm
    with pytest.raises(RuntimeError, match="already running"):
        engine.start()
    assert engine.flush()
    got = []
    engine.subscribe(got.append)
    assert [a.id for a in got[0].alarms] == ["IO.smoke:smoke_state"]
    engine.stop()
    assert not engine.flush()
    cache.update([good("IO.door", 1, T0)])   # unsubscribed: no effect, no error
    assert engine.alarm("IO.door:door_state").state is AlarmState.NORMAL


def test_restarted_engine_takes_up_the_previous_runs_alarms_from_the_journal(site, tmp_path):
    """Smoke left unacknowledged and active, the door acknowledged and active, the trip returned
    unacknowledged: after a restart on the same SQLite journal the list is the same; the first
    readings raise nothing new, and a condition gone meanwhile clears its alarm."""
    url = f"sqlite:///{tmp_path}/journal.sqlite"
    upgrade(url)
    clock = ManualClock(T0)
    historian = Historian(url, spool_dir=tmp_path / "spool")
    historian.start()
    engine = AlarmEngine(site, clock, journal=historian.submit_event, history=historian.read_events, tick_s=0.01)
    engine.start()
    engine.submit([good("QF.state", 1, T0), good("IO.smoke", 1, T0), good("IO.door", 1, T0)])
    engine.submit([good("QF.state", 0, T0 + 1), good("QF.trip_cause", 2, T0 + 1)])
    engine.submit([good("QF.state", 1, T0 + 2)])
    assert engine.flush()
    engine.ack("IO.door:door_state", "alice")
    assert engine.flush()
    before = {a.id: (a.state, a.raised_ts) for a in engine.alarms()}
    assert before["IO.smoke:smoke_state"] == (AlarmState.UNACK_ACTIVE, T0)
    assert before["IO.door:door_state"] == (AlarmState.ACK_ACTIVE, T0)
    assert before["QF:trip"] == (AlarmState.UNACK_RTN, T0 + 1)
    engine.stop()
    historian.stop()

    clock.now = T0 + 600
    historian = Historian(url, spool_dir=tmp_path / "spool")
    historian.start()
    events = []
    engine = AlarmEngine(site, clock, journal=events.append, history=historian.read_events, tick_s=0.01)
    engine.start()
    try:
        assert {a.id: (a.state, a.raised_ts) for a in engine.alarms()} == before
        assert engine.alarm("IO.door:door_state").acked_by == "alice"
        engine.submit([good("IO.smoke", 1, T0 + 601), good("IO.door", 0, T0 + 601), good("QF.state", 1, T0 + 601)])
        assert engine.flush()
        clock.now = T0 + 607                                 # past the door's 5 s off-delay
        assert engine.flush()
        engine.submit([good("IO.door", 0, T0 + 607)])
        assert engine.flush()
        after = {a.id: a.state for a in engine.alarms()}
        assert after == {"IO.smoke:smoke_state": AlarmState.UNACK_ACTIVE, "QF:trip": AlarmState.UNACK_RTN}
        assert [(e.kind, e.alarm_id) for e in events] == [(EventKind.CLEARED, "IO.door:door_state")]
    finally:
        engine.stop()
        historian.stop()


def test_shelving_and_out_of_service_survive_a_restart_and_a_shelving_expires_after_it(site, tmp_path):
    url = f"sqlite:///{tmp_path}/journal.sqlite"
    upgrade(url)
    clock = ManualClock(T0)

    def run() -> tuple[Historian, AlarmEngine]:
        historian = Historian(url, spool_dir=tmp_path / "spool")
        historian.start()
        engine = AlarmEngine(site, clock, journal=historian.submit_event, history=historian.read_events, tick_s=0.01)
        engine.start()
        return historian, engine

    historian, engine = run()
    engine.submit([good("IO.smoke", 1, T0), good("IO.door", 1, T0)])
    assert engine.flush()
    engine.shelve("IO.smoke:smoke_state", "alice", 600, "detector being cleaned")
    engine.remove_from_service("IO.door:door_state", "bob", "door contact replaced")
    assert engine.flush()
    engine.stop()
    historian.stop()

    clock.now = T0 + 300
    historian, engine = run()
    try:
        smoke, door = engine.alarm("IO.smoke:smoke_state"), engine.alarm("IO.door:door_state")
        assert (smoke.state, smoke.shelved_until, smoke.shelved_by, smoke.note) == (
            AlarmState.SHELVED, T0 + 600, "alice", "detector being cleaned")
        assert (door.state, door.shelved_by, door.note) == (AlarmState.OUT_OF_SERVICE, "bob", "door contact replaced")
        clock.now = T0 + 601                                   # the shelving runs out after the restart
        assert wait_until(lambda: engine.alarm("IO.smoke:smoke_state").state is AlarmState.UNACK_ACTIVE)
        assert engine.alarm("IO.smoke:smoke_state").raised_ts == T0
        assert engine.alarm("IO.door:door_state").state is AlarmState.OUT_OF_SERVICE
    finally:
        engine.stop()
        historian.stop()

