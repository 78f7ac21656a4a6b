"""The audit log: who did what, when, where, before and after — append-only, hash-chained.

Every record carries the SHA-256 of its predecessor (:func:`db.security_schema.chain_hash`),
and ``audit_head`` holds the newest record's number and hash, updated in the same
transaction. :meth:`AuditLog.verify` walks the chain and reports every edited,
inserted or deleted record. Appending takes the database's write lock on
``audit_head`` first, so workstations sharing a PostgreSQL database append one at a
time and the chain stays linear.

Text fields are stored exactly as given (any Unicode, markup, SQL, format strings):
they are bound parameters, never part of a statement, and never formatted.
"""

from __future__ import annotations

import json
import logging
import shutil
import socket
import time
from collections.abc import Iterator
from typing import Any, NamedTuple

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from db.engine import make_engine, sqlite_path
from db.security_schema import GENESIS_HASH, audit_head, audit_log, canonical_json, chain_hash

log = logging.getLogger(__name__)

#: Fraction of the audit storage limit at which :meth:`AuditLog.storage` warns.
WARN_FRACTION = 0.8
#: Default audit storage limit, bytes.
DEFAULT_LIMIT_BYTES = 2 * 1024**3
#: Free disk space (SQLite edition) below which :meth:`AuditLog.storage` warns, bytes.
DEFAULT_MIN_FREE_BYTES = 1024**3
#: Bytes counted per record on top of its text (keys, hashes, index entries).
RECORD_OVERHEAD_BYTES = 200


class AuditStoreError(RuntimeError):
    """The audit log cannot be read or written; the message says what and how to fix it."""


class AuditRecord(NamedTuple):
    """One audit record.

    Attributes
    ----------
    seq : int
        Position in the chain, from 1.
    ts : float
        UTC epoch seconds (stored as milliseconds).
    user : str
        Who acted (a user name, ``cli:<os user>`` or ``system``), verbatim.
    workstation : str
        Host the action came from.
    action : str
        What was done, e.g. ``login``, ``login.failed``, ``control.operate``, ``user.add``.
    target : str
        What it was done to (user name, point tag, alarm id, setting), verbatim.
    before, after : Any
        JSON values: the state before and after (``None`` when not applicable).
    result : str
        ``ok``, ``denied``, ``failed``, ``locked``, ...
    prev_hash, hash : str
        The chain: the predecessor's hash and this record's (hex SHA-256).
    """

    seq: int
    ts: float
    user: str
    workstation: str
    action: str
    target: str
    before: Any
    after: Any
    result: str
    prev_hash: str
    hash: str


class AuditProblem(NamedTuple):
    """A break in the chain found by :meth:`AuditLog.verify`.

    Attributes
    ----------
    seq : int
        The record where the break shows.
    kind : str
        ``edited`` (its hash does not match its content), ``link`` (its predecessor is
        not the record it was chained to: a record before it was deleted, inserted or
        re-hashed), ``gap`` (numbers are missing: records deleted), ``head`` (the
        newest records were deleted, or the head was altered).
    detail : str
        Human-readable explanation.
    """

    seq: int
    kind: str
    detail: str


