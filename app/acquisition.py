"""The acquisition engine: one asyncio event loop in a background thread runs every driver.

Each device is scanned by its own task on the device's scan interval, so one slow
or dead device never delays another. Scans' readings go to the
:class:`~app.cache.PointCache`, which passes changes on to subscribers without
waiting for them, in batches: the readings of every scan finished within
``publish_interval_s`` (20 ms) go in one update, so a thousand devices cost the
cache and each subscriber (the historian's queue, the alarm thread's wake-up) fifty
calls a second rather than a thousand. Scan phases are spread over the interval so
a thousand devices do not all ask at the same instant.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.cache import PointCache
from app.config import Device
from app.drivers_factory import DriverFactory
from app.points import PointValue
from drivers.base import Driver, DriverError

log = logging.getLogger(__name__)


@dataclass
class DeviceStatus:
    """Communication state of one device, as the Devices view and the status bar show it."""

    device_id: str
    scan_interval_s: float
    online: bool = False
    scans: int = 0             #: completed scans
    overruns: int = 0          #: scan slots missed because a scan took longer than the interval
    last_scan_s: float = 0.0   #: duration of the last scan, seconds
    last_good_ts: float = 0.0  #: UTC epoch seconds of the last scan that reached the device


class AcquisitionEngine:
    """Runs the drivers of ``devices`` on their scan intervals in a background thread.

    Parameters
    ----------
    devices : Iterable[Device]
        Validated devices of the site configuration.
    cache : PointCache
        Receives every scan's readings.
    driver_factory : callable, optional
        ``driver_factory(device)`` builds a :class:`~drivers.base.Driver` per device;
        defaults to a fresh :class:`~app.drivers_factory.DriverFactory` (every protocol,
        shared DL/T 645 buses and BACnet ports).
    publish_interval_s : float
        Longest time a scan's readings wait to be handed to the cache with those of
        other scans (seconds, > 0).

    Raises
    ------
    ValueError
        ``publish_interval_s`` not > 0.
    """

    def __init__(self, devices: Iterable[Device], cache: PointCache,
                 driver_factory: Callable[[Device], Driver] | None = None,
                 publish_interval_s: float = 0.02) -> None:
        if not publish_interval_s > 0:
            raise ValueError(f"AcquisitionEngine: publish_interval_s must be > 0, got {publish_interval_s!r}")
        self._devices = list(devices)
        self._cache = cache
        self._publish_interval_s = publish_interval_s
        self._pending: list[PointValue] = []   # readings of finished scans not yet in the cache
        self._publish_due = False              # a _publish is scheduled on the loop
        self._factory = driver_factory if driver_factory is not None else DriverFactory()
        self._drivers: dict[str, Driver] = {}
        self.status: dict[str, DeviceStatus] = {
            d.id: DeviceStatus(d.id, d.scan_interval_s) for d in self._devices}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the acquisition thread; returns once every driver is created.

        Raises
        ------
        RuntimeError
            If the drivers could not be created (the thread is not left running).
        """
        if self._thread is not None:
            raise RuntimeError("acquisition engine already started")
        self._thread = threading.Thread(target=self._run, name="acquisition", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            self._thread.join()
            self._thread = None
            raise RuntimeError(f"acquisition could not start: {self._failure}") from self._failure

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop scanning, close every driver and join the thread (idempotent)."""
        if self._thread is None:
            return
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.error("acquisition thread did not stop within %.1f s", timeout_s)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- commands ---------------------------------------------------------------------------
    def write(self, device_id: str, point: str, value: float) -> concurrent.futures.Future[None]:
        """Schedule a write of ``value`` to ``device_id``'s ``point`` on the acquisition loop.

        Returns a future that raises :class:`~drivers.base.DriverError` with the reason
        when the device refuses or cannot be reached.
        """
        if self._loop is None or not self.running:
            raise DriverError("acquisition is not running")
        driver = self._drivers.get(device_id)
        if driver is None:
            raise DriverError(f"unknown device {device_id!r}")
        return asyncio.run_coroutine_threadsafe(driver.write(point, value), self._loop)

    # -- the thread -------------------------------------------------------------------------
    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        try:
            for device in self._devices:
                self._drivers[device.id] = self._factory(device)
        except Exception as exc:  # reported to start()
            self._failure = exc
            self._ready.set()
            await self._close_drivers()
            return
        self._ready.set()
        n = max(len(self._devices), 1)
        tasks = [asyncio.create_task(self._scan(d, phase=i / n), name=f"scan {d.id}")
                 for i, d in enumerate(self._devices)]
        await self._stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._publish()  # every reading taken reaches the cache before the thread ends
        await self._close_drivers()

    def _queue_readings(self, values: Iterable[PointValue]) -> None:
        """Add one scan's readings to the next batch for the cache (loop thread)."""
        self._pending.extend(values)
        if not self._publish_due:
            self._publish_due = True
            asyncio.get_running_loop().call_later(self._publish_interval_s, self._publish)

    def _publish(self) -> None:
        """Hand the pending readings to the cache in one update (loop thread)."""
        self._publish_due = False
        batch, self._pending = self._pending, []
        if batch:
            self._cache.update(batch)

    async def _close_drivers(self) -> None:
        for device_id, driver in self._drivers.items():
            try:
                await driver.close()
            except Exception:
                log.exception("closing driver of %s failed", device_id)

    async def _scan(self, device: Device, phase: float) -> None:
        """Scan one device forever on its interval.

        A scan that ends after its next slot was due counts the slots it missed as
        overruns and the next scan starts at once (a device that cannot be scanned at
        its interval is scanned as fast as it answers); the slots go on from there.
        """
        loop = asyncio.get_running_loop()
        driver = self._drivers[device.id]
        status = self.status[device.id]
        interval = device.scan_interval_s
        queue_readings = self._queue_readings
        next_t = loop.time() + phase * interval
        while True:
            delay = next_t - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            started = loop.time()
            try:
                values = await driver.read()
            except Exception:  # a driver bug must not end this device's scanning
                log.exception("driver of %s raised from read()", device.id)
                values = ()
            queue_readings(values)
            finished = loop.time()
            status.scans += 1
            status.last_scan_s = finished - started
            status.online = driver.online
            if status.online:
                status.last_good_ts = time.time()
            next_t += interval
            if finished > next_t:
                status.overruns += int((finished - next_t) // interval) + 1
                next_t = finished  # behind: the next scan starts at once, and its slots with it
