"""What both database backends share: writing a batch with its rollups, pruning, point ids.

A :class:`SampleStore` owns one raw driver connection (``sqlite3`` or psycopg 3) and is
used by one thread at a time. :mod:`db.sqlite_store` and :mod:`db.postgres_store`
supply the dialect: how the ``stage`` table is made and loaded, parameter style, and
the reads.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from db.point_meta import PointMeta
from db.rollup_sql import consumption_upsert_sql, merge_sql, step_delta

#: One sample as written: (point_id, ts ms UTC, value or None, quality 0..2).
Row = tuple[int, int, float | None, int]

#: Fields of :meth:`SampleStore.read_rollup`'s structured array.
ROLLUP_DTYPE = np.dtype([("bucket", "f8"), ("avg", "f8"), ("min", "f8"), ("max", "f8"),
                         ("count", "i8"), ("consumption", "f8")])
#: Fields of :meth:`SampleStore.read_buckets`'s structured array.
BUCKET_DTYPE = np.dtype([("t", "f8"), ("min", "f8"), ("max", "f8"), ("count", "i8"),
                         ("quality", "i1")])


class SampleStore(abc.ABC):
    """Batch writes (idempotent, with incremental rollups), retention and reads.

    Subclasses set the dialect attributes and implement the abstract methods.
    """

    #: placeholder for one bound parameter
    P: str
    #: two-argument min/max functions
    LEAST: str
    GREATEST: str
    #: placeholders with casts for the splice upsert, and the modulo operator
    P_INT: str
    P_BIGINT: str
    P_REAL: str
    MOD: str

    conn: Any

    def __init__(self) -> None:
        self._merge = merge_sql(self.LEAST, self.GREATEST)
        self._splice_upsert = consumption_upsert_sql(
            self.P_INT, self.P_BIGINT, self.P_REAL, self.MOD, self.LEAST, self.GREATEST)

    # -- dialect hooks -------------------------------------------------------------
    @abc.abstractmethod
    def _begin(self, cur: Any) -> None:
        """Begin a write transaction."""

    @abc.abstractmethod
    def _load_stage(self, cur: Any, rows: Sequence[Row]) -> None:
        """Empty ``stage``, load ``rows`` into it, drop in-batch duplicates and rows already stored."""

    @abc.abstractmethod
    def _update_state(self, cur: Any) -> None:
        """Advance ``rollup_state`` to each staged accumulator's newest GOOD reading."""

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
        """Store ``rows`` and merge them into the rollups, in one transaction.

        Idempotent: rows whose (point_id, ts) is already stored are skipped, also in
        the rollups, so replaying a batch whose commit acknowledgement was lost
        changes nothing.

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
        with _cursor(self.conn) as cur:
            self._begin(cur)
            try:
                self._load_stage(cur, rows)
                cur.execute("SELECT count(*) FROM stage")
                (new,) = cur.fetchone()
                if new:
                    self._splice_late(cur)
                    cur.execute(self._merge)
                    self._update_state(cur)
                    cur.execute("INSERT INTO samples (point_id, ts, value, quality) "
                                "SELECT point_id, ts, value, quality FROM stage "
                                "WHERE true ON CONFLICT (point_id, ts) DO NOTHING")
                cur.execute("COMMIT")
            except BaseException:
                self._rollback(cur)
                raise
        return int(new)

    def _splice_late(self, cur: Any) -> None:
        """Book accumulator readings older than the point's rollup state (a late backlog).

        Each late reading L is stored at once and spliced between its stored GOOD
        neighbours P < L < N: the delta P→N booked in N's bucket is taken back, and
        P→L (in L's bucket) and L→N (in N's bucket) are booked instead.
        """
        p = self.P
        cur.execute(
            "SELECT s.point_id, s.ts, s.value, s.quality, p.rollover FROM stage s "
            "JOIN points p ON p.id = s.point_id "
            "JOIN rollup_state st ON st.point_id = s.point_id "
            "WHERE p.kind = 'accumulator' AND s.quality = 0 AND s.value IS NOT NULL "
            "AND s.ts <= st.last_ts ORDER BY s.point_id, s.ts")
        late = cur.fetchall()
        good = "quality = 0 AND value IS NOT NULL"
        for pid, ts, value, quality, rollover in late:
            cur.execute(f"SELECT ts, value FROM samples WHERE point_id = {p} AND ts < {p} AND {good} "
                        "ORDER BY ts DESC LIMIT 1", (pid, ts))
            before = cur.fetchone()
            cur.execute(f"SELECT ts, value FROM samples WHERE point_id = {p} AND ts > {p} AND {good} "
                        "ORDER BY ts LIMIT 1", (pid, ts))
            after = cur.fetchone()
            prev = before[1] if before else None
            if after is not None:
                n_ts, n_value = after
                correction = step_delta(value, n_value, rollover) - step_delta(prev, n_value, rollover)
                cur.execute(self._splice_upsert, (pid, n_ts, n_ts, n_value, n_value, correction))
            cur.execute(self._splice_upsert, (pid, ts, ts, value, value, step_delta(prev, value, rollover)))
            cur.execute(f"INSERT INTO samples (point_id, ts, value, quality) VALUES ({p}, {p}, {p}, {p})",
                        (pid, ts, value, quality))

    def _rollback(self, cur: Any) -> None:
        try:
            cur.execute("ROLLBACK")
        except Exception:  # the connection is gone; the server discards the transaction
            pass

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
            "SELECT r.bucket, r.sum, r.min, r.max, r.count, r.consumption FROM rollups r "
            f"JOIN points p ON p.id = r.point_id WHERE p.tag = {p} AND r.interval = {p} "
            f"AND r.bucket >= {p} AND r.bucket < {p} ORDER BY r.bucket",
            (tag, interval, t0_ms, t1_ms))
        out = np.zeros(len(rows), ROLLUP_DTYPE)
        if rows:
            bucket, total, lo, hi, count, consumption = zip(*rows)
            out["bucket"] = np.asarray(bucket, np.float64) / 1000.0
            out["count"] = count
            out["avg"] = np.asarray(total, np.float64) / np.maximum(out["count"], 1)
            out["avg"][out["count"] == 0] = np.nan
            out["min"] = lo
            out["max"] = hi
            out["consumption"] = np.array(consumption, dtype=np.float64)
        return out

    def read_buckets(self, tag: str, t0_ms: int, t1_ms: int, n: int) -> np.ndarray:
        """min/max/count/worst quality of ``tag``'s values in ``n`` equal buckets of [t0, t1).

        Only non-empty buckets are returned, ascending, as :data:`BUCKET_DTYPE`.
        """
        p = self.P
        span = t1_ms - t0_ms
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
