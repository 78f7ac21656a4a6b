"""Rollups recomputed from samples out of the write transaction.

Replaces the per-accumulator chaining state (``rollup_state``) by a queue of dirty
15-minute buckets (``rollup_dirty``), filled by every write and folded into the
rollups by the writer between batches; adds the worst quality per bucket.

Drops the foreign key of ``samples.point_id``: checking it costs PostgreSQL more than
the insert itself (a trigger query per row). Point ids come only from ``points``,
whose rows are never deleted.

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("rollup_state")
    op.create_table(
        "rollup_dirty",
        sa.Column("point_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("bucket", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("point_id", "bucket", name="pk_rollup_dirty"),
        sqlite_with_rowid=False,
    )
    op.add_column("rollups", sa.Column("quality", sa.SmallInteger(), server_default="0", nullable=False))
    with op.batch_alter_table("samples", table_kwargs={"sqlite_with_rowid": False}) as batch:
        batch.drop_constraint("fk_samples_point_id_points", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("samples", table_kwargs={"sqlite_with_rowid": False}) as batch:
        batch.create_foreign_key("fk_samples_point_id_points", "points", ["point_id"], ["id"])
    op.drop_column("rollups", "quality")
    op.drop_table("rollup_dirty")
    op.create_table(
        "rollup_state",
        sa.Column("point_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_ts", sa.BigInteger(), nullable=False),
        sa.Column("last_value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["point_id"], ["points.id"], name="fk_rollup_state_point_id_points"),
        sa.PrimaryKeyConstraint("point_id", name="pk_rollup_state"),
    )
