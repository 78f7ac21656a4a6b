"""What both database backends share: batch writes, folding rollups, pruning, point ids, reads.

A :class:`SampleStore` owns one raw driver connection (``sqlite3`` or psycopg 3) and is
used by one thread at a time. :mod:`db.sqlite_store` and :mod:`db.postgres_store`
supply the dialect: how a batch is inserted and its buckets marked dirty, parameter
style, and the range reads. Rollups are folded in separately
(:meth:`SampleStore.fold_rollups`, SQL in :mod:`db.rollup_sql`).
"""

from __future__ import annotations

import abc
import operator
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from db.event_rows import COLUMNS as EVENT_COLUMNS
from db.event_rows import READ_COLUMNS as EVENT_READ_COLUMNS
from db.event_rows import EventQuery, EventRow, row_dict
from db.point_meta import PointMeta
from db.rollup_sql import fold_sql
from db.schema import INTERVALS

#: One sample as written: (point_id, ts ms UTC, value or None, quality 0..2).
Row = tuple[int, int, float | None, int]
_POINT_ID = operator.itemgetter(0)

#: Fields of :meth:`SampleStore.read_rollup`'s structured array.
ROLLUP_DTYPE = np.dtype([("bucket", "f8"), ("avg", "f8"), ("min", "f8"), ("max", "f8"),
                         ("count", "i8"), ("consumption", "f8"), ("quality", "i1")])
#: Fields of :meth:`SampleStore.read_buckets`'s structured array.
BUCKET_DTYPE = np.dtype([("t", "f8"), ("min", "f8"), ("max", "f8"), ("count", "i8"),
                         ("quality", "i1")])
#: Floor for :meth:`SampleStore.fold_rollups` when nothing was pruned (ms, before any sample).
NO_FLOOR_MS = -(2**62)
#: A point id below every real one (``points.id`` starts at 1).
NO_POINT = -1
#: Bound for :meth:`SampleStore.fold_rollups` that takes every dirty bucket (ms, after any sample).
NO_CEILING_MS = 2**62
#: Dirty 15-minute buckets folded per step by default: bounds one step's work (for 1 s
#: data ~900 samples per bucket re-read) so the writer is never held up for long.
FOLD_STEP_BUCKETS = 600


