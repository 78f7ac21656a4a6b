"""The one small interface every protocol driver implements.

A driver is created for one device with its typed connection parameters and the
list of points to read. All calls are coroutines run on the acquisition thread's
asyncio event loop.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from app.points import PointValue


class DriverError(Exception):
    """A command (write) could not be carried out; ``str(err)`` is the reason."""


class DriverTimeout(DriverError):
    """No (matching) reply within the device's ``timeout_s``."""


class Driver(abc.ABC):
    """Connect, read the planned batch of points, write one point, close.

    ``read`` never raises: every failure becomes the affected points' quality with a
    reason (see :class:`app.points.Quality`). Reconnection with back-off is the
    driver's own business; ``read`` on a disconnected device returns BAD values
    at once rather than waiting for a connection attempt that back-off forbids.
    """

    #: device id, used as the tag prefix of every point this driver reads
    device_id: str

    @property
    @abc.abstractmethod
    def online(self) -> bool:
        """True while the last exchange with the device succeeded."""

    @abc.abstractmethod
    async def read(self) -> Sequence[PointValue]:
        """Read every configured point once; one PointValue per point, never raises."""

    @abc.abstractmethod
    async def write(self, point: str, value: float) -> None:
        """Write ``value`` (engineering units) to point ``point`` (its name, not tag).

        Raises
        ------
        DriverError
            With the reason (not writable, exception reply, timeout, offline ...).
        """

    @abc.abstractmethod
    async def close(self) -> None:
        """Release the connection; idempotent."""
