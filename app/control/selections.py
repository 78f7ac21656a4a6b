"""Who holds a selection on which device, across workstations.

:class:`SelectionRegistry` is the interface; :class:`LocalSelectionRegistry` keeps the
selections in memory for the standalone edition (one process, any number of control
services sharing one registry). The networked edition keeps them in the database so
every workstation sees them (table described in docs/control.md).

A device has at most one selection at a time, whichever telecontrol point it is for.
A selection past its ``expires_at`` no longer holds the device: anyone may take it.
"""

from __future__ import annotations

import threading
from typing import Protocol

from app.control.contracts import Selection


class SelectionRegistry(Protocol):
    """Selections by device id; every call is atomic."""

    def claim(self, selection: Selection, now: float) -> Selection | None:
        """Hold ``selection.command.device_id`` for ``selection``.

        Granted when the device is free, its selection has lapsed by ``now``, or it is held
        by the same user at the same workstation (a new selection supersedes their own).

        Returns
        -------
        Selection or None
            None when granted; otherwise the selection that holds the device.
        """
        ...

    def get(self, device_id: str) -> Selection | None:
        """The selection recorded for ``device_id`` (lapsed or not), or None."""
        ...

    def find(self, selection_id: str) -> Selection | None:
        """The recorded selection with this id (lapsed or not), or None."""
        ...

    def update(self, selection: Selection) -> bool:
        """Replace the recorded selection with the same id (e.g. now confirmed).

        Returns False when that selection is no longer recorded.
        """
        ...

    def release(self, selection_id: str) -> Selection | None:
        """Remove the selection with this id; returns it, or None if it was not recorded."""
        ...


class LocalSelectionRegistry:
    """In-process :class:`SelectionRegistry` (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_device: dict[str, Selection] = {}

    def claim(self, selection: Selection, now: float) -> Selection | None:
        device = selection.command.device_id
        with self._lock:
            held = self._by_device.get(device)
            if (held is not None and held.expires_at > now
                    and (held.user, held.workstation) != (selection.user, selection.workstation)):
                return held
            self._by_device[device] = selection
            return None

    def get(self, device_id: str) -> Selection | None:
        with self._lock:
            return self._by_device.get(device_id)

    def find(self, selection_id: str) -> Selection | None:
        with self._lock:
            return next((s for s in self._by_device.values() if s.id == selection_id), None)

    def update(self, selection: Selection) -> bool:
        device = selection.command.device_id
        with self._lock:
            held = self._by_device.get(device)
            if held is None or held.id != selection.id:
                return False
            self._by_device[device] = selection
            return True

    def release(self, selection_id: str) -> Selection | None:
        with self._lock:
            for device, held in self._by_device.items():
                if held.id == selection_id:
                    del self._by_device[device]
                    return held
            return None
