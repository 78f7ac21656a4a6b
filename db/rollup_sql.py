"""SQL that folds dirty 15-minute buckets into the rollups, shared by both backends.

Writes only insert samples and mark the 15-minute buckets they fall in as dirty
(``rollup_dirty``). A fold step, run by the historian's writer between batches,
takes a bounded number of dirty buckets and recomputes them from ``samples``; each
coarser interval is then recomputed from the next finer one ('1h' from '15min',
'1d' from '1h'). Rollups are therefore a pure function of the stored samples: a
replayed batch, a late backlog or an out-of-order write gives the same rollups as
the same samples written in order.

Consumption of an accumulator is the delta between consecutive GOOD readings, booked
in the bucket of the later reading:

* ``value >= prev``: ``value - prev``;
* a drop with a ``rollover`` configured and ``value + rollover - prev < rollover / 2``:
  the register wrapped, delta ``value + rollover - prev``;
* any other drop: the meter was replaced (or reset), delta 0;
* the first reading ever: delta 0.

A late reading also changes the delta of the next GOOD reading after it, so the
bucket holding that reading joins the fold.

Retention: a bucket can be recomputed only while its sources are kept. The fold
takes a ``floor`` (ms UTC, the newest retention cut-off of samples and of the
intervals used as sources): dirty buckets before it are dropped unfolded and
coarser buckets starting before it are left as they are.
"""

from __future__ import annotations

from db.schema import INTERVALS

#: Intervals finest first; each is built from the one before and must be a whole
#: multiple of it.
_CHAIN = sorted(INTERVALS.items(), key=lambda kv: kv[1])
FINEST, FINEST_MS = _CHAIN[0]
assert all(w % prev_w == 0 for (_, prev_w), (_, w) in zip(_CHAIN, _CHAIN[1:]))
#: Intervals other rollups are recomputed from (all but the coarsest): their retention,
#: like that of raw samples, bounds what can still be recomputed.
SOURCE_INTERVALS = tuple(name for name, _ in _CHAIN[:-1])

#: Delta of an accumulator step from ``prev`` to ``value`` with ``rollover`` (NULL-able).
DELTA_CASE = """CASE
    WHEN prev IS NULL THEN 0.0
    WHEN value >= prev THEN value - prev
    WHEN rollover IS NOT NULL AND value + rollover - prev < rollover / 2 THEN value + rollover - prev
    ELSE 0.0 END"""

_UPSERT = """ON CONFLICT (point_id, interval, bucket) DO UPDATE SET
    count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max,
    consumption = excluded.consumption, quality = excluded.quality"""

_GOOD = "quality = 0 AND value IS NOT NULL"


