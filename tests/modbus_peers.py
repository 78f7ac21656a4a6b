"""Modbus peers for the driver tests: real pymodbus servers and a hostile MBAP server.

* :class:`SimServer` — a pymodbus ``ModbusTcpServer`` (or RTU ``ModbusSerialServer``)
  on 127.0.0.1 holding 1000 coils, discrete inputs, holding and input registers
  (addresses 0..999; 1000+ is unmapped, so reads there get exception 2), unit id 1
  (other unit ids get exception 4). Stop and start it again on the same port.
* :class:`HostileServer` — an asyncio TCP server speaking MBAP framing by hand,
  whose replies a test scripts per request: exception codes, silence, late
  replies, wrong transaction ids, malformed frames, closing mid-read.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from drivers.modbus.spec import Table

SIZE = 1000
_FC_READ = {Table.COIL: 1, Table.DISCRETE_INPUT: 2, Table.HOLDING_REGISTER: 3, Table.INPUT_REGISTER: 4}

P = ParamSpec("P")
R = TypeVar("R")


def async_test(fn: Callable[P, Awaitable[R]]) -> Callable[P, R]:
    """Run an ``async def`` test in a fresh event loop (``asyncio.run``)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return asyncio.run(fn(*args, **kwargs))  # type: ignore[arg-type]

    return wrapper


def free_port() -> int:
    """A TCP port on 127.0.0.1 free at the time of the call."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _device(unit_id: int) -> SimDevice:
    return SimDevice(
        id=unit_id,
        simdata=(
            [SimData(0, count=SIZE, values=False, datatype=DataType.BITS)],
            [SimData(0, count=SIZE, values=False, datatype=DataType.BITS)],
            [SimData(0, count=SIZE, values=0, datatype=DataType.REGISTERS)],
            [SimData(0, count=SIZE, values=0, datatype=DataType.REGISTERS)],
        ),
    )


class SimServer:
    """A real pymodbus server with one device; use ``async with``.

    Parameters
    ----------
    port : int, optional
        TCP port (a free one by default).
    serial_port : str, optional
        Serve Modbus RTU on this serial device (e.g. one end of a pty pair)
        instead of TCP.
    unit_id : int
    """

    def __init__(self, port: int | None = None, serial_port: str | None = None, unit_id: int = 1) -> None:
        self.port = port or free_port()
        self.serial_port = serial_port
        self.unit_id = unit_id
        self._server: ModbusTcpServer | ModbusSerialServer | None = None

    async def start(self) -> None:
        """Start serving (fresh, zeroed data)."""
        if self.serial_port is None:
            self._server = ModbusTcpServer(_device(self.unit_id), address=("127.0.0.1", self.port))
        else:
            self._server = ModbusSerialServer(_device(self.unit_id), port=self.serial_port)
        await self._server.serve_forever(background=True)

    async def stop(self) -> None:
        """Stop serving and drop client connections."""
        if self._server is not None:
            await self._server.shutdown()
            self._server = None

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def set(self, table: Table, address: int, values: list[int]) -> None:
        """Store registers (0..65535) or bits (0/1) at ``address``."""
        assert self._server is not None
        data: list[Any] = [bool(v) for v in values] if table in (Table.COIL, Table.DISCRETE_INPUT) else values
        await self._server.async_setValues(self.unit_id, _FC_READ[table], address, data)

    async def get(self, table: Table, address: int, count: int) -> list[int]:
        """Read back ``count`` registers or bits (as 0/1) from the datastore."""
        assert self._server is not None
        values = await self._server.async_getValues(self.unit_id, _FC_READ[table], address, count)
        return [int(v) for v in values][:count]


# -- the hostile server ---------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One request as the hostile server received it."""

    tid: int
    unit: int
    fc: int
    address: int
    count: int


CLOSE = b"CLOSE"  #: reply action: close the connection instead of answering


def frame(tid: int, unit: int, pdu: bytes) -> bytes:
    """An MBAP frame: transaction id, protocol 0, length, unit id, then ``pdu``."""
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def registers_pdu(fc: int, registers: list[int]) -> bytes:
    """A read-registers reply PDU (FC3/FC4)."""
    return struct.pack(f">BB{len(registers)}H", fc, 2 * len(registers), *registers)


def exception_pdu(fc: int, code: int) -> bytes:
    """An exception reply PDU to function ``fc``."""
    return bytes((fc | 0x80, code))


def answer(req: Request, registers: list[int]) -> bytes:
    """A correct register reply frame to ``req``."""
    return frame(req.tid, req.unit, registers_pdu(req.fc, registers))


Script = Callable[[Request, int], list[bytes]]
"""(request, 0-based request number) -> frames to send, possibly empty, or [CLOSE]."""


class HostileServer:
    """MBAP-over-TCP server whose every reply is scripted by the test.

    Parameters
    ----------
    script : callable
        ``script(request, n)`` returns the frames to send after request ``n``
        (counting from 0 over all connections); ``[]`` sends nothing,
        ``[CLOSE]`` closes the connection.
    """

    def __init__(self, script: Script) -> None:
        self.script = script
        self.port = free_port()
        self.requests: list[Request] = []
        self.connections = 0
        self._server: asyncio.base_events.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._handlers: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> HostileServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await asyncio.gather(*self._handlers)  # each ends on its closed connection
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        task = asyncio.current_task()
        assert task is not None
        self._handlers.append(task)
        try:
            while True:
                header = await reader.readexactly(7)
                tid, _, length, unit = struct.unpack(">HHHB", header)
                pdu = await reader.readexactly(length - 1)
                fc = pdu[0]
                address, count = struct.unpack(">HH", pdu[1:5]) if len(pdu) >= 5 else (0, 0)
                request = Request(tid, unit, fc, address, count)
                self.requests.append(request)
                frames = self.script(request, len(self.requests) - 1)
                if frames == [CLOSE]:
                    break
                for data in frames:
                    writer.write(data)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
