"""Alarm banner, alarm list, event history and horn, on a real alarm engine fed through a real
point cache, with the journal in a real SQLite historian database."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import ast
import csv
import io
import threading
import time
import uuid
import wave
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QApplication

from app.alarms import Alarm, AlarmEngine, AlarmEvent, AlarmState, EventKind
from app.alarms.health import read_alarm_health
from app.cache import PointCache
from app.config import SiteConfig
from app.ui.alarm_bridge import AlarmBridge
from app.ui.alarm_models import AlarmFilter, banner_choice, filter_groups, group_alarms
from app.ui.alarm_view import AlarmView
from app.ui.annunciator import SAMPLE_RATE, TONES, AnnunciationSettings, Annunciator, tone_wav
from app.ui.bridge import PointBridge
from app.ui.i18n import TRANSLATIONS_DIR, TsTranslator, read_ts
from app.ui.services import UiServices
from db.historian import Historian
from db.migrate import upgrade
from db.schema import events as events_table
from tests.alarm_site import good, write_site

REPO = Path(__file__).resolve().parents[1]
SMOKE, DOOR, TRIP, NO_VOLTAGE = "IO.smoke:smoke_state", "IO.door:door_state", "QF:trip", "PM:no_voltage"


def may(user: str, action: str, alarm: Alarm) -> bool:
    """The permission check: a viewer may look but not act."""
    return user != "viewer"


class RecordingPlayer:
    """Stands in for the loudspeaker: records the priority of every tone played."""

    def __init__(self) -> None:
        self.played: list[int] = []

    def play(self, priority: int) -> None:
        self.played.append(priority)


class SqliteJournal:
    """The engine's journal sink into the historian's ``events`` table, and the
    ``read_events`` the event history tab needs (the contract of
    :class:`app.ui.alarm_models.EventReader`), on one SQLite file."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        self.rows = 0

    def __call__(self, event: AlarmEvent) -> None:
        with self.engine.begin() as conn:
            conn.execute(events_table.insert(), [{**event.to_row(), "uid": str(uuid.uuid4())}])
        self.rows += 1

    def read_events(self, t0: float, t1: float, *, areas: Collection[str] | None = None,
                    priorities: Collection[int] | None = None, kinds: Collection[str] | None = None,
                    text: str | None = None, limit: int = 10_000) -> list[dict[str, Any]]:
        e = events_table.c
        q = sa.select(e.ts, e.kind, e.source, e.area, e.priority, e.message, e.user, e.workstation, e.data) \
            .where(e.ts >= int(t0 * 1000), e.ts < int(t1 * 1000))
        if areas is not None:
            q = q.where(e.area.in_(list(areas)))
        if priorities is not None:
            q = q.where(e.priority.in_(list(priorities)))
        if kinds is not None:
            q = q.where(e.kind.in_(list(kinds)))
        if text:
            like = f"%{text}%"
            q = q.where(sa.or_(e.source.ilike(like), e.message.ilike(like),
                               e.data["alarm_id"].as_string().ilike(like)))
        q = q.order_by(e.ts.desc(), e.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]


@dataclass
class Rig:
    site: SiteConfig
    cache: PointCache
    engine: AlarmEngine
    journal: SqliteJournal
    view: AlarmView
    player: RecordingPlayer
    activations: list[int]
    historian: Historian

    def feed(self, *values: tuple[str, float], dt: float = 0.0) -> None:
        now = time.time() + dt
        self.cache.update([good(tag, value, now) for tag, value in values])
        assert self.engine.flush()

    def settle(self, qtbot, predicate) -> None:
        """Pump Qt until ``predicate()`` holds (the bridge flushes every 100 ms)."""
        qtbot.waitUntil(predicate, timeout=5000)


