"""One simulated device = one pymodbus TCP server serving its template's register map.

The server keeps a *register image* per Modbus table, filled from engineering values
with :func:`drivers.modbus.codec.encode` (the same codec the driver decodes with).
pymodbus' v4 simulator datastore (``SimDevice``/``SimData``) holds the tables; its
``action`` hook copies the image into the served registers on every request and
routes writes of writable points to a callback.

Addressing: each table spans from its lowest to its highest point register; gaps
inside read as 0 (so a master may read across them, as ``max_gap`` plans), anything
outside answers exception 02 (illegal data address), as does a table the device
does not have. Writes to registers of non-writable points answer exception 02; a
write the device refuses in its present state (e.g. a breaker not in auto mode)
answers exception 01 (see :mod:`drivers.sim.breaker`); a value it cannot take
answers exception 03.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType as SimType
from pymodbus.simulator import SimData, SimDevice

from drivers.modbus.codec import decode, encode
from drivers.modbus.spec import ModbusPoint, Table
from drivers.sim.breaker import CommandRefused

log = logging.getLogger(__name__)

#: Modbus function code -> table it addresses
FUNCTION_TABLE = {1: Table.COIL, 5: Table.COIL, 15: Table.COIL, 2: Table.DISCRETE_INPUT,
                  3: Table.HOLDING_REGISTER, 6: Table.HOLDING_REGISTER, 16: Table.HOLDING_REGISTER,
                  22: Table.HOLDING_REGISTER, 23: Table.HOLDING_REGISTER, 4: Table.INPUT_REGISTER}
TABLE_ORDER = (Table.COIL, Table.DISCRETE_INPUT, Table.HOLDING_REGISTER, Table.INPUT_REGISTER)
BIT_TABLES = (Table.COIL, Table.DISCRETE_INPUT)

#: called with (point name, engineering value) for a write; may raise CommandRefused / ValueError
WriteHandler = Callable[[str, float], None]


class RegisterImage:
    """Raw contents of one device's four tables, encoded from engineering values.

    Parameters
    ----------
    points : sequence of ModbusPoint
        The device's register map (template points).

    Attributes
    ----------
    spans : dict[Table, tuple[int, int]]
        Per used table: (first address, count) served.
    bits : dict[Table, list[bool]]
        Coil / discrete input values from the first address on.
    registers : dict[Table, list[int]]
        Holding / input register values (0..65535) from the first address on.
    """

    def __init__(self, points: Sequence[ModbusPoint]) -> None:
        self.points = {p.name: p for p in points}
        self.spans: dict[Table, tuple[int, int]] = {}
        for table in TABLE_ORDER:
            used = [p for p in points if p.table is table]
            if used:
                first = min(p.address for p in used)
                end = max(p.address + p.dtype.registers for p in used)
                self.spans[table] = (first, end - first)
        self.bits = {t: [False] * self.spans[t][1] for t in BIT_TABLES if t in self.spans}
        self.registers = {t: [0] * self.spans[t][1] for t in TABLE_ORDER if t in self.spans and t not in BIT_TABLES}

    def set(self, name: str, value: float) -> None:
        """Encode one point's engineering value into the image.

        Raises
        ------
        KeyError
            Unknown point.
        ValueError
            The value does not fit the point's type (from the codec).
        """
        point = self.points[name]
        first = self.spans[point.table][0]
        offset = point.address - first
        if point.table in BIT_TABLES:
            self.bits[point.table][offset] = bool(encode(point, 1.0 if value else 0.0)[0])
            return
        regs = self.registers[point.table]
        if point.bit is not None:
            regs[offset] = encode(point, 1.0 if value else 0.0, register=regs[offset])[0]
            return
        regs[offset:offset + point.dtype.registers] = encode(point, value)

    def update(self, values: Mapping[str, float]) -> None:
        """Encode every point of the map from ``values`` (point name -> engineering value).

        Raises
        ------
        KeyError
            A point of the map has no value.
        """
        for name in self.points:
            self.set(name, values[name])


class DeviceServer:
    """A pymodbus TCP server for one simulated device.

    Parameters
    ----------
    device_id : str
    host, port : str, int
        Listening address.
    unit_id : int
        Modbus unit id the device answers (pymodbus answers other ids with exception 04).
    points : sequence of ModbusPoint
        The register map.
    on_write : WriteHandler
        Receives accepted writes of writable points.
    """

    def __init__(self, device_id: str, host: str, port: int, unit_id: int, points: Sequence[ModbusPoint],
                 on_write: WriteHandler) -> None:
        self.device_id = device_id
        self.host = host
        self.port = port
        self.unit_id = unit_id
        self.image = RegisterImage(points)
        self._on_write = on_write
        self._server: ModbusTcpServer | None = None

    def _simdevice(self) -> SimDevice:
        blocks: list[list[SimData]] = []
        for table in TABLE_ORDER:
            span = self.image.spans.get(table)
            if table in BIT_TABLES:
                first, count = span if span else (0, 1)
                blocks.append([SimData(address=first, count=count, values=False, datatype=SimType.BITS)])
            elif span:
                blocks.append([SimData(address=span[0], count=span[1], values=0, datatype=SimType.REGISTERS)])
            else:
                blocks.append([SimData(address=0, count=1, datatype=SimType.INVALID)])
        return SimDevice(id=self.unit_id, simdata=(blocks[0], blocks[1], blocks[2], blocks[3]),
                         action=self._action)

    async def _action(self, function_code: int, start_address: int, address: int, count: int,
                      registers: list[int], values: list[int] | list[bool] | None) -> ExcCodes | None:
        table = FUNCTION_TABLE.get(function_code)
        if table is None or table not in self.image.spans:
            return ExcCodes.ILLEGAL_ADDRESS
        if values is not None:
            result = self._write(table, address, list(values))
            if result is not None:
                return result
        if table in BIT_TABLES:
            first, _ = self.image.spans[table]
            bits = [False] * (first % 16) + self.image.bits[table]
            bits += [False] * (-len(bits) % 16)
            for i in range(0, len(bits), 16):
                registers[i // 16] = sum(1 << j for j, b in enumerate(bits[i:i + 16]) if b)
        else:
            image = self.image.registers[table]
            registers[:len(image)] = image
        return None

    def _write(self, table: Table, address: int, values: list) -> ExcCodes | None:
        """Check and carry out a write request; the exception code to answer, or None."""
        first, _ = self.image.spans[table]
        end = address + len(values)
        hit = [p for p in self.image.points.values()
               if p.table is table and p.address < end and address < p.address + p.dtype.registers]
        covered = set(range(address, end))
        for p in hit:
            own = set(range(p.address, p.address + p.dtype.registers))
            if not p.writable or not own <= covered:
                return ExcCodes.ILLEGAL_ADDRESS
            covered -= own
        if covered:
            return ExcCodes.ILLEGAL_ADDRESS
        for p in hit:
            raw = values[p.address - address:p.address - address + p.dtype.registers]
            value = decode(p, [int(v) for v in raw])
            try:
                self._on_write(p.name, value)
            except CommandRefused as exc:
                log.info("%s: write %s=%s refused: %s", self.device_id, p.name, value, exc)
                return ExcCodes.ILLEGAL_FUNCTION
            except ValueError as exc:
                log.info("%s: write %s=%s rejected: %s", self.device_id, p.name, value, exc)
                return ExcCodes.ILLEGAL_VALUE
            self.image.set(p.name, value)
        return None

    async def start(self) -> None:
        """Listen on (host, port); no-op if already listening.

        Raises
        ------
        OSError
            The port cannot be bound (in use ...).
        """
        if self._server is not None:
            return
        server = ModbusTcpServer(self._simdevice(), address=(self.host, self.port))
        try:
            await server.serve_forever(background=True)
        except RuntimeError as exc:
            raise OSError(f"{self.device_id}: cannot listen on {self.host}:{self.port}: {exc}") from None
        self._server = server

    async def stop(self) -> None:
        """Stop listening and drop every connection (the device goes offline); idempotent."""
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()
