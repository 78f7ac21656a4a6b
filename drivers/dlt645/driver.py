"""The public DL/T 645 driver: one meter, read by data identifier, faults as reasons.

:class:`Dlt645Driver` implements :class:`drivers.base.Driver` for one meter
addressed by its number. Points sharing a data identifier (a block such as
``0x0201FF00``, phase voltages A/B/C) are read with one request. Layers below
it: :mod:`.codec` (frames, BCD), :mod:`.catalog` (formats of known
identifiers), :mod:`.link` (the shared pipe, request/reply matching).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from app.points import PointValue, Quality
from drivers.backoff import Backoff
from drivers.base import Driver, DriverError
from drivers.dlt645.catalog import lookup
from drivers.dlt645.codec import Frame, address_bytes, decode_bcd, format_size, read_request
from drivers.dlt645.link import Dlt645Bus, LinkFault
from drivers.dlt645.spec import Dlt645Params, Dlt645Point

__all__ = ["Dlt645Driver", "bus_for"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Planned:
    """A point with its format resolved: where its value sits in the reply."""

    point: Dlt645Point
    fmt: str
    signed: bool
    offset: int  # bytes after the data identifier
    size: int


def bus_for(params: Dlt645Params) -> Dlt645Bus:
    """A new pipe for ``params``' gateway or serial port (share it between meters on it)."""
    return Dlt645Bus(params.host, params.port, params.serial_port, params.baudrate, params.parity,
                     connect_timeout_s=params.timeout_s)


def _plan(params: Dlt645Params, points: Sequence[Dlt645Point]) -> dict[int, list[_Planned]]:
    """Group points by data identifier; ValueError naming device and point if one is bad."""
    where = f"dlt645 device {params.device_id!r}"
    groups: dict[int, list[_Planned]] = {}
    names: set[str] = set()
    limit = 1 << (8 * params.version.di_size)
    for point in points:
        what = f"{where}, point {point.name!r}"
        if point.name in names:
            raise ValueError(f"{where}: duplicate point {point.name!r}")
        names.add(point.name)
        if not 0 <= point.di < limit:
            raise ValueError(f"{what}: data identifier 0x{point.di:X} does not fit DL/T 645-{params.version.value}")
        item = lookup(params.version, point.di)
        fmt = point.fmt or (item.fmt if item else None)
        if fmt is None:
            raise ValueError(f"{what}: data identifier 0x{point.di:X} is not in the catalogue; give fmt")
        try:
            size, _ = format_size(fmt)
        except ValueError as exc:
            raise ValueError(f"{what}: {exc}") from None
        if point.index < 0:
            raise ValueError(f"{what}: index must be >= 0")
        signed = point.signed if point.signed is not None else bool(item and item.signed)
        stride = item.stride if item and point.fmt is None else size
        groups.setdefault(point.di, []).append(_Planned(point, fmt, signed, point.index * stride, size))
    return groups