@pytest.fixture
def rig(qtbot, tmp_path) -> Iterator[Rig]:
    site = write_site(tmp_path)
    url = f"sqlite:///{tmp_path}/journal.sqlite"
    upgrade(url)
    journal = SqliteJournal(url)
    cache = PointCache()
    engine = AlarmEngine(site, journal=journal, permission=may, workstation="ws-test", tick_s=0.05)
    engine.start(cache)
    historian = Historian(url, spool_dir=tmp_path / "spool")
    services = UiServices(site=site, bridge=PointBridge(cache), historian=historian, device_status=dict,
                          alarms=engine)
    player = RecordingPlayer()
    view = AlarmView(services, user="alice", read_events=journal.read_events, player=player)
    qtbot.addWidget(view)
    activations: list[int] = []
    view.activation_requested.connect(lambda: activations.append(1))
    yield Rig(site, cache, engine, journal, view, player, activations, historian)
    view.shutdown()
    engine.stop()
    historian.stop()
    journal.engine.dispose()


def raise_incidents(rig: Rig, qtbot) -> None:
    """A door (P4), then smoke (P1), then a breaker trip (P1) with the meter's loss of
    voltage (P2) grouped under it; the trip is the newest P1."""
    rig.feed(("QF.state", 1), ("QF.trip_cause", 0), ("PM.Ua", 230.0), ("PM.Ub", 230.0), ("PM.Uc", 230.0))
    rig.feed(("IO.door", 1), dt=0.1)
    rig.feed(("IO.smoke", 1), dt=0.2)
    rig.feed(("PM.Ua", 0.0), ("PM.Ub", 0.0), ("PM.Uc", 0.0), dt=0.3)
    rig.feed(("QF.state", 0), ("QF.trip_cause", 1), dt=0.4)
    rig.settle(qtbot, lambda: {a.id for a in rig.view.bridge.alarms()} >= {SMOKE, DOOR, TRIP, NO_VOLTAGE})


def state(rig: Rig, alarm_id: str) -> AlarmState:
    return rig.engine.alarm(alarm_id).state


# ------------------------------------------------------------------------------------ banner
def test_banner_shows_newest_most_urgent_unacknowledged_alarm_counts_and_flashes(rig, qtbot):
    banner = rig.view.create_banner()
    qtbot.addWidget(banner)
    assert banner.alarm() is None and not banner.flashing()
    raise_incidents(rig, qtbot)
    rig.settle(qtbot, lambda: banner.alarm() is not None and banner.alarm().id == TRIP)
    texts = banner.texts()
    assert texts["badge"] == "1" and texts["source"] == "R1"
    assert "跳闸" in texts["message"]                       # the engine's operator text
    counts = banner.counts()
    assert counts[1] >= 2 and counts[2] >= 1 and counts[4] == 1
    assert banner.flashing()
    assert banner.buttons()["ack"].isEnabled() and banner.buttons()["ack_all"].isEnabled()

    qtbot.mouseClick(banner.buttons()["ack"], Qt.MouseButton.LeftButton)
    assert state(rig, TRIP) is AlarmState.ACK_ACTIVE
    # the next one: the newest unacknowledged priority-1 alarm
    rig.settle(qtbot, lambda: banner.alarm() is not None and banner.alarm().id != TRIP)
    assert banner.alarm().priority == 1 and banner.flashing()

    qtbot.mouseClick(banner.buttons()["ack_all"], Qt.MouseButton.LeftButton)
    rig.settle(qtbot, lambda: banner.alarm() is None)
    assert not banner.flashing()
    assert banner.texts()["message"] == "No unacknowledged alarms"
    assert not banner.buttons()["ack"].isEnabled() and not banner.buttons()["ack_all"].isEnabled()
    assert banner.counts()[1] >= 1                          # still active, acknowledged: counted, steady
    assert all(a.state not in (AlarmState.UNACK_ACTIVE, AlarmState.UNACK_RTN) for a in rig.engine.alarms())


def test_banner_flash_alternates_while_unacknowledged(rig, qtbot):
    banner = rig.view.create_banner()
    qtbot.addWidget(banner)
    rig.feed(("IO.smoke", 1))
    rig.settle(qtbot, lambda: banner.alarm() is not None)
    badge = banner._badge
    phases = set()
    qtbot.waitUntil(lambda: phases.add(badge.filled) or len(phases) == 2, timeout=3000)
    rig.view.acknowledge([SMOKE])
    rig.settle(qtbot, lambda: banner.alarm() is None)
    assert not banner.flashing()


