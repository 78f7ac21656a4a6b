"""The DL/T 645 byte pipe and request/reply matching: a TCP gateway or an RS-485 port.

:class:`Dlt645Bus` is one pipe shared by every meter on it (a transparent
serial-to-TCP gateway or a serial port), with one exchange at a time:

* before a request, bytes still waiting (a late reply, line noise) are thrown
  away; after a request that got no reply, the next waits until the line has
  been quiet for ``silence_s``, so a late reply is never taken as the next answer;
* a reply must come from the addressed meter and be a reply (direction bit);
  frames from other addresses are skipped (a gateway may echo, another meter
  may talk), and a frame with a bad checksum or end byte ends the exchange with
  that reason;
* TCP runs on the event loop; a serial port is read and written in a worker
  thread (pyserial is blocking), as the design asks for serial DL/T 645.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import serial

from drivers.dlt645.codec import Frame, FrameError, address_text, find_frame

__all__ = ["Dlt645Bus", "LinkFault"]


class LinkFault(Exception):
    """An exchange or connection failed.

    Parameters
    ----------
    reason : str
    timeout : bool
        No (complete, matching) reply in time.
    lost : bool
        The pipe is closed; reconnect with back-off.
    """

    def __init__(self, reason: str, *, timeout: bool = False, lost: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timeout = timeout
        self.lost = lost


class _TcpPipe(asyncio.Protocol):
    """Received bytes into a buffer, with a wake-up event and the time of the last byte."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.arrived = asyncio.Event()
        self.closed = False
        self.last_rx = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.last_rx = time.monotonic()
        self.arrived.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.arrived.set()


