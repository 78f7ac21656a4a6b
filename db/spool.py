"""The historian's disk queue: items waiting for the database, in order, across restarts.

A spool is a directory of segment files ``<sequence>-<rows><suffix>``, one batch each,
in the format of the spool's :class:`Encoding`:

* :data:`SAMPLES` (``.npz``, numpy ``savez``, no pickle): the arrays ``tag`` (str),
  ``ts`` (float64, epoch s UTC), ``value`` (float64, NaN for none) and ``quality`` (int8).
* :data:`EVENTS` (``.jsonl``): one :class:`~db.event_rows.EventRow` per line as a JSON
  array. Lines of nine fields, written before events had a ``uid``, are read with a
  ``uid`` derived from the line's text, so replaying such a segment twice stores it once.

A segment is written to a temporary name, flushed to disk and renamed, so a crash never
leaves half a segment under a segment's name. Segments are consumed oldest first and
deleted only after their rows were committed.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import uuid
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Generic, TypeVar

import numpy as np

from db.event_rows import EventRow

log = logging.getLogger(__name__)

#: One queued sample: (tag, ts epoch s UTC, value or None, quality 0..2).
Sample = tuple[str, float, float | None, int]

_T = TypeVar("_T")


@dataclass(frozen=True)
class Encoding(Generic[_T]):
    """How one kind of item is stored in a segment file.

    Attributes
    ----------
    suffix : str
        File name ending of a segment (``".npz"``).
    dump : callable
        ``dump(file, items)`` writes a non-empty batch to a binary file opened for writing.
    load : callable
        ``load(path)`` returns the batch in ``path``.
    errors : tuple of exception types
        What ``load`` raises for a damaged segment besides ValueError (it is then set aside).
    """

    suffix: str
    dump: Callable[[IO[bytes], Sequence[_T]], None]
    load: Callable[[Path], list[_T]]
    errors: tuple[type[Exception], ...]


def _dump_samples(f: IO[bytes], samples: Sequence[Sample]) -> None:
    tags, ts, values, quality = zip(*samples)
    np.savez(f, tag=np.array(tags, dtype=str), ts=np.array(ts, dtype=np.float64),
             value=np.array([math.nan if v is None else v for v in values], dtype=np.float64),
             quality=np.array(quality, dtype=np.int8))


def _load_samples(path: Path) -> list[Sample]:
    with np.load(path, allow_pickle=False) as z:
        tags, ts, values, quality = z["tag"], z["ts"], z["value"], z["quality"]
        if not len(tags) == len(ts) == len(values) == len(quality):
            raise ValueError(f"arrays of unequal length {len(tags)}, {len(ts)}, {len(values)}, {len(quality)}")
        return [(str(t), float(s), None if math.isnan(v) else float(v), int(q))
                for t, s, v, q in zip(tags.tolist(), ts.tolist(), values.tolist(), quality.tolist())]


#: Namespace of the ``uid`` given to event lines spooled without one (nine fields).
_UNKEYED_EVENT_NS = uuid.UUID("a89a3397-4150-4cd2-b114-c4f6dd13cf0b")


def _dump_events(f: IO[bytes], rows: Sequence[EventRow]) -> None:
    f.write("".join(json.dumps(list(row), ensure_ascii=False) + "\n" for row in rows).encode("utf-8"))


def _load_events(path: Path) -> list[EventRow]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        fields = json.loads(line)
        if len(fields) == len(EventRow._fields) - 1:  # spooled before events had a uid
            fields.insert(0, str(uuid.uuid5(_UNKEYED_EVENT_NS, line.strip())))
        rows.append(EventRow(*fields))
    return rows


#: Samples (:data:`Sample`) as numpy ``.npz`` segments.
SAMPLES: Encoding[Sample] = Encoding(".npz", _dump_samples, _load_samples,
                                     (OSError, KeyError, EOFError, zipfile.BadZipFile))
#: Journal events (:class:`~db.event_rows.EventRow`) as JSON-lines segments.
EVENTS: Encoding[EventRow] = Encoding(".jsonl", _dump_events, _load_events, (OSError, TypeError))


class Spool(Generic[_T]):
    """Ordered, durable queue of batches of items in ``directory``.

    Used by one thread at a time (the historian's writer).

    Parameters
    ----------
    directory : Path
        Created if missing. Segments left by an earlier process are picked up.
    encoding : Encoding
        :data:`SAMPLES` or :data:`EVENTS`; only segments of its suffix are read.

    Attributes
    ----------
    rows : int
        Items waiting, over all segments.

    Raises
    ------
    OSError
        If the directory cannot be created.
    """

    def __init__(self, directory: Path, encoding: Encoding[_T]) -> None:
        self.directory = Path(directory)
        self.encoding = encoding
        self.directory.mkdir(parents=True, exist_ok=True)
        for stale in self.directory.glob("*.tmp"):
            stale.unlink(missing_ok=True)
        name = re.compile(r"^(\d{16})-(\d+)" + re.escape(encoding.suffix) + "$")
        self._segments: list[tuple[int, int, Path]] = sorted(
            (int(m[1]), int(m[2]), p) for p in self.directory.iterdir() if (m := name.match(p.name)))
        self._next_seq = self._segments[-1][0] + 1 if self._segments else 0
        self.rows = sum(n for _, n, _ in self._segments)

    def __len__(self) -> int:
        """Number of segments waiting."""
        return len(self._segments)

    def append(self, items: Sequence[_T]) -> None:
        """Write ``items`` as the newest segment (durable when this returns; nothing for none).

        Raises
        ------
        OSError
            Disk full, permission denied ...; nothing was added.
        """
        if not items:
            return
        seq = self._next_seq
        path = self.directory / f"{seq:016d}-{len(items)}{self.encoding.suffix}"
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            self.encoding.dump(f, items)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        self._next_seq = seq + 1
        self._segments.append((seq, len(items), path))
        self.rows += len(items)

    def peek(self) -> tuple[int, list[_T]] | None:
        """Return (sequence, items) of the oldest readable segment, or ``None`` if empty.

        A segment that cannot be read, or holds another number of items than its name
        says, is renamed ``*.bad`` (kept for inspection), logged and skipped.
        """
        while self._segments:
            seq, n, path = self._segments[0]
            try:
                items = self.encoding.load(path)
                if len(items) != n:
                    raise ValueError(f"holds {len(items)} rows, its name says {n}")
                return seq, items
            except (ValueError, *self.encoding.errors) as err:
                log.error("spool segment %s is unreadable (%s); renamed to .bad", path, err)
                self._drop_head()
                try:
                    path.rename(path.with_suffix(".bad"))
                except OSError:
                    pass
        return None

    def pop(self, seq: int) -> None:
        """Delete segment ``seq`` (the oldest) after its rows were committed."""
        if self._segments and self._segments[0][0] == seq:
            path = self._segments[0][2]
            self._drop_head()
            path.unlink(missing_ok=True)

    def _drop_head(self) -> None:
        _, n, _ = self._segments.pop(0)
        self.rows -= n