def test_viewer_is_refused_and_operator_may_acknowledge(rig, qtbot):
    banner = rig.view.create_banner()
    qtbot.addWidget(banner)
    raise_incidents(rig, qtbot)
    rig.view.set_user("viewer")
    qtbot.mouseClick(banner.buttons()["ack"], Qt.MouseButton.LeftButton)
    assert state(rig, TRIP) is AlarmState.UNACK_ACTIVE
    assert "viewer" in rig.view._active_status.text() and TRIP in rig.view._active_status.text()
    done, refused = rig.view.acknowledge_visible()
    assert done == [] and set(refused) >= {SMOKE, DOOR, TRIP, NO_VOLTAGE}
    qtbot.mouseClick(banner.buttons()["ack_all"], Qt.MouseButton.LeftButton)
    assert state(rig, SMOKE) is AlarmState.UNACK_ACTIVE
    assert not [r for r in rig.journal.read_events(0, time.time() + 60) if r["kind"] == "alarm_acked"]

    rig.view.set_user("alice")
    done, refused = rig.view.acknowledge_visible()
    assert set(done) >= {SMOKE, DOOR, TRIP, NO_VOLTAGE} and refused == []
    assert rig.engine.flush()                               # the journal is written on the engine thread
    acks = [r for r in rig.journal.read_events(0, time.time() + 60) if r["kind"] == "alarm_acked"]
    assert {(r["user"], r["workstation"]) for r in acks} == {("alice", "ws-test")}


def test_banner_click_opens_the_list_filtered_to_the_alarm(rig, qtbot):
    banner = rig.view.create_banner()
    qtbot.addWidget(banner)
    raise_incidents(rig, qtbot)
    rig.settle(qtbot, lambda: banner.alarm() is not None and banner.alarm().id == TRIP)
    banner.show()
    qtbot.mouseClick(banner._message, Qt.MouseButton.LeftButton)
    assert rig.activations == [1]
    assert rig.view.alarm_filter().text == TRIP
    assert [a.id for a in rig.view.shown_alarms()] == [TRIP]
    current = rig.view.tree.currentIndex()
    assert current.isValid() and rig.view.model.alarm(current).id == TRIP
    # a priority count opens the list filtered to that priority
    qtbot.mouseClick(banner._counts_badges[4], Qt.MouseButton.LeftButton)
    assert [a.id for a in rig.view.shown_alarms()] == [DOOR]
    assert rig.activations == [1, 1]


# ------------------------------------------------------------------------------------ list
def test_consequential_alarms_are_grouped_under_the_trip(rig, qtbot):
    raise_incidents(rig, qtbot)
    model = rig.view.model
    groups = {parent.id: [k.id for k in kids] for parent, kids in model.groups()}
    assert NO_VOLTAGE in groups[TRIP] and NO_VOLTAGE not in groups
    trip_index = model.index_of(TRIP)
    assert model.rowCount(trip_index) == len(groups[TRIP]) and rig.view.tree.isExpanded(trip_index)
    child = model.index_of(NO_VOLTAGE)
    assert model.parent(child) == trip_index
    assert model.data(model.index(trip_index.row(), 8)) == "overload"      # the trip cause, as noted
    # a trip's value is a state code, not a measurement: no value or limit is shown for it
    assert model.data(model.index(trip_index.row(), 6)) == "" and model.data(model.index(trip_index.row(), 7)) == ""


