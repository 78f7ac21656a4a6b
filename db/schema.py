"""The historian's tables, declared once as SQLAlchemy Core metadata.

Tables are created and changed only through the Alembic migrations in
:mod:`db.migrations`; ``tests/test_historian_migrations.py`` checks that the migrated
database matches this metadata. Times are INTEGER epoch milliseconds, UTC.

On SQLite, ``samples`` and ``rollups`` are ``WITHOUT ROWID`` tables clustered on their
primary key, so one point's time range is one contiguous B-tree scan.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
)

#: Constraint naming convention, so migrations can name and later drop constraints.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

#: One row per point: tag ``"<device id>.<point name>"`` and its descriptive fields.
#: ``kind`` is telemetry | teleindication | telecontrol | accumulator; ``rollover`` is
#: an accumulator's wrap value (e.g. 99999999.99 kWh), NULL when it never wraps.
points = Table(
    "points",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tag", String(128), nullable=False, unique=True),
    Column("device", String(64), nullable=False),
    Column("name", String(64), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("unit", String(16), nullable=False, server_default=""),
    Column("kind", String(16), nullable=False, server_default="telemetry"),
    Column("category", String(32), nullable=False, server_default=""),
    Column("medium", String(32), nullable=False, server_default=""),
    Column("area", String(64), nullable=False, server_default=""),
    Column("rollover", Float, nullable=True),
)

#: Raw samples: (point, ts ms UTC) is unique, which makes every write idempotent.
#: ``value`` is NULL when the point never had a good value; ``quality`` is app.points.Quality.
samples = Table(
    "samples",
    metadata,
    Column("point_id", Integer, nullable=False),  # points.id; no foreign key (see migration 0002)
    Column("ts", BigInteger, nullable=False),
    Column("value", Float, nullable=True),
    Column("quality", SmallInteger, nullable=False),
    PrimaryKeyConstraint("point_id", "ts"),
    sqlite_with_rowid=False,
)

#: Operator-visible events (alarms, state changes, control outcomes, system events).
#: ``uid`` is unique per event (db.event_rows), which makes every event insert idempotent.
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uid", String(64), nullable=False, unique=True),
    Column("ts", BigInteger, nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("source", String(128), nullable=False, server_default=""),
    Column("area", String(64), nullable=False, server_default=""),
    Column("priority", SmallInteger, nullable=False, server_default="0"),
    Column("message", Text, nullable=False, server_default=""),
    Column("user", String(64), nullable=False, server_default=""),
    Column("workstation", String(64), nullable=False, server_default=""),
    Column("data", JSON, nullable=True),
)

#: The audit trail lives in :mod:`db.security_schema` (``audit_log``, hash-chained;
#: migration 0003 replaced 0001's ``audit`` table).

#: Aggregates per point, interval ('15min' | '1h' | '1d') and bucket start (ms UTC; days
#: are UTC days — grouping by the site's local day is the analysis layer's job).
#: ``sum``/``count``/``min``/``max`` cover GOOD samples; ``consumption`` is the summed
#: delta between consecutive accumulator readings ending in the bucket (NULL otherwise);
#: ``quality`` is the worst quality of any sample in the bucket. A bucket has a row
#: when it holds at least one GOOD sample. Rollups are a pure function of ``samples``:
#: '15min' buckets are recomputed from samples, '1h' from '15min', '1d' from '1h'.
rollups = Table(
    "rollups",
    metadata,
    Column("point_id", Integer, ForeignKey("points.id"), nullable=False),
    Column("interval", String(8), nullable=False),
    Column("bucket", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
    Column("sum", Float, nullable=False),
    Column("min", Float, nullable=False),
    Column("max", Float, nullable=False),
    Column("consumption", Float, nullable=True),
    Column("quality", SmallInteger, nullable=False, server_default="0"),
    PrimaryKeyConstraint("point_id", "interval", "bucket"),
    sqlite_with_rowid=False,
)

#: 15-minute buckets (point, bucket start ms UTC) written to since they were last folded
#: into ``rollups``; filled by every write, emptied by the historian's fold step.
rollup_dirty = Table(
    "rollup_dirty",
    metadata,
    Column("point_id", Integer, primary_key=True, autoincrement=False),
    Column("bucket", BigInteger, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,
)

#: Rollup intervals and their widths in milliseconds.
INTERVALS: dict[str, int] = {"15min": 900_000, "1h": 3_600_000, "1d": 86_400_000}

# The users, permissions and hash-chained audit tables live in their own module, declared on this
# metadata; importing it here keeps the metadata (and Alembic's comparison) complete.
from db import security_schema as _security_schema  # noqa: E402,F401
