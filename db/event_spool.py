"""The journal's disk queue: events waiting for the database, in order, across restarts.

A directory of segment files ``<sequence>-<rows>.jsonl``, one :class:`~db.event_rows.EventRow`
per line as a JSON array. Written to a temporary name, flushed to disk and renamed, so a
crash never leaves half a segment under a segment's name; consumed oldest first and
deleted only after their rows were committed. Same discipline as :class:`db.spool.Spool`.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

from db.event_rows import EventRow

log = logging.getLogger(__name__)

_SEGMENT = re.compile(r"^(\d{16})-(\d+)\.jsonl$")


class EventSpool:
    """Ordered, durable queue of :class:`EventRow` batches in ``directory`` (one thread at a time).

    Parameters
    ----------
    directory : Path
        Created if missing; segments left by an earlier process are picked up.

    Raises
    ------
    OSError
        If the directory cannot be created.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        for stale in self.directory.glob("*.tmp"):
            stale.unlink(missing_ok=True)
        self._segments: list[tuple[int, int, Path]] = sorted(
            (int(m[1]), int(m[2]), p) for p in self.directory.iterdir() if (m := _SEGMENT.match(p.name)))
        self._next_seq = self._segments[-1][0] + 1 if self._segments else 0
        self.rows = sum(n for _, n, _ in self._segments)

    def __len__(self) -> int:
        """Number of segments waiting."""
        return len(self._segments)

    def append(self, rows: Sequence[EventRow]) -> None:
        """Write ``rows`` as the newest segment (durable when this returns).

        Raises
        ------
        OSError
            Disk full, permission denied ...; nothing was added.
        """
        if not rows:
            return
        seq = self._next_seq
        path = self.directory / f"{seq:016d}-{len(rows)}.jsonl"
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(list(row), ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        self._next_seq = seq + 1
        self._segments.append((seq, len(rows), path))
        self.rows += len(rows)

    def peek(self) -> tuple[int, list[EventRow]] | None:
        """(sequence, rows) of the oldest readable segment, or None; unreadable ones become ``*.bad``."""
        while self._segments:
            seq, n, path = self._segments[0]
            try:
                with open(path, encoding="utf-8") as f:
                    rows = [EventRow(*json.loads(line)) for line in f if line.strip()]
                if len(rows) != n:
                    raise ValueError(f"holds {len(rows)} rows, its name says {n}")
                return seq, rows
            except (OSError, ValueError, TypeError) as err:
                log.error("event spool segment %s is unreadable (%s); renamed to .bad", path, err)
                self._segments.pop(0)
                self.rows -= n
                try:
                    path.rename(path.with_suffix(".bad"))
                except OSError:
                    pass
        return None

    def pop(self, seq: int) -> None:
        """Delete segment ``seq`` (the oldest) after its rows were committed."""
        if self._segments and self._segments[0][0] == seq:
            _, n, path = self._segments.pop(0)
            self.rows -= n
            path.unlink(missing_ok=True)
