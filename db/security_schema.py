"""Tables of users, role permissions and the hash-chained audit log (SQLAlchemy Core).

The tables are declared on the historian's :data:`db.schema.metadata`, so Alembic and
the schema comparison see one schema; they are created by migration
``0003_security``. Times are INTEGER epoch milliseconds, UTC.

The audit log is a hash chain: record ``seq`` stores ``prev_hash`` (the ``hash`` of
record ``seq - 1``; :data:`GENESIS_HASH` for the first) and its own ``hash`` =
:func:`chain_hash` of its fields. ``audit_head`` holds the newest ``seq`` and ``hash``
and is updated in the same transaction as every append, so deleting the newest
records is detected too. ``before``/``after`` are canonical JSON text (:func:`canonical_json`)
so the hashed bytes are exactly the stored bytes on every backend.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Integer, String, Table, Text, false

from db.schema import metadata

#: ``prev_hash`` of the first audit record.
GENESIS_HASH = "0" * 64
#: Longest user name, characters.
USER_NAME_MAX = 64

#: One row per user account. ``password_hash`` is an Argon2id PHC string;
#: ``failed_logins`` counts consecutive failures; ``locked_until`` (ms UTC) is set when
#: they reach the lockout threshold; ``disabled`` accounts cannot log in.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(USER_NAME_MAX), nullable=False, unique=True),
    Column("full_name", Text, nullable=False, server_default=""),
    Column("role", String(32), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=false()),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", BigInteger, nullable=True),
    Column("created_ts", BigInteger, nullable=False),
    Column("password_ts", BigInteger, nullable=False),
)

#: What each role may do: ``permission`` (app.security.Permission value) within
#: ``scope`` (an area id, or ``"*"`` for every area and for permissions without area).
#: The administrator role may do everything and has no rows.
role_permissions = Table(
    "role_permissions",
    metadata,
    Column("role", String(32), primary_key=True),
    Column("permission", String(32), primary_key=True),
    Column("scope", String(64), primary_key=True),
)

#: The audit trail, append-only and hash-chained; never pruned by retention.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("ts", BigInteger, nullable=False, index=True),
    Column("user", Text, nullable=False),
    Column("workstation", Text, nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", Text, nullable=False),
    Column("before", Text, nullable=False),
    Column("after", Text, nullable=False),
    Column("result", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

#: The chain's newest record: exactly one row, ``id`` = 1 (``seq`` 0 and
#: :data:`GENESIS_HASH` while the log is empty).
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)


def canonical_json(value: Any) -> str:
    """``value`` as canonical JSON text: sorted keys, no spaces, non-ASCII kept.

    Raises
    ------
    TypeError
        ``value`` holds something JSON cannot represent.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def chain_hash(seq: int, ts: int, user: str, workstation: str, action: str, target: str,
               before: str, after: str, result: str, prev_hash: str) -> str:
    """SHA-256 (hex, 64 chars) of one audit record's fields and its predecessor's hash.

    The fields are hashed as the UTF-8 of the canonical JSON array of all arguments in
    the order given, so no choice of field contents can make two records collide.
    """
    payload = canonical_json([seq, ts, user, workstation, action, target, before, after, result, prev_hash])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
