"""PostgreSQL backend of the historian: psycopg 3 (binary COPY) for writes, ADBC (Arrow) for range reads."""

from __future__ import annotations

from collections.abc import Sequence

from typing import Any

import adbc_driver_postgresql.dbapi as adbc_pg
import numpy as np
import psycopg
import pyarrow as pa

from db.engine import PG_CONNECT_TIMEOUT_S, pg_adbc_uri, pg_conninfo
from db.rollup_sql import FINEST_MS
from db.store import Row, SampleStore

#: Seconds any statement of the historian may run before the server cancels it.
STATEMENT_TIMEOUT_S = 60


class PostgresStore(SampleStore):
    """One psycopg 3 connection (autocommit, explicit BEGIN/COMMIT), one ADBC connection for range reads.

    Parameters
    ----------
    url : str
        ``postgresql+psycopg://user@host:port/dbname`` of a migrated database.

    Raises
    ------
    psycopg.OperationalError
        If the server cannot be reached within ``PG_CONNECT_TIMEOUT_S``.
    """

    P = "%s"
    LEAST = "LEAST"
    GREATEST = "GREATEST"
    MOD = "%%"
    ALARM_ID = "data ->> 'alarm_id'"
    CONTAINS = "strpos({0}, {1}) > 0"

    def __init__(self, url: str) -> None:
        super().__init__()
        self._conninfo = pg_conninfo(url)
        self._adbc_uri = pg_adbc_uri(url, STATEMENT_TIMEOUT_S)
        self._arrow: Any = None
        self.conn: psycopg.Connection = psycopg.connect(
            self._conninfo, autocommit=True, connect_timeout=PG_CONNECT_TIMEOUT_S,
            options=f"-c statement_timeout={STATEMENT_TIMEOUT_S * 1000}",
            keepalives=1, keepalives_idle=5, keepalives_interval=2, keepalives_count=2)
        self.conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS stage (point_id int4 NOT NULL, ts int8 NOT NULL, "
            "value float8, quality int2 NOT NULL)")
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS fold (point_id int4 NOT NULL, bucket int8 NOT NULL, "
                          "PRIMARY KEY (point_id, bucket))")

    def _begin(self, cur: psycopg.Cursor) -> None:
        cur.execute("BEGIN")

    def _insert(self, cur: psycopg.Cursor, rows: Sequence[Row]) -> int:
        cur.execute("TRUNCATE stage")
        with cur.copy("COPY stage (point_id, ts, value, quality) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "int8", "float8", "int2"])
            for row in rows:
                copy.write_row(row)
        # an anti-join and a plain insert: ON CONFLICT's speculative insertion costs twice as much;
        # a concurrent writer's duplicate makes the batch fail and be retried
        cur.execute("INSERT INTO samples (point_id, ts, value, quality) "
                    "SELECT DISTINCT ON (point_id, ts) point_id, ts, value, quality FROM stage s "
                    "WHERE NOT EXISTS (SELECT 1 FROM samples x WHERE x.point_id = s.point_id AND x.ts = s.ts) "
                    "ORDER BY point_id, ts")
        new = cur.rowcount
        cur.execute(f"INSERT INTO rollup_dirty (point_id, bucket) SELECT DISTINCT point_id, ts - ts % {FINEST_MS} "
                    "FROM stage ON CONFLICT DO NOTHING")
        return new

    def _upsert_points_sql(self) -> str:
        return _UPSERT_POINTS

    def read_range(self, tag: str, t0_ms: int, t1_ms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Samples of ``tag`` with t0 <= ts < t1 through ADBC: Arrow columns, no Python rows.

        Two columns travel: ``ts * 4 + quality`` (quality is 0..2, the low two bits) and
        the value, a sixth fewer bytes than three columns. The rows are sorted here
        (numpy's stable sort, linear on rows that arrive in order), not by the server:
        right after a bulk insert the planner's statistics are stale, and an
        ``ORDER BY`` then becomes a bitmap scan plus an on-disk sort.

        Returns
        -------
        tuple of ndarray
            ts (float64, epoch s UTC), value (float64, NaN where NULL), quality (int8).
        """
        if self._arrow is None:
            self._arrow = adbc_pg.connect(self._adbc_uri)
        cur = self._arrow.cursor()
        try:
            cur.execute(
                "SELECT ts * 4 + quality, COALESCE(value, 'NaN'::float8) FROM samples "
                "WHERE point_id = (SELECT id FROM points WHERE tag = $1) AND ts >= $2 AND ts < $3",
                (tag, t0_ms, t1_ms))
            table = cur.fetch_arrow_table()
        finally:
            cur.close()
        self._arrow.rollback()
        tq = table.column(0).cast(pa.int64()).to_numpy()
        value = table.column(1).cast(pa.float64()).to_numpy()
        if len(tq) > 1 and not (tq[1:] >= tq[:-1]).all():
            order = np.argsort(tq, kind="stable")
            tq, value = tq[order], value[order]
        return (tq >> 2) / 1000.0, value, (tq & 3).astype(np.int8)

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
    "VALUES (%(tag)s, %(device)s, %(name)s, %(description)s, %(unit)s, %(kind)s, %(category)s, "
    "%(medium)s, %(area)s, %(rollover)s) "
    "ON CONFLICT (tag) DO UPDATE SET device = excluded.device, name = excluded.name, "
    "description = excluded.description, unit = excluded.unit, kind = excluded.kind, "
    "category = excluded.category, medium = excluded.medium, area = excluded.area, "
    "rollover = excluded.rollover")