def test_list_filters(rig, qtbot):
    raise_incidents(rig, qtbot)
    view = rig.view
    shown = lambda: {a.id for a in view.shown_alarms()}   # noqa: E731
    everything = shown()
    assert everything >= {SMOKE, DOOR, TRIP, NO_VOLTAGE}

    view.set_alarm_filter(AlarmFilter(areas=frozenset({"R1"})))
    assert shown() == {TRIP}
    view.set_alarm_filter(AlarmFilter(areas=frozenset({"B", "R1", "R2"})))
    assert shown() == everything
    view.set_alarm_filter(AlarmFilter(priorities=frozenset({4})))
    assert shown() == {DOOR}
    view.set_alarm_filter(AlarmFilter(text="smoke"))
    assert shown() == {SMOKE}
    # a matching consequence keeps its cause on screen for context
    view.set_alarm_filter(AlarmFilter(text="PM:no_voltage"))
    assert [(p.id, [k.id for k in kids]) for p, kids in view.model.groups()] == [(TRIP, [NO_VOLTAGE])]

    view.acknowledge([DOOR])
    rig.settle(qtbot, lambda: state(rig, DOOR) is AlarmState.ACK_ACTIVE
               and any(a.id == DOOR and a.state is AlarmState.ACK_ACTIVE for a in view.bridge.alarms()))
    view.set_alarm_filter(AlarmFilter(states=frozenset({AlarmState.ACK_ACTIVE})))
    assert shown() == {DOOR}
    rig.engine.shelve(SMOKE, "alice", 600.0, "detector being cleaned")
    rig.settle(qtbot, lambda: any(a.id == SMOKE and a.state is AlarmState.SHELVED for a in view.bridge.alarms()))
    view.clear_filters()                                   # annunciated only: shelved alarms leave the list
    assert SMOKE not in shown() and DOOR in shown()
    view.set_alarm_filter(AlarmFilter(states=frozenset({AlarmState.SHELVED})))
    assert shown() == {SMOKE}
    note = view.model.cell_text(view.shown_alarms()[0], "note")
    assert "alice" in note and "detector being cleaned" in note
    with pytest.raises(ValueError, match="not offered"):
        view.set_alarm_filter(AlarmFilter(since_s=123.0))


def test_time_filter_and_grouping_rules():
    now = 1_750_000_000.0
    base = dict(rule="r", type="high", level="", device="D", area="A", priority=2, active=True, message="m",
                value=1.0, limit=0.5, state_ts=now, acked_by="", shelved_until=None, shelved_by="", note="")
    old = Alarm(id="D.x:r", source="D.x", state=AlarmState.UNACK_ACTIVE, raised_ts=now - 7200, cause="", **base)
    new = Alarm(id="D.y:r", source="D.y", state=AlarmState.UNACK_RTN, raised_ts=now - 60, cause="", **base)
    orphan = Alarm(id="D.z:r", source="D.z", state=AlarmState.ACK_ACTIVE, raised_ts=now - 30, cause="gone:trip",
                   **base)
    child = Alarm(id="D.w:r", source="D.w", state=AlarmState.ACK_ACTIVE, raised_ts=now - 10, cause="D.x:r", **base)
    assert AlarmFilter(since_s=3600.0).matches(new, now, {}) and not AlarmFilter(since_s=3600.0).matches(old, now, {})
    assert AlarmFilter(text="dev name").matches(old, now, {"D": "Dev Name"})
    groups = group_alarms([old, new, orphan, child])
    assert [(p.id, [k.id for k in kids]) for p, kids in groups] == [
        ("D.x:r", ["D.w:r"]), ("D.y:r", []), ("D.z:r", [])]      # a cause no longer shown: stands alone
    assert filter_groups(groups, lambda a: a.id == "D.w:r") == [(old, [child])]
    assert banner_choice([old, new, orphan]) is new                  # same priority: the newest raised
    assert banner_choice([orphan, child]) is None


def test_export_active_alarms_to_csv(rig, qtbot, tmp_path):
    raise_incidents(rig, qtbot)
    path = tmp_path / "alarms.csv"
    n = rig.view.export_active_csv(str(path))
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][0] == "Alarm id" and rows[0][-1] == "Cause" and len(rows) == n + 1
    by_id = {r[0]: r for r in rows[1:]}
    assert set(by_id) == {a.id for a in rig.view.shown_alarms()}
    assert by_id[NO_VOLTAGE][-1] == TRIP and by_id[TRIP][2] == "1"
    assert "跳闸" in by_id[TRIP][6]
    with pytest.raises(OSError):
        rig.view.export_active_csv(str(tmp_path / "missing" / "alarms.csv"))


