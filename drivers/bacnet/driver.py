"""The public BACnet/IP driver: present value + status flags, COV or polling, commands.

:class:`BacnetDriver` implements :class:`drivers.base.Driver` for one BACnet/IP
device through a shared :class:`drivers.bacnet.network.BacnetNetwork`.

* Polling reads every point's present value and status flags with one
  ReadPropertyMultiple; a device that rejects it is read property by property.
* With ``cov`` each point is subscribed (SubscribeCOV, unconfirmed
  notifications, renewed before ``cov_lifetime_s`` ends); an object the device
  will not subscribe is polled. Each read then checks the device still answers
  (one ReadProperty of the device's system-status) and returns the latest
  notified values; a device that stops answering loses its subscriptions, which
  are made again when it is back (so a restarted device is followed again).
* Writes go to the point's priority; :meth:`relinquish` writes Null there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

from bacpypes3.apdu import ErrorRejectAbortNack
from bacpypes3.app import Application
from bacpypes3.basetypes import BinaryPV, ErrorType
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import Null, ObjectIdentifier, Real, Unsigned
from bacpypes3.service.cov import SubscriptionContextManager

from app.points import PointValue, Quality
from drivers.backoff import Backoff
from drivers.bacnet.network import BacnetNetwork, quiet_bacpypes_logging
from drivers.bacnet.quality import error_reason, flags_quality, to_number
from drivers.bacnet.spec import BacnetParams, BacnetPoint
from drivers.base import Driver, DriverError, DriverTimeout

__all__ = ["BacnetDriver"]

log = logging.getLogger(__name__)


class _Fault(Exception):
    """A request failed; ``reason`` says why, ``timeout`` if unanswered."""

    def __init__(self, reason: str, timeout: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timeout = timeout


def _check(params: BacnetParams, points: Sequence[BacnetPoint]) -> None:
    where = f"bacnet device {params.device_id!r}"
    if not params.device_id:
        raise ValueError("bacnet device: device_id must not be empty")
    try:
        Address(params.address)
    except Exception as exc:  # noqa: BLE001 - bacpypes3 raises several types
        raise ValueError(f"{where}: bad address {params.address!r} ({exc})") from None
    if not params.timeout_s > 0 or params.cov_lifetime_s < 1:
        raise ValueError(f"{where}: timeout_s must be > 0 and cov_lifetime_s >= 1")
    names: set[str] = set()
    for point in points:
        what = f"{where}, point {point.name!r}"
        if point.name in names:
            raise ValueError(f"{where}: duplicate point {point.name!r}")
        names.add(point.name)
        if not 0 <= point.instance <= 4194302:
            raise ValueError(f"{what}: instance {point.instance} outside 0..4194302")
        if not 1 <= point.priority <= 16:
            raise ValueError(f"{what}: priority {point.priority} outside 1..16")


class BacnetDriver(Driver):
    """Driver for one BACnet/IP device.

    Parameters
    ----------
    params : BacnetParams
    points : sequence of BacnetPoint
    network : BacnetNetwork, optional
        The local BACnet/IP port shared with other drivers (the last to close releases
        it); by default the driver opens its own on
        ``params.local_address``.

    Raises
    ------
    ValueError
        Bad address, parameters or points; the message names device and point.
    """

    def __init__(self, params: BacnetParams, points: Sequence[BacnetPoint],
                 network: BacnetNetwork | None = None) -> None:
        _check(params, points)
        self.device_id = params.device_id
        self.params = params
        self._points = {p.name: p for p in points}
        self._objects = {p.name: ObjectIdentifier(f"{p.object_type.value},{p.instance}") for p in points}
        self._tags = {name: f"{params.device_id}.{name}" for name in self._points}
        self._address = Address(params.address)
        self._network = network or BacnetNetwork(params.local_address, params.local_instance)
        self._network.attach(self)
        self._backoff = Backoff(params.backoff_initial_s, params.backoff_max_s)
        self._last_good: dict[str, float] = {}
        self._connected = False
        self._online = False
        self._retry_at = 0.0
        self._offline_reason = ""
        self._use_rpm = True
        self._app: Application | None = None
        self._device_instance = 0
        self._subscriptions: dict[str, SubscriptionContextManager] = {}
        self._listeners: list[asyncio.Task[None]] = []
        self._notified: dict[str, dict[str, Any]] = {}  # point -> {"present-value": .., "status-flags": ..}
        self._lock = asyncio.Lock()
        quiet_bacpypes_logging()

    @property
    def online(self) -> bool:
        """True while the last exchange with the device succeeded."""
        return self._online

    @property
    def subscribed(self) -> list[str]:
        """Points followed by COV notifications (the rest are polled)."""
        return sorted(self._subscriptions)

    async def read(self) -> list[PointValue]:
        """Every point once: notified values for subscribed points, a poll for the rest.

        Returns
        -------
        list of PointValue
            In configuration order; never raises.
        """
        async with self._lock:
            reason = await self._ensure_connected()
            if reason is not None:
                return self._all_bad(reason)
            polled = [name for name in self._points if name not in self._subscriptions]
            try:
                if self._subscriptions:
                    await self._request(self._app.read_property(
                        self._address, ObjectIdentifier(f"device,{self._device_instance}"), "system-status"))
                results = await self._poll(polled)
            except _Fault as fault:
                if fault.timeout:
                    await self._drop(fault.reason)
                    return self._all_bad(fault.reason)
                results = {name: fault.reason for name in polled}
        now = time.time()
        values: list[PointValue] = []
        for name in self._points:
            data = results.get(name) if name in results else self._notified.get(name)
            values.append(self._point_value(name, data, now))
        self._went_online()
        return values

    async def write(self, point: str, value: float) -> None:
        """Command ``value`` at the point's priority.

        Binary points take 0/1, multi-state points their state number (1..n).

        Raises
        ------
        DriverTimeout
            No reply within ``timeout_s``.
        DriverError
            Unknown or read-only point, bad value, device offline, or the
            device's error (e.g. ``write-access-denied``, ``value-out-of-range``).
        """
        spec, where = self._writable(point)
        kind = spec.object_type.kind
        if kind == "binary":
            if value not in (0, 1):
                raise DriverError(f"{where}: binary value must be 0 or 1, got {value!r}")
            encoded: Any = BinaryPV("active" if value else "inactive")
        elif kind == "multistate":
            if not float(value).is_integer() or value < 1:
                raise DriverError(f"{where}: multi-state value must be an integer >= 1, got {value!r}")
            encoded = Unsigned(int(value))
        else:
            encoded = Real(float(value))
        await self._command(point, encoded, where)

    async def relinquish(self, point: str) -> None:
        """Release the point's priority (write Null), handing control to lower priorities.

        Raises
        ------
        DriverTimeout, DriverError
            As :meth:`write`.
        """
        _, where = self._writable(point)
        await self._command(point, Null(()), where)

    async def close(self) -> None:
        """Cancel subscriptions and leave the local port (the last driver on it releases it); idempotent."""
        async with self._lock:
            await self._unsubscribe(device_answers=self._online)
            self._connected = False
            self._online = False
            self._network.detach(self)

    # -- connection ---------------------------------------------------------------

    async def _ensure_connected(self) -> str | None:
        if self._connected:
            return None
        wait = self._retry_at - time.monotonic()
        if wait > 0:
            return f"offline, retry in {wait:.1f} s ({self._offline_reason})"
        try:
            self._app = await self._network.app()
        except OSError as exc:
            reason = f"cannot open local BACnet port {self._network.local_address}: {exc.strerror or exc}"
            self._schedule_retry(reason)
            return reason
        try:
            self._device_instance = await self._find_device()
            if self.params.cov:
                await self._subscribe()
        except _Fault as fault:
            await self._drop(fault.reason)
            return fault.reason
        self._connected = True
        return None

    async def _find_device(self) -> int:
        """Directed Who-Is; returns the device instance (checked against the configured one)."""
        wanted = self.params.device_instance
        low_high = (wanted, wanted) if wanted is not None else (None, None)
        i_ams = await self._app.who_is(*low_high, self._address, timeout=self.params.timeout_s)
        if not i_ams:
            raise _Fault(f"no I-Am from {self.params.address} within {self.params.timeout_s:g} s", timeout=True)
        return int(i_ams[0].iAmDeviceIdentifier[1])

    async def _subscribe(self) -> None:
        for name, object_id in self._objects.items():
            scm = self._app.change_of_value(self._address, object_id, issue_confirmed_notifications=False,
                                            lifetime=self.params.cov_lifetime_s)
            try:
                await self._request(scm.__aenter__())
            except _Fault as fault:
                if fault.timeout:
                    raise
                log.info("bacnet device %s: no COV for %s (%s); polling", self.device_id, name, fault.reason)
                continue
            self._subscriptions[name] = scm
            self._listeners.append(asyncio.create_task(self._listen(name, scm)))
        # a subscription starts with a notification of the current value: wait for those
        deadline = time.monotonic() + self.params.timeout_s
        while time.monotonic() < deadline and any(
            "present-value" not in self._notified.get(name, {}) for name in self._subscriptions
        ):
            await asyncio.sleep(0.005)

    async def _listen(self, name: str, scm: SubscriptionContextManager) -> None:
        while True:
            prop, value = await scm.get_value()
            self._notified.setdefault(name, {})[str(prop)] = value

    async def _unsubscribe(self, device_answers: bool = True) -> None:
        """End the subscriptions: cancelled on the device when it ``device_answers``, else
        only forgotten here (a device that stopped answering would cost a timeout each)."""
        for task in self._listeners:
            task.cancel()
        await asyncio.gather(*self._listeners, return_exceptions=True)
        self._listeners = []
        subscriptions, self._subscriptions = self._subscriptions, {}
        abandon = (None, None, None) if device_answers else (_Fault, _Fault("device not answering"), None)
        for scm in subscriptions.values():
            with contextlib.suppress(Exception, ErrorRejectAbortNack):
                async with asyncio.timeout(self.params.timeout_s):
                    await scm.__aexit__(*abandon)
        self._notified = {}

    async def _drop(self, reason: str) -> None:
        """The device stopped answering (``reason``): forget its subscriptions, retry later."""
        await self._unsubscribe(device_answers=False)
        self._connected = False
        self._schedule_retry(reason)

    def _schedule_retry(self, reason: str) -> None:
        delay = self._backoff.next_delay()
        self._retry_at = time.monotonic() + delay
        self._offline_reason = reason
        if self._online or self._backoff.failures == 1:
            log.warning("bacnet device %s offline: %s; retry in %.1f s", self.device_id, reason, delay)
        self._online = False

    def _went_online(self) -> None:
        if not self._online:
            log.info("bacnet device %s online", self.device_id)
        self._online = True
        self._backoff.reset()

    # -- requests -----------------------------------------------------------------

    async def _request(self, call: Any) -> Any:
        """Await a bacpypes3 request within ``timeout_s``; _Fault otherwise."""
        try:
            async with asyncio.timeout(self.params.timeout_s):
                return await call
        except TimeoutError:
            raise _Fault(f"timeout after {self.params.timeout_s:g} s", timeout=True) from None
        except ErrorRejectAbortNack as exc:
            raise _Fault(error_reason(exc)) from None
        except OSError as exc:
            raise _Fault(f"network error: {exc.strerror or exc}", timeout=True) from None

    async def _poll(self, names: list[str]) -> dict[str, dict[str, Any] | str]:
        """Present value and status flags of ``names``: a dict per point, or a reason."""
        if not names:
            return {}
        if self._use_rpm:
            try:
                return await self._poll_multiple(names)
            except _Fault as fault:
                if fault.timeout:
                    raise
                log.info("bacnet device %s: ReadPropertyMultiple refused (%s); reading singly",
                         self.device_id, fault.reason)
                self._use_rpm = False
        results: dict[str, dict[str, Any] | str] = {}
        for name in names:
            try:
                value = await self._request(self._app.read_property(
                    self._address, self._objects[name], "present-value"))
                flags = await self._request(self._app.read_property(
                    self._address, self._objects[name], "status-flags"))
            except _Fault as fault:
                if fault.timeout:
                    raise
                results[name] = fault.reason
                continue
            results[name] = {"present-value": value, "status-flags": flags}
        return results

    async def _poll_multiple(self, names: list[str]) -> dict[str, dict[str, Any] | str]:
        request = []
        for name in names:
            request.extend([self._objects[name], ["present-value", "status-flags"]])
        reply = await self._request(self._app.read_property_multiple(self._address, request))
        by_object: dict[Any, dict[str, Any]] = {}
        for object_id, prop, _index, value in reply:
            by_object.setdefault(object_id, {})[str(prop)] = value
        results: dict[str, dict[str, Any] | str] = {}
        for name in names:
            data = by_object.get(self._objects[name], {})
            value = data.get("present-value")
            results[name] = error_reason(value) if isinstance(value, ErrorType) else data
        return results

    def _point_value(self, name: str, data: dict[str, Any] | str | None, now: float) -> PointValue:
        tag = self._tags[name]
        last = self._last_good.get(name)
        if data is None:
            return PointValue(tag, last, Quality.BAD, now, "no COV notification yet")
        if isinstance(data, str):
            return PointValue(tag, last, Quality.BAD, now, data)
        quality, reason = flags_quality(data.get("status-flags"))
        try:
            number = to_number(data.get("present-value"))
        except ValueError as exc:
            return PointValue(tag, last, Quality.BAD, now, str(exc))
        if quality is Quality.BAD:
            return PointValue(tag, last, quality, now, reason)
        if quality is Quality.GOOD:
            self._last_good[name] = number
        return PointValue(tag, number, quality, now, reason)

    def _all_bad(self, reason: str) -> list[PointValue]:
        now = time.time()
        return [PointValue(self._tags[n], self._last_good.get(n), Quality.BAD, now, reason) for n in self._points]

    # -- commands -----------------------------------------------------------------

    def _writable(self, point: str) -> tuple[BacnetPoint, str]:
        where = f"{self.device_id}.{point}"
        spec = self._points.get(point)
        if spec is None:
            raise DriverError(f"{where}: no such point")
        if not spec.writable:
            raise DriverError(f"{where}: point is not writable")
        return spec, where

    async def _command(self, point: str, value: Any, where: str) -> None:
        spec = self._points[point]
        async with self._lock:
            reason = await self._ensure_connected()
            if reason is not None:
                raise DriverError(f"{where}: {reason}")
            try:
                await self._request(self._app.write_property(
                    self._address, self._objects[point], "present-value", value, priority=spec.priority))
            except _Fault as fault:
                if fault.timeout:
                    await self._drop(fault.reason)
                    raise DriverTimeout(f"{where}: {fault.reason}") from None
                raise DriverError(f"{where}: {fault.reason}") from None
