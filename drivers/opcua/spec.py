"""Typed parameters of an OPC UA server connection and its points (no I/O here).

``app`` builds these from the validated site configuration, as it does
:mod:`drivers.modbus.spec`; the password is resolved (keyring) before it gets here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path


class SecurityMode(str, enum.Enum):
    """Message security of the secure channel (OPC 10000-4, 7.20)."""

    NONE = "none"                          # lab use only
    SIGN = "sign"                          # Basic256Sha256, signed
    SIGN_AND_ENCRYPT = "sign_and_encrypt"  # Basic256Sha256, signed and encrypted


class DeadbandType(str, enum.Enum):
    """Data-change filter deadband of a monitored item (OPC 10000-4, 7.22.2)."""

    NONE = "none"
    ABSOLUTE = "absolute"  # in the variable's engineering units
    PERCENT = "percent"    # of the variable's EURange (analog items only)


class AcquisitionMode(str, enum.Enum):
    """How a device's points are acquired."""

    POLL = "poll"            # one Read service call per scan
    SUBSCRIBE = "subscribe"  # monitored items; points the server refuses are polled


@dataclass(frozen=True, slots=True)
class OpcUaPoint:
    """One variable node read as a point.

    Attributes
    ----------
    name : str
        Point name, unique in the device.
    node_id : str
        OPC UA node id string, e.g. ``"ns=2;s=PumpStation.Pump1.Power"`` or ``"i=2258"``.
        A namespace given by URI (``"nsu=urn:x;s=..."``) is resolved on connect.
    sampling_interval_s : float or None
        Requested sampling interval of the monitored item, seconds; None uses the
        subscription's publishing interval.
    deadband : float
        Deadband value (units or percent per ``deadband_type``); 0 reports every change.
    deadband_type : DeadbandType
    writable : bool
    """

    name: str
    node_id: str
    sampling_interval_s: float | None = None
    deadband: float = 0.0
    deadband_type: DeadbandType = DeadbandType.NONE
    writable: bool = False


@dataclass(frozen=True, slots=True)
class OpcUaParams:
    """Connection parameters of one OPC UA server.

    Attributes
    ----------
    device_id : str
    endpoint : str
        ``"opc.tcp://host:port/path"``.
    security : SecurityMode
        NONE, or Basic256Sha256 with SIGN / SIGN_AND_ENCRYPT (needs the client
        certificate and key).
    certificate : Path or None
        Client application instance certificate (DER or PEM); its subject
        alternative name URI must equal ``application_uri``.
    private_key : Path or None
        PEM private key of that certificate.
    server_certificate : Path or None
        Pin the server's certificate; None takes it from the server's endpoints.
    application_uri : str
    username, password : str or None
        User identity token; anonymous when ``username`` is None.
    mode : AcquisitionMode
    publishing_interval_s : float
        Subscription publishing interval, seconds.
    timeout_s : float
        Per request (and connect) time limit, seconds.
    backoff_initial_s, backoff_max_s : float
        Reconnection back-off (see :class:`drivers.backoff.Backoff`).
    """

    device_id: str
    endpoint: str
    security: SecurityMode = SecurityMode.NONE
    certificate: Path | None = None
    private_key: Path | None = None
    server_certificate: Path | None = None
    application_uri: str = "urn:wattdesk:client"
    username: str | None = None
    password: str | None = None
    mode: AcquisitionMode = AcquisitionMode.POLL
    publishing_interval_s: float = 0.5
    timeout_s: float = 2.0
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