class SampleStore(abc.ABC):
    """Batch writes (idempotent), rollup folding, retention and reads.

    Subclasses set the dialect attributes and implement the abstract methods.
    """

    #: placeholder for one bound parameter
    P: str
    #: two-argument min/max functions
    LEAST: str
    GREATEST: str
    #: the modulo operator in a query with bound parameters
    MOD: str
    #: ``data``'s ``alarm_id`` as text
    ALARM_ID: str
    #: substring test, ``{0}`` the haystack and ``{1}`` the needle
    CONTAINS: str

    conn: Any

    def __init__(self) -> None:
        (self._fold_drop, self._fold_take, self._fold_untake, self._fold_next, self._fold_finest,
         self._fold_coarser, self._fold_remaining) = fold_sql(self.P, self.MOD)
        self._fold_after = NO_POINT  # the last point a fold step took: the next one goes on after it

    # -- dialect hooks -------------------------------------------------------------
    @abc.abstractmethod
    def _begin(self, cur: Any) -> None:
        """Begin a write transaction."""

    @abc.abstractmethod
    def _insert(self, cur: Any, rows: Sequence[Row]) -> int:
        """Insert ``rows`` (sorted by point and time) skipping stored (point_id, ts), mark their
        15-minute buckets in ``rollup_dirty``; return the number of rows newly stored."""

    @abc.abstractmethod
    def _upsert_points_sql(self) -> str:
        """INSERT of one points row (10 named params) updating the fields of an existing tag."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close the connection; never raises."""

    # -- points ----------------------------------------------------------------------
    def ensure_points(self, metas: Iterable[PointMeta]) -> dict[str, int]:
        """Insert or update ``metas`` in ``points`` and return every tag's id.

        Returns
        -------
        dict[str, int]
            tag → points.id for all points in the database.
        """
        sql = self._upsert_points_sql()
        with _cursor(self.conn) as cur:
            self._begin(cur)
            try:
                cur.executemany(sql, [m.row() for m in metas])
                cur.execute("SELECT tag, id FROM points")
                ids = {tag: pid for tag, pid in cur.fetchall()}
                cur.execute("COMMIT")
            except BaseException:
                self._rollback(cur)
                raise
        return ids

    # -- writes ----------------------------------------------------------------------
    def write(self, rows: Sequence[Row]) -> int:
        """Store ``rows`` in one transaction and mark their 15-minute buckets for folding.

        Idempotent: rows whose (point_id, ts) is already stored are skipped. Rollups
        are not touched here; :meth:`fold_rollups` recomputes the marked buckets.

        Parameters
        ----------
        rows : Sequence[Row]
            (point_id, ts ms UTC, value or None, quality); any order.

        Returns
        -------
        int
            Number of rows newly stored.

        Raises
        ------
        Exception
            The driver's error (``sqlite3.OperationalError`` "database is locked",
            ``psycopg.OperationalError`` ...); the transaction is rolled back.
        """
        # Grouped by point, the key's first column: far fewer B-tree pages touched. The sort is
        # stable, so each point's rows keep their arrival (time) order; comparing ints only is
        # half the cost of comparing whole rows.
        ordered = sorted(rows, key=_POINT_ID)
        with _cursor(self.conn) as cur:
            self._begin(cur)
            try:
                new = self._insert(cur, ordered)
                cur.execute("COMMIT")
            except BaseException:
                self._rollback(cur)
                raise
        return new

    def fold_rollups(self, limit: int | None = FOLD_STEP_BUCKETS, floor_ms: int | None = None,
                     before_ms: int | None = None) -> int:
        """Recompute up to ``limit`` dirty 15-minute buckets and their coarser buckets.

        One transaction per step of ``limit`` buckets (all dirty buckets, step by step,
        when ``limit`` is ``None``). Steps take the points in turn, each going on after
        the last point the previous step of this store took.

        Parameters
        ----------
        limit : int | None
            Dirty buckets per step; ``None`` folds until none is left.
        floor_ms : int | None
            Oldest time (ms UTC) whose sources are still kept (see :mod:`db.rollup_sql`);
            ``None`` when nothing was pruned.
        before_ms : int | None
            Fold only dirty buckets starting before this time (ms UTC), e.g. only the
            finished ones; ``None``: any.

        Returns
        -------
        int
            Dirty buckets left (of those starting before ``before_ms``).

        Raises
        ------
        Exception
            The driver's error; the step is rolled back and its buckets stay dirty.
        """
        floor = NO_FLOOR_MS if floor_ms is None else int(floor_ms)
        before = NO_CEILING_MS if before_ms is None else int(before_ms)
        step = FOLD_STEP_BUCKETS if limit is None else int(limit)
        if step < 1:
            raise ValueError(f"fold_rollups: limit must be >= 1, got {limit!r}")
        while True:
            with _cursor(self.conn) as cur:
                self._begin(cur)
                try:
                    cur.execute("DELETE FROM fold")
                    if floor_ms is not None:
                        cur.execute(self._fold_drop, (floor,))
                    self._take_round_robin(cur, before, step)
                    cur.execute(self._fold_untake)
                    cur.execute(self._fold_next)
                    cur.execute(self._fold_finest)
                    for sql in self._fold_coarser:
                        cur.execute(sql, (floor,))
                    cur.execute(self._fold_remaining, (before,))
                    (left,) = cur.fetchone()
                    cur.execute("COMMIT")
                except BaseException:
                    self._rollback(cur)
                    raise
            if limit is not None or not left:
                return int(left)

    def _take_round_robin(self, cur: Any, before: int, step: int) -> None:
        """Put up to ``step`` dirty buckets into ``fold``: those of the points after the last
        step's last point first, then from the lowest id on. So when more buckets are dirty
        than one step takes (every point's bucket still filling, on a large site), every
        point's turn comes, not always the lowest ids'."""
        after = self._fold_after
        cur.execute(self._fold_take, (before, after, step))
        taken = max(cur.rowcount, 0)
        wrapped = taken < step and after != NO_POINT
        if wrapped:
            cur.execute(self._fold_take, (before, NO_POINT, step - taken))
        p = self.P
        cur.execute(f"SELECT max(point_id) FROM fold WHERE point_id <= {p}" if wrapped
                    else "SELECT max(point_id) FROM fold", (after,) if wrapped else ())
        (last,) = cur.fetchone()
        self._fold_after = NO_POINT if last is None else int(last)

    def _rollback(self, cur: Any) -> None:
        try:
            cur.execute("ROLLBACK")
        except Exception:  # the connection is gone; the server discards the transaction
            pass

    def write_events(self, rows: Sequence[EventRow]) -> int:
        """Insert journal events in one transaction.

        Idempotent: events whose ``uid`` is already stored are skipped
        (``ON CONFLICT (uid) DO NOTHING``, as samples skip a stored (point_id, ts)).

        Parameters
        ----------
        rows : Sequence[EventRow]
            Validated events (:func:`db.event_rows.clean_event`).

        Returns
        -------
        int
            Rows newly stored.

        Raises
        ------
        Exception
            The driver's error; the transaction is rolled back.
        """
        p = self.P
        cols = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
        sql = (f"INSERT INTO events ({cols}) VALUES ({', '.join([p] * len(EVENT_COLUMNS))}) "
               "ON CONFLICT (uid) DO NOTHING")
        with _cursor(self.conn) as cur:
            self._begin(cur)
            try:
                cur.executemany(sql, [tuple(r) for r in rows])
                new = max(cur.rowcount, 0)  # summed over the rows, as the samples' insert counts
                cur.execute("COMMIT")
            except BaseException:
                self._rollback(cur)
                raise
        return new

    def read_events(self, q: EventQuery) -> list[dict[str, Any]]:
        """Journal events matching ``q``, newest first (see :meth:`db.historian.Historian.read_events`)."""
        if q.matches_nothing():
            return []
        p = self.P
        where = [f"ts >= {p}", f"ts < {p}"]
        params: list[Any] = [q.t0_ms, q.t1_ms]
        for column, values in (("area", q.areas), ("priority", q.priorities), ("kind", q.kinds)):
            if values is not None:
                where.append(f"{column} IN ({', '.join([p] * len(values))})")
                params.extend(values)
        if q.text:
            hay = ["lower(source)", "lower(message)", f"lower(COALESCE({self.ALARM_ID}, ''))"]
            where.append("(" + " OR ".join(self.CONTAINS.format(h, p) for h in hay) + ")")
            params.extend([q.text] * len(hay))
        cols = ", ".join(f'"{c}"' for c in EVENT_READ_COLUMNS)
        rows = self._fetch(f"SELECT {cols} FROM events WHERE {' AND '.join(where)} "
                           f"ORDER BY ts DESC, id DESC LIMIT {p}", (*params, q.limit))
        return [row_dict(r) for r in rows]

    # -- retention -------------------------------------------------------------------
    def prune(self, samples_before_ms: int | None, rollups_before_ms: dict[str, int]) -> int:
        """Delete raw samples older than ``samples_before_ms`` and rollups older than given.

        Deletes point by point along the primary key, one transaction per point.

        Parameters
        ----------
        samples_before_ms : int | None
            Cut-off (ms UTC) for raw samples; ``None`` keeps them all.
        rollups_before_ms : dict[str, int]
            Interval name → cut-off (ms UTC) for that interval's buckets.

        Returns
        -------
        int
            Number of rows deleted.
        """
        p = self.P
        deleted = 0
        with _cursor(self.conn) as cur:
            cur.execute("SELECT id FROM points ORDER BY id")
            pids = [r[0] for r in cur.fetchall()]
            for pid in pids:
                self._begin(cur)
                try:
                    if samples_before_ms is not None:
                        cur.execute(f"DELETE FROM samples WHERE point_id = {p} AND ts < {p}",
                                    (pid, samples_before_ms))
                        deleted += max(cur.rowcount, 0)
                    for interval, cut in rollups_before_ms.items():
                        cur.execute(f"DELETE FROM rollups WHERE point_id = {p} AND interval = {p} "
                                    f"AND bucket < {p}", (pid, interval, cut))
                        deleted += max(cur.rowcount, 0)
                    cur.execute("COMMIT")
                except BaseException:
                    self._rollback(cur)
                    raise
        return deleted

    # -- reads -----------------------------------------------------------------------
    @abc.abstractmethod
    def read_range(self, tag: str, t0_ms: int, t1_ms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Samples of ``tag`` with t0 <= ts < t1, ascending (see :meth:`db.historian.Historian.read_range`)."""

    def read_rollup(self, tag: str, interval: str, t0_ms: int, t1_ms: int) -> np.ndarray:
        """Buckets of ``tag`` with t0 <= bucket start < t1, ascending, as :data:`ROLLUP_DTYPE`."""
        p = self.P
        rows = self._fetch(
            "SELECT r.bucket, r.sum, r.min, r.max, r.count, r.consumption, r.quality FROM rollups r "
            f"JOIN points p ON p.id = r.point_id WHERE p.tag = {p} AND r.interval = {p} "
            f"AND r.bucket >= {p} AND r.bucket < {p} ORDER BY r.bucket",
            (tag, interval, t0_ms, t1_ms))
        out = np.zeros(len(rows), ROLLUP_DTYPE)
        if rows:
            bucket, total, lo, hi, count, consumption, quality = zip(*rows)
            out["bucket"] = np.asarray(bucket, np.float64) / 1000.0
            out["count"] = count
            out["avg"] = np.asarray(total, np.float64) / np.maximum(out["count"], 1)
            out["avg"][out["count"] == 0] = np.nan
            out["min"] = lo
            out["max"] = hi
            out["consumption"] = np.array(consumption, dtype=np.float64)
            out["quality"] = quality
        return out

    def read_buckets(self, tag: str, t0_ms: int, t1_ms: int, n: int) -> np.ndarray:
        """min/max/count/worst quality of ``tag``'s values in ``n`` equal buckets of [t0, t1).

        Buckets at least as wide as a rollup interval are answered from the coarsest
        such rollup (each rollup bucket counted in the trend bucket holding its start;
        GOOD samples only, folded up to the last fold step); narrower ones from raw
        samples (every sample with a value). Only non-empty buckets are returned,
        ascending, as :data:`BUCKET_DTYPE`.
        """
        p = self.P
        span = t1_ms - t0_ms
        usable = [(w, name) for name, w in INTERVALS.items() if w * n <= span]
        if usable:
            width, interval = max(usable)
            rows = self._fetch(
                f"SELECT ({self.GREATEST}(r.bucket, {p}) - {p}) * {p} / {p} AS b, min(r.min), max(r.max), "
                f"sum(r.count), max(r.quality) FROM rollups r "
                f"WHERE r.point_id = (SELECT id FROM points WHERE tag = {p}) AND r.interval = {p} "
                f"AND r.bucket > {p} AND r.bucket < {p} GROUP BY b ORDER BY b",
                (t0_ms, t0_ms, n, span, tag, interval, t0_ms - width, t1_ms))
        else:
            rows = self._fetch(
                f"SELECT (s.ts - {p}) * {p} / {p} AS b, min(s.value), max(s.value), count(*), max(s.quality) "
                f"FROM samples s WHERE s.point_id = (SELECT id FROM points WHERE tag = {p}) "
                f"AND s.ts >= {p} AND s.ts < {p} AND s.value IS NOT NULL GROUP BY b ORDER BY b",
                (t0_ms, n, span, tag, t0_ms, t1_ms))
        out = np.zeros(len(rows), BUCKET_DTYPE)
        if rows:
            b, lo, hi, count, quality = zip(*rows)
            out["t"] = (t0_ms + np.asarray(b, np.float64) * span / n) / 1000.0
            out["min"] = lo
            out["max"] = hi
            out["count"] = count
            out["quality"] = quality
        return out

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with _cursor(self.conn) as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
            self._end_read(cur)
        return rows

    def _end_read(self, cur: Any) -> None:
        """End the implicit read transaction, if the driver opened one."""


class _Cursor:
    """Context manager closing a sqlite3 cursor (sqlite3 cursors are not context managers)."""

    def __init__(self, cur: Any) -> None:
        self._cur = cur

    def __enter__(self) -> Any:
        return self._cur

    def __exit__(self, *exc: object) -> None:
        self._cur.close()


def _cursor(conn: Any) -> Any:
    """A cursor usable in ``with`` for either driver."""
    cur = conn.cursor()
    return cur if hasattr(cur, "__enter__") else _Cursor(cur)
