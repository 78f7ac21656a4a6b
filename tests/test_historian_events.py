"""The alarm/event journal in the historian: submit_events, read_events filters, outage, restart.

Real SQLite files and real PostgreSQL (scratch databases, and a private cluster stopped
mid-run for the outage test).
"""

from __future__ import annotations

import time

import pytest

from app.alarms.contracts import AlarmEvent, AlarmText, EventKind
from app.alarms.states import AlarmState
from db.event_rows import clean_event
from db.historian import EVENT_SPOOL_NAME, Historian, HistorianError
from db.migrate import upgrade
from db.spool import EVENTS, Spool
from tests.pg import PrivateCluster, scratch_database, server_available

T0 = 1_700_000_000.0


def wait_until(pred, timeout=20.0):
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def event(i: int, *, kind=EventKind.RAISED, area="A1", priority=2, source="Q1.Ua", message="Q1 over-voltage",
          user="", alarm_id=None) -> AlarmEvent:
    return AlarmEvent(ts=T0 + i, kind=kind, alarm_id=alarm_id or f"{source}:ov:alarm", source=source, area=area,
                      priority=priority, state=AlarmState.UNACK_ACTIVE, message=message, value=276.5 + i,
                      limit=275.0, user=user, workstation="ws1", text=AlarmText(source_name="Q1", point="Ua"))


JOURNAL = [
    event(0),
    event(1, kind=EventKind.ACKED, user="alice"),
    event(2, area="A2", priority=1, source="QF2", message="QF2 跳闸 trip", alarm_id="QF2:trip"),
    event(3, kind=EventKind.CLEARED, area="A2", priority=3, source="M7.P", message="M7 active power high"),
    event(4, kind=EventKind.FLOOD_BEGAN, area="A2", priority=0, source="A2", message="Alarm flood", alarm_id=""),
]


@pytest.fixture
def sqlite_url(tmp_path):
    u = f"sqlite:///{tmp_path / 'hist.sqlite3'}"
    upgrade(u)
    return u


@pytest.fixture
def pg_url():
    why = server_available()
    if why:
        pytest.fail(why)  # the development/CI machine runs PostgreSQL; its absence is a failure
    with scratch_database() as url:
        upgrade(url)
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def any_url(request):
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


def journal_in(url, tmp_path) -> Historian:
    h = Historian(url, spool_dir=tmp_path / "spool", retry_interval_s=0.1)
    h.start()
    for e in JOURNAL:
        h.submit_event(e)
    wait_until(lambda: h.stats().events_committed == len(JOURNAL))
    return h


def test_round_trip_newest_first_shaped_as_to_row(any_url, tmp_path):
    h = journal_in(any_url, tmp_path)
    try:
        rows = h.read_events(T0, T0 + 10)
        assert [r["ts"] for r in rows] == [round((T0 + i) * 1000) for i in (4, 3, 2, 1, 0)]
        expected = JOURNAL[2].to_row()
        assert rows[2] == expected  # every column and the data dict (text, value, limit ...) round-trip
        assert rows[2]["message"] == "QF2 跳闸 trip"
        assert rows[3]["user"] == "alice" and rows[3]["kind"] == "alarm_acked"
        assert h.read_events(T0 + 1, T0 + 3) == [JOURNAL[2].to_row(), JOURNAL[1].to_row()]  # t0 <= ts < t1
    finally:
        h.stop()


@pytest.mark.parametrize("filters, expected", [
    ({"areas": ["A2"]}, [4, 3, 2]),
    ({"areas": ["A1", "A2"], "priorities": [1, 3]}, [3, 2]),
    ({"priorities": [0]}, [4]),
    ({"kinds": ["alarm_raised"]}, [2, 0]),
    ({"kinds": ["alarm_acked", "alarm_flood_began"], "areas": ["A1"]}, [1]),
    ({"text": "qf2:TRIP"}, [2]),         # data.alarm_id, case-insensitive
    ({"text": "Active POWER"}, [3]),      # message
    ({"text": "跳闸"}, [2]),              # Chinese message text
    ({"text": "q1.ua"}, [1, 0]),          # source
    ({"areas": []}, []),
    ({"kinds": ["no_such_kind"]}, []),
    ({"limit": 2}, [4, 3]),
])
def test_filters(any_url, tmp_path, filters, expected):
    h = journal_in(any_url, tmp_path)
    try:
        rows = h.read_events(T0, T0 + 10, **filters)
        assert [r["ts"] for r in rows] == [round((T0 + i) * 1000) for i in expected]
    finally:
        h.stop()


@pytest.mark.parametrize("row, why", [
    ({"kind": "alarm_raised"}, "lacks 'ts'"),
    ({"ts": float("nan"), "kind": "x"}, "finite"),
    ({"ts": 1, "kind": ""}, "kind is empty"),
    ({"ts": 1, "kind": "x", "priority": 7}, "priority"),
    ({"ts": 1, "kind": "x", "area": "a" * 65}, "at most 64"),
    ({"ts": 1, "kind": "x", "data": {"v": object()}}, "JSON"),
    ({"ts": 1, "kind": "x", "data": [1, 2]}, "mapping"),
    ("alarm", "mapping"),
    ({"ts": 1, "kind": "x", "uid": ""}, "uid"),
    ({"ts": 1, "kind": "x", "uid": 7}, "uid"),
    ({"ts": 1, "kind": "x", "uid": "u" * 65}, "uid"),
])
def test_bad_rows_are_explained(row, why):
    with pytest.raises(ValueError, match=why):
        clean_event(row)


