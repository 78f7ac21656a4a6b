"""SQLite backend of the historian: raw ``sqlite3`` for writes, ADBC (Arrow) for range reads."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from typing import Any

import adbc_driver_sqlite.dbapi as adbc_sqlite
import numpy as np
import pyarrow as pa

from db.engine import connect_sqlite, sqlite_path
from db.store import Row, SampleStore

#: Sentinel for a NULL value in Arrow reads (SQLite parses 9e999 as +Inf); mapped to NaN.
_NULL_VALUE = "9e999"


class SqliteStore(SampleStore):
    """One SQLite connection for writes and small reads, one ADBC connection for range reads.

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
    P_INT = P_BIGINT = P_REAL = "?"
    MOD = "%"

    def __init__(self, url: str) -> None:
        super().__init__()
        self._path = sqlite_path(url)
        self.conn: sqlite3.Connection = connect_sqlite(url)
        self._arrow: Any = None
        self.conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS stage (point_id INTEGER NOT NULL, ts INTEGER NOT NULL, "
            "value REAL, quality INTEGER NOT NULL, PRIMARY KEY (point_id, ts)) WITHOUT ROWID")

    def _begin(self, cur: sqlite3.Cursor) -> None:
        cur.execute("BEGIN IMMEDIATE")

    def _load_stage(self, cur: sqlite3.Cursor, rows: Sequence[Row]) -> None:
        cur.execute("DELETE FROM stage")
        cur.executemany("INSERT OR IGNORE INTO stage (point_id, ts, value, quality) VALUES (?, ?, ?, ?)", rows)
        cur.execute("DELETE FROM stage WHERE EXISTS (SELECT 1 FROM samples s "
                    "WHERE s.point_id = stage.point_id AND s.ts = stage.ts)")

    def _update_state(self, cur: sqlite3.Cursor) -> None:
        # SQLite takes the bare column ``value`` from the row holding max(ts).
        cur.execute(
            "INSERT INTO rollup_state (point_id, last_ts, last_value) "
            "SELECT s.point_id, max(s.ts), s.value FROM stage s JOIN points p ON p.id = s.point_id "
            "WHERE p.kind = 'accumulator' AND s.quality = 0 AND s.value IS NOT NULL GROUP BY s.point_id "
            "ON CONFLICT (point_id) DO UPDATE SET last_ts = excluded.last_ts, last_value = excluded.last_value "
            "WHERE excluded.last_ts > rollup_state.last_ts")

    def _upsert_points_sql(self) -> str:
        return _UPSERT_POINTS

    def read_range(self, tag: str, t0_ms: int, t1_ms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Samples of ``tag`` with t0 <= ts < t1 through ADBC: Arrow columns, no Python rows.

        Returns
        -------
        tuple of ndarray
            ts (float64, epoch s UTC), value (float64, NaN where NULL), quality (int8).
        """
        if self._arrow is None:
            self._arrow = adbc_sqlite.connect(str(self._path))
        cur = self._arrow.cursor()
        try:
            cur.execute(
                f"SELECT ts, IFNULL(value, {_NULL_VALUE}) AS value, quality FROM samples "
                "WHERE point_id = (SELECT id FROM points WHERE tag = ?) AND ts >= ? AND ts < ? ORDER BY ts",
                (tag, t0_ms, t1_ms))
            table = cur.fetch_arrow_table()
        finally:
            cur.close()
        self._arrow.rollback()
        if table.num_rows == 0:
            return np.empty(0, np.float64), np.empty(0, np.float64), np.empty(0, np.int8)
        ts = table.column(0).cast(pa.int64()).to_numpy() / 1000.0
        value = table.column(1).cast(pa.float64()).to_numpy()
        value = np.where(np.isposinf(value), math.nan, value)
        quality = table.column(2).cast(pa.int8()).to_numpy()
        return ts, value, quality

    def close(self) -> None:
        for conn in (self._arrow, self.conn):
            try:
                if conn is not None:
                    conn.close()
            except Exception:  # closing a broken connection must not mask the caller's state
                pass
        self._arrow = None


_UPSERT_POINTS = (
    "INSERT INTO points (tag, device, name, description, unit, kind, category, medium, area, rollover) "
    "VALUES (:tag, :device, :name, :description, :unit, :kind, :category, :medium, :area, :rollover) "
    "ON CONFLICT (tag) DO UPDATE SET device = excluded.device, name = excluded.name, "
    "description = excluded.description, unit = excluded.unit, kind = excluded.kind, "
    "category = excluded.category, medium = excluded.medium, area = excluded.area, "
    "rollover = excluded.rollover")
