"""The historian: store-and-forward sample writer with range and rollup reads.

``submit`` is called from the acquisition thread and only appends to an in-memory
queue. A writer thread takes batches from the queue, writes each in one transaction
(samples only, idempotent, their 15-minute buckets marked dirty) and removes them
from the queue only after the commit; then it calls :attr:`Historian.on_commit`.
Between batches the same thread folds dirty buckets into the rollups in bounded
steps (:meth:`db.store.SampleStore.fold_rollups`): a step of any dirty buckets at
least every ``fold_interval_s`` while data comes in, finished buckets (those before
the current 15 minutes) back to back while it has nothing to write, and everything
within :meth:`Historian.stop`'s time. Refolding a bucket still filling re-reads all
its samples, so that is done only by the periodic steps, which take the points in turn
(:meth:`db.store.SampleStore.fold_rollups`): a point's current bucket is refolded at
least every ``ceil(points / fold_step_buckets) * fold_interval_s`` (5 s up to 600
points, 10 s for the 803-point demo plant, about 7 minutes for 50,000 points);
finished buckets are folded as soon as the writer is idle.

While the database is down or locked, samples wait in memory up to ``memory_limit``
and beyond it are spilled, oldest first, to a disk spool that is drained in order
when the database returns — also by the next process, after a restart. A lock file
in the spool directory keeps a second historian (in any process) off it.

Queue order is always: disk spool (oldest) → the writer's in-flight batch → memory.

Journal events (:meth:`Historian.submit_events`, alarm transitions and operator actions)
take the same path in a queue of their own, ahead of samples: the writer inserts them
as soon as they arrive (within about 0.1 s), and when an insert fails it moves every
queued event to its own disk spool (``<spool_dir>/events``) at once, so an event
survives an outage and a crash during it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import platformdirs
from filelock import FileLock, Timeout
from sqlalchemy.engine import make_url

from app.points import PointValue, Quality
from db.engine import backend, default_url
from db.event_rows import EventQuery, EventRow, clean_event
from db.point_meta import PointMeta
from db.rollup_sql import FINEST_MS, SOURCE_INTERVALS
from db.sample_queue import SampleQueue
from db.schema import INTERVALS
from db.spool import EVENTS, SAMPLES, Sample, Spool
from db.store import FOLD_STEP_BUCKETS, SampleStore

log = logging.getLogger(__name__)

_DAY_MS = 86_400_000
_T = TypeVar("_T")
#: Name of the lock file a running historian holds in its spool directory.
LOCK_NAME = ".lock"

#: Hook called after each committed batch with the batch's values.
CommitHook = Callable[[Sequence[PointValue]], None]
#: Hook called after each committed batch of journal events with the batch's rows.
EventsCommitHook = Callable[[Sequence[EventRow]], None]
#: Name of the event spool's directory inside the spool directory.
EVENT_SPOOL_NAME = "events"
#: Quality (or the plain int 0..2) → the int stored; a dict lookup both checks and converts.
_QUALITY_INT: dict[int, int] = {int(q): int(q) for q in Quality}
_FLOAT = {float}
_FLOAT_OR_NONE = {float, type(None)}


class JournalEvent(Protocol):
    """What :meth:`Historian.submit_event` takes (e.g. :class:`app.alarms.AlarmEvent`)."""

    def to_row(self) -> Mapping[str, Any]:
        """The event as an ``events`` row (see :func:`db.event_rows.clean_event`)."""
        ...


def _clean(pv: PointValue, valid_tags: set[str]) -> Sample:
    """Validate one submitted value and turn it into a queue :data:`Sample`.

    Non-finite values are stored as "no value" (NULL). ``valid_tags`` caches tags
    already checked and gains ``pv.tag``.

    Raises
    ------
    ValueError, TypeError, AttributeError
        Tag not ``"<device>.<name>"`` within the schema's lengths, time not finite,
        value not a number, quality not 0..2.
    """
    if pv.tag not in valid_tags:
        PointMeta.from_tag(pv.tag)
        valid_tags.add(pv.tag)
    ts = float(pv.ts)
    if not math.isfinite(ts):
        raise ValueError(f"time {pv.ts!r} is not finite")
    value = pv.value
    if value is not None:
        value = float(value)
        if not math.isfinite(value):
            value = None
    quality = int(pv.quality)
    if not 0 <= quality <= 2:
        raise ValueError(f"quality {quality} is not 0..2")
    return pv.tag, ts, value, quality


class HistorianError(Exception):
    """A read could not be served (database unreachable, query failed); ``str`` says why."""


@dataclass(frozen=True, slots=True)
class HistorianStats:
    """Snapshot of the historian's state (see :meth:`Historian.stats`).

    Attributes
    ----------
    committed : int
        Samples whose write committed since start (replayed duplicates included).
    stored : int
        Of those, samples that were new to the database.
    queued_memory : int
        Samples waiting in memory (including the batch being written).
    spooled : int
        Samples waiting in the disk spool.
    rejected : int
        Samples dropped as unstorable (tag not ``device.name``, value not a number).
    db_ok : bool
        The last database operation succeeded.
    last_error : str
        The last database or input error, ``""`` if none.
    last_commit_ts : float | None
        Epoch seconds of the last commit.
    rollups_behind : int
        Dirty 15-minute buckets (point × bucket) not yet folded into the rollups, as of
        the last fold step.
    events_committed : int
        Journal events inserted since start.
    events_queued : int
        Journal events waiting in memory (including the batch being written).
    events_spooled : int
        Journal events waiting in the disk spool.
    events_rejected : int
        Journal events dropped as unstorable (see :func:`db.event_rows.clean_event`).
    """

    committed: int
    stored: int
    queued_memory: int
    spooled: int
    rejected: int
    db_ok: bool
    last_error: str
    last_commit_ts: float | None
    rollups_behind: int = 0
    events_committed: int = 0
    events_queued: int = 0
    events_spooled: int = 0
    events_rejected: int = 0


def default_spool_dir(url: str) -> Path:
    """Spool directory for ``url`` under ``platformdirs.user_cache_dir("wattdesk")``.

    One directory per database URL, so two databases never share a queue.
    """
    key = hashlib.sha256(make_url(url).render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return Path(platformdirs.user_cache_dir("wattdesk")) / "spool" / key


def open_store(url: str) -> SampleStore:
    """Open the backend store for ``url`` (:class:`SqliteStore` or :class:`PostgresStore`)."""
    if backend(url) == "sqlite":
        from db.sqlite_store import SqliteStore

        return SqliteStore(url)
    from db.postgres_store import PostgresStore

    return PostgresStore(url)


class Historian:
    """Batched, store-and-forward sample writer and reader for one database.

    Parameters
    ----------
    url : str | None
        Database URL of a migrated database (see :func:`db.migrate.upgrade`); default
        :func:`db.engine.default_url`.
    memory_limit : int
        Samples held in memory while the database is unavailable before they are
        spilled to disk. The writer checks it at least every 0.1 s, so it is exceeded
        at most by what arrives during one database call (bounded by the connect and
        busy timeouts).
    spool_dir : Path | None
        Disk queue directory; default :func:`default_spool_dir`.
    batch_size : int
        Samples per transaction (and per spool segment).
    flush_interval_s : float
        Longest time a sample waits in memory before a (smaller) batch is written.
    retry_interval_s : float
        Wait between attempts while the database is unavailable.
    retention_days : float | None
        Raw samples older than this are deleted; ``None`` keeps them forever.
    rollup_retention_days : dict[str, float] | None
        Interval name ('15min', '1h', '1d') → days its buckets are kept; intervals
        not named are kept forever.
    prune_interval_s : float
        How often the writer applies retention.
    fold_interval_s : float
        Longest time between fold steps while data comes in (the rollups' lag).
    fold_step_buckets : int
        Dirty 15-minute buckets recomputed per fold step (one transaction); bounds
        how long one step holds up the next batch.
    on_commit : CommitHook | None
        Initial value of :attr:`on_commit`.
    on_events_commit : EventsCommitHook | None
        Initial value of :attr:`on_events_commit`.

    Attributes
    ----------
    on_commit : CommitHook | None
        Called in the writer thread right after a batch committed, with that batch's
        values: the submitted :class:`~app.points.PointValue` objects (rebuilt from
        the spool, with an empty reason, for spooled batches). It must be quick; an
        exception it raises is logged and otherwise ignored. May be set at any time.
    on_events_commit : EventsCommitHook | None
        The same for journal events: called with each committed batch's rows.

    Raises
    ------
    ValueError
        Unsupported URL or a non-positive size/interval.
    """

    def __init__(self, url: str | None = None, *, memory_limit: int = 200_000,
                 spool_dir: Path | None = None, batch_size: int = 5_000,
                 flush_interval_s: float = 1.0, retry_interval_s: float = 1.0,
                 retention_days: float | None = None,
                 rollup_retention_days: dict[str, float] | None = None,
                 prune_interval_s: float = 3600.0, fold_interval_s: float = 5.0,
                 fold_step_buckets: int = FOLD_STEP_BUCKETS, on_commit: CommitHook | None = None,
                 on_events_commit: EventsCommitHook | None = None) -> None:
        self.url = str(url or default_url())
        backend(self.url)
        for name, v in (("memory_limit", memory_limit), ("batch_size", batch_size),
                        ("flush_interval_s", flush_interval_s), ("retry_interval_s", retry_interval_s),
                        ("prune_interval_s", prune_interval_s), ("fold_interval_s", fold_interval_s),
                        ("fold_step_buckets", fold_step_buckets)):
            if not v > 0:
                raise ValueError(f"Historian: {name} must be > 0, got {v!r}")
        unknown = set(rollup_retention_days or {}) - set(INTERVALS)
        if unknown:
            raise ValueError(f"Historian: rollup_retention_days names unknown intervals {sorted(unknown)}; "
                             f"known: {list(INTERVALS)}")
        self.memory_limit = memory_limit
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.retry_interval_s = retry_interval_s
        self.retention_days = retention_days
        self.rollup_retention_days = dict(rollup_retention_days or {})
        self.prune_interval_s = prune_interval_s
        self.fold_interval_s = fold_interval_s
        self.fold_step_buckets = int(fold_step_buckets)
        self.on_commit: CommitHook | None = on_commit
        self.on_events_commit: EventsCommitHook | None = on_events_commit
        self.spool_dir = Path(spool_dir) if spool_dir is not None else default_spool_dir(self.url)

        self._queue = SampleQueue()
        self._inflight: list[Sample] = []
        self._inflight_values: list[PointValue] = []
        self._spool: Spool[Sample] | None = None
        self._events: deque[Mapping[str, Any]] = deque()
        self._events_inflight: list[EventRow] = []
        self._event_spool: Spool[EventRow] | None = None
        self._events_committed = 0
        self._events_rejected = 0
        self._metas: dict[str, PointMeta] = {}
        self._metas_lock = threading.Lock()
        self._metas_dirty = False
        self._ids: dict[str, int] = {}
        self._valid_tags: set[str] = set()
        self._store: SampleStore | None = None
        self._reader: SampleStore | None = None
        self._reader_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._deadline = math.inf
        self._thread: threading.Thread | None = None
        self._lock: FileLock | None = None
        self._last_prune = 0.0
        self._fold_pending = True  # an earlier process may have left dirty buckets
        self._fold_more = True
        self._last_fold = -math.inf
        self._rollups_behind = 0
        self._committed = 0
        self._stored = 0
        self._rejected = 0
        self._db_ok = False
        self._last_error = ""
        self._last_commit_ts: float | None = None

    # -- producer side -----------------------------------------------------------------
    def register_points(self, metas: Iterable[PointMeta]) -> None:
        """Declare points' metadata; the writer upserts it into ``points`` (no I/O here)."""
        with self._metas_lock:
            for m in metas:
                self._metas[m.tag] = m
            self._metas_dirty = True
        self._wake.set()

    def submit(self, values: Sequence[PointValue]) -> None:
        """Queue samples for writing. Never blocks and does no I/O; O(len(values)).

        Safe to call from any thread, also before :meth:`start` and after :meth:`stop`
        (samples then wait for the next start; :meth:`stop` spools them).
        """
        self._queue.extend(values)
        if len(self._queue) >= self.batch_size:
            self._wake.set()

    def submit_events(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Queue journal events for the ``events`` table. Never blocks and does no I/O.

        Safe from any thread, also before :meth:`start` and after :meth:`stop`. The
        writer inserts them within about 0.1 s, ahead of waiting samples; a row that
        cannot be stored is dropped, counted in :attr:`HistorianStats.events_rejected`
        and logged.

        Parameters
        ----------
        rows : iterable of mapping
            Shaped as :meth:`app.alarms.AlarmEvent.to_row` gives them (``ts`` int ms UTC,
            ``kind``, ``source``, ``area``, ``priority``, ``message``, ``user``,
            ``workstation``, ``data`` dict or None).
        """
        self._events.extend(rows)
        self._wake.set()

    def submit_event(self, event: JournalEvent) -> None:
        """Queue one journal event (anything with ``to_row()``, e.g. :class:`app.alarms.AlarmEvent`).

        A :data:`app.alarms.JournalSink`: never blocks, does no I/O.
        """
        self.submit_events((event.to_row(),))

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Open the spool (replaying what an earlier process left) and start the writer thread.

        Raises
        ------
        RuntimeError
            If already running.
        HistorianError
            If another historian (this or another process) holds the spool directory.
        OSError
            If the spool directory cannot be created.
        """
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("Historian already started")
        self._acquire_spool_lock()
        try:
            if self._spool is None:
                self._spool = Spool(self.spool_dir, SAMPLES)
            if self._event_spool is None:
                self._event_spool = Spool(self.spool_dir / EVENT_SPOOL_NAME, EVENTS)
        except BaseException:
            self._release_spool_lock()
            raise
        self._stopping.clear()
        self._deadline = math.inf
        self._thread = threading.Thread(target=self._run, name="historian-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Write what can be written within ``timeout_s``, spool the rest, stop the writer.

        Within the same time the writer also folds the remaining dirty buckets into the
        rollups (what is left stays marked in the database and is folded by the next
        start). Releases the spool directory's lock.

        Parameters
        ----------
        timeout_s : float
            Seconds to keep draining; after that (or at the first database failure)
            everything still queued goes to the disk spool.
        """
        thread = self._thread
        if thread is None:
            return
        self._deadline = time.monotonic() + timeout_s
        self._stopping.set()
        self._wake.set()
        thread.join(timeout_s + 10.0)
        if thread.is_alive():
            log.error("historian writer did not stop within %.1f s; samples still queued stay in memory",
                      timeout_s + 10.0)
            return
        self._thread = None
        self._spill_all()
        self._spill_events()
        self._release_spool_lock()
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    def stats(self) -> HistorianStats:
        """Return a snapshot of counters and state (cheap; any thread)."""
        spool = self._spool
        event_spool = self._event_spool
        return HistorianStats(
            committed=self._committed, stored=self._stored,
            queued_memory=len(self._queue) + len(self._inflight),
            spooled=spool.rows if spool is not None else 0, rejected=self._rejected,
            db_ok=self._db_ok, last_error=self._last_error, last_commit_ts=self._last_commit_ts,
            rollups_behind=self._rollups_behind, events_committed=self._events_committed,
            events_queued=len(self._events) + len(self._events_inflight),
            events_spooled=event_spool.rows if event_spool is not None else 0,
            events_rejected=self._events_rejected)

    def _acquire_spool_lock(self) -> None:
        if self._lock is not None:
            return
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.spool_dir / LOCK_NAME, thread_local=False)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise HistorianError(
                f"spool directory {self.spool_dir} is in use by another historian (lock file "
                f"{lock.lock_file} is held); two historians must not share a spool — give each its "
                "own spool_dir or stop the other process") from None
        self._lock = lock

    def _release_spool_lock(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # -- writer thread ------------------------------------------------------------------
    def _run(self) -> None:
        last_write = time.monotonic()
        while True:
            self._spill_if_over()
            stopping = self._stopping.is_set()
            if stopping and (time.monotonic() >= self._deadline or not self._has_work()):
                break
            wrote_events = self._write_events_step()
            if wrote_events is False:
                if stopping:
                    break
                self._pause(self.retry_interval_s)
                continue
            if wrote_events:
                continue
            if self._fold_pending and time.monotonic() - self._last_fold >= self.fold_interval_s:
                if not self._fold_step(finished_only=False):  # due even under a steady stream of batches
                    self._pause(self.retry_interval_s)
                continue
            source = self._next_batch(force=stopping or time.monotonic() - last_write >= self.flush_interval_s)
            if source is None:
                if self._fold_pending and self._fold_more:  # finished dirty buckets: fold while idle
                    if not self._fold_step(finished_only=True):
                        self._pause(self.retry_interval_s)
                    continue
                self._maybe_prune()
                # a partial batch waits until it is due; with nothing queued, sleep (never spin)
                due = self.flush_interval_s - (time.monotonic() - last_write) if self._queue else 0.1
                self._wake.wait(min(0.1, max(0.0, due)))
                self._wake.clear()
                continue
            seq, batch = source
            if self._write(batch):
                last_write = time.monotonic()
                values = self._inflight_values if seq is None else None
                if seq is None:
                    self._inflight = []
                    self._inflight_values = []
                else:
                    assert self._spool is not None
                    self._spool.pop(seq)
                self._notify(batch, values)
            elif stopping:
                break
            else:
                self._pause(self.retry_interval_s)
        while self._fold_pending and self._db_ok and time.monotonic() < self._deadline:
            if not self._fold_step(finished_only=False):  # stopping: fold what was written, in stop's time
                break
        self._close_store()

    def _fold_step(self, finished_only: bool) -> bool:
        """Fold one bounded step of dirty buckets into the rollups; False on a database failure.

        ``finished_only``: only buckets before the current 15 minutes (the idle steps).
        """
        now = time.time()
        before = int(now * 1000) // FINEST_MS * FINEST_MS if finished_only else None
        if not finished_only:
            self._last_fold = time.monotonic()
        try:
            left = self._connect().fold_rollups(self.fold_step_buckets, self._fold_floor_ms(now), before)
        except Exception as err:  # the buckets stay dirty; folded at the next step
            self._note_failure(err)
            return False
        if finished_only:
            self._fold_more = left > 0
        else:
            self._rollups_behind = left
            self._fold_pending = self._fold_more = left > 0
        return True

    def _fold_floor_ms(self, now_s: float) -> int | None:
        """Newest retention cut-off of the rollups' sources (raw samples and finer intervals)."""
        samples_cut, rollup_cuts = self._cutoffs(now_s)
        cuts = [c for c in (samples_cut, *(rollup_cuts.get(k) for k in SOURCE_INTERVALS)) if c is not None]
        return max(cuts) if cuts else None

    def _notify(self, batch: list[Sample], values: list[PointValue] | None) -> None:
        """Call :attr:`on_commit` with the committed batch; its failures are logged only."""
        hook = self.on_commit
        if hook is None:
            return
        if values is None:
            values = [PointValue(tag, value, Quality(q), ts) for tag, ts, value, q in batch]
        try:
            hook(values)
        except Exception:  # a broken observer must never stop the writer
            log.exception("historian: on_commit hook %r failed", hook)

    def _has_work(self) -> bool:
        return bool(self._queue or self._inflight or (self._spool is not None and len(self._spool))
                    or self._events or self._events_inflight
                    or (self._event_spool is not None and len(self._event_spool)))

    def _write_events_step(self) -> bool | None:
        """Insert the oldest batch of journal events.

        Returns
        -------
        bool or None
            None: no event waiting; True: a batch committed; False: the database failed
            (every queued event is then in the disk spool).
        """
        spool = self._event_spool
        assert spool is not None
        seq: int | None = None
        if len(spool):
            head = spool.peek()
            if head is None:
                return None
            seq, batch = head
        else:
            if not self._events_inflight:
                self._events_inflight = self._take_events(self.batch_size)
            if not self._events_inflight:
                return None
            batch = self._events_inflight
        try:
            self._connect().write_events(batch)
        except Exception as err:  # keep them, on disk: an event must survive the outage and a crash in it
            self._note_failure(err)
            self._spill_events()
            return False
        if seq is None:
            self._events_inflight = []
        else:
            spool.pop(seq)
        self._events_committed += len(batch)
        self._last_commit_ts = time.time()
        self._db_ok = True
        hook = self.on_events_commit
        if hook is not None:
            try:
                hook(batch)
            except Exception:  # a broken observer must never stop the writer
                log.exception("historian: on_events_commit hook %r failed", hook)
        return True

    def _take_events(self, n: int) -> list[EventRow]:
        """Pop up to ``n`` events from memory, validated (bad ones counted, logged, dropped)."""
        out: list[EventRow] = []
        q = self._events
        for _ in range(min(n, len(q))):
            row = q.popleft()
            try:
                out.append(clean_event(row))
            except ValueError as err:
                self._events_rejected += 1
                self._last_error = f"event {row!r} rejected: {err}"
                log.error("historian: %s", self._last_error)
        return out

    def _spill_events(self) -> None:
        """Move the in-flight events and all queued events, in order, to the event spool."""
        if self._event_spool is None:
            self._event_spool = Spool(self.spool_dir / EVENT_SPOOL_NAME, EVENTS)
        try:
            if self._events_inflight:
                self._event_spool.append(self._events_inflight)
                self._events_inflight = []
            while self._events:
                self._event_spool.append(self._take_events(self.batch_size))
        except OSError as err:
            self._last_error = f"event spool {self._event_spool.directory}: {err}"
            log.error("historian: cannot spool events to disk (%s); they stay in memory", err)

    def _next_batch(self, force: bool) -> tuple[int | None, list[Sample]] | None:
        """The oldest batch: a spool segment, else the in-flight batch, else a new one from memory."""
        assert self._spool is not None
        if len(self._spool):
            return self._spool.peek()
        if self._inflight:
            return None, self._inflight
        if not self._queue or (len(self._queue) < self.batch_size and not force):
            return None
        self._inflight, self._inflight_values = self._take(self.batch_size)
        return (None, self._inflight) if self._inflight else None

    def _take(self, n: int) -> tuple[list[Sample], list[PointValue]]:
        """Pop up to ``n`` values from memory, validated (bad ones counted as rejected).

        A batch of common values (known tags, finite float times, finite float values or
        None, qualities 0..2) is checked and converted column by column in C-level
        passes; a batch holding anything else is checked value by value, through
        :func:`_clean`.

        Returns
        -------
        tuple of list
            The samples and, index for index, the values they were made from.
        """
        popped = self._queue.take(n)
        if not popped:
            return [], []
        try:
            tags, values, qualities, stamps, _ = zip(*popped, strict=True)
            # sum() is finite only if every term is (None and 0.0 are left out of the values')
            if (self._valid_tags.issuperset(tags) and set(map(type, stamps)) == _FLOAT
                    and set(map(type, values)) <= _FLOAT_OR_NONE
                    and math.isfinite(sum(stamps)) and math.isfinite(sum(filter(None, values)))):
                return list(zip(tags, stamps, values, map(_QUALITY_INT.__getitem__, qualities))), popped
        except (TypeError, ValueError, KeyError, OverflowError):
            pass
        return self._take_one_by_one(popped)

    def _take_one_by_one(self, popped: list[PointValue]) -> tuple[list[Sample], list[PointValue]]:
        """:meth:`_take` for a batch that failed the column checks."""
        valid = self._valid_tags
        out: list[Sample] = []
        kept: list[PointValue] = []
        for pv in popped:
            try:
                tag, value, quality, ts, _ = pv
                # x - x == 0.0 is False for NaN and infinities; quality is checked by the lookup
                if (tag in valid and type(ts) is float and ts - ts == 0.0
                        and (value is None or (type(value) is float and value - value == 0.0))):
                    out.append((tag, ts, value, _QUALITY_INT[quality]))
                    kept.append(pv)
                    continue
            except (TypeError, ValueError, KeyError):
                pass
            try:
                sample = _clean(pv, valid)
            except (TypeError, ValueError, AttributeError) as err:
                self._rejected += 1
                self._last_error = f"sample {pv!r} rejected: {err}"
                continue
            out.append(sample)
            kept.append(pv)
        return out, kept

    def _write(self, batch: list[Sample]) -> bool:
        """Write one batch; on failure record the error, drop the connection, return False."""
        try:
            store = self._connect()
            rows = self._rows(store, batch)
            stored = store.write(rows)
        except Exception as err:  # any driver failure means: keep the batch queued, retry later
            self._note_failure(err)
            return False
        self._committed += len(batch)
        self._stored += stored
        self._last_commit_ts = time.time()
        self._db_ok = True
        self._fold_pending = True
        return True

    def _connect(self) -> SampleStore:
        if self._store is None:
            self._store = open_store(self.url)
            self._ids = {}
            with self._metas_lock:
                self._metas_dirty = True
        if self._metas_dirty:
            with self._metas_lock:
                metas = list(self._metas.values())
                self._metas_dirty = False
            try:
                self._ids = self._store.ensure_points(metas)
            except BaseException:
                self._metas_dirty = True
                raise
        return self._store

    def _rows(self, store: SampleStore, batch: list[Sample]) -> list[tuple[int, int, float | None, int]]:
        """Map tags to point ids (creating unregistered points) and times to ms."""
        ids = self._ids
        try:
            return [(ids[tag], round(ts * 1000.0), value, q) for tag, ts, value, q in batch]
        except KeyError:
            pass
        unknown = {tag for tag, _, _, _ in batch if tag not in ids}
        with self._metas_lock:
            metas = [self._metas.get(tag) or PointMeta.from_tag(tag) for tag in unknown]
        self._ids = ids = store.ensure_points(metas)
        return [(ids[tag], round(ts * 1000.0), value, q) for tag, ts, value, q in batch]

    def _note_failure(self, err: Exception) -> None:
        text = f"{type(err).__name__}: {err}".strip()
        if self._db_ok or text != self._last_error:  # log changes, not every retry
            log.warning("historian: database unavailable (%s); samples stay queued", text)
        self._db_ok = False
        self._last_error = text
        self._close_store()

    def _close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def _pause(self, seconds: float) -> None:
        """Wait ``seconds`` (cut short by stop), spilling memory to disk as needed."""
        end = time.monotonic() + seconds
        while not self._stopping.is_set() and (left := end - time.monotonic()) > 0:
            self._spill_if_over()
            self._stopping.wait(min(0.1, left))

    def _spill_if_over(self) -> None:
        if len(self._queue) + len(self._inflight) > self.memory_limit:
            self._spill_all()

    def _spill_all(self) -> None:
        """Move the in-flight batch and all of memory, in order, to the spool's tail."""
        if self._spool is None:
            self._spool = Spool(self.spool_dir, SAMPLES)
        try:
            if self._inflight:
                self._spool.append(self._inflight)
                self._inflight = []
                self._inflight_values = []
            while self._queue:
                self._spool.append(self._take(self.batch_size)[0])
        except OSError as err:
            self._last_error = f"spool {self.spool_dir}: {err}"
            log.error("historian: cannot spool to disk (%s); samples stay in memory", err)

    def _maybe_prune(self) -> None:
        if self._store is None or not self._db_ok:
            return
        now = time.time()
        if now - self._last_prune < self.prune_interval_s:
            return
        self._last_prune = now
        if self.retention_days is None and not self.rollup_retention_days:
            return
        try:
            self._store.prune(*self._cutoffs(now))
        except Exception as err:  # retention is retried at the next interval
            self._note_failure(err)

    def _cutoffs(self, now_s: float) -> tuple[int | None, dict[str, int]]:
        now_ms = round(now_s * 1000)
        samples = None if self.retention_days is None else now_ms - round(self.retention_days * _DAY_MS)
        rollups = {k: now_ms - round(d * _DAY_MS) for k, d in self.rollup_retention_days.items()}
        return samples, rollups

    # -- maintenance and reads (any thread) ---------------------------------------------
    def prune(self, now_s: float | None = None) -> int:
        """Apply retention now (the writer also does so every ``prune_interval_s``).

        Parameters
        ----------
        now_s : float | None
            Reference time, epoch s UTC; default now.

        Returns
        -------
        int
            Rows deleted.

        Raises
        ------
        HistorianError
            If the database cannot be reached.
        """
        return self._read(lambda s: s.prune(*self._cutoffs(time.time() if now_s is None else now_s)))

    def read_range(self, tag: str, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Samples of ``tag`` with ``t0 <= ts < t1``, ascending.

        Parameters
        ----------
        tag : str
        t0, t1 : float
            Epoch seconds UTC.

        Returns
        -------
        ts : ndarray, float64, shape (n,)
            Epoch seconds UTC (millisecond resolution).
        value : ndarray, float64, shape (n,)
            NaN where the sample had no value.
        quality : ndarray, int8, shape (n,)
            :class:`app.points.Quality` values.

        Raises
        ------
        HistorianError
            If the database cannot be reached.
        """
        return self._read(lambda s: s.read_range(tag, round(t0 * 1000), round(t1 * 1000)))

    def read_rollup(self, tag: str, interval: str, t0: float, t1: float) -> np.ndarray:
        """Rollup buckets of ``tag`` starting in ``[t0, t1)``, ascending.

        Parameters
        ----------
        tag : str
        interval : str
            '15min', '1h' or '1d' (days are UTC days).
        t0, t1 : float
            Epoch seconds UTC.

        Returns
        -------
        ndarray, shape (n,), dtype :data:`db.store.ROLLUP_DTYPE`
            ``bucket`` (float64 epoch s, bucket start), ``avg``, ``min``, ``max`` (float64,
            point's unit, over GOOD samples), ``count`` (int64), ``consumption`` (float64,
            accumulators' delta in their unit, NaN for other points), ``quality`` (int8,
            worst quality of any sample in the bucket). Folded up to the writer's last
            fold step (see ``fold_interval_s``); buckets without GOOD samples are absent.

        Raises
        ------
        ValueError
            Unknown interval.
        HistorianError
            If the database cannot be reached.
        """
        if interval not in INTERVALS:
            raise ValueError(f"unknown rollup interval {interval!r}; known: {list(INTERVALS)}")
        return self._read(lambda s: s.read_rollup(tag, interval, round(t0 * 1000), round(t1 * 1000)))

    def read_buckets(self, tag: str, t0: float, t1: float, n: int) -> np.ndarray:
        """min/max of ``tag``'s values in ``n`` equal time buckets of ``[t0, t1)`` (computed in SQL).

        For trends: one bucket per pixel keeps spikes that plain decimation loses.
        Buckets at least as wide as a rollup interval (15 min, 1 h, 1 d) are answered
        from the coarsest such rollup — GOOD samples only, each rollup bucket counted
        in the trend bucket holding its start, up to the last fold step; so a month
        of 1 s data costs a few thousand rollup rows, not millions of samples.
        Narrower buckets are computed from the raw samples (every sample with a value).

        Returns
        -------
        ndarray, shape (<= n,), dtype :data:`db.store.BUCKET_DTYPE`
            Non-empty buckets only: ``t`` (float64 epoch s, bucket start), ``min``,
            ``max`` (float64), ``count`` (int64), ``quality`` (int8, worst in bucket).

        Raises
        ------
        ValueError
            ``n < 1`` or ``t1 <= t0``.
        HistorianError
            If the database cannot be reached.
        """
        t0_ms, t1_ms = round(t0 * 1000), round(t1 * 1000)
        if n < 1 or t1_ms <= t0_ms:
            raise ValueError(f"read_buckets: need n >= 1 and t1 > t0, got n={n}, t0={t0}, t1={t1}")
        return self._read(lambda s: s.read_buckets(tag, t0_ms, t1_ms, n))

    def read_events(self, t0: float, t1: float, *, areas: Collection[str] | None = None,
                    priorities: Collection[int] | None = None, kinds: Collection[str] | None = None,
                    text: str | None = None, limit: int = 10_000) -> list[dict[str, Any]]:
        """Journal events with ``t0 <= ts < t1``, newest first (committed ones only).

        Parameters
        ----------
        t0, t1 : float
            Epoch seconds UTC.
        areas : collection of str, optional
            Area ids; None: every area.
        priorities : collection of int, optional
            0..4 (0: flood and system events); None: all.
        kinds : collection of str, optional
            ``events.kind`` values (:class:`app.alarms.EventKind` values); None: all.
        text : str, optional
            Case-insensitive substring of ``source``, ``message`` or ``data.alarm_id``.
        limit : int
            Most rows returned.

        Returns
        -------
        list of dict
            ``ts`` (int, ms UTC), ``kind``, ``source``, ``area``, ``priority``, ``message``,
            ``user``, ``workstation``, ``data`` (dict or None), as
            :meth:`app.alarms.AlarmEvent.to_row` shapes them.

        Raises
        ------
        ValueError
            ``limit < 1`` or a non-finite time.
        HistorianError
            If the database cannot be reached.
        """
        query = EventQuery.build(t0, t1, areas=areas, priorities=priorities, kinds=kinds, text=text,
                                 limit=limit)
        return self._read(lambda s: s.read_events(query))

    def _read(self, fn: Callable[[SampleStore], _T]) -> _T:
        with self._reader_lock:
            try:
                if self._reader is None:
                    self._reader = open_store(self.url)
                return fn(self._reader)
            except Exception as err:  # any driver failure becomes one error type for callers
                if self._reader is not None:
                    self._reader.close()
                    self._reader = None
                raise HistorianError(f"historian {make_url(self.url).render_as_string()}: "
                                     f"{type(err).__name__}: {err}") from err