# ------------------------------------------------------------------------------------ events
def test_event_history_reads_the_journal_with_filters_and_exports(rig, qtbot, tmp_path):
    raise_incidents(rig, qtbot)
    rig.view.acknowledge([SMOKE])
    assert rig.engine.flush()
    qtbot.waitUntil(lambda: rig.journal.rows >= 6, timeout=5000)
    view = rig.view
    view.set_event_range(time.time() - 600, time.time() + 600)
    with qtbot.waitSignal(view.events_loaded, timeout=5000) as sig:
        view.query_events()
    assert sig.args[0] == view.events_model.rowCount() >= 6
    kinds = {r["kind"] for r in view.events_model.rows()}
    assert {"alarm_raised", "alarm_acked"} <= kinds

    view._events_bar.text.setText("smoke")
    view._kind.setCurrentIndex(3)                            # acknowledged
    with qtbot.waitSignal(view.events_loaded, timeout=5000):
        view.query_events()
    rows = view.events_model.rows()
    assert [(r["kind"], r["user"], r["data"]["alarm_id"]) for r in rows] == [("alarm_acked", "alice", SMOKE)]
    assert view.events_model.cell_text(rows[0], "kind") == "Acknowledged"

    view._events_bar.text.setText("")
    view._kind.setCurrentIndex(0)
    view._events_bar.area.setCurrentIndex(view._events_bar.area.findData("R1"))
    with qtbot.waitSignal(view.events_loaded, timeout=5000):
        view.query_events()
    assert {r["source"] for r in view.events_model.rows()} == {"QF"}

    path = tmp_path / "events.csv"
    n = view.export_events_csv(str(path))
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert n == len(rows) - 1 >= 1 and rows[1][0] == TRIP and rows[0][:3] == ["Alarm id", "Time", "Event"]


def test_event_history_shows_a_read_failure(rig, qtbot, tmp_path):
    broken = SqliteJournal(f"sqlite:///{tmp_path}/no_such_dir/journal.sqlite")
    services = rig.view._services
    view = AlarmView(services, user="alice", read_events=broken.read_events, player=RecordingPlayer())
    qtbot.addWidget(view)
    try:
        with qtbot.waitSignal(view.events_failed, timeout=5000) as sig:
            view.query_events()
        assert "OperationalError" in sig.args[0]
        assert "could not be read" in view._events_status.text()
    finally:
        view.shutdown()
        broken.engine.dispose()


def test_by_default_the_history_reads_through_the_historian(rig, qtbot):
    services = rig.view._services
    view = AlarmView(services, player=RecordingPlayer())
    qtbot.addWidget(view)
    try:
        if hasattr(services.historian, "read_events"):     # the historian's journal read has landed
            view.set_event_range(time.time() - 600, time.time() + 600)
            with qtbot.waitSignal(view.events_loaded, timeout=5000):
                view.query_events()
        else:
            with qtbot.waitSignal(view.events_failed, timeout=1000):
                view.query_events()
            assert "not available" in view._events_status.text()
    finally:
        view.shutdown()


def test_read_only_view_for_the_wall_has_no_controls_and_no_horn(rig, qtbot):
    view = AlarmView(rig.view._services, player=(player := RecordingPlayer()), read_only=True)
    qtbot.addWidget(view)
    try:
        view.show()
        rig.feed(("IO.smoke", 1))
        qtbot.waitUntil(lambda: [a.id for a in view.shown_alarms()] == [SMOKE], timeout=5000)
        assert not view._ack_selected.isVisible() and not view._sound.isVisible()
        assert view._export_active.isVisible()
        qtbot.wait(300)
        assert player.played == [] and view.annunciator.sounding() is None
        with pytest.raises(PermissionError, match="read-only"):
            view.acknowledge([SMOKE])
        with pytest.raises(PermissionError, match="read-only"):
            view.create_banner()
        assert state(rig, SMOKE) is AlarmState.UNACK_ACTIVE
    finally:
        view.shutdown()


def test_view_without_alarm_engine_is_refused_with_a_reason(rig):
    services = rig.view._services
    bare = UiServices(site=services.site, bridge=services.bridge, historian=services.historian,
                      device_status=dict)
    with pytest.raises(ValueError, match="services.alarms"):
        AlarmView(bare)