class VerifyReport(NamedTuple):
    """Outcome of :meth:`AuditLog.verify`: ``ok`` when ``problems`` is empty."""

    records: int
    head_seq: int
    head_hash: str
    problems: list[AuditProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


class AuditStorage(NamedTuple):
    """How much room the audit log takes and whether to warn.

    Attributes
    ----------
    records : int
    bytes_used : int
        PostgreSQL: the table's size on disk with its indexes; SQLite: the records' text
        plus :data:`RECORD_OVERHEAD_BYTES` each.
    limit_bytes : int
    free_bytes : int | None
        Free space on the SQLite file's disk (``None`` on PostgreSQL).
    near_limit : bool
        ``bytes_used >= WARN_FRACTION * limit_bytes``, or free disk below the minimum.
    """

    records: int
    bytes_used: int
    limit_bytes: int
    free_bytes: int | None
    near_limit: bool

    @property
    def disk_low(self) -> bool:
        """Whether the warning is for the disk (free space low) rather than the audit log's own size."""
        return self.near_limit and self.bytes_used < WARN_FRACTION * self.limit_bytes

    def warning(self) -> str | None:
        """The warning to print or log (English), or ``None`` when there is room."""
        if not self.near_limit:
            return None
        text = (f"audit storage near its limit: {_mib(self.bytes_used)} of {_mib(self.limit_bytes)} used "
                f"by {self.records} records")
        if self.free_bytes is not None:
            text += f", {_mib(self.free_bytes)} free on disk"
        return text + "; audit records are never pruned: archive them (wattdesk audit export) and add room"


def _mib(n: int) -> str:
    return f"{n / 1024**2:.1f} MiB"


def log_storage(db_url: str, limit_bytes: int | None = None, min_free_bytes: int | None = None) -> AuditStorage | None:
    """Check the audit storage of ``db_url`` and log a warning when it nears its limit.

    Called when the collector starts (the workstation checks in its status bar). A
    database that cannot be checked is logged too, never raised: starting acquisition
    matters more.

    Parameters
    ----------
    db_url : str
    limit_bytes, min_free_bytes : int, optional
        See :class:`AuditLog`.

    Returns
    -------
    AuditStorage or None
        ``None`` when the audit log could not be read.
    """
    engine = make_engine(db_url)
    try:
        storage = AuditLog(engine, "", limit_bytes=limit_bytes, min_free_bytes=min_free_bytes).storage()
    except AuditStoreError as err:
        log.warning("audit storage not checked: %s", err)
        return None
    finally:
        engine.dispose()
    warning = storage.warning()
    if warning:
        log.warning("%s", warning)
    return storage


def _missing_tables(err: SQLAlchemyError) -> AuditStoreError:
    return AuditStoreError(f"audit log unavailable ({type(err).__name__}: {err.args[0] if err.args else err}); "
                           "if the database predates the audit log, run: wattdesk db upgrade")


class AuditLog:
    """Append and verify the audit chain in one database.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        SQLite or PostgreSQL, migrated to 0003 or later.
    workstation : str, optional
        Recorded with every append unless given per call; default the host name.
    clock : callable
        UTC epoch seconds now.
    limit_bytes : int, optional
        Storage the audit log may take; :meth:`storage` warns at :data:`WARN_FRACTION` of it.
        Default :data:`DEFAULT_LIMIT_BYTES`.
    min_free_bytes : int, optional
        Free disk space (SQLite edition) below which :meth:`storage` warns. Default
        :data:`DEFAULT_MIN_FREE_BYTES`.
    """

    def __init__(self, engine: Engine, workstation: str | None = None, clock: Any = time.time,
                 limit_bytes: int | None = None, min_free_bytes: int | None = None) -> None:
        self.engine = engine
        self.workstation = workstation if workstation is not None else socket.gethostname()
        self._clock = clock
        self.limit_bytes = DEFAULT_LIMIT_BYTES if limit_bytes is None else limit_bytes
        self.min_free_bytes = DEFAULT_MIN_FREE_BYTES if min_free_bytes is None else min_free_bytes

    def append(self, user: str, action: str, target: str = "", *, before: Any = None, after: Any = None,
               result: str = "ok", workstation: str | None = None) -> AuditRecord:
        """Append one record and return it (committed when this returns).

        Parameters
        ----------
        user, action, target, result : str
            Stored verbatim.
        before, after : Any
            JSON-representable values (dict, list, str, number, bool, None).
        workstation : str, optional
            Default :attr:`workstation`.

        Raises
        ------
        TypeError
            ``before``/``after`` cannot be represented as JSON.
        AuditStoreError
            The database cannot be written or has no audit tables.
        """
        before_text, after_text = canonical_json(before), canonical_json(after)
        ts = int(round(self._clock() * 1000))
        ws = self.workstation if workstation is None else workstation
        try:
            with self.engine.begin() as conn:
                # The UPDATE takes the write lock first: concurrent appenders queue here.
                conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=audit_head.c.seq + 1))
                head = conn.execute(select(audit_head.c.seq, audit_head.c.hash)
                                    .where(audit_head.c.id == 1)).one_or_none()
                if head is None:
                    raise AuditStoreError("audit_head has no row: the audit tables were not created by "
                                          "wattdesk db upgrade")
                fields = {"seq": head.seq, "ts": ts, "user": user, "workstation": ws, "action": action,
                          "target": target, "before": before_text, "after": after_text, "result": result,
                          "prev_hash": head.hash}
                fields["hash"] = chain_hash(**fields)
                conn.execute(audit_log.insert().values(**fields))
                conn.execute(update(audit_head).where(audit_head.c.id == 1).values(hash=fields["hash"]))
        except SQLAlchemyError as err:
            raise _missing_tables(err) from None
        return _record(fields)

    def records(self, since: float | None = None, until: float | None = None,
                limit: int | None = None) -> list[AuditRecord]:
        """Records in chain order, optionally within ``[since, until)`` (UTC epoch seconds).

        Raises
        ------
        AuditStoreError
        """
        query = select(audit_log).order_by(audit_log.c.seq)
        if since is not None:
            query = query.where(audit_log.c.ts >= int(round(since * 1000)))
        if until is not None:
            query = query.where(audit_log.c.ts < int(round(until * 1000)))
        if limit is not None:
            query = query.limit(limit)
        try:
            with self.engine.connect() as conn:
                return [_record(row._mapping) for row in conn.execute(query)]
        except SQLAlchemyError as err:
            raise _missing_tables(err) from None

    def last_logins(self) -> dict[str, float]:
        """When each user last logged in or unlocked a session (theirs, or taking over another's):
        ``{name: UTC epoch seconds}`` from the newest ``login``/``unlock`` record with result ``ok``
        (users who never did are absent; failed attempts and emergency access do not count).

        Reads the whole chain (no index on ``action``): for the users view, not a hot path.

        Raises
        ------
        AuditStoreError
        """
        c = audit_log.c
        query = (select(c.target, func.max(c.ts)).where(c.action.in_(("login", "unlock")), c.result == "ok")
                 .group_by(c.target))
        try:
            with self.engine.connect() as conn:
                return {name: ts / 1000.0 for name, ts in conn.execute(query)}
        except SQLAlchemyError as err:
            raise _missing_tables(err) from None

    def verify(self) -> VerifyReport:
        """Walk the whole chain and report every break.

        Returns
        -------
        VerifyReport
            ``ok`` when every record's hash matches its content, each links to the one
            before, numbers run 1, 2, 3 ... without gaps, and ``audit_head`` names the last.

        Raises
        ------
        AuditStoreError
        """
        problems: list[AuditProblem] = []
        expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
        try:
            with self.engine.connect() as conn:
                head = conn.execute(select(audit_head.c.seq, audit_head.c.hash)
                                    .where(audit_head.c.id == 1)).one_or_none()
                rows = conn.execution_options(yield_per=2000).execute(select(audit_log).order_by(audit_log.c.seq))
                for row in rows:
                    count += 1
                    problems.extend(_check_row(row._mapping, expected_seq, prev_hash))
                    expected_seq, prev_hash = row.seq + 1, row.hash
        except SQLAlchemyError as err:
            raise _missing_tables(err) from None
        last_seq = expected_seq - 1
        if head is None:
            problems.append(AuditProblem(last_seq, "head", "audit_head has no row"))
            return VerifyReport(count, last_seq, prev_hash, problems)
        if head.seq != last_seq or head.hash != prev_hash:
            if head.seq > last_seq:
                detail = (f"the head names record {head.seq} but the log ends at {last_seq}: "
                          f"{head.seq - last_seq} newest record(s) deleted")
            else:
                detail = (f"the head names record {head.seq} ({head.hash[:12]}…) but the log ends at "
                          f"{last_seq} ({prev_hash[:12]}…): records appended or altered outside the log")
            problems.append(AuditProblem(last_seq, "head", detail))
        return VerifyReport(count, head.seq, head.hash, problems)

    def storage(self, limit_bytes: int | None = None, min_free_bytes: int | None = None) -> AuditStorage:
        """How much room the audit log takes, and whether it nears ``limit_bytes``.

        Parameters
        ----------
        limit_bytes, min_free_bytes : int, optional
            Default :attr:`limit_bytes` and :attr:`min_free_bytes`.

        Raises
        ------
        AuditStoreError
        """
        limit_bytes = self.limit_bytes if limit_bytes is None else limit_bytes
        min_free_bytes = self.min_free_bytes if min_free_bytes is None else min_free_bytes
        c = audit_log.c
        try:
            with self.engine.connect() as conn:
                if conn.dialect.name == "postgresql":
                    records = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
                    used = conn.execute(select(func.pg_total_relation_size("audit_log"))).scalar_one()
                    free = None
                else:
                    text_len = (func.length(c.user) + func.length(c.workstation) + func.length(c.action)
                                + func.length(c.target) + func.length(c.before) + func.length(c.after)
                                + func.length(c.result) + RECORD_OVERHEAD_BYTES)
                    records, used = conn.execute(select(func.count(), func.coalesce(func.sum(text_len), 0))
                                                 .select_from(audit_log)).one()
                    free = shutil.disk_usage(sqlite_path(self.engine.url).parent).free
        except SQLAlchemyError as err:
            raise _missing_tables(err) from None
        near = used >= WARN_FRACTION * limit_bytes or (free is not None and free < min_free_bytes)
        return AuditStorage(int(records), int(used), limit_bytes, free, near)


def _check_row(row: Any, expected_seq: int, prev_hash: str) -> Iterator[AuditProblem]:
    seq = row["seq"]
    if seq != expected_seq:
        yield AuditProblem(seq, "gap", f"record {seq} follows record {expected_seq - 1}: "
                                       f"record(s) {expected_seq}..{seq - 1} deleted")
    if row["prev_hash"] != prev_hash:
        yield AuditProblem(seq, "link", f"record {seq} was chained to {row['prev_hash'][:12]}… but follows "
                                        f"{prev_hash[:12]}…: a record before it was deleted, inserted or "
                                        "re-hashed")
    fields = {k: row[k] for k in ("seq", "ts", "user", "workstation", "action", "target", "before", "after",
                                  "result", "prev_hash")}
    if chain_hash(**fields) != row["hash"]:
        yield AuditProblem(seq, "edited", f"record {seq} does not match its hash: its content was edited "
                                          "(or it was inserted by hand)")


def _record(row: Any) -> AuditRecord:
    return AuditRecord(row["seq"], row["ts"] / 1000.0, row["user"], row["workstation"], row["action"],
                       row["target"], json.loads(row["before"]), json.loads(row["after"]), row["result"],
                       row["prev_hash"], row["hash"])