def fold_sql(p: str, mod: str) -> tuple[str, str, str, str, str, list[str], str]:
    """The statements of one fold step, in order, for a dialect with placeholder ``p``.

    ``mod`` is the modulo operator as written in a query with bound parameters
    (``%`` for sqlite3, ``%%`` for psycopg).

    Returns
    -------
    tuple
        ``(drop_below_floor, take, untake, next_readings, finest, coarser, remaining)``:

        * ``drop_below_floor`` — params (floor,): forget dirty buckets before the floor;
        * ``take`` — params (before, after_point, limit): copy up to ``limit`` dirty
          buckets starting before ``before`` of points with an id above ``after_point``
          into ``fold``, in (point, bucket) order;
        * ``untake`` — remove the taken buckets from ``rollup_dirty`` (before the
          recompute, so a concurrent writer's mark made meanwhile survives);
        * ``next_readings`` — add the bucket of each accumulator's next GOOD reading;
        * ``finest`` — recompute the folded 15-minute buckets from ``samples``;
        * ``coarser`` — one statement per coarser interval, params (floor,);
        * ``remaining`` — params (before,): count of dirty buckets left starting before it.
    """
    drop = f"DELETE FROM rollup_dirty WHERE bucket < {p}"
    take = (f"INSERT INTO fold (point_id, bucket) SELECT point_id, bucket FROM rollup_dirty "
            f"WHERE bucket < {p} AND point_id > {p} ORDER BY point_id, bucket LIMIT {p} "
            "ON CONFLICT DO NOTHING")
    untake = ("DELETE FROM rollup_dirty WHERE EXISTS (SELECT 1 FROM fold f "
              "WHERE f.point_id = rollup_dirty.point_id AND f.bucket = rollup_dirty.bucket)")
    next_readings = f"""
INSERT INTO fold (point_id, bucket)
SELECT x.point_id, x.nxt - x.nxt % {FINEST_MS} FROM (
    SELECT f.point_id,
           (SELECT s.ts FROM samples s WHERE s.point_id = f.point_id AND s.ts >= f.bucket + {FINEST_MS}
            AND s.quality = 0 AND s.value IS NOT NULL ORDER BY s.ts LIMIT 1) AS nxt
    FROM fold f JOIN points p ON p.id = f.point_id WHERE p.kind = 'accumulator'
) x WHERE x.nxt IS NOT NULL
ON CONFLICT DO NOTHING"""
    finest = f"""
WITH src AS (
    SELECT f.point_id, f.bucket, s.ts, s.value, s.quality, p.rollover,
           CASE WHEN p.kind = 'accumulator' THEN 1 ELSE 0 END AS acc
    FROM fold f
    JOIN points p ON p.id = f.point_id
    JOIN samples s ON s.point_id = f.point_id AND s.ts >= f.bucket AND s.ts < f.bucket + {FINEST_MS}
),
good AS (
    SELECT point_id, bucket, ts, value, rollover, acc,
           LAG(value) OVER (PARTITION BY point_id, bucket ORDER BY ts) AS lag_value
    FROM src WHERE {_GOOD}
),
step AS (
    -- the first reading of a bucket chains from the last GOOD reading before the bucket
    SELECT point_id, bucket, value, rollover, acc,
           CASE WHEN acc = 0 THEN NULL
                WHEN lag_value IS NOT NULL THEN lag_value
                ELSE (SELECT b.value FROM samples b WHERE b.point_id = good.point_id AND b.ts < good.bucket
                      AND b.quality = 0 AND b.value IS NOT NULL ORDER BY b.ts DESC LIMIT 1) END AS prev
    FROM good
),
agg AS (
    SELECT point_id, bucket, count(*) AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi,
           sum(CASE WHEN acc = 1 THEN {DELTA_CASE} END) AS used
    FROM step GROUP BY point_id, bucket
),
worst AS (
    SELECT point_id, bucket, max(quality) AS q FROM src GROUP BY point_id, bucket
)
INSERT INTO rollups (point_id, interval, bucket, count, sum, min, max, consumption, quality)
SELECT a.point_id, '{FINEST}', a.bucket, a.n, a.total, a.lo, a.hi, a.used, w.q
FROM agg a JOIN worst w ON w.point_id = a.point_id AND w.bucket = a.bucket
WHERE true
{_UPSERT}"""
    coarser = [f"""
INSERT INTO rollups (point_id, interval, bucket, count, sum, min, max, consumption, quality)
SELECT par.point_id, '{name}', par.pb, sum(r.count), sum(r.sum), min(r.min), max(r.max),
       sum(r.consumption), max(r.quality)
FROM (SELECT DISTINCT point_id, bucket - bucket {mod} {width} AS pb FROM fold) par
JOIN rollups r ON r.point_id = par.point_id AND r.interval = '{source}'
     AND r.bucket >= par.pb AND r.bucket < par.pb + {width}
WHERE par.pb >= {p}
GROUP BY par.point_id, par.pb
{_UPSERT}""" for (source, _), (name, width) in zip(_CHAIN, _CHAIN[1:])]
    remaining = f"SELECT count(*) FROM rollup_dirty WHERE bucket < {p}"
    return drop, take, untake, next_readings, finest, coarser, remaining
