"""Blocking reads of the alarm views (journal queries, health figures) on one worker thread."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal


class JobRunner(QObject):
    """Runs blocking calls one at a time on a worker thread; results come back by queued signal.

    Each call gets a number; a view keeps the number of its latest request and ignores
    answers to older ones (the operator changed the query meanwhile).

    Signals
    -------
    finished(int, object)
        Call number, its result.
    failed(int, str)
        Call number, ``"<ExceptionType>: <message>"``.
    """

    finished = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._number = 0

    def run(self, fn: Callable[[], Any]) -> int:
        """Queue ``fn()`` on the worker thread; the number its answer will carry."""
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)
        self._number += 1
        self._pool.submit(self._call, self._number, fn)
        return self._number

    def latest(self) -> int:
        """Number of the last call queued (0: none)."""
        return self._number

    def shutdown(self) -> None:
        """Drop queued calls and wait for the running one (idempotent)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _call(self, number: int, fn: Callable[[], Any]) -> None:
        try:
            result = fn()
        except Exception as err:  # any failure of the read is shown to the operator, not raised
            self.failed.emit(number, f"{type(err).__name__}: {err}")
            return
        self.finished.emit(number, result)
