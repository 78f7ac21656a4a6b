"""Users, role permissions and the hash-chained audit log.

Creates ``users``, ``role_permissions`` (with the default grants of the operator and
viewer roles; the administrator may do everything and has no rows), ``audit_log``
and ``audit_head``. The minimal ``audit`` table of 0001 is superseded: its rows are
carried into the chain in ``id`` order, then it is dropped.

Revision ID: 0003
Revises: 0002
Create Date: 2025-11-26
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from db.security_schema import GENESIS_HASH, canonical_json, chain_hash

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: Grants at creation (role, permission, scope), as seed 000 gives them: the operator
#: views, controls and acknowledges; the viewer only views.
DEFAULT_GRANTS = [
    ("operator", "view", "*"),
    ("operator", "control", "*"),
    ("operator", "acknowledge", "*"),
    ("viewer", "view", "*"),
]

_old_audit = sa.table(
    "audit", sa.column("id", sa.Integer), sa.column("ts", sa.BigInteger), sa.column("user", sa.String),
    sa.column("workstation", sa.String), sa.column("action", sa.String), sa.column("target", sa.String),
    sa.column("before", sa.JSON), sa.column("after", sa.JSON), sa.column("result", sa.String),
)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("full_name", sa.Text(), server_default="", nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.BigInteger(), nullable=True),
        sa.Column("created_ts", sa.BigInteger(), nullable=False),
        sa.Column("password_ts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    grants = op.create_table(
        "role_permissions",
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("permission", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("role", "permission", "scope", name="pk_role_permissions"),
    )
    op.bulk_insert(grants, [{"role": r, "permission": p, "scope": s} for r, p, s in DEFAULT_GRANTS])
    log = op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("user", sa.Text(), nullable=False),
        sa.Column("workstation", sa.Text(), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("result", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_ts", "audit_log", ["ts"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )

    rows = []
    prev = GENESIS_HASH
    for seq, old in enumerate(op.get_bind().execute(sa.select(_old_audit).order_by(_old_audit.c.id)), start=1):
        fields = {"seq": seq, "ts": int(old.ts), "user": old.user, "workstation": old.workstation or "",
                  "action": old.action, "target": old.target or "", "before": canonical_json(old.before),
                  "after": canonical_json(old.after), "result": old.result or ""}
        fields["prev_hash"] = prev
        fields["hash"] = prev = chain_hash(**fields)
        rows.append(fields)
    if rows:
        op.bulk_insert(log, rows)
    op.bulk_insert(head, [{"id": 1, "seq": len(rows), "hash": prev}])
    op.drop_index("ix_audit_ts", table_name="audit")
    op.drop_table("audit")


def downgrade() -> None:
    # The 0001 table holds shorter fields: longer user/workstation/target text is cut.
    old = op.create_table(
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
    log = sa.table("audit_log", *(sa.column(c) for c in
                                  ("seq", "ts", "user", "workstation", "action", "target", "before", "after",
                                   "result")))
    rows = [{"id": r.seq, "ts": r.ts, "user": r.user[:64], "workstation": r.workstation[:64], "action": r.action,
             "target": r.target[:128], "before": json.loads(r.before), "after": json.loads(r.after),
             "result": r.result} for r in op.get_bind().execute(sa.select(log).order_by(log.c.seq))]
    if rows:
        op.bulk_insert(old, rows)
    op.drop_table("audit_head")
    op.drop_index("ix_audit_log_ts", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("role_permissions")
    op.drop_table("users")
