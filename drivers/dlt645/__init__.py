"""DL/T 645-2007 / -1997 meter driver (own codec; asyncio TCP, pyserial in worker threads).

Layers: :mod:`.codec` (frames, checksum, 0x33 offset, BCD — pure), :mod:`.catalog`
(formats of the known data identifiers), :mod:`.spec` (typed parameters and
points), :mod:`.link` (:class:`Dlt645Bus`: the pipe shared by the meters on a
gateway or RS-485 port, request/reply matching), :mod:`.driver` (:class:`Dlt645Driver`).
"""

from drivers.dlt645.driver import Dlt645Driver, bus_for
from drivers.dlt645.link import Dlt645Bus

__all__ = ["Dlt645Bus", "Dlt645Driver", "bus_for"]
