"""Reading the alarm journal back: every event of some kinds over a period, page by page.

The health figures (:mod:`app.alarms.health`), the engine taking up the alarms of its
previous run and the notifier taking up pending escalations all read the historian's
journal through :func:`read_journal`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from app.alarms.contracts import JournalRead

#: How far back a restarted engine and notifier look for the alarms of their previous run.
RESUME_LOOKBACK_S = 7 * 86400.0


def read_journal(read_events: JournalRead, t0: float, t1: float, kinds: Collection[str], *,
                 page: int = 10_000) -> list[dict[str, Any]]:
    """Every journal event of ``kinds`` with ``t0 <= ts < t1``, oldest first.

    Parameters
    ----------
    read_events : JournalRead
        The historian's read (rows newest first, ``ts`` in ms UTC, at most ``limit``).
    t0, t1 : float
        UTC epoch seconds.
    kinds : collection of str
        :class:`~app.alarms.contracts.EventKind` values.
    page : int
        Rows per read.

    Raises
    ------
    ValueError
        More than ``page`` events in one millisecond (they cannot be paged through).
    Exception
        Whatever ``read_events`` raises (the historian's ``HistorianError``) passes through.
    """
    rows: list[dict[str, Any]] = []
    while True:
        chunk = read_events(t0, t1, kinds=tuple(kinds), limit=page)
        if len(chunk) < page:
            rows += chunk
            break
        oldest = chunk[-1]["ts"]
        newer = [r for r in chunk if r["ts"] > oldest]
        if not newer:
            raise ValueError(f"more than {page} journal events at {oldest} ms: cannot page through them")
        rows += newer
        t1 = (oldest + 1) / 1000.0           # the next page starts with every event of that millisecond
    rows.reverse()
    return rows
