"""The alarm engine: the evaluator in its own thread, fed by the point cache.

The cache's subscriber (:meth:`AlarmEngine.submit`) only appends the batch to a
queue, so acquisition never waits. The engine thread evaluates batches, lets time
pass every ``tick_s`` (on/off delays, shelving expiry, interval ends, floods) and then
hands journal events to the journal sink and an :class:`AlarmUpdate` to subscribers
— all on the engine thread, in order. Operator actions (ack, shelve, ...) run on the
caller's thread under the engine's lock and take effect at once; their events and
updates follow from the engine thread.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from app.alarms.contracts import (
    Alarm, AlarmSubscriber, AlarmUpdate, BaselineProvider, JournalRead, JournalSink, OpeningProvider, PermissionCheck,
)
from app.alarms.evaluator import RESUMED_KINDS, UNACKED, AlarmEvaluator
from app.alarms.journal import RESUME_LOOKBACK_S, read_journal
from app.cache import PointCache
from app.config import SiteConfig
from app.points import PointValue

log = logging.getLogger(__name__)

Clock = Callable[[], float]
T = TypeVar("T")


#: Operator actions on an alarm, as the permission check names them.
ACTIONS = ("ack", "shelve", "unshelve", "remove", "restore")


class AlarmPermissionError(PermissionError):
    """The permission check refused an operator action."""


def allow_all(user: str, action: str, alarm: Alarm) -> bool:
    """Permission check that allows everything (until the users issue brings roles)."""
    return True


class AlarmEngine:
    """Evaluates a site's alarm rules on the readings of a point cache.

    Parameters
    ----------
    site : SiteConfig
    clock : callable
        UTC epoch seconds now (``time.time``); drives delays, shelving, intervals, floods.
    journal : JournalSink, optional
        Receives every :class:`~app.alarms.contracts.AlarmEvent` (the historian's events).
    baseline : BaselineProvider, optional
        Expected interval consumption for ``consumption_surge`` rules.
    opening : OpeningProvider, optional
        Opening readings of accumulators (:func:`app.alarms.opening.historian_opening`), so
        a restart within a day does not undercount ``daily_energy``; asked on the engine
        thread at each accumulator's first reading.
    history : JournalRead, optional
        The journal read (``Historian.read_events``): at :meth:`start` the engine takes up
        the alarms of its previous run (raises, clears, acknowledgements, shelving and out
        of service of the last :data:`~app.alarms.journal.RESUME_LOOKBACK_S`), so a restart
        loses no unacknowledged alarm, no shelving and does not raise (and notify) a
        standing one again.
    permission : PermissionCheck
        Asked before every operator action; default allows all.
    permission_query : PermissionCheck, optional
        Asked by :meth:`may` only (views enabling buttons): must not audit; default ``permission``.
    workstation : str, optional
        Recorded with operator actions; default the host name.
    tick_s : float
        Seconds between clock ticks of the engine thread.
    max_shelve_s : float
        Longest shelving allowed, seconds (default 8 h, one shift).
    flood_count, flood_window_s, grouping_window_s
        See :class:`~app.alarms.evaluator.AlarmEvaluator`.
    """

    def __init__(self, site: SiteConfig, clock: Clock = time.time, *, journal: JournalSink | None = None,
                 baseline: BaselineProvider | None = None, opening: OpeningProvider | None = None,
                 history: JournalRead | None = None, permission: PermissionCheck = allow_all,
                 permission_query: PermissionCheck | None = None,
                 workstation: str | None = None, tick_s: float = 0.5, max_shelve_s: float = 8 * 3600.0,
                 flood_count: int = 10, flood_window_s: float = 600.0, grouping_window_s: float = 30.0) -> None:
        self.site = site
        self._clock = clock
        self._journal = journal
        self._history = history
        self._permission = permission
        self._permission_query = permission_query or permission
        self.workstation = workstation if workstation is not None else socket.gethostname()
        self._tick_s = tick_s
        self.max_shelve_s = max_shelve_s
        self._evaluator = AlarmEvaluator(site, baseline, opening=opening, flood_count=flood_count,
                                         flood_window_s=flood_window_s, grouping_window_s=grouping_window_s)
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[Sequence[PointValue] | threading.Event | None] = queue.SimpleQueue()
        self._subscribers: list[AlarmSubscriber] = []
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self, cache: PointCache | None = None) -> None:
        """Start the engine thread, then subscribe to ``cache`` (with replay of its values).

        Raises
        ------
        RuntimeError
            If already running.
        """
        if self._thread is not None:
            raise RuntimeError("alarm engine already running")
        if self._history is not None:
            self._resume(self._history)
        self._thread = threading.Thread(target=self._run, name="alarm-engine", daemon=True)
        self._thread.start()
        if cache is not None:
            self._unsubscribe = cache.subscribe(self.submit, replay=True)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Unsubscribe, evaluate what is queued, publish, and join the thread."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._queue.put(None)
        thread.join(timeout_s)
        if thread.is_alive():
            raise RuntimeError(f"alarm engine thread did not stop within {timeout_s} s")

    def submit(self, values: Sequence[PointValue]) -> None:
        """Queue a batch of readings (the point cache subscriber; never blocks)."""
        self._queue.put(values)

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until everything submitted so far is evaluated and published.

        Returns
        -------
        bool
            False on timeout or when the engine is not running.
        """
        if self._thread is None:
            return False
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout_s)

    # ------------------------------------------------------------- actions
    def ack(self, alarm_id: str, user: str, workstation: str | None = None) -> bool:
        """Acknowledge one alarm.

        Returns
        -------
        bool
            False if it needed no acknowledgement.

        Raises
        ------
        UnknownAlarmError
        AlarmPermissionError
        """
        return self._act("ack", alarm_id, user, lambda ev, now, ws: ev.ack(alarm_id, user, ws, now), workstation)

    def ack_all(self, user: str, area: str | None = None, workstation: str | None = None) -> int:
        """Acknowledge every unacknowledged alarm the user may acknowledge (of ``area``).

        Returns
        -------
        int
            How many were acknowledged.
        """
        count = 0
        with self._lock:
            now = self._clock()
            ws = workstation or self.workstation
            for record in list(self._evaluator.records.values()):
                if (area is None or record.area == area) and record.status.state in UNACKED \
                        and self._permission(user, "ack", record.snapshot()):
                    count += self._evaluator.ack(record.id, user, ws, now)
        self._wake()
        return count

    def shelve(self, alarm_id: str, user: str, duration_s: float, reason: str,
               workstation: str | None = None) -> None:
        """Shelve for ``duration_s`` seconds (0 < duration <= ``max_shelve_s``) with a reason.

        Raises
        ------
        ValueError
            Duration out of range or empty reason.
        UnknownAlarmError
        AlarmPermissionError
        """
        if not 0.0 < duration_s <= self.max_shelve_s:
            raise ValueError(f"shelving lasts more than 0 and at most {self.max_shelve_s:g} s, "
                             f"got {duration_s:g} s")
        if not reason.strip():
            raise ValueError("shelving needs a reason")
        self._act("shelve", alarm_id, user,
                  lambda ev, now, ws: ev.shelve(alarm_id, user, ws, now, duration_s, reason), workstation)

    def unshelve(self, alarm_id: str, user: str, workstation: str | None = None) -> bool:
        """Unshelve before expiry; False if it was not shelved."""
        return self._act("unshelve", alarm_id, user,
                         lambda ev, now, ws: ev.unshelve(alarm_id, user, ws, now), workstation)

    def remove_from_service(self, alarm_id: str, user: str, reason: str, workstation: str | None = None) -> bool:
        """Take an alarm out of service (maintenance); False if it already was."""
        if not reason.strip():
            raise ValueError("taking an alarm out of service needs a reason")
        return self._act("remove", alarm_id, user,
                         lambda ev, now, ws: ev.remove(alarm_id, user, ws, now, reason), workstation)

    def return_to_service(self, alarm_id: str, user: str, workstation: str | None = None) -> bool:
        """Return an alarm to service; False if it was in service."""
        return self._act("restore", alarm_id, user,
                         lambda ev, now, ws: ev.restore(alarm_id, user, ws, now), workstation)

    def suppress(self, alarm_id: str, reason: str) -> None:
        """Suppress by design while ``reason`` holds (logic of the site, not an operator)."""
        with self._lock:
            self._evaluator.suppress(alarm_id, reason, self._clock())
        self._wake()

    def unsuppress(self, alarm_id: str, reason: str) -> None:
        """Withdraw design suppression ``reason``."""
        with self._lock:
            self._evaluator.unsuppress(alarm_id, reason, self._clock())
        self._wake()

    def note_command(self, device_id: str, ts: float | None = None) -> None:
        """The control service sent a close/open command to ``device_id`` (at ``ts``, default now)."""
        with self._lock:
            self._evaluator.note_command(device_id, self._clock() if ts is None else ts)

    # ------------------------------------------------------------- queries
    def may(self, user: str, action: str, alarm_id: str) -> bool:
        """Whether ``user`` may ``action`` alarm ``alarm_id`` now (asks the permission check;
        changes nothing), so views offer only what the user may do.

        Parameters
        ----------
        user : str
        action : str
            One of :data:`ACTIONS` (``ack``, ``shelve``, ``unshelve``, ``remove``, ``restore``).
        alarm_id : str

        Raises
        ------
        ValueError
            Unknown action.
        UnknownAlarmError
        """
        if action not in ACTIONS:
            raise ValueError(f"unknown alarm action {action!r}; one of {', '.join(ACTIONS)}")
        with self._lock:
            alarm = self._evaluator.record(alarm_id).snapshot()
            return bool(self._permission_query(user, action, alarm))

    def subscribe(self, callback: AlarmSubscriber) -> Callable[[], None]:
        """Receive an :class:`AlarmUpdate` after every batch of changes (first: the current list).

        Returns a function that removes the subscriber.
        """
        with self._lock:
            self._subscribers.append(callback)
            current = AlarmUpdate((), self._evaluator.shown(), frozenset(self._evaluator.floods))
        _deliver(callback, current)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def alarms(self) -> tuple[Alarm, ...]:
        """Every alarm not in NORMAL, most urgent first."""
        with self._lock:
            return self._evaluator.shown()

    def alarm(self, alarm_id: str) -> Alarm:
        """Snapshot of one alarm (any state).

        Raises
        ------
        UnknownAlarmError
        """
        with self._lock:
            return self._evaluator.record(alarm_id).snapshot()

    def alarm_ids(self, area: str | None = None) -> list[str]:
        """Ids of every configured alarm (of ``area``)."""
        with self._lock:
            return list(self._evaluator.alarm_ids(area))

    @property
    def floods(self) -> frozenset[str]:
        """Areas in alarm flood now."""
        with self._lock:
            return frozenset(self._evaluator.floods)

    # ------------------------------------------------------------ internals
    def _act(self, action: str, alarm_id: str, user: str, apply: Callable[[AlarmEvaluator, float, str], T],
             workstation: str | None) -> T:
        """Check permission, then ``apply(evaluator, now, workstation)`` under the lock."""
        with self._lock:
            record = self._evaluator.record(alarm_id)
            if not self._permission(user, action, record.snapshot()):
                raise AlarmPermissionError(f"user {user!r} may not {action} alarm {alarm_id!r}")
            result = apply(self._evaluator, self._clock(), workstation or self.workstation)
        self._wake()
        return result

    def _resume(self, history: JournalRead) -> None:
        """Take up the previous run's alarms from the journal (see :meth:`AlarmEvaluator.resume`);
        an unreadable journal is logged and the engine starts with every alarm normal."""
        now = self._clock()
        try:
            rows = read_journal(history, now - RESUME_LOOKBACK_S, now + 1.0, RESUMED_KINDS)
        except Exception:  # the journal is a help at start, never a reason not to start
            log.exception("alarm journal unreadable: alarms of the previous run are not taken up")
            return
        with self._lock:
            shown = self._evaluator.resume(rows)
        log.info("took up %d alarms of the previous run from %d journal events", shown, len(rows))

    def _wake(self) -> None:
        if self._thread is not None:
            self._queue.put(())

    def _run(self) -> None:
        next_tick = self._clock() + self._tick_s
        running = True
        while running:
            waiters: list[threading.Event] = []
            try:
                item = self._queue.get(timeout=self._tick_s)
            except queue.Empty:
                item = ()
            batches: list[Sequence[PointValue]] = []
            while True:
                if item is None:
                    running = False
                elif isinstance(item, threading.Event):
                    waiters.append(item)
                elif item:
                    batches.append(item)
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            try:
                self._evaluate(batches, next_tick)
            except Exception:  # a rule fault must not kill the engine
                log.exception("alarm evaluation failed")
            if self._clock() >= next_tick:
                next_tick = self._clock() + self._tick_s
            for waiter in waiters:
                waiter.set()

    def _evaluate(self, batches: list[Sequence[PointValue]], next_tick: float) -> None:
        with self._lock:
            evaluator = self._evaluator
            for batch in batches:
                evaluator.feed(batch)
            now = self._clock()
            if now >= next_tick or batches:
                evaluator.tick(now)
            events, changed, floods_changed = evaluator.take()
            if not (events or changed or floods_changed):
                return
            update = AlarmUpdate(changed, evaluator.shown(), frozenset(evaluator.floods))
            subscribers = list(self._subscribers)
        if self._journal is not None:
            for event in events:
                try:
                    self._journal(event)
                except Exception:
                    log.exception("alarm journal failed on %s", event.kind.value)
        for callback in subscribers:
            _deliver(callback, update)


def _deliver(callback: AlarmSubscriber, update: AlarmUpdate) -> None:
    try:
        callback(update)
    except Exception:  # a faulty subscriber must not stop alarm handling
        log.exception("alarm subscriber %r failed", callback)
