"""A unique id per journal event, so that writing an event again stores it once.

Adds ``events.uid`` (text, NOT NULL, UNIQUE ``uq_events_uid``). Events already stored
get ``'legacy-' || id``, unique because ``id`` is; new events carry a UUID or their
producer's id (:mod:`db.event_rows`) and are inserted with ``ON CONFLICT (uid) DO NOTHING``.

Revision ID: 0004
Revises: 0003
Create Date: 2025-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("uid", sa.String(64), nullable=True))
    op.execute("UPDATE events SET uid = 'legacy-' || CAST(id AS VARCHAR(20))")
    with op.batch_alter_table("events") as batch:
        batch.alter_column("uid", existing_type=sa.String(64), nullable=False)
        batch.create_unique_constraint("uq_events_uid", ["uid"])


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint("uq_events_uid", type_="unique")
        batch.drop_column("uid")
