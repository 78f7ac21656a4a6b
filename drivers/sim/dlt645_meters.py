"""Residential DL/T 645-2007 and -1997 meters behind a transparent TCP gateway (or on a serial line).

:class:`MeterGateway` is a real DL/T 645 peer: it parses request frames with
:mod:`drivers.dlt645.codec` and answers for the meters it holds, each in its own
edition: a -2007 meter answers read-data (control 0x11, 4-byte data identifiers;
reply 0x91, error 0xD1) and read-address (0x13); a -1997 meter answers read-data
(control 0x01, 2-byte identifiers such as 0x9010 energy or 0xB611 phase-A voltage;
reply 0x81, error 0xC1). It stays silent for any other address or control code,
as meters on RS-485 do. Faults can be injected per meter for tests and demonstrations:

``"silent"``        no reply
``"late"``          reply after ``late_s``
``"bad_checksum"``  checksum byte off by one
``"wrong_length"``  the L byte one larger than the data
``"wrong_address"`` reply carries another meter number
``"not_bcd"``       value bytes 0xEE ("no value")

Each :class:`ResidentialMeter` is single-phase with a daily load curve (evening
peak), so energy counts up and power, current and demand move.
"""

from __future__ import annotations

import asyncio
import datetime
import math
import os
import termios
import time
import tty
from dataclasses import dataclass, field

from drivers.dlt645.catalog import lookup
from drivers.dlt645.codec import (
    Frame,
    FrameError,
    Version,
    address_bytes,
    build_frame,
    encode_bcd,
    find_frame,
)

__all__ = ["FAULTS", "MeterGateway", "ResidentialMeter"]

FAULTS = ("silent", "late", "bad_checksum", "wrong_length", "wrong_address", "not_bcd")
_ERR_NO_DATA = 0x02


@dataclass
class ResidentialMeter:
    """One single-phase household meter.

    Attributes
    ----------
    number : str
        Meter number (12 digits).
    version : Version
        The edition it speaks (its data identifiers and control codes).
    energy_kwh : float
        Forward active energy register.
    peak_kw : float
        Evening peak of the load curve.
    values : dict
        Data identifier -> value; :meth:`step` rewrites them from the load curve.
    """

    number: str
    version: Version = Version.V2007
    energy_kwh: float = 1000.0
    peak_kw: float = 3.0
    values: dict[int, float] = field(default_factory=dict)
    max_demand_kw: float = 0.0

    def __post_init__(self) -> None:
        if not self.values:
            self.set_load(0.8)

    def set_load(self, kw: float) -> None:
        """Set the present load and the values that follow from it."""
        voltage = 228.4
        pf = 0.95
        current = kw * 1000.0 / (voltage * pf)
        self.max_demand_kw = max(self.max_demand_kw, kw)
        if self.version is Version.V1997:
            self.values.update({
                0x9010: self.energy_kwh, 0x9020: 0.0, 0xA010: self.max_demand_kw, 0xB611: voltage,
                0xB621: current, 0xB630: kw, 0xB640: kw * math.tan(math.acos(pf)), 0xB650: pf,
            })
            return
        self.values.update({
            0x00000000: self.energy_kwh, 0x00010000: self.energy_kwh, 0x00020000: 0.0,
            0x00010100: self.energy_kwh * 0.6, 0x00010200: self.energy_kwh * 0.4,
            0x00010300: 0.0, 0x00010400: 0.0,
            0x02010100: voltage, 0x02020100: current, 0x02030000: kw, 0x02030100: kw,
            0x02040000: kw * math.tan(math.acos(pf)), 0x02060000: pf, 0x02800002: 50.0,
            0x02800004: kw, 0x01010000: self.max_demand_kw,
        })

    def load_at(self, when: float) -> float:
        """Load in kW at UTC epoch ``when``: base load plus morning and evening peaks."""
        hour = (when / 3600.0 + 8.0) % 24.0  # China Standard Time
        evening = math.exp(-(((hour - 19.5) / 2.0) ** 2))
        morning = 0.4 * math.exp(-(((hour - 7.5) / 1.2) ** 2))
        return 0.25 + self.peak_kw * (evening + morning)

    def step(self, when: float, dt: float) -> None:
        """Advance ``dt`` seconds to time ``when``: integrate energy, update the values."""
        kw = self.load_at(when)
        self.energy_kwh += kw * dt / 3600.0
        self.set_load(kw)

    def answer(self, di: int) -> bytes | None:
        """Data field of the reply to ``di`` after the identifier, or None if unknown."""
        item = lookup(self.version, di)
        if item is None:
            return None
        if self.version is Version.V2007 and di & 0xFF00 == 0xFF00:  # block: the members 0x..01.., 0x..02.. ... present here
            members = [m for m in sorted(self.values) if m & ~0xFF00 == di & ~0xFF00 and m != di]
            return b"".join(encode_bcd(self.values[m], item.fmt, item.signed) for m in members) or None
        if di not in self.values:
            return None
        data = encode_bcd(self.values[di], item.fmt, item.signed)
        if item.stride > len(data):  # demand record: value then time of occurrence YYMMDDhhmm
            now = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8)))
            data += bytes.fromhex(now.strftime("%y%m%d%H%M"))[::-1]
        return data


