"""Exponential back-off with full jitter for reconnecting to a device.

After the n-th consecutive failure (n = 1, 2, ...) the delay is drawn uniformly
from ``[0, min(max_s, initial_s * 2**(n-1))]`` ("full jitter", as described in
the AWS Architecture Blog, "Exponential Backoff And Jitter"), so many devices
that failed together do not retry together.
"""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    """Delays between reconnection attempts.

    Parameters
    ----------
    initial_s : float
        Ceiling of the first delay, seconds (> 0).
    max_s : float
        Largest ceiling, seconds (>= ``initial_s``).
    rng : random.Random, optional
        Source of jitter (tests pass a seeded one).

    Raises
    ------
    ValueError
        ``initial_s <= 0`` or ``max_s < initial_s``.
    """

    def __init__(self, initial_s: float, max_s: float, rng: random.Random | None = None) -> None:
        if not initial_s > 0:
            raise ValueError(f"back-off initial_s must be > 0, got {initial_s!r}")
        if not max_s >= initial_s:
            raise ValueError(f"back-off max_s ({max_s!r}) must be >= initial_s ({initial_s!r})")
        self.initial_s = initial_s
        self.max_s = max_s
        self._rng = rng or random.Random()
        self._failures = 0

    @property
    def failures(self) -> int:
        """Consecutive failures since the last :meth:`reset`."""
        return self._failures

    def ceiling(self) -> float:
        """Upper bound of the next delay, seconds."""
        return min(self.max_s, self.initial_s * 2.0 ** min(self._failures, 64))

    def next_delay(self) -> float:
        """Record one more failure and return the delay before the next attempt.

        Returns
        -------
        float
            Seconds, uniform in ``[0, ceiling]`` where the ceiling doubles per
            consecutive failure from ``initial_s`` up to ``max_s``.
        """
        delay = self._rng.uniform(0.0, self.ceiling())
        self._failures += 1
        return delay

    def reset(self) -> None:
        """Forget past failures (after a successful connection)."""
        self._failures = 0
