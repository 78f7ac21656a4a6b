"""Reading a driver in tests: values by point name, and reads repeated until a condition holds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from app.points import PointValue
from drivers.base import Driver


def by_name(values: Iterable[PointValue]) -> dict[str, PointValue]:
    """Point name (the tag after ``device.``) -> value."""
    return {pv.tag.split(".", 1)[1]: pv for pv in values}


async def read_until(driver: Driver, predicate: Callable[[dict[str, PointValue]], bool],
                     tries: int = 250) -> dict[str, PointValue]:
    """Read every 20 ms until ``predicate(values by name)`` holds, at most ``tries`` times;
    the last values either way (the test's assertion then says what was wrong)."""
    values: dict[str, PointValue] = {}
    for _ in range(tries):
        values = by_name(await driver.read())
        if predicate(values):
            return values
        await asyncio.sleep(0.02)
    return values