class MeterGateway:
    """A transparent gateway with meters behind it; ``async with`` serves TCP.

    Parameters
    ----------
    meters : list of ResidentialMeter
    port : int
        TCP port on ``host`` (ignored when ``serial_port`` is given).
    host : str
    serial_port : str or None
        Serve on this serial device (e.g. one end of a pty pair) instead of TCP (POSIX).
    step_s : float or None
        Physics step; None freezes the values.
    late_s : float
        Delay of the ``"late"`` fault.
    """

    def __init__(self, meters: list[ResidentialMeter], port: int = 0, host: str = "127.0.0.1",
                 serial_port: str | None = None, step_s: float | None = 1.0, late_s: float = 1.5) -> None:
        self.meters = {address_bytes(m.number): m for m in meters}
        self.port = port
        self.host = host
        self.serial_port = serial_port
        self.step_s = step_s
        self.late_s = late_s
        self.faults: dict[str, str] = {}
        self.requests = 0
        self.connections = 0   # TCP connections accepted so far
        self._server: asyncio.base_events.Server | None = None
        self._fd = -1
        self._serial_buffer = b""
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    def meter(self, number: str) -> ResidentialMeter:
        """The meter with ``number``."""
        return self.meters[address_bytes(number)]

    async def start(self) -> None:
        """Start serving (and stepping the physics when ``step_s`` is set)."""
        if self.serial_port is not None:
            self._fd = os.open(self.serial_port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            tty.setraw(self._fd, termios.TCSANOW)
            asyncio.get_running_loop().add_reader(self._fd, self._on_serial)
        else:
            self._server = await asyncio.start_server(self._serve, self.host, self.port)
            self.port = self._server.sockets[0].getsockname()[1]
        if self.step_s is not None:
            self._spawn(self._run(self.step_s))

    async def stop(self) -> None:
        """Stop serving and drop connections."""
        if self._server is not None:
            self._server.close()
            for writer in self._writers:
                writer.close()
            await self._server.wait_closed()
            self._server = None
        if self._fd >= 0:
            asyncio.get_running_loop().remove_reader(self._fd)
            os.close(self._fd)
            self._fd = -1
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._writers.clear()

    async def __aenter__(self) -> MeterGateway:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _spawn(self, coro) -> None:  # noqa: ANN001 - a coroutine
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, step_s: float) -> None:
        while True:
            await asyncio.sleep(step_s)
            now = time.time()
            for meter in self.meters.values():
                meter.step(now, step_s)

    # -- serving ---------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        buffer = b""
        try:
            while chunk := await reader.read(512):
                buffer += chunk
                buffer = self._handle(buffer, writer.write)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    def _on_serial(self) -> None:
        try:
            self._serial_buffer += os.read(self._fd, 512)
        except BlockingIOError:
            return
        self._serial_buffer = self._handle(self._serial_buffer, lambda data: os.write(self._fd, data))

    def _handle(self, buffer: bytes, send) -> bytes:  # noqa: ANN001 - bytes -> None
        """Answer every complete request in ``buffer``; return the unused rest."""
        while True:
            try:
                frame, used = find_frame(buffer)
            except FrameError:
                return b""  # a garbled request gets no answer, as on a real line
            buffer = buffer[used:]
            if frame is None:
                return buffer
            self.requests += 1
            reply = self._reply(frame)
            if reply is None:
                continue
            if self.faults.get(self._number(frame.address)) == "late":
                asyncio.get_running_loop().call_later(self.late_s, send, reply)
            else:
                send(reply)

    @staticmethod
    def _number(address: bytes) -> str:
        return "".join(f"{b:02X}" for b in reversed(address))

    def _reply(self, frame: Frame) -> bytes | None:
        if frame.control == 0x13 and frame.address == bytes([0xAA] * 6) and self.meters:
            address = next(iter(self.meters))
            return build_frame(address, 0x93, address)
        meter = self.meters.get(frame.address)
        if meter is None:
            return None  # foreign address: silence
        read, di_size = meter.version.read_code, meter.version.di_size
        if frame.control != read or len(frame.data) < di_size:
            return None  # a request this meter's edition does not have: silence
        fault = self.faults.get(meter.number.zfill(12))
        if fault == "silent":
            return None
        di = int.from_bytes(frame.data[:di_size], "little")
        value = meter.answer(di)
        if value is None:
            return build_frame(frame.address, 0xC0 | read, bytes((_ERR_NO_DATA,)))
        if fault == "not_bcd":
            value = b"\xee" * len(value)
        address = frame.address
        if fault == "wrong_address":
            address = bytes(reversed(frame.address))
        reply = bytearray(build_frame(address, 0x80 | read, frame.data[:di_size] + value))
        if fault == "bad_checksum":
            reply[-2] = (reply[-2] + 1) & 0xFF
        elif fault == "wrong_length":
            reply[4 + 9] += 1
        return bytes(reply)
