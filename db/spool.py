"""The historian's disk queue: samples waiting for the database, in order, across restarts.

A spool is a directory of segment files ``<sequence>-<rows>.npz`` (numpy ``savez``, no
pickle) holding the arrays ``tag`` (str), ``ts`` (float64, epoch s UTC), ``value``
(float64, NaN for none) and ``quality`` (int8). A segment is written to a temporary
name, flushed to disk and renamed, so a crash never leaves half a segment under a
segment's name. Segments are consumed oldest first and deleted only after their rows
were committed.
"""

from __future__ import annotations

import logging
import math
import os
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

#: One queued sample: (tag, ts epoch s UTC, value or None, quality 0..2).
Sample = tuple[str, float, float | None, int]

_SEGMENT = re.compile(r"^(\d{16})-(\d+)\.npz$")


class Spool:
    """Ordered, durable queue of :data:`Sample` batches in ``directory``.

    Used by one thread at a time (the historian's writer).

    Parameters
    ----------
    directory : Path
        Created if missing. Segments left by an earlier process are picked up.

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

    def append(self, samples: Sequence[Sample]) -> None:
        """Write ``samples`` as the newest segment (durable when this returns).

        Raises
        ------
        OSError
            Disk full, permission denied ...; nothing was added.
        """
        if not samples:
            return
        tags, ts, values, quality = zip(*samples)
        seq = self._next_seq
        path = self.directory / f"{seq:016d}-{len(samples)}.npz"
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            np.savez(f, tag=np.array(tags, dtype=str), ts=np.array(ts, dtype=np.float64),
                     value=np.array([math.nan if v is None else v for v in values], dtype=np.float64),
                     quality=np.array(quality, dtype=np.int8))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        self._next_seq = seq + 1
        self._segments.append((seq, len(samples), path))
        self.rows += len(samples)

    def peek(self) -> tuple[int, list[Sample]] | None:
        """Return (sequence, samples) of the oldest readable segment, or ``None`` if empty.

        A segment that cannot be read is renamed ``*.bad`` (kept for inspection), logged
        and skipped.
        """
        while self._segments:
            seq, n, path = self._segments[0]
            try:
                with np.load(path, allow_pickle=False) as z:
                    tags, ts, values, quality = z["tag"], z["ts"], z["value"], z["quality"]
                    if not len(tags) == len(ts) == len(values) == len(quality) == n:
                        raise ValueError(f"holds {len(tags)} rows, its name says {n}")
                    samples = [(str(t), float(s), None if math.isnan(v) else float(v), int(q))
                               for t, s, v, q in zip(tags.tolist(), ts.tolist(), values.tolist(),
                                                     quality.tolist())]
                return seq, samples
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
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
