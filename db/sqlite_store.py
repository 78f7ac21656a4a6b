"""SQLite backend of the historian: raw ``sqlite3`` for writes and reads."""

from __future__ import annotations

import itertools
import math
import operator
import sqlite3
from collections.abc import Sequence
from contextlib import closing

import numpy as np

from db.engine import connect_sqlite
from db.rollup_sql import FINEST_MS
from db.store import _POINT_ID, FOLD_STEP_BUCKETS, Row, SampleStore

#: Rows per multi-row INSERT: 800 parameters, within SQLite's oldest default limit (999).
ROWS_PER_STATEMENT = 200
_TS = operator.itemgetter(1)
#: Sentinel for a NULL value in range reads (SQLite parses 9e999 as +Inf); mapped to NaN.
_NULL_VALUE = "9e999"


class SqliteStore(SampleStore):
    """One ``sqlite3`` connection for writes and reads.

    Parameters
    ----------
    url : str
        ``sqlite:///path`` of a migrated database.

    Raises
    ------
    sqlite3.OperationalError
        If the file cannot be opened.
    """

    P = "?"
    LEAST = "min"
    GREATEST = "max"
    MOD = "%"
    ALARM_ID = "json_extract(data, '$.alarm_id')"
    CONTAINS = "instr({0}, {1}) > 0"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.conn: sqlite3.Connection = connect_sqlite(url, writer=True)
        #: bucket -> point ids this connection marked dirty, committed, since its last fold step
        self._marked: dict[int, set[int]] = {}
        self._marking: dict[int, set[int]] = {}  # marks of the transaction in progress, the same way
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS fold (point_id INTEGER NOT NULL, "
                          "bucket INTEGER NOT NULL, PRIMARY KEY (point_id, bucket)) WITHOUT ROWID")

    def _begin(self, cur: sqlite3.Cursor) -> None:
        cur.execute("BEGIN IMMEDIATE")

    def _insert(self, cur: sqlite3.Cursor, rows: Sequence[Row]) -> int:
        new = _insert_rows(cur, "INSERT INTO samples (point_id, ts, value, quality)",
                           "ON CONFLICT (point_id, ts) DO NOTHING", 4, rows)
        self._marking = _new_marks(rows, self._marked)
        if self._marking:
            _insert_rows(cur, "INSERT INTO rollup_dirty (point_id, bucket)", "ON CONFLICT DO NOTHING", 2,
                         [(pid, bucket) for bucket, pids in self._marking.items() for pid in pids])
        return new

    def write(self, rows: Sequence[Row]) -> int:
        """As :meth:`SampleStore.write`; a bucket this connection already marked dirty since its
        last fold step is not marked again (most of a 1 s stream's batches mark nothing new).

        Sound because one historian writer folds its database (the spool directory's lock
        keeps a second one away): a bucket leaves ``rollup_dirty`` only in this
        connection's :meth:`fold_rollups`, which forgets every mark first.
        """
        new = super().write(rows)
        for bucket, pids in self._marking.items():  # only once the marks committed
            self._marked.setdefault(bucket, set()).update(pids)
        return new

    def fold_rollups(self, limit: int | None = FOLD_STEP_BUCKETS, floor_ms: int | None = None,
                     before_ms: int | None = None) -> int:
        self._marked.clear()  # the step takes marked buckets out of rollup_dirty: mark them again
        return super().fold_rollups(limit, floor_ms, before_ms)

    def _upsert_points_sql(self) -> str:
        return _UPSERT_POINTS

    def read_range(self, tag: str, t0_ms: int, t1_ms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Samples of ``tag`` with t0 <= ts < t1 through ``sqlite3``, converted to numpy in one step.

        The same SQLite library as the writer on purpose: a second SQLite copy in the
        process (the ADBC driver bundles one) does not see this one's POSIX locks,
        resets the shared WAL index and crashes or corrupts the writer. Python's row
        objects are the cost (the scan itself is one contiguous stretch of the
        ``WITHOUT ROWID`` primary key, about 40 ms for a year of 1-minute samples):
        each row is two floats, ``ts * 4 + quality`` (quality is 0..2, the low two bits;
        exact as a double below 2**53, i.e. within 70,000 years of 1970) and the
        value, and ``np.fromiter`` reads the flattened rows into one float64 array — a
        plain dtype, not a structured one, which halves numpy's share of the cost.

        Returns
        -------
        tuple of ndarray
            ts (float64, epoch s UTC), value (float64, NaN where NULL), quality (int8).
        """
        with closing(self.conn.execute(
                f"SELECT CAST(ts * 4 + quality AS REAL), IFNULL(value, {_NULL_VALUE}) FROM samples "
                "WHERE point_id = (SELECT id FROM points WHERE tag = ?) AND ts >= ? AND ts < ? ORDER BY ts",
                (tag, t0_ms, t1_ms))) as cur:
            flat = np.fromiter(itertools.chain.from_iterable(cur), dtype=np.float64)
        table = flat.reshape(-1, 2)
        tq = table[:, 0].astype(np.int64)
        value = table[:, 1].copy()  # contiguous, and not a view keeping the packed times alive
        value[np.isposinf(value)] = math.nan
        return (tq >> 2) / 1000.0, value, (tq & 3).astype(np.int8)

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception:  # closing a broken connection must not mask the caller's state
            pass


def _new_marks(rows: Sequence[Row], marked: dict[int, set[int]]) -> dict[int, set[int]]:
    """The 15-minute buckets of ``rows`` (bucket -> point ids) that ``marked`` lacks.

    A batch of a live stream nearly always falls in one bucket: then it is one set of
    point ids, built and compared in C, instead of a (point, bucket) pair per row.
    """
    if not rows:
        return {}
    stamps = list(map(_TS, rows))
    first, last = min(stamps), max(stamps)
    if first - first % FINEST_MS == last - last % FINEST_MS:
        bucket = first - first % FINEST_MS
        fresh = set(map(_POINT_ID, rows)).difference(marked.get(bucket, ()))
        return {bucket: fresh} if fresh else {}
    buckets: dict[int, set[int]] = {}
    for pid, ts, _, _ in rows:
        buckets.setdefault(ts - ts % FINEST_MS, set()).add(pid)
    news = {bucket: pids.difference(marked.get(bucket, ())) for bucket, pids in buckets.items()}
    return {bucket: pids for bucket, pids in news.items() if pids}


def _insert_rows(cur: sqlite3.Cursor, head: str, tail: str, width: int, rows: Sequence[Sequence[object]]) -> int:
    """``head VALUES (...), (...) ... tail`` for ``rows``, :data:`ROWS_PER_STATEMENT` rows a statement.

    One statement per row (``executemany``) would release and retake the GIL around
    every row's ``sqlite3_step``; in a process whose acquisition thread wants the GIL
    after each socket call, that hand-over, not SQLite, was the insert's main cost.

    Returns
    -------
    int
        Rows inserted (conflicting rows skipped are not counted).
    """
    flat = list(itertools.chain.from_iterable(rows))
    step = width * ROWS_PER_STATEMENT
    full = len(rows) - len(rows) % ROWS_PER_STATEMENT
    group = "(" + ", ".join("?" * width) + ")"
    new = 0
    if full:
        cur.executemany(f"{head} VALUES {', '.join([group] * ROWS_PER_STATEMENT)} {tail}",
                        [flat[i:i + step] for i in range(0, full * width, step)])
        new += max(cur.rowcount, 0)
    if full < len(rows):
        cur.execute(f"{head} VALUES {', '.join([group] * (len(rows) - full))} {tail}", flat[full * width:])
        new += max(cur.rowcount, 0)
    return new


_UPSERT_POINTS = (
    "INSERT INTO points (tag, device, name, description, unit, kind, category, medium, area, rollover) "
    "VALUES (:tag, :device, :name, :description, :unit, :kind, :category, :medium, :area, :rollover) "
    "ON CONFLICT (tag) DO UPDATE SET device = excluded.device, name = excluded.name, "
    "description = excluded.description, unit = excluded.unit, kind = excluded.kind, "
    "category = excluded.category, medium = excluded.medium, area = excluded.area, "
    "rollover = excluded.rollover")