def test_bad_row_rejected_others_kept(sqlite_url, tmp_path):
    h = Historian(sqlite_url, spool_dir=tmp_path / "spool")
    h.start()
    try:
        h.submit_events([JOURNAL[0].to_row(), {"ts": 5, "kind": "x", "source": "s" * 200}, JOURNAL[1].to_row()])
        wait_until(lambda: h.stats().events_committed == 2)
        stats = h.stats()
        assert stats.events_rejected == 1 and "at most 128" in stats.last_error
        assert len(h.read_events(T0, T0 + 10)) == 2
    finally:
        h.stop()


def test_event_written_twice_is_stored_once(any_url, tmp_path):
    """An event's uid makes its insert idempotent: submitted twice, or replayed from the spool
    after its commit (a crash, or a commit whose acknowledgement was lost), it is stored once."""
    committed: list = []
    h = Historian(any_url, spool_dir=tmp_path / "spool", on_events_commit=committed.extend)
    h.start()
    try:
        keyed = {**JOURNAL[0].to_row(), "uid": "ws1:42"}
        h.submit_events([keyed, keyed, JOURNAL[1].to_row()])
        wait_until(lambda: h.stats().events_committed == 3)
        h.submit_events([keyed])
        wait_until(lambda: h.stats().events_committed == 4)
        assert h.read_events(T0, T0 + 10) == [JOURNAL[1].to_row(), JOURNAL[0].to_row()]
    finally:
        h.stop()
    assert committed[0].uid == "ws1:42" and len(committed[2].uid) == 36  # a UUID when not given
    Spool(tmp_path / "spool" / EVENT_SPOOL_NAME, EVENTS).append(committed[1:3])
    again = Historian(any_url, spool_dir=tmp_path / "spool")
    again.start()
    try:
        wait_until(lambda: again.stats().events_committed == 2)
        assert again.stats().events_spooled == 0
        assert again.read_events(T0, T0 + 10) == [JOURNAL[1].to_row(), JOURNAL[0].to_row()]
    finally:
        again.stop()


def test_events_spooled_across_restart_before_start(sqlite_url, tmp_path):
    """Events submitted to a historian that stops before writing them reach the next one."""
    spool = tmp_path / "spool"
    broken = Historian(f"sqlite:///{tmp_path / 'missing-dir' / 'x.sqlite3'}", spool_dir=spool,
                       retry_interval_s=0.05)
    broken.start()
    broken.submit_events(e.to_row() for e in JOURNAL)
    wait_until(lambda: broken.stats().events_spooled == len(JOURNAL))  # spooled at the first failure
    assert broken.stats().events_queued == 0
    broken.stop(timeout_s=0.5)
    h = Historian(sqlite_url, spool_dir=spool)
    h.start()
    try:
        wait_until(lambda: h.stats().events_committed == len(JOURNAL))
        assert [r["ts"] for r in h.read_events(T0, T0 + 10)] == [round((T0 + i) * 1000) for i in (4, 3, 2, 1, 0)]
        assert h.stats().events_spooled == 0
    finally:
        h.stop()


def test_read_raises_historian_error_when_unreachable(tmp_path):
    h = Historian(f"sqlite:///{tmp_path / 'missing-dir' / 'x.sqlite3'}", spool_dir=tmp_path / "spool")
    with pytest.raises(HistorianError, match="x.sqlite3"):
        h.read_events(T0, T0 + 10)
    with pytest.raises(ValueError, match="limit"):
        h.read_events(T0, T0 + 10, limit=0)


def test_pg_outage_keeps_every_event_in_order(tmp_path):
    committed: list = []
    with PrivateCluster() as pg:
        upgrade(pg.url)
        h = Historian(pg.url, spool_dir=tmp_path / "spool", retry_interval_s=0.2,
                      on_events_commit=committed.extend)
        h.start()
        try:
            h.submit_events(e.to_row() for e in JOURNAL[:2])
            wait_until(lambda: h.stats().events_committed == 2)
            pg.stop()
            h.submit_events(e.to_row() for e in JOURNAL[2:])
            wait_until(lambda: h.stats().events_spooled == 3, timeout=30)
            assert not h.stats().db_ok
            pg.start()
            wait_until(lambda: h.stats().events_committed == len(JOURNAL), timeout=30)
            rows = h.read_events(T0, T0 + 10)
            assert [r["ts"] for r in rows] == [round((T0 + i) * 1000) for i in (4, 3, 2, 1, 0)]
            assert [r.ts for r in committed] == [round((T0 + i) * 1000) for i in range(5)]
            assert h.stats().events_spooled == 0
        finally:
            h.stop()


def test_collector_journals_alarm_transitions(tmp_path):
    """The collector wires the alarm engine's journal to the historian: an over-voltage read over
    real Modbus ends up in ``events`` as an ``alarm_raised`` row of its point."""
    from app.collector import Collector
    from app.config import load_site
    from tests.modbus_peers import free_port
    from tests.test_collector import SITE, ServerThread

    path = tmp_path / "site.yaml"
    path.write_text(SITE.format(live=free_port(), dead=free_port()), encoding="utf-8")
    site = load_site(path)
    collector = Collector(site, f"sqlite:///{tmp_path / 'hist.sqlite3'}")
    collector.historian.spool_dir = tmp_path / "spool"
    with ServerThread(site) as server:
        server.put("Ua", 290.0)
        start = time.time()
        collector.start()
        try:
            def raised():
                rows = collector.historian.read_events(start - 60, time.time() + 60, kinds=["alarm_raised"])
                return [r for r in rows if r["source"] == "QF1.Ua"]
            wait_until(raised, timeout=20)
            row = raised()[0]
            assert row["area"] == "A" and row["data"]["alarm_id"].startswith("QF1.Ua:")
            assert row["data"]["value"] == pytest.approx(290.0, abs=0.5)
        finally:
            collector.stop()
