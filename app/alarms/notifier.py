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
or ``unack_rtn``, same raise) ``after_min`` minutes after it was raised.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.alarms.channels import Sender, make_sender
from app.alarms.contracts import Alarm, AlarmUpdate
from app.alarms.delivery import ChannelStats, ChannelWorker
from app.alarms.messages import Notification
from app.alarms.secrets import SecretSource, keyring_secret
from app.alarms.states import AlarmState
from app.config import Route, SiteConfig
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
    """

    def __init__(self, site: SiteConfig, *, secrets: SecretSource = keyring_secret,
                 clock: Callable[[], float] = time.time, tick_s: float = 1.0,
                 senders: Mapping[str, Sender] | None = None) -> None:
        config = site.notifications
        self.site = site
        self._clock = clock
        self._tick_s = tick_s
        self._routes = config.routes
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
        for alarm in update.changed:
            self._latest[alarm.id] = alarm
            if alarm.state is not AlarmState.UNACK_ACTIVE or alarm.cause \
                    or self._notified.get(alarm.id) == alarm.raised_ts:
                continue
            self._notified[alarm.id] = alarm.raised_ts
            routes = [r for r in self._routes if self._matches(r, alarm)]
            sent: set[str] = set()
            for route in routes:
                for channel in route.channels:
                    if channel not in sent:
                        sent.add(channel)
                        self._send(channel, alarm, route, 0)
                for k, step in enumerate(route.escalation):
                    self._escalations.append(_Escalation(alarm.id, alarm.raised_ts, route, k,
                                                         alarm.raised_ts + step.after_min * 60.0))

    def _escalate(self, now: float) -> None:
        keep: list[_Escalation] = []
        for esc in self._escalations:
            alarm = self._latest.get(esc.alarm_id)
            if alarm is None or alarm.raised_ts != esc.raised_ts or alarm.state not in UNACKED:
                continue  # acknowledged, raised again, shelved or hidden: this ladder is over
            if esc.due > now:
                keep.append(esc)
                continue
            for channel in esc.route.escalation[esc.step].channels:
                self._send(channel, alarm, esc.route, esc.step + 1)
        self._escalations = keep

    def _send(self, channel: str, alarm: Alarm, route: Route, escalation: int) -> None:
        area = self._area_names.get(alarm.area, alarm.area)
        note = Notification(alarm, route.id, escalation, self.site.name, self.site.tzinfo, self.site.language, area)
        log.info("notify %s on %s (route %s, step %d)", channel, alarm.id, route.id, escalation)
        self._workers[channel].submit(note)

    def _matches(self, route: Route, alarm: Alarm) -> bool:
        if alarm.priority not in route.priorities:
            return False
        if not route.areas:
            return True
        path = self._area_paths.get(alarm.area)
        if path is None:
            path = self._area_paths[alarm.area] = frozenset(self.site.area_path(alarm.area))
        return not path.isdisjoint(route.areas)
