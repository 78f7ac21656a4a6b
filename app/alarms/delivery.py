"""One worker thread and one bounded queue per notification channel, with retry and back-off.

:meth:`ChannelWorker.submit` never blocks: when the queue is full the oldest waiting
message is dropped (and counted). The worker sends one message at a time; a failure
is retried after an exponential back-off with full jitter (:class:`drivers.backoff.Backoff`)
until it goes out or ``give_up_after_s`` has passed since its first attempt. A channel
that is down therefore delays only its own messages, never alarm handling or other
channels.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

from app.alarms.channels import DeliveryError, Sender
from app.alarms.messages import Notification
from drivers.backoff import Backoff

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChannelStats:
    """Counters of one channel since start.

    Attributes
    ----------
    delivered : int
    failures : int
        Failed attempts (each retry counts).
    dropped : int
        Messages dropped because the queue was full.
    given_up : int
        Messages dropped after ``give_up_after_s`` of failures.
    waiting : int
        Messages queued or being retried now.
    last_error : str
        Reason of the last failure ("" if none), without secrets.
    """

    delivered: int
    failures: int
    dropped: int
    given_up: int
    waiting: int
    last_error: str


class ChannelWorker:
    """Delivers the notifications of one channel in its own thread.

    Parameters
    ----------
    channel_id : str
    send : Sender
        Blocking; raises :class:`~app.alarms.channels.DeliveryError`.
    queue_size : int
        Messages waiting at most (>= 1).
    backoff : Backoff
        Delays between attempts of a failing message.
    give_up_after_s : float
        Seconds after the first attempt at which a message is dropped.
    """

    def __init__(self, channel_id: str, send: Sender, queue_size: int, backoff: Backoff,
                 give_up_after_s: float) -> None:
        self.channel_id = channel_id
        self._send = send
        self._queue: deque[Notification] = deque()
        self._size = queue_size
        self._backoff = backoff
        self._give_up_after_s = give_up_after_s
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._current: Notification | None = None
        self._delivered = self._failures = self._dropped = self._given_up = 0
        self._last_error = ""

    def start(self) -> None:
        """Start the worker thread ``notify-<channel id>``."""
        if self._thread is not None:
            raise RuntimeError(f"channel worker {self.channel_id} already running")
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=f"notify-{self.channel_id}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop after the attempt in progress (at most one send timeout); waiting messages are logged as lost."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        thread.join(timeout_s)
        if thread.is_alive():
            log.error("notification channel %s did not stop within %.1f s", self.channel_id, timeout_s)
        lost = len(self._queue)
        if lost:
            log.warning("notification channel %s stopped with %d message(s) undelivered", self.channel_id, lost)

    def submit(self, note: Notification) -> None:
        """Queue ``note`` (never blocks; drops the oldest waiting message when full)."""
        with self._cond:
            if len(self._queue) >= self._size:
                old = self._queue.popleft()
                self._dropped += 1
                log.warning("notification channel %s queue full (%d): dropped message on %s",
                            self.channel_id, self._size, old.alarm.id)
            self._queue.append(note)
            self._cond.notify()

    def stats(self) -> ChannelStats:
        """Counters now."""
        with self._cond:
            return ChannelStats(self._delivered, self._failures, self._dropped, self._given_up,
                                len(self._queue) + (self._current is not None), self._last_error)

    def _run(self) -> None:
        while not self._stopping.is_set():
            with self._cond:
                while not self._queue and not self._stopping.is_set():
                    self._cond.wait()
                if self._stopping.is_set():
                    return
                self._current = self._queue.popleft()
            finished = self._deliver(self._current)
            with self._cond:
                if not finished:
                    self._queue.appendleft(self._current)
                self._current = None

    def _deliver(self, note: Notification) -> bool:
        """Send ``note``, retrying with back-off; False if stopping interrupted the retries."""
        first = time.monotonic()
        while True:
            try:
                self._send(note)
            except DeliveryError as exc:
                reason = str(exc)
            except Exception as exc:  # a sender bug must not kill the channel
                log.exception("notification channel %s: sender failed", self.channel_id)
                reason = f"{type(exc).__name__}: {exc}"
            else:
                with self._cond:
                    self._delivered += 1
                self._backoff.reset()
                return True
            with self._cond:
                self._failures += 1
                self._last_error = reason
            if time.monotonic() - first >= self._give_up_after_s:
                with self._cond:
                    self._given_up += 1
                log.error("notification on %s given up after %.0f s: %s", note.alarm.id,
                          time.monotonic() - first, reason)
                return True
            delay = self._backoff.next_delay()
            log.warning("notification on %s not delivered (%s); retry in %.1f s", note.alarm.id, reason, delay)
            if self._stopping.wait(delay):
                return False
