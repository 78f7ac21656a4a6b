"""Modbus TCP/RTU driver (pymodbus 3.16, async).

Layers: :mod:`.spec` (typed parameters and points), :mod:`.codec` (registers <->
values, pure), :mod:`.planner` (block reads, pure), :mod:`.link` (pymodbus
client, request/reply matching), :mod:`.driver` (:class:`ModbusDriver`).
"""

from drivers.modbus.driver import ModbusDriver

__all__ = ["ModbusDriver"]
