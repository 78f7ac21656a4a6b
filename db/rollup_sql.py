"""SQL that merges a staged batch of new samples into the rollups, shared by both backends.

A batch is first loaded into a temporary ``stage`` table and rows already in ``samples``
are removed from it, so everything below sees only samples never merged before. That
makes a replayed batch (a commit whose acknowledgement was lost) a no-op.

Consumption of an accumulator is the delta between consecutive GOOD readings, booked
in the bucket of the later reading:

* ``value >= prev``: ``value - prev``;
* a drop with a ``rollover`` configured and ``value + rollover - prev < rollover / 2``:
  the register wrapped, delta ``value + rollover - prev``;
* any other drop: the meter was replaced (or reset), delta 0;
* the first reading ever: delta 0.

Readings newer than the point's ``rollup_state.last_ts`` chain from ``last_value`` in
one set-based statement (:func:`merge_sql`); older readings (a late backlog) are
spliced between their stored neighbours one by one
(:meth:`db.store.SampleStore._splice_late`).
"""

from __future__ import annotations

from db.schema import INTERVALS

_INTERVAL_VALUES = ", ".join(f"('{name}', {width})" for name, width in INTERVALS.items())
#: The finest interval; coarser ones are built from its per-batch aggregates and must
#: be whole multiples of it.
FINEST, FINEST_MS = min(INTERVALS.items(), key=lambda kv: kv[1])
COARSER = "\n".join(
    f"    UNION ALL SELECT point_id, '{name}', bucket - bucket % {width}, sum(n), sum(total), min(lo), "
    f"max(hi), sum(used) FROM base GROUP BY point_id, bucket - bucket % {width}"
    for name, width in INTERVALS.items() if name != FINEST)

#: Delta of an accumulator step from ``prev`` to ``value`` with ``rollover`` (NULL-able).
DELTA_CASE = """CASE
    WHEN prev IS NULL THEN 0.0
    WHEN value >= prev THEN value - prev
    WHEN rollover IS NOT NULL AND value + rollover - prev < rollover / 2 THEN value + rollover - prev
    ELSE 0.0 END"""


def merge_sql(least: str, greatest: str) -> str:
    """Upsert count/sum/min/max/consumption of every staged GOOD sample into ``rollups``.

    Parameters
    ----------
    least, greatest : str
        The dialect's two-argument minimum/maximum function (``min``/``max`` on SQLite,
        ``LEAST``/``GREATEST`` on PostgreSQL).
    """
    return f"""
WITH good AS (
    SELECT s.point_id, s.ts, s.value, p.rollover,
           (p.kind = 'accumulator') AS acc,
           (p.kind = 'accumulator' AND (st.last_ts IS NULL OR s.ts > st.last_ts)) AS chained,
           st.last_ts, st.last_value
    FROM stage s
    JOIN points p ON p.id = s.point_id
    LEFT JOIN rollup_state st ON st.point_id = s.point_id
    WHERE s.quality = 0 AND s.value IS NOT NULL
),
chain AS (
    SELECT point_id, ts, value, rollover, acc, chained,
           last_ts, last_value,
           LAG(ts) OVER w AS prev_ts, LAG(value) OVER w AS prev_value
    FROM good
    WINDOW w AS (PARTITION BY point_id ORDER BY ts)
),
step AS (
    -- a chained reading's predecessor is the previous staged one if that is newer
    -- than the state (late readings sort first), else the state's reading
    SELECT point_id, ts, value, rollover, acc, chained,
           CASE WHEN prev_ts IS NOT NULL AND (last_ts IS NULL OR prev_ts > last_ts) THEN prev_value
                ELSE last_value END AS prev
    FROM chain
),
delta AS (
    SELECT point_id, ts, value,
           CASE WHEN chained THEN {DELTA_CASE}
                WHEN acc THEN 0.0 END AS delta
    FROM step
),
base AS MATERIALIZED (
    SELECT point_id, ts - ts % {FINEST_MS} AS bucket, count(*) AS n, sum(value) AS total,
           min(value) AS lo, max(value) AS hi, sum(delta) AS used
    FROM delta GROUP BY point_id, ts - ts % {FINEST_MS}
),
merged AS (
    SELECT point_id, '{FINEST}' AS interval, bucket, n, total, lo, hi, used FROM base
{COARSER}
)
INSERT INTO rollups (point_id, interval, bucket, count, sum, min, max, consumption)
SELECT point_id, interval, bucket, n, total, lo, hi, used FROM merged WHERE true
ON CONFLICT (point_id, interval, bucket) DO UPDATE SET
    count = rollups.count + excluded.count,
    sum = rollups.sum + excluded.sum,
    min = {least}(rollups.min, excluded.min),
    max = {greatest}(rollups.max, excluded.max),
    consumption = CASE WHEN excluded.consumption IS NULL THEN rollups.consumption
                       ELSE COALESCE(rollups.consumption, 0.0) + excluded.consumption END
"""


def consumption_upsert_sql(pid: str, ts: str, real: str, mod: str, least: str, greatest: str) -> str:
    """Add a consumption correction to the bucket holding ``ts`` in each interval.

    Parameters
    ----------
    pid, ts, real : str
        The dialect's placeholders (with casts where needed) for an integer point id,
        a bigint time (ms) and a float. Bound parameters, in order: point_id, ts, ts,
        value, value, delta — ``value`` a reading known to lie in the bucket, so
        min/max stay correct.
    mod : str
        The modulo operator as written in a parametrised query (``%`` or ``%%``).
    least, greatest : str
        The dialect's two-argument minimum/maximum function.
    """
    return f"""
WITH iv(name, width) AS (VALUES {_INTERVAL_VALUES})
INSERT INTO rollups (point_id, interval, bucket, count, sum, min, max, consumption)
SELECT {pid}, iv.name, {ts} - {ts} {mod} iv.width, 0, 0.0, {real}, {real}, {real}
FROM iv WHERE true
ON CONFLICT (point_id, interval, bucket) DO UPDATE SET
    min = {least}(rollups.min, excluded.min),
    max = {greatest}(rollups.max, excluded.max),
    consumption = COALESCE(rollups.consumption, 0.0) + excluded.consumption
"""


def step_delta(prev: float | None, value: float, rollover: float | None) -> float:
    """Python twin of :data:`DELTA_CASE` for the late-backlog splice (same rules)."""
    if prev is None:
        return 0.0
    if value >= prev:
        return value - prev
    if rollover is not None and value + rollover - prev < rollover / 2:
        return value + rollover - prev
    return 0.0