# ------------------------------------------------------------------------------------ horn
def test_horn_repeats_until_acknowledged_and_silence_holds_until_a_new_alarm(rig, qtbot):
    view = rig.view
    view.annunciator.set_repeat_s(0.15)
    banner = view.create_banner()
    qtbot.addWidget(banner)
    rig.feed(("IO.door", 1))                                       # priority 4: silent by default
    rig.settle(qtbot, lambda: any(a.id == DOOR for a in view.bridge.alarms()))
    assert rig.player.played == [] and view.annunciator.sounding() is None
    rig.feed(("IO.smoke", 1))
    qtbot.waitUntil(lambda: len(rig.player.played) >= 3, timeout=5000)     # sounds, then repeats
    assert set(rig.player.played) == {1} and banner.buttons()["silence"].isEnabled()

    qtbot.mouseClick(banner.buttons()["silence"], Qt.MouseButton.LeftButton)
    assert view.annunciator.sounding() is None and not banner.buttons()["silence"].isEnabled()
    played = len(rig.player.played)
    qtbot.wait(400)
    assert len(rig.player.played) == played                        # silenced: no repeats
    assert state(rig, SMOKE) is AlarmState.UNACK_ACTIVE           # silencing is not acknowledging

    view.annunciator.set_audible(4, True)
    rig.feed(("QF.Ua", 280.0), ("QF.Ub", 230.0), ("QF.Uc", 230.0))     # a new alarm sounds again
    qtbot.waitUntil(lambda: len(rig.player.played) > played, timeout=5000)
    assert view.annunciator.sounding() is not None
    view.acknowledge_visible()
    qtbot.waitUntil(lambda: view.annunciator.sounding() is None, timeout=5000)
    played = len(rig.player.played)
    qtbot.wait(400)
    assert len(rig.player.played) == played                        # acknowledged: quiet


def test_horn_settings_are_checked():
    with pytest.raises(ValueError, match="repeat_s"):
        AnnunciationSettings(repeat_s=0)
    with pytest.raises(ValueError, match="unknown priorities"):
        AnnunciationSettings(audible={7: True})
    with pytest.raises(ValueError, match="priority 5"):
        Annunciator(RecordingPlayer()).set_audible(5, True)


@pytest.mark.parametrize("priority", sorted(TONES))
def test_tones_are_valid_wav_at_their_frequency(priority):
    freq, beeps, length_s, gap_s = TONES[priority]
    with wave.open(io.BytesIO(tone_wav(priority))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, SAMPLE_RATE)
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(float)
    assert len(pcm) == int(SAMPLE_RATE * length_s) * beeps + int(SAMPLE_RATE * gap_s) * (beeps - 1)
    spectrum = np.abs(np.fft.rfft(pcm))
    peak = np.fft.rfftfreq(len(pcm), 1 / SAMPLE_RATE)[spectrum.argmax()]
    assert abs(peak - freq) < 10
    assert np.abs(pcm).max() < 0.61 * 32767 and abs(pcm[0]) < 200           # ramped in, no clipping
    with pytest.raises(ValueError, match="priority"):
        tone_wav(9)


# ------------------------------------------------------------------------------------ bridge
def test_bridge_coalesces_engine_updates_last_state_wins(rig, qtbot):
    bridge = AlarmBridge(rig.engine, user="alice", interval_ms=60_000)   # flushes only when told
    emitted = []
    bridge.alarms_changed.connect(emitted.append)
    bridge.start()
    try:
        assert len(emitted) == 1 and emitted[0].alarms == ()      # the engine's replay, at once
        seen_threads = set()
        rig.engine.subscribe(lambda u: seen_threads.add(threading.current_thread().name))
        rig.feed(("IO.smoke", 1))
        rig.feed(("IO.door", 1))
        bridge.ack(SMOKE)
        assert rig.engine.flush()
        assert len(emitted) == 1                                  # nothing crosses before the flush
        bridge._on_timer_timeout()
        assert len(emitted) == 2
        update = emitted[-1]
        assert {a.id for a in update.changed} == {SMOKE, DOOR}
        assert {a.id: a.state for a in update.alarms}[SMOKE] is AlarmState.ACK_ACTIVE
        assert {a.id: a.state for a in update.changed}[SMOKE] is AlarmState.ACK_ACTIVE   # newest snapshot
        assert "alarm-engine" in seen_threads
        bridge._on_timer_timeout()
        assert len(emitted) == 2                                  # no news, no signal
    finally:
        bridge.stop()


