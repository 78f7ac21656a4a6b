"""The public Modbus driver: planned block reads, single-point writes, back-off.

:class:`ModbusDriver` implements :class:`drivers.base.Driver` for one Modbus TCP
or RTU device. Layers below it: :mod:`drivers.modbus.codec` (values),
:mod:`drivers.modbus.planner` (blocks), :mod:`drivers.modbus.link` (pymodbus
client, request/reply matching).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from itertools import repeat
from math import isfinite
from typing import Any

from pymodbus.pdu import ModbusPDU

from app.points import PointValue, Quality
from drivers.backoff import Backoff
from drivers.base import Driver, DriverError, DriverTimeout
from drivers.modbus import codec
from drivers.modbus.link import ModbusLink, ModbusStats, RequestFault, quiet_pymodbus_logging
from drivers.modbus.planner import Block, plan_blocks
from drivers.modbus.spec import DataType, ModbusParams, ModbusPoint, Table

__all__ = ["ModbusDriver"]

log = logging.getLogger(__name__)

#: read function code of each table
_READ_FC = {Table.COIL: 1, Table.DISCRETE_INPUT: 2, Table.HOLDING_REGISTER: 3, Table.INPUT_REGISTER: 4}
_READ_ONLY_TABLES = (Table.DISCRETE_INPUT, Table.INPUT_REGISTER)
_BIT_TABLES = (Table.COIL, Table.DISCRETE_INPUT)
_GOOD = Quality.GOOD
_BAD = Quality.BAD
#: builds a PointValue from a 5-tuple without the NamedTuple's keyword handling (hot path)
_new_value = tuple.__new__
#: placeholder of a read's result list, every slot is overwritten before it is returned
_NO_VALUE = PointValue("", None, Quality.BAD, 0.0, "not read")
#: a block's precompiled read: (pymodbus call, function code, description, count, bit table)
_BlockRequest = tuple[Callable[[Any], Awaitable[ModbusPDU]], int, str, int, bool]


def _check_params(params: ModbusParams) -> None:
    """Raise ValueError naming the device and the bad parameter."""
    where = f"modbus device {params.device_id!r}"
    if not params.device_id:
        raise ValueError("modbus device: device_id must not be empty")
    if params.serial_port is None:
        if not 0 <= params.unit_id <= 255:
            raise ValueError(f"{where}: unit_id {params.unit_id} outside 0..255")
        if not 1 <= params.port <= 65535:
            raise ValueError(f"{where}: port {params.port} outside 1..65535")
    elif not 1 <= params.unit_id <= 247:
        raise ValueError(f"{where}: RTU unit_id {params.unit_id} outside 1..247")
    if not params.timeout_s > 0:
        raise ValueError(f"{where}: timeout_s must be > 0, got {params.timeout_s!r}")
    if params.retries < 0:
        raise ValueError(f"{where}: retries must be >= 0, got {params.retries!r}")
    if params.rtu_silence_s is not None and params.rtu_silence_s < 0:
        raise ValueError(f"{where}: rtu_silence_s must be >= 0, got {params.rtu_silence_s!r}")
    if params.serial_port is not None and params.baudrate <= 0:
        raise ValueError(f"{where}: baudrate must be > 0, got {params.baudrate!r}")


class ModbusDriver(Driver):
    """Driver for one Modbus TCP or RTU device.

    Parameters
    ----------
    params : ModbusParams
        Connection parameters; RTU when ``params.serial_port`` is set.
    points : sequence of ModbusPoint
        The device's points; names must be unique. Planned into block reads
        once, here.

    Raises
    ------
    ValueError
        Bad parameters or point definitions; the message names the device and
        the point.

    Notes
    -----
    Every :meth:`read` reads all blocks, so the first read after the device
    comes back is a full integrity read. Reads while the back-off forbids a
    connection attempt return BAD at once (``"offline, retry in N s"``).
    Decoded floats that are NaN or infinite are returned UNCERTAIN.
    """

    def __init__(self, params: ModbusParams, points: Sequence[ModbusPoint]) -> None:
        _check_params(params)
        self.device_id = params.device_id
        self.params = params
        self._points: dict[str, ModbusPoint] = {}
        for point in points:
            if point.name in self._points:
                raise ValueError(f"modbus device {params.device_id!r}: duplicate point {point.name!r}")
            if point.writable and point.table in _READ_ONLY_TABLES:
                raise ValueError(
                    f"modbus device {params.device_id!r}: point {point.name!r} is marked writable "
                    f"but table {point.table.value} is read-only"
                )
            self._points[point.name] = point
        try:
            self._blocks: list[Block] = plan_blocks(
                points, params.max_block_registers, params.max_block_bits, params.max_gap,
            )
            self._backoff = Backoff(params.backoff_initial_s, params.backoff_max_s)
        except ValueError as exc:
            raise ValueError(f"modbus device {params.device_id!r}: {exc}") from None
        order = {name: position for position, name in enumerate(self._points)}
        #: per block: (tags, output positions) of its points, in the block's decode order
        self._block_outputs: list[tuple[tuple[str, ...], tuple[int, ...]]] = [
            (tuple(f"{params.device_id}.{bp.point.name}" for bp in block.points),
             tuple(order[bp.point.name] for bp in block.points))
            for block in self._blocks
        ]
        #: per block: the last good value of each of its points (None before the first)
        self._last_good: list[tuple[float | None, ...]] = [
            (None,) * len(block.points) for block in self._blocks]
        #: per block: the slice of the result its points fill, when they are consecutive there
        self._block_spans: list[slice | None] = [
            slice(positions[0], positions[-1] + 1)
            if positions and positions == tuple(range(positions[0], positions[-1] + 1)) else None
            for _, positions in self._block_outputs
        ]
        self._requests = [self._block_request(block) for block in self._blocks]
        self._online = False
        self._retry_at = 0.0          # time.monotonic() before which no connect is tried
        self._offline_reason = ""
        self._connect_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        quiet_pymodbus_logging()
        self._link = ModbusLink(params)

    @property
    def online(self) -> bool:
        """True while the last exchange with the device succeeded."""
        return self._online

    @property
    def stats(self) -> ModbusStats:
        """Request counters (requests, failures, last_error) of this device."""
        return self._link.stats

    @property
    def blocks(self) -> list[Block]:
        """The planned read blocks, one request each per :meth:`read`."""
        return list(self._blocks)

    async def read(self) -> list[PointValue]:
        """Read every point once, one request per block.

        Returns
        -------
        list of PointValue
            One per configured point, in configuration order. Faults give
            quality BAD with the reason and the last good value (or None);
            they never raise.
        """
        values: list[PointValue] = [_NO_VALUE] * len(self._points)
        if not self._link.connected:  # tested here first: no coroutine per scan of a connected device
            reason = await self._ensure_connected()
            if reason is not None:
                self._fill_bad(values, range(len(self._blocks)), reason)
                return values
        answered = 0
        for index, request in enumerate(self._requests):
            try:
                data = await self._read_block(*request)
            except RequestFault as fault:
                if fault.lost:
                    self._go_offline(fault.reason)
                    self._fill_bad(values, range(index, len(self._blocks)), fault.reason)
                    return values
                if not fault.timeout:
                    answered += 1
                self._fill_bad(values, (index,), fault.reason)
                continue
            answered += 1
            self._fill_block(values, index, data)
        if self._blocks and not answered:
            self._link.close()
            self._go_offline("device not answering")
        elif answered and not self._online:
            self._went_online()
        return values

    async def write(self, point: str, value: float) -> None:
        """Write ``value`` (engineering units) to the point named ``point``.

        Coils by FC5, one-register points by FC6, wider points by FC16; a bit
        inside a holding register by FC3 read then FC6 write of the register.

        Raises
        ------
        DriverTimeout
            No reply within ``timeout_s`` after all retries.
        DriverError
            Unknown or read-only point, value out of range, device offline,
            exception or malformed reply; the message says which.
        """
        spec = self._points.get(point)
        where = f"{self.device_id}.{point}"
        if spec is None:
            raise DriverError(f"{where}: no such point")
        if not spec.writable:
            raise DriverError(f"{where}: point is not writable")
        if spec.dtype is not DataType.BIT or spec.bit is None:
            try:
                registers = codec.encode(spec, value)
            except ValueError as exc:
                raise DriverError(str(exc)) from None
        elif value not in (0, 1):
            raise DriverError(f"{where}: bit value must be 0 or 1, got {value!r}")
        reason = await self._ensure_connected()
        if reason is not None:
            raise DriverError(f"{where}: {reason}")
        unit = self.params.unit_id
        address = spec.address
        try:
            async with self._write_lock:
                if spec.table is Table.COIL:
                    await self._link.request(
                        lambda c: c.write_coil(address, bool(value), device_id=unit),
                        5, f"FC5 {address}",
                    )
                elif spec.bit is not None:
                    current = await self._link.request(
                        lambda c: c.read_holding_registers(address, count=1, device_id=unit),
                        3, f"FC3 {address}",
                    )
                    if not current.registers:
                        raise self._link.fail(RequestFault(f"empty reply to FC3 {address}"))
                    registers = codec.encode(spec, value, register=current.registers[0])
                    await self._link.request(
                        lambda c: c.write_register(address, registers[0], device_id=unit),
                        6, f"FC6 {address}",
                    )
                elif len(registers) == 1:
                    await self._link.request(
                        lambda c: c.write_register(address, registers[0], device_id=unit),
                        6, f"FC6 {address}",
                    )
                else:
                    await self._link.request(
                        lambda c: c.write_registers(address, registers, device_id=unit),
                        16, f"FC16 {address}..{address + len(registers) - 1}",
                    )
        except RequestFault as fault:
            if fault.lost:
                self._go_offline(fault.reason)
            elif fault.timeout:
                raise DriverTimeout(f"{where}: {fault.reason}") from None
            raise DriverError(f"{where}: {fault.reason}") from None
        self._went_online()

    async def close(self) -> None:
        """Close the connection; idempotent. A later read reconnects."""
        self._link.close()
        self._online = False

    # -- connection ---------------------------------------------------------

    async def _ensure_connected(self) -> str | None:
        """Connect if allowed; None when connected, else the BAD reason."""
        if self._link.connected:
            return None
        async with self._connect_lock:
            if self._link.connected:
                return None
            wait = self._retry_at - time.monotonic()
            if wait > 0:
                return f"offline, retry in {wait:.1f} s ({self._offline_reason})"
            try:
                await self._link.connect()
            except RequestFault as fault:
                self._go_offline(fault.reason)
                return fault.reason
            log.info("modbus device %s: connected to %s", self.device_id, self._link.where)
            return None

    def _go_offline(self, reason: str) -> None:
        delay = self._backoff.next_delay()
        self._retry_at = time.monotonic() + delay
        self._offline_reason = reason
        if self._online or self._backoff.failures == 1:
            log.warning("modbus device %s offline: %s; retry in %.1f s", self.device_id, reason, delay)
        self._online = False

    def _went_online(self) -> None:
        if not self._online:
            log.info("modbus device %s online", self.device_id)
        self._online = True
        self._backoff.reset()

    # -- reading ------------------------------------------------------------

    def _block_request(self, block: Block) -> _BlockRequest:
        """Precompile the read request of ``block`` (pymodbus call, function code, description)."""
        unit = self.params.unit_id
        start, count = block.start, block.count
        fc = _READ_FC[block.table]
        what = f"FC{fc} {start}..{start + count - 1}"
        call: Callable[[Any], Awaitable[ModbusPDU]]
        if block.table is Table.COIL:
            call = lambda c: c.read_coils(start, count=count, device_id=unit)  # noqa: E731
        elif block.table is Table.DISCRETE_INPUT:
            call = lambda c: c.read_discrete_inputs(start, count=count, device_id=unit)  # noqa: E731
        elif block.table is Table.HOLDING_REGISTER:
            call = lambda c: c.read_holding_registers(start, count=count, device_id=unit)  # noqa: E731
        else:
            call = lambda c: c.read_input_registers(start, count=count, device_id=unit)  # noqa: E731
        return call, fc, what, count, block.table in _BIT_TABLES

    async def _read_block(
        self, call: Callable[[Any], Awaitable[ModbusPDU]], fc: int, what: str, count: int, bits: bool,
    ) -> list[bool] | bytes:
        """The reply's bits (FC1/FC2) or register bytes (FC3/FC4, see :mod:`drivers.modbus.replies`)."""
        reply = await self._link.request(call, fc, what)
        if bits:
            return reply.bits
        raw = reply.raw
        if len(raw) != 2 * count:
            raise self._link.fail(RequestFault(
                f"reply to {what} has {len(raw) // 2} registers, expected {count}"
            ))
        return raw

    def _fill_block(self, values: list[PointValue], index: int, data: list[bool] | bytes) -> None:
        """Decode block ``index``'s reply into ``values`` (GOOD, or UNCERTAIN if not finite)."""
        codec = self._blocks[index].codec
        try:
            decoded = codec.decode_bytes(data) if isinstance(data, bytes) else codec.decode(data)
        except ValueError as exc:
            reason = self._link.fail(RequestFault(f"malformed reply: {exc}")).reason
            self._fill_bad(values, (index,), reason)
            return
        now = time.time()
        tags, positions = self._block_outputs[index]
        if isfinite(sum(decoded)):     # the common case: every value finite
            self._last_good[index] = tuple(decoded)
            good = map(_new_value, repeat(PointValue), zip(tags, decoded, repeat(_GOOD), repeat(now), repeat("")))
            span = self._block_spans[index]
            if span is not None:
                values[span] = good
            else:
                for position, value in zip(positions, good):
                    values[position] = value
            return
        last = list(self._last_good[index])
        for k, (position, tag, value) in enumerate(zip(positions, tags, decoded)):
            if isfinite(value):
                last[k] = value
                values[position] = _new_value(PointValue, (tag, value, _GOOD, now, ""))
            else:
                values[position] = PointValue(tag, value, Quality.UNCERTAIN, now, f"value is {value}")
        self._last_good[index] = tuple(last)

    def _fill_bad(self, values: list[PointValue], blocks: Iterable[int], reason: str) -> None:
        """Mark every point of ``blocks`` (indices) BAD with ``reason`` and its last good value."""
        now = time.time()
        for index in blocks:
            tags, positions = self._block_outputs[index]
            for position, tag, value in zip(positions, tags, self._last_good[index]):
                values[position] = _new_value(PointValue, (tag, value, _BAD, now, reason))