class Dlt645Bus:
    """One pipe to one or more meters.

    Parameters
    ----------
    host, port : str, int
        The transparent gateway (when ``serial_port`` is None).
    serial_port : str or None
    baudrate : int
    parity : str
        ``"E"``, ``"N"`` or ``"O"``.
    connect_timeout_s : float
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 8899, serial_port: str | None = None,
                 baudrate: int = 2400, parity: str = "E", connect_timeout_s: float = 1.0) -> None:
        self.host = host
        self.port = port
        self.serial_port = serial_port
        self.baudrate = baudrate
        self.parity = parity
        self.connect_timeout_s = connect_timeout_s
        self._tcp: _TcpPipe | None = None
        self._serial: serial.Serial | None = None
        self._lock = asyncio.Lock()
        self._users: set[object] = set()
        self._unanswered = False
        self._quiet_since = 0.0

    @property
    def where(self) -> str:
        """``host:port`` or the serial port, for reasons."""
        return self.serial_port if self.serial_port is not None else f"{self.host}:{self.port}"

    @property
    def connected(self) -> bool:
        if self.serial_port is not None:
            return self._serial is not None and self._serial.is_open
        return self._tcp is not None and not self._tcp.closed

    async def connect(self) -> None:
        """Open the pipe if it is not open.

        Raises
        ------
        LinkFault
            ``lost=True`` with ``"connection refused (host:port)"``, ``"connect
            timeout ..."`` or ``"cannot open /dev/ttyX: ..."``.
        """
        async with self._lock:
            if self.connected:
                return
            if self.serial_port is not None:
                try:
                    self._serial = await asyncio.to_thread(
                        serial.Serial, self.serial_port, self.baudrate, parity=self.parity, timeout=0,
                    )
                except (serial.SerialException, ValueError, OSError) as exc:
                    raise LinkFault(f"cannot open {self.serial_port}: {exc}", lost=True) from None
                return
            loop = asyncio.get_running_loop()
            try:
                async with asyncio.timeout(self.connect_timeout_s):
                    _, pipe = await loop.create_connection(_TcpPipe, self.host, self.port)
            except TimeoutError:
                raise LinkFault(f"connect timeout after {self.connect_timeout_s:g} s ({self.where})",
                                lost=True) from None
            except ConnectionRefusedError:
                raise LinkFault(f"connection refused ({self.where})", lost=True) from None
            except OSError as exc:
                raise LinkFault(f"cannot connect to {self.where}: {exc.strerror or exc}", lost=True) from None
            self._tcp = pipe

    def attach(self, user: object) -> None:
        """Count ``user`` (a driver) as sharing this pipe until it calls :meth:`detach`."""
        self._users.add(user)

    def detach(self, user: object) -> None:
        """``user`` no longer needs the pipe; the last one out closes it. Idempotent."""
        self._users.discard(user)
        if not self._users:
            self.close()

    def close(self) -> None:
        """Close the pipe; idempotent."""
        if self._tcp is not None and self._tcp.transport is not None:
            self._tcp.transport.close()
        self._tcp = None
        if self._serial is not None:
            with contextlib.suppress(Exception):
                self._serial.close()
        self._serial = None

    async def exchange(self, request: bytes, address: bytes, timeout_s: float, silence_s: float) -> Frame:
        """Send ``request`` and return the addressed meter's reply.

        Parameters
        ----------
        request : bytes
            A complete frame (:func:`drivers.dlt645.codec.read_request`).
        address : bytes
            The meter's 6-byte address the reply must carry.
        timeout_s : float
            Reply time limit, seconds.
        silence_s : float
            Quiet line needed after an unanswered request, seconds.

        Raises
        ------
        LinkFault
            Timeout (with what did arrive, if anything), malformed frame, or a
            lost pipe.
        """
        async with self._lock:
            if not self.connected:
                raise LinkFault(f"not connected ({self.where})", lost=True)
            if self._unanswered:
                await self._wait_quiet(silence_s)
            await self._discard()
            self._unanswered = True
            await self._send(request)
            frame = await self._receive(address, timeout_s)
            self._unanswered = False
            return frame

    # -- pipe operations --------------------------------------------------------

    async def _wait_quiet(self, silence_s: float) -> None:
        while True:
            last = max(self._quiet_since, self._last_rx())
            remaining = last + silence_s - time.monotonic()
            if remaining <= 0:
                return
            await asyncio.sleep(remaining)
            await self._discard()

    def _last_rx(self) -> float:
        return self._tcp.last_rx if self._tcp is not None else 0.0

    async def _discard(self) -> None:
        if self._tcp is not None:
            self._tcp.buffer.clear()
            self._tcp.arrived.clear()
        elif self._serial is not None:
            port = self._serial
            await asyncio.to_thread(port.reset_input_buffer)

    async def _send(self, data: bytes) -> None:
        if self._tcp is not None:
            assert self._tcp.transport is not None
            self._tcp.transport.write(data)
            return
        port = self._serial
        assert port is not None
        try:
            await asyncio.to_thread(self._serial_write, port, data)
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise LinkFault(f"write to {self.where} failed: {exc}", lost=True) from None

    @staticmethod
    def _serial_write(port: serial.Serial, data: bytes) -> None:
        port.write(data)
        port.flush()

    async def _read_some(self, deadline: float) -> bytes:
        """New bytes, or b"" at the deadline; LinkFault(lost) when the pipe closed."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return b""
        if self._tcp is not None:
            pipe = self._tcp
            if not pipe.buffer:
                if pipe.closed:
                    raise LinkFault(f"connection closed by {self.where}", lost=True)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await pipe.arrived.wait()
                pipe.arrived.clear()
                if pipe.closed and not pipe.buffer:
                    self.close()
                    raise LinkFault(f"connection closed by {self.where}", lost=True)
            data = bytes(pipe.buffer)
            pipe.buffer.clear()
            return data
        port = self._serial
        assert port is not None
        try:
            return await asyncio.to_thread(self._serial_read, port, min(remaining, 0.05))
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise LinkFault(f"read from {self.where} failed: {exc}", lost=True) from None

    @staticmethod
    def _serial_read(port: serial.Serial, wait_s: float) -> bytes:
        port.timeout = wait_s
        first = port.read(1)
        if not first:
            return b""
        return first + port.read(port.in_waiting)

    async def _receive(self, address: bytes, timeout_s: float) -> Frame:
        deadline = time.monotonic() + timeout_s
        buffer = b""
        foreign: list[str] = []
        while True:
            chunk = await self._read_some(deadline)
            if not chunk:
                self._quiet_since = time.monotonic()
                raise LinkFault(self._timeout_reason(timeout_s, buffer, foreign), timeout=True)
            buffer += chunk
            while True:
                try:
                    frame, used = find_frame(buffer)
                except FrameError as exc:
                    self._quiet_since = time.monotonic()
                    raise LinkFault(f"malformed reply: {exc}") from None
                buffer = buffer[used:]
                if frame is None:
                    break
                if frame.address != address:
                    foreign.append(address_text(frame.address))
                    continue
                if not frame.is_reply:
                    continue  # our own request echoed by a half-duplex converter
                return frame

    @staticmethod
    def _timeout_reason(timeout_s: float, buffer: bytes, foreign: list[str]) -> str:
        reason = f"timeout after {timeout_s:g} s"
        if foreign:
            reason += f"; reply from meter {foreign[-1]} ignored (wrong address)"
        elif buffer.strip(b"\xfe"):
            reason += f"; incomplete frame ({len(buffer)} bytes)"
        return reason