# ------------------------------------------------------------------------------------ health
def journal_health_incidents(rig: Rig, end: float) -> None:
    """Into the SQLite journal: the door (R2) chatters 12 times 10 s apart two hours before
    ``end`` (a flood in R2 for 30 min), smoke (R1) raised 30 h before ``end`` and never cleared,
    one trip (R1) an hour before ``end``."""
    def event(ts, kind, alarm_id, area, state, priority=2):
        rig.journal(AlarmEvent(ts, kind, alarm_id, alarm_id.split(":")[0], area, priority, state, f"msg {alarm_id}"))

    t = end - 7200
    for i in range(12):
        event(t + 10 * i, EventKind.RAISED, DOOR, "R2", AlarmState.UNACK_ACTIVE, 4)
        event(t + 10 * i + 5, EventKind.CLEARED, DOOR, "R2", AlarmState.UNACK_RTN, 4)
    event(t + 100, EventKind.FLOOD_BEGAN, "", "R2", None, 0)
    event(t + 100 + 1800, EventKind.FLOOD_ENDED, "", "R2", None, 0)
    event(end - 30 * 3600, EventKind.RAISED, SMOKE, "R1", AlarmState.UNACK_ACTIVE, 1)
    event(end - 3600, EventKind.RAISED, TRIP, "R1", AlarmState.UNACK_ACTIVE, 1)
    event(end - 3500, EventKind.CLEARED, TRIP, "R1", AlarmState.UNACK_RTN, 1)


def test_health_tab_computes_the_isa_figures_from_the_journal_off_the_gui_thread(rig, qtbot):
    end = float((int(time.time()) // 600) * 600)
    journal_health_incidents(rig, end)
    tab = rig.view.health_tab
    tab.set_period(end - 86400, end)
    gui_thread = threading.current_thread()
    reader_threads = []
    inner = tab._read_events

    def read(*args, **kwargs):
        reader_threads.append(threading.current_thread())
        return inner(*args, **kwargs)

    tab._read_events = read
    with qtbot.waitSignal(tab.computed, timeout=5000) as got:
        tab.compute()
    health = got.args[0]
    assert reader_threads and all(t is not gui_thread for t in reader_threads)
    assert tab.health() is health
    # area loads: R2 12 door raises in one 10-minute period, flood 30 min of 24 h; R1 the trip
    # (smoke was raised before the period: stale, not load)
    table = tab.areas_table
    rows = {table.item(r, 0).text(): [table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())}
    assert rows["R2"] == ["R2", "12", f"{12 / 144:.2f}", "12", "12.0", "12", f"{100 * 1800 / 86400:.2f}",
                          "Over what an operator can manage"]
    assert rows["R1"][:2] == ["R1", "1"]
    # off target only is coloured: 12 in ten minutes is over the 10 maximum, 1 a day is fine
    r2 = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == "R2")
    assert table.item(r2, 3).foreground().color().name() == "#f07820"
    assert table.item(r2, 4).foreground().style() == Qt.BrushStyle.NoBrush
    r1 = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == "R1")
    assert table.item(r1, 7).text() == "Within target"
    # message first (what the operator reads), the alarm id last (what the engineer rationalises)
    chattering = [(tab.chattering_table.item(r, 0).text(), tab.chattering_table.item(r, 2).text(),
                   tab.chattering_table.item(r, 3).text()) for r in range(tab.chattering_table.rowCount())]
    assert chattering == [(f"msg {DOOR}", "6", DOOR)]     # 6 raises within 60 s (10 s apart)
    assert [tab.stale_table.item(r, 4).text() for r in range(tab.stale_table.rowCount())] == [SMOKE]
    assert tab.stale_table.item(0, 3).text() == "30.0"
    top = [(tab.top_table.item(r, 4).text(), tab.top_table.item(r, 2).text(), tab.top_table.item(r, 3).text())
           for r in range(tab.top_table.rowCount())]
    assert top == [(DOOR, "12", f"{100 * 12 / 13:.1f}"), (TRIP, "1", f"{100 / 13:.1f}")]