class Dlt645Driver(Driver):
    """Driver for one DL/T 645-2007 or -1997 meter.

    Parameters
    ----------
    params : Dlt645Params
    points : sequence of Dlt645Point
    bus : Dlt645Bus, optional
        The pipe shared with other meters on the same gateway or RS-485 port
        (:func:`bus_for`); by default the driver opens its own.

    Raises
    ------
    ValueError
        Bad meter number, parameters or points; the message names the device and point.

    Notes
    -----
    Reasons: ``"timeout after 1 s"`` (with ``"; incomplete frame (n bytes)"``
    or ``"; reply from meter X ignored (wrong address)"`` when something did
    arrive), ``"malformed reply: bad checksum ..."``, ``"meter error 0x02 (no
    data requested ...)"``, ``"reply carries data identifier ..."``, ``"reply
    too short for ..."``, ``"not BCD: ..."``. A meter whose every request timed
    out is left alone for the back-off delay so it does not hold up the others
    on its bus; a scan whose first request times out (after its retries) ends
    there, every point BAD with that reason, for the same cause. Meters do not take writes here: :meth:`write` always refuses.
    """

    def __init__(self, params: Dlt645Params, points: Sequence[Dlt645Point], bus: Dlt645Bus | None = None) -> None:
        where = f"dlt645 device {params.device_id!r}"
        if not params.device_id:
            raise ValueError("dlt645 device: device_id must not be empty")
        try:
            self._address = address_bytes(params.meter)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if not params.timeout_s > 0 or params.retries < 0 or params.silence_s < 0:
            raise ValueError(f"{where}: timeout_s must be > 0, retries and silence_s >= 0")
        if params.parity not in ("E", "N", "O"):
            raise ValueError(f"{where}: parity must be E, N or O, got {params.parity!r}")
        self._groups = _plan(params, points)
        self.device_id = params.device_id
        self.params = params
        self._order = [p.name for p in points]
        self._tags = {name: f"{params.device_id}.{name}" for name in self._order}
        self._bus = bus if bus is not None else bus_for(params)
        self._bus.attach(self)
        self._backoff = Backoff(params.backoff_initial_s, params.backoff_max_s)
        self._last_good: dict[str, float] = {}
        self._online = False
        self._retry_at = 0.0
        self._offline_reason = ""

    @property
    def online(self) -> bool:
        """True while the last read got at least one reply from the meter."""
        return self._online

    async def read(self) -> list[PointValue]:
        """Every point once, one request per data identifier.

        Returns
        -------
        list of PointValue
            In configuration order; never raises.
        """
        values: dict[str, PointValue] = {}
        wait = self._retry_at - time.monotonic()
        if wait > 0:
            return self._bad_all(f"offline, retry in {wait:.1f} s ({self._offline_reason})")
        try:
            await self._bus.connect()
        except LinkFault as fault:
            self._go_offline(fault.reason)
            return self._bad_all(fault.reason)
        answered = 0
        for di, planned in self._groups.items():
            try:
                frame = await self._request(di)
            except LinkFault as fault:
                if fault.lost:
                    self._go_offline(fault.reason)
                    return self._bad_all(fault.reason, keep=values)
                if fault.timeout and not answered:
                    # not one reply this scan: asking for the other identifiers would hold
                    # the shared line for a timeout each while the meter is not there
                    self._go_offline(f"meter not answering ({fault.reason})")
                    return self._bad_all(fault.reason)
                if not fault.timeout:
                    answered += 1
                self._fill_bad(values, planned, fault.reason)
                continue
            answered += 1
            self._fill(values, di, planned, frame)
        if answered:
            self._went_online()
        return [values[name] for name in self._order]

    async def write(self, point: str, value: float) -> None:
        """Refuse: DL/T 645 writes need the meter's password and operator code.

        Raises
        ------
        DriverError
            Always, naming the point.
        """
        raise DriverError(f"{self.device_id}.{point}: DL/T 645 meter points are read-only")

    async def close(self) -> None:
        """Leave the pipe; the last driver on it closes it. Idempotent."""
        self._bus.detach(self)
        self._online = False

    # -- exchange -----------------------------------------------------------------

    async def _request(self, di: int) -> Frame:
        request = read_request(self._address, di, self.params.version)
        attempts = self.params.retries + 1
        for attempt in range(attempts):
            try:
                return await self._bus.exchange(request, self._address, self.params.timeout_s, self.params.silence_s)
            except LinkFault as fault:
                if not fault.timeout or attempt == attempts - 1:
                    if fault.timeout and attempts > 1:
                        raise LinkFault(f"{fault.reason} ({attempts} tries)", timeout=True) from None
                    raise
        raise AssertionError("unreachable")

    def _fill(self, values: dict[str, PointValue], di: int, planned: list[_Planned], frame: Frame) -> None:
        now = time.time()
        di_size = self.params.version.di_size
        if frame.function != self.params.version.read_code:
            self._fill_bad(values, planned, f"reply has control code 0x{frame.control:02X}")
            return
        if frame.is_abnormal:
            self._fill_bad(values, planned, f"meter {frame.error_text(self.params.version)}")
            return
        if frame.has_follow_up:
            self._fill_bad(values, planned, "reply has follow-up frames (not supported)")
            return
        got = int.from_bytes(frame.data[:di_size], "little") if len(frame.data) >= di_size else None
        if got != di:
            shown = "none" if got is None else f"0x{got:0{2 * di_size}X}"
            self._fill_bad(values, planned, f"reply carries data identifier {shown}, expected 0x{di:0{2 * di_size}X}")
            return
        payload = frame.data[di_size:]
        for entry in planned:
            name = entry.point.name
            raw = payload[entry.offset:entry.offset + entry.size]
            if len(raw) < entry.size:
                values[name] = self._bad(name, now, f"reply too short for {name}: {len(payload)} data bytes, "
                                                    f"need {entry.offset + entry.size}")
                continue
            try:
                number = decode_bcd(raw, entry.fmt, entry.signed) * entry.point.scale
            except ValueError as exc:
                values[name] = self._bad(name, now, str(exc))
                continue
            self._last_good[name] = number
            values[name] = PointValue(self._tags[name], number, Quality.GOOD, now)

    def _bad(self, name: str, now: float, reason: str) -> PointValue:
        return PointValue(self._tags[name], self._last_good.get(name), Quality.BAD, now, reason)

    def _fill_bad(self, values: dict[str, PointValue], planned: list[_Planned], reason: str) -> None:
        now = time.time()
        for entry in planned:
            values[entry.point.name] = self._bad(entry.point.name, now, reason)

    def _bad_all(self, reason: str, keep: dict[str, PointValue] | None = None) -> list[PointValue]:
        now = time.time()
        keep = keep or {}
        return [keep.get(name) or self._bad(name, now, reason) for name in self._order]

    def _go_offline(self, reason: str) -> None:
        delay = self._backoff.next_delay()
        self._retry_at = time.monotonic() + delay
        self._offline_reason = reason
        if self._online or self._backoff.failures == 1:
            log.warning("dlt645 device %s offline: %s; retry in %.1f s", self.device_id, reason, delay)
        self._online = False

    def _went_online(self) -> None:
        if not self._online:
            log.info("dlt645 device %s online", self.device_id)
        self._online = True
        self._backoff.reset()
