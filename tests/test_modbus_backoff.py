"""Back-off: doubling ceiling up to the maximum, full jitter, reset."""

from __future__ import annotations

import random

import pytest

from drivers.backoff import Backoff


def test_ceiling_doubles_to_max_and_delays_are_jittered_below_it():
    backoff = Backoff(0.5, 4.0, rng=random.Random(1))
    ceilings = []
    for _ in range(6):
        ceiling = backoff.ceiling()
        delay = backoff.next_delay()
        assert 0.0 <= delay <= ceiling
        ceilings.append(ceiling)
    assert ceilings == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert backoff.failures == 6
    backoff.reset()
    assert backoff.failures == 0 and backoff.ceiling() == 0.5


def test_full_jitter_spreads_over_the_whole_range():
    backoff = Backoff(10.0, 10.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(400)]
    assert min(delays) < 1.0 and max(delays) > 9.0


def test_many_failures_do_not_overflow():
    backoff = Backoff(1.0, 60.0)
    for _ in range(2000):
        backoff.next_delay()
    assert backoff.ceiling() == 60.0


@pytest.mark.parametrize(("initial", "maximum"), [(0.0, 1.0), (2.0, 1.0)])
def test_bad_parameters(initial, maximum):
    with pytest.raises(ValueError, match="back-off"):
        Backoff(initial, maximum)
