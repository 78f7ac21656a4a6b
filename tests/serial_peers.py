"""Serial-line peers for driver tests: a pty pair made by socat, and a scripted RTU slave.

* :func:`pty_pair` — two linked pseudo-terminals (client end, server end).
* :class:`HostileRtuServer` — reads Modbus RTU requests on one pty end and sends
  whatever the test scripts: correct replies, late replies, bad CRC, wrong unit,
  truncated frames, silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import struct
import subprocess
import termios
import time
import tty
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from drivers.modbus.rtu import crc16


@contextlib.contextmanager
def pty_pair(directory: Path) -> Iterator[tuple[str, str]]:
    """Two linked pseudo-terminals in ``directory``: (client end, server end).

    Fails the test (not skips) when socat is missing: apt package ``socat``.
    """
    socat = shutil.which("socat")
    if socat is None:
        pytest.fail("socat not installed (apt-get install -y socat): serial tests cannot run")
    a, b = directory / "ttyA", directory / "ttyB"
    proc = subprocess.Popen(
        [socat, f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            if a.exists() and b.exists():
                break
            time.sleep(0.01)
        else:
            pytest.fail("socat did not create the pty pair")
        yield str(a), str(b)
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def rtu_frame(unit: int, pdu: bytes) -> bytes:
    """An RTU frame: unit id, PDU, CRC-16 low byte first."""
    body = bytes((unit,)) + pdu
    return body + crc16(body).to_bytes(2, "little")


def rtu_registers(unit: int, fc: int, registers: list[int]) -> bytes:
    """A correct FC3/FC4 reply frame."""
    return rtu_frame(unit, struct.pack(f">BB{len(registers)}H", fc, 2 * len(registers), *registers))


@dataclass(frozen=True)
class RtuRequest:
    """One request as the scripted slave decoded it (FC1-6 layout)."""

    unit: int
    fc: int
    address: int
    count: int


RtuScript = Callable[[RtuRequest, int], list[tuple[float, bytes]]]
"""(request, 0-based request number) -> [(delay_s, bytes to send), ...]."""


class HostileRtuServer:
    """A Modbus RTU slave on a pty whose replies the test scripts; ``async with``.

    Requests must be 8-byte FC1-6 frames (what the driver sends for reads and
    single writes); a frame with a bad CRC is counted in :attr:`bad_frames`.
    """

    def __init__(self, port: str, script: RtuScript) -> None:
        self.port = port
        self.script = script
        self.requests: list[RtuRequest] = []
        self.bad_frames = 0
        self._fd = -1
        self._buffer = b""
        self._timers: list[asyncio.TimerHandle] = []

    async def __aenter__(self) -> HostileRtuServer:
        self._fd = os.open(self.port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self._fd, termios.TCSANOW)
        asyncio.get_running_loop().add_reader(self._fd, self._on_readable)
        return self

    async def __aexit__(self, *exc: object) -> None:
        asyncio.get_running_loop().remove_reader(self._fd)
        for timer in self._timers:
            timer.cancel()
        os.close(self._fd)

    def _on_readable(self) -> None:
        try:
            self._buffer += os.read(self._fd, 512)
        except BlockingIOError:
            return
        while len(self._buffer) >= 8:
            frame, self._buffer = self._buffer[:8], self._buffer[8:]
            if crc16(frame[:6]) != int.from_bytes(frame[6:], "little"):
                self.bad_frames += 1
                self._buffer = b""
                return
            unit, fc, address, count = struct.unpack(">BBHH", frame[:6])
            request = RtuRequest(unit, fc, address, count)
            self.requests.append(request)
            loop = asyncio.get_running_loop()
            for delay, data in self.script(request, len(self.requests) - 1):
                self._timers.append(loop.call_later(delay, os.write, self._fd, data))
