"""Typed parameters of a Modbus device and its points (no I/O here).

These are the driver's own types; ``app`` builds them from the validated site
configuration, and the simulators in ``drivers/sim`` serve the same register maps.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Table(str, enum.Enum):
    """The four Modbus data tables."""

    COIL = "coil"                          # FC1 read, FC5/FC15 write, 1 bit
    DISCRETE_INPUT = "discrete_input"      # FC2 read only, 1 bit
    HOLDING_REGISTER = "holding_register"  # FC3 read, FC6/FC16 write, 16 bit
    INPUT_REGISTER = "input_register"      # FC4 read only, 16 bit


class DataType(str, enum.Enum):
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    BIT = "bit"

    @property
    def registers(self) -> int:
        """Number of 16-bit registers (or coils, for BIT) the type occupies."""
        return {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2,
                "float32": 2, "float64": 4, "bit": 1}[self.value]


class Order(str, enum.Enum):
    """Word order (register order of multi-register values) or byte order within a register."""

    BIG = "big"        # most significant first (Modbus default, "ABCD")
    LITTLE = "little"  # least significant first ("CDAB" for words, "BADC" for bytes)


@dataclass(frozen=True, slots=True)
class ModbusPoint:
    """One point in a device's register map.

    ``engineering = raw * scale + offset``; writes apply the inverse.
    ``bit`` (0-15) selects one bit of a 16-bit register (table holding/input, type BIT);
    ``None`` means the whole coil/discrete input.
    """

    name: str
    table: Table
    address: int                  # protocol address, 0-based
    dtype: DataType
    word_order: Order = Order.BIG
    byte_order: Order = Order.BIG
    scale: float = 1.0
    offset: float = 0.0
    bit: int | None = None
    writable: bool = False


@dataclass(frozen=True, slots=True)
class ModbusParams:
    """Connection parameters of one Modbus device (TCP when ``serial_port`` is None)."""

    device_id: str
    unit_id: int = 1
    host: str = "127.0.0.1"
    port: int = 502
    serial_port: str | None = None
    baudrate: int = 9600
    parity: str = "N"
    stopbits: int = 1
    bytesize: int = 8
    timeout_s: float = 1.0
    retries: int = 1
    rtu_silence_s: float | None = None  # RTU: quiet line needed after a timeout; None = timeout_s
    max_block_registers: int = 125   # Modbus limit for FC3/FC4 is 125 registers
    max_block_bits: int = 2000       # Modbus limit for FC1/FC2 is 2000 bits
    max_gap: int = 10                # unused registers a block may span to join two points
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
