"""Typed parameters of a DL/T 645 meter and its points (no I/O here).

One meter is one device. Meters sharing an RS-485 bus or a transparent
serial-to-TCP gateway each name the same ``serial_port`` or ``host``/``port``;
the acquisition layer gives them one :class:`drivers.dlt645.link.Dlt645Bus`.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.dlt645.codec import Version


@dataclass(frozen=True, slots=True)
class Dlt645Point:
    """One value read from a meter.

    Attributes
    ----------
    name : str
    di : int
        Data identifier, e.g. ``0x00010000`` (2007) or ``0x9010`` (1997).
    fmt : str or None
        BCD format (``"XXXXXX.XX"``); None takes it from the catalogue
        (:mod:`drivers.dlt645.catalog`), which then must know ``di``.
    signed : bool or None
        Sign in the top bit; None takes it from the catalogue (False if unknown).
    index : int
        Which value of a block or record (0 = first).
    scale : float
        ``engineering = meter value * scale`` (e.g. 0.001 for Wh from kWh).
    """

    name: str
    di: int
    fmt: str | None = None
    signed: bool | None = None
    index: int = 0
    scale: float = 1.0


@dataclass(frozen=True, slots=True)
class Dlt645Params:
    """Connection parameters of one meter.

    Attributes
    ----------
    device_id : str
    meter : str
        Meter number (address), up to 12 digits.
    version : Version
    host, port : str, int
        Transparent TCP gateway, used when ``serial_port`` is None.
    serial_port : str or None
        RS-485 port, e.g. ``"/dev/ttyUSB0"`` or ``"COM3"``.
    baudrate : int
        2400 is the -2007 default; 1200 for many -1997 meters.
    parity : str
        ``"E"`` (the standard's even parity), ``"N"`` or ``"O"``.
    timeout_s : float
        Reply time limit per request, seconds.
    retries : int
        Extra attempts after a timeout.
    silence_s : float
        Quiet line required after a timeout before the next request.
    backoff_initial_s, backoff_max_s : float
    """

    device_id: str
    meter: str
    version: Version = Version.V2007
    host: str = "127.0.0.1"
    port: int = 8899
    serial_port: str | None = None
    baudrate: int = 2400
    parity: str = "E"
    timeout_s: float = 1.0
    retries: int = 1
    silence_s: float = 0.2
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
