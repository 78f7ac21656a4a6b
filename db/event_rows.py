"""Journal events as the historian stores them: validation of submitted rows, and read filters.

A submitted event is a dict shaped as :meth:`app.alarms.AlarmEvent.to_row` gives it
(``ts`` int ms UTC, ``kind``, ``source``, ``area``, ``priority``, ``message``, ``user``,
``workstation``, ``data`` a JSON-serialisable dict or None), optionally with a ``uid``.
:func:`clean_event` checks it against the ``events`` table's columns and turns it into an
:class:`EventRow`, the form queued in memory, spooled to disk and inserted.

Every event has a unique ``uid`` (``events.uid``, UNIQUE): the producer's, or a fresh
UUID given by :func:`clean_event` before the event's first write. The insert skips a
``uid`` already stored, so an event written again — replayed from the spool after a
commit whose acknowledgement was lost, or submitted twice — is stored once.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

#: Longest text per ``events`` column (db.schema.events); ``message`` is unbounded.
_LENGTHS = {"uid": 64, "kind": 32, "source": 128, "area": 64, "user": 64, "workstation": 64}
#: Columns of the ``events`` table in insert order, :class:`EventRow`'s fields (``id`` is
#: assigned by the database).
COLUMNS = ("uid", "ts", "kind", "source", "area", "priority", "message", "user", "workstation", "data")
#: Columns a journal read returns (:func:`row_dict`): the submitted shape, without ``uid``.
READ_COLUMNS = COLUMNS[1:]


class EventRow(NamedTuple):
    """One journal event ready to insert.

    Attributes
    ----------
    uid : str
        The event's unique id, 1..64 characters (a UUID unless the producer gave one).
    ts : int
        Milliseconds since the epoch, UTC.
    kind : str
        ``events.kind`` (e.g. ``"alarm_raised"``), 1..32 characters.
    source, area, user, workstation : str
        Tag / device / area id, area id, who acted, where (<= 128, 64, 64, 64 characters).
    priority : int
        0..4 (0: flood and system events).
    message : str
    data : str | None
        The ``data`` dict as JSON text, or None.
    """

    uid: str
    ts: int
    kind: str
    source: str
    area: str
    priority: int
    message: str
    user: str
    workstation: str
    data: str | None


def clean_event(row: Mapping[str, Any]) -> EventRow:
    """Validate one submitted event row.

    Parameters
    ----------
    row : Mapping
        Keys as :data:`COLUMNS`; only ``ts`` and ``kind`` are required (text fields
        default to ``""``, ``priority`` to 0, ``data`` to None, ``uid`` to a new UUID).

    Returns
    -------
    EventRow

    Raises
    ------
    ValueError
        A missing or empty ``kind``, ``ts`` not a finite number, ``priority`` not 0..4,
        a text field not a string or longer than its column, ``data`` not a JSON object,
        ``uid`` given but not a non-empty string of at most 64 characters.
    """
    if not isinstance(row, Mapping):
        raise ValueError(f"event must be a mapping, got {type(row).__name__}")
    try:
        ts_raw = row["ts"]
        kind = row["kind"]
    except KeyError as err:
        raise ValueError(f"event {row!r} lacks {err.args[0]!r}") from None
    if isinstance(ts_raw, bool) or not isinstance(ts_raw, (int, float)) or not math.isfinite(ts_raw):
        raise ValueError(f"event ts {ts_raw!r} is not a finite number of ms")
    texts: dict[str, str] = {}
    for name in ("kind", "source", "area", "user", "workstation", "message"):
        value = row.get(name, "") if name != "kind" else kind
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise ValueError(f"event {name} {value!r} is not a string")
        limit = _LENGTHS.get(name)
        if limit is not None and len(value) > limit:
            raise ValueError(f"event {name} {value[:40]!r}... is {len(value)} characters, at most {limit}")
        texts[name] = value
    if not texts["kind"]:
        raise ValueError("event kind is empty")
    uid = row.get("uid")
    if uid is None:
        uid = str(uuid.uuid4())
    elif not isinstance(uid, str) or not 1 <= len(uid) <= _LENGTHS["uid"]:
        raise ValueError(f"event uid {uid!r} is not a string of 1..{_LENGTHS['uid']} characters")
    priority = row.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 4:
        raise ValueError(f"event priority {priority!r} is not 0..4")
    data = row.get("data")
    if data is not None and not isinstance(data, Mapping):
        raise ValueError(f"event data {data!r} is not a mapping")
    try:
        data_json = None if data is None else json.dumps(data, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"event data is not JSON-serialisable: {err}") from None
    return EventRow(uid, int(round(ts_raw)), texts["kind"], texts["source"], texts["area"], priority,
                    texts["message"], texts["user"], texts["workstation"], data_json)


def row_dict(values: tuple[Any, ...]) -> dict[str, Any]:
    """A read row ``(ts, kind, source, area, priority, message, user, workstation, data)`` as a dict.

    ``data`` comes back as a dict (SQLite returns JSON text, psycopg a parsed value).
    """
    out = dict(zip(READ_COLUMNS, values))
    out["ts"] = int(out["ts"])
    data = out["data"]
    out["data"] = json.loads(data) if isinstance(data, (str, bytes)) else data
    return out


@dataclass(frozen=True)
class EventQuery:
    """Filters of a journal read (see :meth:`db.historian.Historian.read_events`).

    Attributes
    ----------
    t0_ms, t1_ms : int
        ``t0_ms <= ts < t1_ms``, ms UTC.
    areas, kinds : tuple of str or None
        None: no filter; empty: nothing matches.
    priorities : tuple of int or None
    text : str
        Lower-case substring of source, message or ``data.alarm_id``; empty: no filter.
    limit : int
        Most rows, newest first.
    """

    t0_ms: int
    t1_ms: int
    areas: tuple[str, ...] | None = None
    priorities: tuple[int, ...] | None = None
    kinds: tuple[str, ...] | None = None
    text: str = ""
    limit: int = 10_000

    @classmethod
    def build(cls, t0: float, t1: float, *, areas: Collection[str] | None, priorities: Collection[int] | None,
              kinds: Collection[str] | None, text: str | None, limit: int) -> EventQuery:
        """Normalise the public arguments (epoch s) into a query.

        Raises
        ------
        ValueError
            ``limit < 1`` or a non-finite time.
        """
        if not (math.isfinite(t0) and math.isfinite(t1)):
            raise ValueError(f"read_events: times must be finite, got t0={t0!r}, t1={t1!r}")
        if limit < 1:
            raise ValueError(f"read_events: limit must be >= 1, got {limit!r}")
        return cls(round(t0 * 1000), round(t1 * 1000),
                   None if areas is None else tuple(sorted(set(areas))),
                   None if priorities is None else tuple(sorted({int(p) for p in priorities})),
                   None if kinds is None else tuple(sorted(set(kinds))),
                   (text or "").strip().lower(), int(limit))

    def matches_nothing(self) -> bool:
        """True when an empty filter collection rules every row out."""
        return any(f is not None and not f for f in (self.areas, self.priorities, self.kinds)) \
            or self.t1_ms <= self.t0_ms
