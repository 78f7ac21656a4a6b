"""The public OPC UA driver: polling or subscriptions, status codes as quality, writes.

:class:`OpcUaDriver` implements :class:`drivers.base.Driver` for one OPC UA server
(asyncua 2.1 client). Layers below it: :mod:`.session` (connect, security,
reasons), :mod:`.quality` (status code and variant -> quality and number).

In ``subscribe`` mode each point is a monitored item with its own sampling
interval and deadband filter; a point whose item the server refuses (for
example a percent deadband on a variable without EURange) is polled instead,
and so is every point when the server refuses subscriptions. ``read`` then
returns the latest notified values after checking the session is alive.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Sequence
from typing import Any

from asyncua import Client, ua
from asyncua.common.subscription import DataChangeNotif, Subscription

from app.points import PointValue, Quality
from drivers.backoff import Backoff
from drivers.base import Driver, DriverError, DriverTimeout
from drivers.opcua.quality import status_quality, to_number
from drivers.opcua.session import SessionFault, close_client, describe, open_client, quiet_asyncua_logging
from drivers.opcua.spec import AcquisitionMode, DeadbandType, OpcUaParams, OpcUaPoint, SecurityMode

__all__ = ["OpcUaDriver"]

log = logging.getLogger(__name__)

_DEADBAND_CODES = {DeadbandType.ABSOLUTE: 1, DeadbandType.PERCENT: 2}
_INT_RANGES = {
    ua.VariantType.SByte: (-(2**7), 2**7 - 1), ua.VariantType.Byte: (0, 2**8 - 1),
    ua.VariantType.Int16: (-(2**15), 2**15 - 1), ua.VariantType.UInt16: (0, 2**16 - 1),
    ua.VariantType.Int32: (-(2**31), 2**31 - 1), ua.VariantType.UInt32: (0, 2**32 - 1),
    ua.VariantType.Int64: (-(2**63), 2**63 - 1), ua.VariantType.UInt64: (0, 2**64 - 1),
}


def _check(params: OpcUaParams, points: Sequence[OpcUaPoint]) -> dict[str, ua.NodeId]:
    """Validate; return each point's parsed node id. Raises ValueError naming device and point."""
    where = f"opcua device {params.device_id!r}"
    if not params.device_id:
        raise ValueError("opcua device: device_id must not be empty")
    if not params.endpoint.startswith("opc.tcp://"):
        raise ValueError(f"{where}: endpoint must start with opc.tcp://, got {params.endpoint!r}")
    if not params.timeout_s > 0:
        raise ValueError(f"{where}: timeout_s must be > 0, got {params.timeout_s!r}")
    if not params.publishing_interval_s > 0:
        raise ValueError(f"{where}: publishing_interval_s must be > 0, got {params.publishing_interval_s!r}")
    if params.security is not SecurityMode.NONE and (params.certificate is None or params.private_key is None):
        raise ValueError(f"{where}: security {params.security.value} needs certificate and private_key")
    node_ids: dict[str, ua.NodeId] = {}
    for point in points:
        what = f"{where}, point {point.name!r}"
        if point.name in node_ids:
            raise ValueError(f"{where}: duplicate point {point.name!r}")
        try:
            node_ids[point.name] = ua.NodeId.from_string(point.node_id)
        except Exception as exc:  # noqa: BLE001 - asyncua raises several types
            raise ValueError(f"{what}: bad node_id {point.node_id!r} ({exc})") from None
        if point.deadband < 0 or (point.deadband_type is DeadbandType.PERCENT and point.deadband > 100):
            raise ValueError(f"{what}: deadband {point.deadband!r} out of range")
        if point.sampling_interval_s is not None and point.sampling_interval_s < 0:
            raise ValueError(f"{what}: sampling_interval_s must be >= 0")
    return node_ids


