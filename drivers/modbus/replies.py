"""Register read replies (FC3/FC4) that keep the reply's register bytes as they came.

pymodbus decodes a register reply into a list of ints, one ``struct`` call per
register, and formats the whole list for a debug log line on every reply. The
driver decodes its points straight from the wire bytes
(:meth:`drivers.modbus.block_codec.BlockCodec.decode_bytes`), so these replies,
registered with each client (``client.register``), keep the bytes and build the
int list only when something asks for ``registers``. Frame checks are those of
pymodbus: a byte count that runs past the frame is a ``ModbusIOException``, an
odd byte count a ``ValueError`` (pymodbus drops such a frame).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from pymodbus.exceptions import ModbusIOException
from pymodbus.pdu.register_message import ReadHoldingRegistersResponse, ReadInputRegistersResponse

__all__ = ["RawHoldingRegistersReply", "RawInputRegistersReply"]


class _RawRegisters:
    """Mixin: ``raw`` holds the registers big-endian, 2 bytes each; ``registers`` on demand."""

    function_code: int
    raw: bytes = b""
    _registers: list[int] | None = None

    @property
    def registers(self) -> list[int]:
        """The registers (0..65535) in wire order, unpacked from :attr:`raw` on first use."""
        if self._registers is None:
            self._registers = list(struct.unpack(f">{len(self.raw) // 2}H", self.raw))
        return self._registers

    @registers.setter
    def registers(self, values: Sequence[int]) -> None:
        self._registers = list(values)
        self.raw = struct.pack(f">{len(self._registers)}H", *self._registers)

    def decode(self, data: bytes) -> None:
        """Take the register bytes of a reply PDU (byte count, then the registers).

        Raises
        ------
        ModbusIOException
            The byte count runs past the end of the frame.
        ValueError
            The byte count is odd.
        """
        size = data[0]
        if size >= len(data):
            raise ModbusIOException(f"byte_count {size} > length of packet {len(data)}",
                                    function_code=self.function_code)
        if size % 2:
            raise ValueError(f"odd byte count {size} in a register reply")
        self.raw = bytes(data[1:1 + size])
        self._registers = None

    def __str__(self) -> str:
        return (f"{type(self).__name__}(dev_id={getattr(self, 'dev_id', 0)}, "
                f"transaction_id={getattr(self, 'transaction_id', 0)}, {len(self.raw) // 2} registers)")


class RawHoldingRegistersReply(_RawRegisters, ReadHoldingRegistersResponse):
    """FC3 reply keeping its register bytes (see the module docstring)."""


class RawInputRegistersReply(_RawRegisters, ReadInputRegistersResponse):
    """FC4 reply keeping its register bytes (see the module docstring)."""
