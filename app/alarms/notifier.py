"""Alarm notifications: routes by priority and area, escalation while unacknowledged.

:class:`AlarmNotifier` subscribes to the alarm engine. Its subscriber only queues the
update, so the engine never waits; the notifier's own thread decides what to send and
hands messages to one :class:`~app.alarms.delivery.ChannelWorker` per channel.

What is sent: an alarm that becomes *unacknowledged active* (a new raise, or an active
alarm coming back from shelving / suppression / out of service) and is not grouped
under a breaker trip (the trip itself is notified). Every route whose priorities hold
the alarm's priority and whose areas hold the alarm's area (or an area above it) sends
to its ``channels`` at once — each channel once per raise, however many routes name
it — and to escalation step n when the alarm is still unacknowledged (``unack_active``
or ``unack_rtn``, same raise) ``after_min`` minutes after it was raised. When a notified
alarm returns to normal, the channels told of it hear so as the route's
``return_to_normal`` says (``email``: its e-mail channels, the default; ``all``; ``none``).

Every message handed to channels is journalled (``alarm_notified``, with route, step,
channels). With the journal read (``history``) the notifier takes up, at start, what
its previous run told: a restarted collector neither notifies a standing alarm again
nor forgets a pending escalation (an overdue step goes out at once) or a return to
normal still to tell.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.alarms.channels import Sender, make_sender
from app.alarms.contracts import Alarm, AlarmEvent, AlarmUpdate, EventKind, JournalRead, JournalSink
from app.alarms.delivery import ChannelStats, ChannelWorker
from app.alarms.journal import RESUME_LOOKBACK_S, read_journal
from app.alarms.messages import Notification
from app.alarms.secrets import SecretSource, keyring_secret
from app.alarms.states import AlarmState
from app.config import EmailChannel, Route, SiteConfig
from drivers.backoff import Backoff

log = logging.getLogger(__name__)

UNACKED = (AlarmState.UNACK_ACTIVE, AlarmState.UNACK_RTN)


@dataclass
class _Escalation:
    alarm_id: str
    raised_ts: float
    route: Route
    step: int          # index into route.escalation
    due: float         # UTC epoch seconds


class AlarmNotifier:
    """Sends alarm notifications along the site's routes.

    Parameters
    ----------
    site : SiteConfig
        ``site.notifications`` gives channels and routes; areas come from the site.
    secrets : SecretSource
        Reads channel credentials (default: the OS keyring).
    clock : callable
        UTC epoch seconds now (escalation is timed against the alarms' raise times).
    tick_s : float
        Seconds between checks for due escalations.
    senders : Mapping[str, Sender], optional
        Sender per channel id, replacing the built-in SMTP / webhook senders (other transports).
    journal : JournalSink, optional
        Receives an ``alarm_notified`` event for every message handed to channels.
    history : JournalRead, optional
        The journal read (``Historian.read_events``): at :meth:`start` the notifier takes up
        the notifications of its previous run (see the module docstring).
    """

    def __init__(self, site: SiteConfig, *, secrets: SecretSource = keyring_secret,
                 clock: Callable[[], float] = time.time, tick_s: float = 1.0,
                 senders: Mapping[str, Sender] | None = None, journal: JournalSink | None = None,
                 history: JournalRead | None = None) -> None:
        config = site.notifications
        self.site = site
        self._clock = clock
        self._tick_s = tick_s
        self._routes = config.routes
        self._route_by_id = {r.id: r for r in config.routes}
        self._email = {c.id: isinstance(c, EmailChannel) for c in config.channels}
        self._journal = journal
        self._history = history
        self._previous: dict[str, list[dict]] = {}     # alarm id -> notices of the previous run
        self._seeded = False
        self._workers: dict[str, ChannelWorker] = {}
        for channel in config.channels:
            send = (senders or {}).get(channel.id) or make_sender(channel, secrets)
            self._workers[channel.id] = ChannelWorker(
                channel.id, send, config.queue_size, Backoff(config.retry_initial_s, config.retry_max_s),
                config.give_up_after_s)
        self._area_paths: dict[str, frozenset[str]] = {}
        self._area_names = {a.id: a.name or a.id for root in site.areas for a in root.walk()}
        self._queue: queue.SimpleQueue[AlarmUpdate | None] = queue.SimpleQueue()
        self._notified: dict[str, float] = {}          # alarm id -> raised_ts notified
        self._told: dict[str, dict[str, Route]] = {}   # alarm id -> channels told of that raise, by route
        self._latest: dict[str, Alarm] = {}
        self._escalations: list[_Escalation] = []
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._idle = threading.Condition()
        self._busy = 0

    # ------------------------------------------------------------ lifecycle
    def start(self, subscribe: Callable[[Callable[[AlarmUpdate], None]], Callable[[], None]] | None = None) -> None:
        """Start the channel workers and the notifier thread, then subscribe.

        Parameters
        ----------
        subscribe : callable, optional
            ``AlarmEngine.subscribe``; without it, feed :meth:`submit` yourself.
        """
        if self._thread is not None:
            raise RuntimeError("alarm notifier already running")
        if self._history is not None:
            self._read_previous(self._history)
        for worker in self._workers.values():
            worker.start()
        self._thread = threading.Thread(target=self._run, name="alarm-notifier", daemon=True)
        self._thread.start()
        if subscribe is not None:
            self._unsubscribe = subscribe(self.submit)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Unsubscribe, stop the notifier thread, then every channel worker."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout_s)
        for worker in self._workers.values():
            worker.stop(timeout_s)

    def submit(self, update: AlarmUpdate) -> None:
        """Queue an alarm update (the engine subscriber; never blocks)."""
        with self._idle:
            self._busy += 1
        self._queue.put(update)

    def wait_idle(self, timeout_s: float = 5.0) -> bool:
        """Wait until every submitted update has been routed (not delivered); False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout_s)

    def stats(self) -> dict[str, ChannelStats]:
        """Delivery counters per channel id."""
        return {cid: worker.stats() for cid, worker in self._workers.items()}

    # ------------------------------------------------------------ internals
    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=self._tick_s)
            except queue.Empty:
                item = AlarmUpdate((), (), frozenset())
                queued = False
            else:
                if item is None:
                    return
                queued = True
            try:
                self._route(item)
                self._escalate(self._clock())
            except Exception:  # a routing fault must not end notifications
                log.exception("alarm notification routing failed")
            if queued:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

    def _route(self, update: AlarmUpdate) -> None:
        if not self._seeded:                      # the engine's current list, before any change
            self._seeded = True
            for alarm in update.alarms:
                self._latest[alarm.id] = alarm
            self._take_up(update.alarms)
        for alarm in update.changed:
            self._latest[alarm.id] = alarm
            if not alarm.active:
                if alarm.id in self._told and self._notified.get(alarm.id) == alarm.raised_ts:
                    self._tell_return(alarm, self._told.pop(alarm.id))
                continue
            if alarm.state is AlarmState.UNACK_ACTIVE and not alarm.cause \
                    and self._notified.get(alarm.id) != alarm.raised_ts:
                self._notify(alarm)

    def _notify(self, alarm: Alarm) -> None:
        self._notified[alarm.id] = alarm.raised_ts
        told = self._told[alarm.id] = {}
        for route in (r for r in self._routes if self._matches(r, alarm)):
            channels = [c for c in route.channels if c not in told]
            for channel in channels:
                told[channel] = route
                self._send(channel, alarm, route, 0)
            self._record(alarm, route, 0, channels)
            self._schedule(alarm, route, set())

    def _schedule(self, alarm: Alarm, route: Route, done: set[int]) -> None:
        for k, step in enumerate(route.escalation):
            if k + 1 not in done:
                self._escalations.append(_Escalation(alarm.id, alarm.raised_ts, route, k,
                                                     alarm.raised_ts + step.after_min * 60.0))

    def _tell_return(self, alarm: Alarm, told: dict[str, Route]) -> None:
        by_route: dict[str, list[str]] = {}
        for channel, route in told.items():
            if route.return_to_normal == "all" or (route.return_to_normal == "email" and self._email[channel]):
                by_route.setdefault(route.id, []).append(channel)
        for route_id, channels in by_route.items():
            route = self._route_by_id[route_id]
            for channel in channels:
                self._send(channel, alarm, route, 0, returned=True)
            self._record(alarm, route, 0, channels, returned=True)

    def _escalate(self, now: float) -> None:
        keep: list[_Escalation] = []
        for esc in self._escalations:
            alarm = self._latest.get(esc.alarm_id)
            if alarm is None or alarm.raised_ts != esc.raised_ts or alarm.state not in UNACKED:
                continue  # acknowledged, raised again, shelved or hidden: this ladder is over
            if esc.due > now:
                keep.append(esc)
                continue
            channels = esc.route.escalation[esc.step].channels
            told = self._told.setdefault(alarm.id, {})
            for channel in channels:
                told.setdefault(channel, esc.route)
                self._send(channel, alarm, esc.route, esc.step + 1)
            self._record(alarm, esc.route, esc.step + 1, list(channels))
        self._escalations = keep

    def _send(self, channel: str, alarm: Alarm, route: Route, escalation: int, returned: bool = False) -> None:
        area = self._area_names.get(alarm.area, alarm.area)
        note = Notification(alarm, route.id, escalation, self.site.name, self.site.tzinfo, self.site.language, area,
                            returned)
        log.info("notify %s on %s (route %s, step %d%s)", channel, alarm.id, route.id, escalation,
                 ", returned to normal" if returned else "")
        self._workers[channel].submit(note)

    def _record(self, alarm: Alarm, route: Route, step: int, channels: list[str], returned: bool = False) -> None:
        """Journal what was handed to ``channels`` (nothing when no channel was told)."""
        if self._journal is None or not channels:
            return
        notice = {"route": route.id, "step": step, "channels": list(channels), "returned": returned,
                  "raised_ts": alarm.raised_ts}
        event = AlarmEvent(self._clock(), EventKind.NOTIFIED, alarm.id, alarm.source, alarm.area, alarm.priority,
                           alarm.state, alarm.message, alarm.value, alarm.limit, reason=f"{route.id}: "
                           + ", ".join(channels), text=alarm.text, notice=notice)
        try:
            self._journal(event)
        except Exception:  # the journal's trouble must not stop notifications
            log.exception("alarm journal failed on a notification of %s", alarm.id)

    # ------------------------------------------------------------ restart
    def _read_previous(self, history: JournalRead) -> None:
        """Read the notices of the previous run (before subscribing; blocking, at start only)."""
        now = self._clock()
        try:
            rows = read_journal(history, now - RESUME_LOOKBACK_S, now + 1.0, (EventKind.NOTIFIED.value,))
        except Exception:  # the journal is a help at start, never a reason not to notify
            log.exception("alarm journal unreadable: notifications of the previous run are not taken up")
            return
        for row in rows:
            data = row.get("data") or {}
            if isinstance(data.get("notice"), dict):
                self._previous.setdefault(str(data.get("alarm_id")), []).append(data["notice"])

    def _take_up(self, alarms: tuple[Alarm, ...]) -> None:
        """Continue what the previous run told of the alarms the engine took up: the raise is not
        notified again; escalation steps not yet sent are scheduled (overdue ones go out at the
        next tick); the return to normal goes to the channels told, if not told already."""
        previous, self._previous = self._previous, {}
        for alarm in alarms:
            raised_ms = round(alarm.raised_ts * 1000)
            notices = [n for n in previous.get(alarm.id, ()) if round(float(n.get("raised_ts", 0)) * 1000) == raised_ms]
            if not notices:
                continue
            self._notified[alarm.id] = alarm.raised_ts
            if any(n.get("returned") for n in notices):
                continue
            told = self._told[alarm.id] = {}
            done: dict[str, set[int]] = {}
            for n in notices:
                route = self._route_by_id.get(str(n.get("route")))
                if route is None:
                    continue                       # a route removed from the configuration since
                done.setdefault(route.id, set()).add(int(n.get("step", 0)))
                for channel in n.get("channels", ()):
                    if channel in self._workers:
                        told.setdefault(channel, route)
            if alarm.state in UNACKED:
                for route in (r for r in self._routes if r.id in done):
                    self._schedule(alarm, route, done[route.id])

    def _matches(self, route: Route, alarm: Alarm) -> bool:
        if alarm.priority not in route.priorities:
            return False
        if not route.areas:
            return True
        path = self._area_paths.get(alarm.area)
        if path is None:
            path = self._area_paths[alarm.area] = frozenset(self.site.area_path(alarm.area))
        return not path.isdisjoint(route.areas)
