"""Initial historian schema: points, samples, events, audit, rollups, rollup_state.

Revision ID: 0001
Revises:
Create Date: 2025-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "points",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tag", sa.String(128), nullable=False),
        sa.Column("device", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("unit", sa.String(16), server_default="", nullable=False),
        sa.Column("kind", sa.String(16), server_default="telemetry", nullable=False),
        sa.Column("category", sa.String(32), server_default="", nullable=False),
        sa.Column("medium", sa.String(32), server_default="", nullable=False),
        sa.Column("area", sa.String(64), server_default="", nullable=False),
        sa.Column("rollover", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_points"),
        sa.UniqueConstraint("tag", name="uq_points_tag"),
    )
    op.create_table(
        "samples",
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("quality", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(["point_id"], ["points.id"], name="fk_samples_point_id_points"),
        sa.PrimaryKeyConstraint("point_id", "ts", name="pk_samples"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("source", sa.String(128), server_default="", nullable=False),
        sa.Column("area", sa.String(64), server_default="", nullable=False),
        sa.Column("priority", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.Column("user", sa.String(64), server_default="", nullable=False),
        sa.Column("workstation", sa.String(64), server_default="", nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_ts", "events", ["ts"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("workstation", sa.String(64), server_default="", nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(128), server_default="", nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("result", sa.String(64), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
    )
    op.create_index("ix_audit_ts", "audit", ["ts"])
    op.create_table(
        "rollups",
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("interval", sa.String(8), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("sum", sa.Float(), nullable=False),
        sa.Column("min", sa.Float(), nullable=False),
        sa.Column("max", sa.Float(), nullable=False),
        sa.Column("consumption", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["point_id"], ["points.id"], name="fk_rollups_point_id_points"),
        sa.PrimaryKeyConstraint("point_id", "interval", "bucket", name="pk_rollups"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "rollup_state",
        sa.Column("point_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_ts", sa.BigInteger(), nullable=False),
        sa.Column("last_value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["point_id"], ["points.id"], name="fk_rollup_state_point_id_points"),
        sa.PrimaryKeyConstraint("point_id", name="pk_rollup_state"),
    )


def downgrade() -> None:
    op.drop_table("rollup_state")
    op.drop_table("rollups")
    op.drop_index("ix_audit_ts", table_name="audit")
    op.drop_table("audit")
    op.drop_index("ix_events_ts", table_name="events")
    op.drop_table("events")
    op.drop_table("samples")
    op.drop_table("points")