def _variant(value: float, variant_type: ua.VariantType, where: str) -> ua.Variant:
    """The engineering value as a variant of the node's type; DriverError if it does not fit."""
    if variant_type is ua.VariantType.Boolean:
        if value not in (0, 1):
            raise DriverError(f"{where}: Boolean value must be 0 or 1, got {value!r}")
        return ua.Variant(bool(value), variant_type)
    if variant_type in _INT_RANGES:
        low, high = _INT_RANGES[variant_type]
        if not float(value).is_integer() or not low <= value <= high:
            raise DriverError(f"{where}: {value!r} is not a {variant_type.name} ({low}..{high})")
        return ua.Variant(int(value), variant_type)
    if variant_type in (ua.VariantType.Float, ua.VariantType.Double):
        return ua.Variant(float(value), variant_type)
    raise DriverError(f"{where}: cannot write a number to a {variant_type.name} variable")


class _Notifications:
    """asyncua subscription handler: keeps the latest value per monitored item."""

    def __init__(self, driver: OpcUaDriver) -> None:
        self._driver = driver

    def datachange_notification(self, node: Any, val: Any, data: DataChangeNotif) -> None:
        self._driver._on_data_change(data.subscription_data.client_handle, data.monitored_item.Value)

    def status_change_notification(self, status: ua.StatusChangeNotification) -> None:
        self._driver._on_status_change(status.Status)


