"""Data identifiers the driver knows by heart: value format, sign and unit.

From DL/T 645-2007 appendix A (tables A.1 energy, A.2 demand, A.3 variables) and
DL/T 645-1997 section 9 / appendix. A point may name any other identifier if it
gives the format itself. Block identifiers (``...FF..``) return the listed items
one after another; a point picks one with its ``index``.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.dlt645.codec import Version

__all__ = ["DataItem", "lookup"]


@dataclass(frozen=True, slots=True)
class DataItem:
    """How one data identifier's value is coded.

    Attributes
    ----------
    fmt : str
        BCD format of one value, e.g. ``"XXXXXX.XX"``.
    signed : bool
        Top bit of the most significant byte is the sign.
    unit : str
    stride : int
        Bytes from one value to the next in a block or a value+time record
        (demand: 3-byte value then 5-byte time, stride 8).
    description : str
    """

    fmt: str
    signed: bool
    unit: str
    stride: int
    description: str


def _item(fmt: str, signed: bool, unit: str, description: str, stride: int = 0) -> DataItem:
    size = len(fmt.replace(".", "")) // 2
    return DataItem(fmt, signed, unit, stride or size, description)


_ENERGY = "XXXXXX.XX"

CATALOG_2007: dict[int, DataItem] = {
    0x00000000: _item(_ENERGY, True, "kWh", "combined active energy, total"),
    0x00010000: _item(_ENERGY, False, "kWh", "forward active energy, total"),
    0x00010100: _item(_ENERGY, False, "kWh", "forward active energy, tariff 1"),
    0x00010200: _item(_ENERGY, False, "kWh", "forward active energy, tariff 2"),
    0x00010300: _item(_ENERGY, False, "kWh", "forward active energy, tariff 3"),
    0x00010400: _item(_ENERGY, False, "kWh", "forward active energy, tariff 4"),
    0x0001FF00: _item(_ENERGY, False, "kWh", "forward active energy, total and tariffs 1-4 (block)"),
    0x00020000: _item(_ENERGY, False, "kWh", "reverse active energy, total"),
    0x00030000: _item(_ENERGY, True, "kvarh", "combined reactive energy 1, total"),
    0x00040000: _item(_ENERGY, True, "kvarh", "combined reactive energy 2, total"),
    0x01010000: _item("XX.XXXX", False, "kW", "forward active maximum demand, total (with time)", 8),
    0x01020000: _item("XX.XXXX", False, "kW", "reverse active maximum demand, total (with time)", 8),
    0x02010100: _item("XXX.X", False, "V", "phase A voltage"),
    0x02010200: _item("XXX.X", False, "V", "phase B voltage"),
    0x02010300: _item("XXX.X", False, "V", "phase C voltage"),
    0x0201FF00: _item("XXX.X", False, "V", "phase voltages A, B, C (block)"),
    0x02020100: _item("XXX.XXX", True, "A", "phase A current"),
    0x02020200: _item("XXX.XXX", True, "A", "phase B current"),
    0x02020300: _item("XXX.XXX", True, "A", "phase C current"),
    0x0202FF00: _item("XXX.XXX", True, "A", "phase currents A, B, C (block)"),
    0x02030000: _item("XX.XXXX", True, "kW", "active power, total"),
    0x02030100: _item("XX.XXXX", True, "kW", "active power, phase A"),
    0x02030200: _item("XX.XXXX", True, "kW", "active power, phase B"),
    0x02030300: _item("XX.XXXX", True, "kW", "active power, phase C"),
    0x0203FF00: _item("XX.XXXX", True, "kW", "active power, total and phases A, B, C (block)"),
    0x02040000: _item("XX.XXXX", True, "kvar", "reactive power, total"),
    0x02050000: _item("XX.XXXX", True, "kVA", "apparent power, total"),
    0x02060000: _item("X.XXX", True, "", "power factor, total"),
    0x02800001: _item("XXX.XXX", True, "A", "neutral current"),
    0x02800002: _item("XX.XX", False, "Hz", "grid frequency"),
    0x02800003: _item("XX.XXXX", True, "kW", "one-minute average active power"),
    0x02800004: _item("XX.XXXX", True, "kW", "current active demand"),
    0x02800005: _item("XX.XXXX", True, "kvar", "current reactive demand"),
    0x02800007: _item("XXX.X", True, "degC", "meter temperature"),
}

CATALOG_1997: dict[int, DataItem] = {
    0x9010: _item(_ENERGY, False, "kWh", "forward active energy, total"),
    0x9020: _item(_ENERGY, False, "kWh", "reverse active energy, total"),
    0xA010: _item("XX.XXXX", False, "kW", "forward active maximum demand, total"),
    0xB611: _item("XXXX", False, "V", "phase A voltage"),
    0xB612: _item("XXXX", False, "V", "phase B voltage"),
    0xB613: _item("XXXX", False, "V", "phase C voltage"),
    0xB621: _item("XX.XX", False, "A", "phase A current"),
    0xB622: _item("XX.XX", False, "A", "phase B current"),
    0xB623: _item("XX.XX", False, "A", "phase C current"),
    0xB630: _item("XX.XXXX", True, "kW", "active power, total"),
    0xB640: _item("XX.XX", True, "kvar", "reactive power, total"),
    0xB650: _item("X.XXX", True, "", "power factor, total"),
}


def lookup(version: Version, di: int) -> DataItem | None:
    """The catalogue entry of ``di`` in ``version``, or None."""
    return (CATALOG_2007 if version is Version.V2007 else CATALOG_1997).get(di)
