"""A short-lived copy of who may do what: enabled accounts and the permission model.

Permission checks run often (the control dialog asks about 8 times a second, alarm
views on every refresh); reading ``users`` and ``role_permissions`` each time would
query a shared PostgreSQL server that often from every workstation. :class:`AccessCache`
keeps one snapshot for at most ``max_age_s`` seconds. A change made through this
process's :class:`~app.security.users.UserStore` invalidates it at once; a change
made on another workstation takes effect here within ``max_age_s``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from app.security.permissions import PermissionModel

if TYPE_CHECKING:
    from app.security.users import UserInfo

#: Longest time a permission snapshot is used before it is read again, seconds.
ACCESS_CACHE_S = 3.0


class Access(NamedTuple):
    """Who may act and what each role may do, as read at one moment.

    Attributes
    ----------
    users : Mapping[str, UserInfo]
        Enabled accounts by name (disabled ones are absent: they may do nothing).
    model : PermissionModel
    """

    users: Mapping[str, UserInfo]
    model: PermissionModel


class AccessCache:
    """Holds the latest :class:`Access` for up to ``max_age_s`` seconds.

    Parameters
    ----------
    load : callable
        ``() -> Access`` reading the database (raises what it raises).
    max_age_s : float
        Lifetime of a snapshot, seconds, >= 0 (0: read on every call).
    clock : callable
        Monotonic seconds.

    Raises
    ------
    ValueError
        ``max_age_s`` negative.
    """

    def __init__(self, load: Callable[[], Access], max_age_s: float = ACCESS_CACHE_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not max_age_s >= 0:
            raise ValueError(f"the access cache lifetime must be >= 0 s, got {max_age_s!r}")
        self.max_age_s = max_age_s
        self._load = load
        self._clock = clock
        self._lock = threading.Lock()
        self._generation = 0
        self._snapshot: tuple[float, Access] | None = None

    def get(self) -> Access:
        """The snapshot, read again if older than ``max_age_s`` or invalidated."""
        with self._lock:
            snapshot, generation = self._snapshot, self._generation
        now = self._clock()
        if snapshot is not None and now - snapshot[0] < self.max_age_s:
            return snapshot[1]
        access = self._load()
        with self._lock:
            # A change committed while we were reading must not be hidden by this older read.
            if generation == self._generation:
                self._snapshot = (now, access)
        return access

    def invalidate(self) -> None:
        """Forget the snapshot: the next :meth:`get` reads the database."""
        with self._lock:
            self._generation += 1
            self._snapshot = None