class OpcUaDriver(Driver):
    """Driver for one OPC UA server.

    Parameters
    ----------
    params : OpcUaParams
    points : sequence of OpcUaPoint
        Names must be unique; node ids must parse.

    Raises
    ------
    ValueError
        Bad parameters or points; the message names the device and point.

    Notes
    -----
    Quality follows the value's status code (Good / Uncertain / Bad, the code's
    name as the reason). Values that are not numbers (strings, arrays) are BAD
    with the type in the reason; NaN and infinities are UNCERTAIN. A lost
    session makes every point BAD and is re-opened with back-off on a later
    read, subscriptions included.
    """

    def __init__(self, params: OpcUaParams, points: Sequence[OpcUaPoint]) -> None:
        self._node_ids = _check(params, points)
        self.device_id = params.device_id
        self.params = params
        self._points = {point.name: point for point in points}
        self._tags = {name: f"{params.device_id}.{name}" for name in self._points}
        self._backoff = Backoff(params.backoff_initial_s, params.backoff_max_s)
        self._client: Client | None = None
        self._subscription: Subscription | None = None
        self._resolved: dict[str, ua.NodeId] = {}
        self._handles: dict[int, str] = {}          # monitored item client handle -> point
        self._notified: dict[str, PointValue] = {}  # latest notification per subscribed point
        self._polled: list[str] = []
        self._variant_types: dict[str, ua.VariantType] = {}
        self._last_good: dict[str, float] = {}
        self._subscription_fault = ""
        self._online = False
        self._retry_at = 0.0
        self._offline_reason = ""
        self._lock = asyncio.Lock()
        quiet_asyncua_logging()

    @property
    def online(self) -> bool:
        """True while the last exchange with the server succeeded."""
        return self._online

    @property
    def subscribed(self) -> list[str]:
        """Names of the points acquired by monitored items (the rest are polled)."""
        return [self._handles[h] for h in sorted(self._handles)]

    async def read(self) -> list[PointValue]:
        """Every point once: polled points by one Read call, subscribed ones from notifications.

        Returns
        -------
        list of PointValue
            In configuration order; never raises.
        """
        async with self._lock:
            reason = await self._ensure_session()
            if reason is not None:
                return self._all_bad(reason)
            assert self._client is not None
            try:
                if self._subscription_fault:
                    raise SessionFault(f"subscription: {self._subscription_fault}")
                if self._handles:
                    await self._client.check_connection()
                polled: list[ua.DataValue] = []
                if self._polled:
                    nodes = [self._client.get_node(self._resolved[name]) for name in self._polled]
                    async with asyncio.timeout(self.params.timeout_s):
                        polled = await self._client.read_attributes(nodes)
                    if len(polled) != len(nodes):
                        raise SessionFault(f"server returned {len(polled)} values for {len(nodes)} nodes")
            except Exception as exc:  # noqa: BLE001 - every failure becomes a reason
                reason = describe(exc, self.params.timeout_s)
                await self._drop(reason)
                return self._all_bad(reason)
        values: dict[str, PointValue] = dict(self._notified)
        now = time.time()
        for name, pv in values.items():
            values[name] = pv._replace(ts=now)
        for name, data in zip(self._polled, polled, strict=True):
            values[name] = self._point_value(name, data, now)
        self._went_online()
        return [
            values.get(name) or PointValue(
                self._tags[name], self._last_good.get(name), Quality.BAD, now, "no notification yet",
            )
            for name in self._points
        ]

    async def write(self, point: str, value: float) -> None:
        """Write ``value`` to the point's node as the node's own data type.

        Raises
        ------
        DriverTimeout
            No reply within ``timeout_s``.
        DriverError
            Unknown or read-only point, value not representable in the node's
            type, server offline, or a Bad status (e.g. ``BadNotWritable``,
            ``BadUserAccessDenied``).
        """
        where = f"{self.device_id}.{point}"
        spec = self._points.get(point)
        if spec is None:
            raise DriverError(f"{where}: no such point")
        if not spec.writable:
            raise DriverError(f"{where}: point is not writable")
        async with self._lock:
            reason = await self._ensure_session()
            if reason is not None:
                raise DriverError(f"{where}: {reason}")
            assert self._client is not None
            node = self._client.get_node(self._resolved[point])
            try:
                async with asyncio.timeout(self.params.timeout_s):
                    if point not in self._variant_types:
                        self._variant_types[point] = await node.read_data_type_as_variant_type()
                    variant = _variant(value, self._variant_types[point], where)
                    await node.write_value(ua.DataValue(variant))
            except DriverError:
                raise
            except TimeoutError:
                raise DriverTimeout(f"{where}: timeout after {self.params.timeout_s:g} s") from None
            except ua.UaStatusCodeError as exc:
                raise DriverError(f"{where}: {describe(exc, self.params.timeout_s)}") from None
            except Exception as exc:  # noqa: BLE001 - session trouble
                reason = describe(exc, self.params.timeout_s)
                await self._drop(reason)
                raise DriverError(f"{where}: {reason}") from None

    async def close(self) -> None:
        """Close the session; idempotent. A later read reconnects."""
        async with self._lock:
            await self._close_session()
            self._online = False

    # -- session ---------------------------------------------------------------

    async def _ensure_session(self) -> str | None:
        if self._client is not None:
            return None
        wait = self._retry_at - time.monotonic()
        if wait > 0:
            return f"offline, retry in {wait:.1f} s ({self._offline_reason})"
        try:
            self._client = await open_client(self.params)
            await self._resolve()
            if self.params.mode is AcquisitionMode.SUBSCRIBE:
                await self._subscribe()
            else:
                self._polled = list(self._points)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a reason
            reason = describe(exc, self.params.timeout_s)
            await self._drop(reason)
            return reason
        log.info("opcua device %s: session open on %s", self.device_id, self.params.endpoint)
        return None

    async def _resolve(self) -> None:
        """Node ids given with a namespace URI get the server's current index."""
        assert self._client is not None
        self._resolved = {}
        indexes: dict[str, int] = {}
        for name, node_id in self._node_ids.items():
            uri = getattr(node_id, "NamespaceUri", None)  # ExpandedNodeId from "nsu=..."
            if uri:
                if uri not in indexes:
                    try:
                        indexes[uri] = await self._client.get_namespace_index(uri)
                    except ValueError:
                        raise SessionFault(f"server has no namespace {uri!r}") from None
                node_id = ua.NodeId(node_id.Identifier, indexes[uri], node_id.NodeIdType)
            self._resolved[name] = node_id

    async def _subscribe(self) -> None:
        """One subscription, one monitored item per point; refused items are polled."""
        assert self._client is not None
        self._handles, self._notified, self._subscription_fault = {}, {}, ""
        try:
            subscription = await self._client.create_subscription(
                self.params.publishing_interval_s * 1000.0, _Notifications(self),
            )
        except ua.UaStatusCodeError as exc:
            log.warning("opcua device %s: subscriptions refused (%s); polling",
                        self.device_id, describe(exc, self.params.timeout_s))
            self._polled = list(self._points)
            return
        self._subscription = subscription
        requests = []
        names = list(self._points)
        for handle, name in enumerate(names, start=1):
            requests.append(self._item_request(handle, name))
            self._handles[handle] = name
        results = await subscription.create_monitored_items(requests)
        self._polled = []
        for handle, name, result in zip(range(1, len(names) + 1), names, results, strict=True):
            if isinstance(result, ua.StatusCode):
                del self._handles[handle]
                self._polled.append(name)
                log.warning("opcua device %s: point %s cannot be monitored (%s); polling",
                            self.device_id, name, status_quality(result)[1])
        # the server sends each item's current value first: wait for those
        deadline = time.monotonic() + self.params.timeout_s
        while len(self._notified) < len(self._handles) and time.monotonic() < deadline:
            await asyncio.sleep(min(0.01, self.params.publishing_interval_s / 4))

    def _item_request(self, handle: int, name: str) -> ua.MonitoredItemCreateRequest:
        point = self._points[name]
        item = ua.MonitoredItemCreateRequest()
        item.ItemToMonitor = ua.ReadValueId(NodeId=self._resolved[name], AttributeId=ua.AttributeIds.Value)
        item.MonitoringMode = ua.MonitoringMode.Reporting
        parameters = ua.MonitoringParameters()
        parameters.ClientHandle = handle
        sampling = point.sampling_interval_s
        parameters.SamplingInterval = -1.0 if sampling is None else sampling * 1000.0
        parameters.QueueSize = 1
        parameters.DiscardOldest = True
        if point.deadband_type is not DeadbandType.NONE:
            parameters.Filter = ua.DataChangeFilter(
                Trigger=ua.DataChangeTrigger.StatusValue,
                DeadbandType=_DEADBAND_CODES[point.deadband_type],
                DeadbandValue=point.deadband,
            )
        item.RequestedParameters = parameters
        return item

    async def _drop(self, reason: str) -> None:
        """Close the session after a failure and schedule the next attempt."""
        await self._close_session()
        delay = self._backoff.next_delay()
        self._retry_at = time.monotonic() + delay
        self._offline_reason = reason
        if self._online or self._backoff.failures == 1:
            log.warning("opcua device %s offline: %s; retry in %.1f s", self.device_id, reason, delay)
        self._online = False

    async def _close_session(self) -> None:
        client, self._client = self._client, None
        self._subscription = None
        self._handles, self._notified, self._polled = {}, {}, []
        self._variant_types = {}
        self._subscription_fault = ""
        if client is not None:
            await close_client(client)

    def _went_online(self) -> None:
        if not self._online:
            log.info("opcua device %s online", self.device_id)
        self._online = True
        self._backoff.reset()

    # -- values ------------------------------------------------------------------

    def _on_data_change(self, handle: int, data: ua.DataValue) -> None:
        name = self._handles.get(handle)
        if name is not None:
            self._notified[name] = self._point_value(name, data, time.time())

    def _on_status_change(self, status: ua.StatusCode) -> None:
        quality, reason = status_quality(status)
        if quality is not Quality.GOOD:
            self._subscription_fault = reason

    def _all_bad(self, reason: str) -> list[PointValue]:
        now = time.time()
        return [
            PointValue(self._tags[name], self._last_good.get(name), Quality.BAD, now, reason)
            for name in self._points
        ]

    def _point_value(self, name: str, data: ua.DataValue, now: float) -> PointValue:
        tag = self._tags[name]
        status = data.StatusCode if data.StatusCode is not None else ua.StatusCode(0)
        quality, reason = status_quality(status)
        if quality is Quality.BAD:
            return PointValue(tag, self._last_good.get(name), Quality.BAD, now, reason)
        try:
            number = to_number(data.Value.Value if data.Value is not None else None)
        except ValueError as exc:
            return PointValue(tag, self._last_good.get(name), Quality.BAD, now, str(exc))
        if not math.isfinite(number):
            return PointValue(tag, number, Quality.UNCERTAIN, now, f"value is {number}")
        if quality is Quality.GOOD:
            self._last_good[name] = number
        return PointValue(tag, number, quality, now, reason)