def test_health_tab_computes_when_first_opened_and_shows_a_read_failure(rig, qtbot):
    with qtbot.waitSignal(rig.view.health_tab.computed, timeout=5000):
        rig.view.tabs.setCurrentWidget(rig.view.health_tab)
    tab = rig.view.health_tab

    def broken(*args, **kwargs):
        raise OSError("journal disk gone")

    tab._read_events = broken
    with qtbot.waitSignal(tab.failed, timeout=5000) as got:
        tab.compute()
    assert "journal disk gone" in got.args[0] and "journal disk gone" in tab._status.text()


def test_health_reads_the_historian_journal_page_by_page(rig):
    end = float((int(time.time()) // 600) * 600)
    journal_health_incidents(rig, end)
    read = rig.historian.read_events
    whole = read_alarm_health(read, end - 86400, end, tz=rig.site.tzinfo)
    paged = read_alarm_health(read, end - 86400, end, tz=rig.site.tzinfo, page=3)
    assert paged == whole
    assert whole.raises == 13 and [s.alarm_id for s in whole.stale] == [SMOKE]


# ------------------------------------------------------------------------------------ language
def marked(path: Path) -> set[tuple[str, str]]:
    """(context, source) of every ``self.tr("…")`` (context: the enclosing class) and
    ``tr("…")`` (context ``AlarmView``) in a module."""
    found: set[tuple[str, str]] = set()

    def visit(node: ast.AST, cls: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, child.name)
                continue
            if isinstance(child, ast.Call) and child.args and isinstance(child.args[0], ast.Constant):
                f = child.func
                if isinstance(f, ast.Attribute) and f.attr == "tr" and isinstance(f.value, ast.Name) \
                        and f.value.id == "self":
                    found.add((cls, child.args[0].value))
                elif isinstance(f, ast.Name) and f.id == "tr":
                    found.add(("AlarmView", child.args[0].value))
            visit(child, cls)

    visit(ast.parse(path.read_text(encoding="utf-8")), None)
    return found


def test_every_alarm_string_has_a_chinese_translation():
    table = {}
    for name in ("AlarmView", "AlarmBanner"):
        table.update(read_ts(TRANSLATIONS_DIR / f"{name}.zh_CN.ts"))
    strings = marked(REPO / "app/ui/alarm_view.py") | marked(REPO / "app/ui/alarm_models.py") \
        | marked(REPO / "app/ui/alarm_health_view.py") \
        | marked(REPO / "widgets/alarm_banner.py")
    assert len(strings) > 80
    missing = sorted(s for s in strings if s not in table)
    assert not missing, f"untranslated: {missing}"


def test_chinese_at_run_time(rig, qtbot):
    settings = rig.view._services.settings
    start_language = settings.language
    settings.language = "en"
    banner = rig.view.create_banner()
    qtbot.addWidget(banner)
    raise_incidents(rig, qtbot)
    english = banner.texts()["message"]
    assert "trip" in english.lower()
    translator = TsTranslator([TRANSLATIONS_DIR / "AlarmView.zh_CN.ts", TRANSLATIONS_DIR / "AlarmBanner.zh_CN.ts"],
                              "zh_CN")
    app = QApplication.instance()
    settings.language = "zh_CN"          # as Appearance.set_language does before installing the translator
    app.installTranslator(translator)
    try:
        QCoreApplication.processEvents()
        # the banner's standing alarm is told again in the new language, without waiting for a change
        assert "跳闸" in banner.texts()["message"] and banner.texts()["message"] != english
        assert rig.view.tabs.tabText(0) == "活动报警"
        assert rig.view.tabs.tabText(2) == "报警系统健康"
        assert rig.view.health_tab.areas_table.horizontalHeaderItem(6).text() == "报警泛滥时间 %"
        assert banner.buttons()["ack"].text() == "确认"
        assert rig.view.model.headers()[0] == "时间"
    finally:
        settings.language = "en"
        app.removeTranslator(translator)
        QCoreApplication.processEvents()
    assert rig.view.tabs.tabText(0) == "Active alarms"
    assert banner.texts()["message"] == english
    settings.language = start_language
