"""A workstation session: who is logged in, and whether it is locked for being idle.

Qt-free: the GUI reports input with :meth:`Session.touch` and asks
:meth:`Session.idle_due` on a timer; tests drive the clock by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from app.security.users import UserInfo

#: Idle time after which a session locks, seconds (15 min).
DEFAULT_IDLE_TIMEOUT_S = 15 * 60.0


class Session:
    """One logged-in user at a workstation.

    Parameters
    ----------
    user : UserInfo
    idle_timeout_s : float
        Seconds without input after which :meth:`idle_due` is true (> 0).
    clock : callable
        Monotonic seconds (``time.monotonic``).

    Raises
    ------
    ValueError
        ``idle_timeout_s`` not > 0.
    """

    def __init__(self, user: UserInfo, idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not idle_timeout_s > 0:
            raise ValueError(f"idle timeout must be > 0 s, got {idle_timeout_s!r}")
        self.user = user
        self.idle_timeout_s = idle_timeout_s
        self._clock = clock
        self._last_input = clock()
        self.locked = False

    def touch(self) -> None:
        """The user did something (key, click, wheel); restarts the idle time while unlocked."""
        if not self.locked:
            self._last_input = self._clock()

    def idle_s(self) -> float:
        """Seconds since the last input."""
        return self._clock() - self._last_input

    def idle_due(self) -> bool:
        """Whether the session is unlocked and has been idle for the timeout."""
        return not self.locked and self.idle_s() >= self.idle_timeout_s

    def set_locked(self, locked: bool) -> None:
        """Lock, or unlock (which restarts the idle time)."""
        self.locked = locked
        if not locked:
            self._last_input = self._clock()
