"""A water-pump station as a real OPC UA server (asyncua), for the demo plant and tests.

Address space (namespace ``urn:wattdesk:sim:pump-station``, string node ids)::

    Objects/PumpStation
        InletLevel        Double  m       (falls with pumped flow, refills)
        EnergyTotal       Double  kWh     accumulator
        StationState      String          "auto" (not a number: for quality tests)
        Pump1, Pump2
            Running       Boolean         writable: start/stop command
            SpeedSetpoint Double  %       writable, 0..100
            Speed         Double  %       ramps toward the setpoint while running
            Flow          Double  m3/h    = 120 * speed/100
            Pressure      Double  bar     = 4.5 * (speed/100)^2
            Power         Double  kW      = 30 * (speed/100)^3

Node ids are ``ns=<index>;s=PumpStation.<path>`` (e.g. ``PumpStation.Pump1.Power``);
the namespace index is 2 on a fresh server. Analog variables carry the standard
``EngineeringUnits`` property (EUInformation, UNECE unit codes) that browsing reads.
A :meth:`PumpStationServer.stop` then :meth:`~PumpStationServer.start` is a restart
that keeps the station's values (the energy counter does not go back). Security: None and Basic256Sha256
Sign / SignAndEncrypt with a self-signed certificate made in ``cert_dir``;
optional user/password identities.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from asyncua import Server, ua
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.user_managers import UserManager

from drivers.opcua.certs import make_certificate

__all__ = ["NAMESPACE", "PumpStationServer"]

NAMESPACE = "urn:wattdesk:sim:pump-station"
SERVER_URI = "urn:wattdesk:sim:pump-station:server"

_PUMP_VARS: dict[str, Any] = {
    "Running": False, "SpeedSetpoint": 80.0, "Speed": 0.0, "Flow": 0.0, "Pressure": 0.0, "Power": 0.0,
}
_WRITABLE = {"Running", "SpeedSetpoint"}
_INITIAL: dict[str, Any] = {"InletLevel": 3.2, "EnergyTotal": 1250.0, "StationState": "auto"}
#: variable -> (display name, UNECE common code) of its EngineeringUnits (OPC 10000-8, 5.6.3)
_UNITS: dict[str, tuple[str, str]] = {
    "InletLevel": ("m", "MTR"), "EnergyTotal": ("kWh", "KWH"), "SpeedSetpoint": ("%", "P1"),
    "Speed": ("%", "P1"), "Flow": ("m³/h", "MQH"), "Pressure": ("bar", "BAR"), "Power": ("kW", "KWT"),
}
_UNECE_URI = "http://www.opcfoundation.org/UA/units/un/cefact"


def _eu_information(display: str, common_code: str) -> ua.EUInformation:
    """EUInformation of a UNECE unit: UnitId packs the common code's ASCII bytes (OPC 10000-8, 5.6.3)."""
    unit_id = int.from_bytes(common_code.encode("ascii").rjust(4, b"\0"), "big")
    return ua.EUInformation(NamespaceUri=_UNECE_URI, UnitId=unit_id, DisplayName=ua.LocalizedText(display),
                            Description=ua.LocalizedText(display))


class _PasswordUsers(UserManager):
    """Accept exactly the given user/password pairs (anonymous is refused when set)."""

    def __init__(self, users: dict[str, str]) -> None:
        self._users = users

    def get_user(self, iserver: Any, username: str | None = None, password: str | None = None,
                 certificate: Any = None) -> User | None:
        if username is not None and self._users.get(username) == password:
            return User(role=UserRole.User, name=username)
        return None


class PumpStationServer:
    """The pump station OPC UA server; ``async with`` starts and stops it.

    Parameters
    ----------
    port : int
        TCP port on ``host``.
    host : str
    cert_dir : Path or None
        Where to make the server certificate; None serves security None only.
    users : dict or None
        user -> password; when given, anonymous sessions are refused.
    step_s : float or None
        Physics step, seconds; None freezes the values (tests set them with :meth:`set`).
    """

    def __init__(self, port: int, host: str = "127.0.0.1", cert_dir: Path | None = None,
                 users: dict[str, str] | None = None, step_s: float | None = 1.0) -> None:
        self.port = port
        self.host = host
        self.endpoint = f"opc.tcp://{host}:{port}/wattdesk/pump-station"
        self.cert_dir = cert_dir
        self.users = users
        self.step_s = step_s
        self.server_certificate: Path | None = None
        self.namespace_index = 0
        self._server: Server | None = None
        self._nodes: dict[str, Any] = {}
        self._kept: dict[str, Any] = {}   # values at the last stop, served again on start
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Build the address space and start listening."""
        server = Server(user_manager=_PasswordUsers(self.users) if self.users else None)
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name("WattDesk pump station simulator")
        await server.set_application_uri(SERVER_URI)
        policies = [ua.SecurityPolicyType.NoSecurity]
        if self.cert_dir is not None:
            if self.server_certificate is None:
                pair = make_certificate(self.cert_dir, "pump-station", SERVER_URI, server=True)
                self.server_certificate = pair.certificate
            await server.load_certificate(str(self.server_certificate))
            await server.load_private_key(str(self.server_certificate.with_suffix(".pem")))
            policies += [ua.SecurityPolicyType.Basic256Sha256_Sign,
                         ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt]
        server.set_security_policy(policies)
        if self.users:
            server.set_identity_tokens([ua.UserNameIdentityToken])
        idx = await server.register_namespace(NAMESPACE)
        self.namespace_index = idx
        station = await server.nodes.objects.add_object(
            ua.NodeId("PumpStation", idx), ua.QualifiedName("PumpStation", idx))
        for name, value in _INITIAL.items():
            self._nodes[name] = await self._variable(station, f"PumpStation.{name}", name, value)
        for pump in ("Pump1", "Pump2"):
            obj = await station.add_object(ua.NodeId(f"PumpStation.{pump}", idx), ua.QualifiedName(pump, idx))
            for name, value in _PUMP_VARS.items():
                self._nodes[f"{pump}.{name}"] = await self._variable(obj, f"PumpStation.{pump}.{name}", name, value)
        if self._kept:
            for path, value in self._kept.items():
                await self.set(path, value)
        else:
            await self.reset()
        await server.start()
        self._server = server
        if self.step_s is not None:
            self._task = asyncio.create_task(self._run(self.step_s))

    async def _variable(self, parent: Any, node_id: str, name: str, value: Any) -> Any:
        idx = self.namespace_index
        node = await parent.add_variable(ua.NodeId(node_id, idx), ua.QualifiedName(name, idx), value)
        if name in _WRITABLE:
            await node.set_writable()
        if name in _UNITS:
            await node.add_property(ua.NodeId(f"{node_id}.EngineeringUnits", idx),
                                    ua.QualifiedName("EngineeringUnits", 0), _eu_information(*_UNITS[name]))
        return node

    async def stop(self) -> None:
        """Stop serving; clients see their connection drop. The values are kept for the next start."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._server is not None:
            self._kept = {path: await node.read_value() for path, node in self._nodes.items()}
            await self._server.stop()
            self._server = None
            self._nodes.clear()

    async def __aenter__(self) -> PumpStationServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def node_id(self, path: str) -> str:
        """Node id string of ``path`` (e.g. ``"Pump1.Power"``)."""
        return f"ns={self.namespace_index};s=PumpStation.{path}"

    async def set(self, path: str, value: Any, status: int = 0) -> None:
        """Set a variable's value and status code (``ua.StatusCodes.*``), as a device would."""
        node = self._nodes[path]
        variant_type = await node.read_data_type_as_variant_type()
        await node.write_value(ua.DataValue(ua.Variant(value, variant_type), StatusCode=ua.StatusCode(status)))

    async def reset(self) -> None:
        """Back to the initial state, every status Good: pump 1 running at 80 %, pump 2 stopped."""
        for name, value in _INITIAL.items():
            await self.set(name, value)
        for pump in ("Pump1", "Pump2"):
            for name, value in _PUMP_VARS.items():
                await self.set(f"{pump}.{name}", value)
        await self.set("Pump1.Running", True)
        await self.set("Pump1.Speed", 80.0)
        await self._recompute()

    async def get(self, path: str) -> Any:
        """Current value of ``path``."""
        return await self._nodes[path].read_value()

    async def _recompute(self) -> None:
        for pump in ("Pump1", "Pump2"):
            fraction = await self.get(f"{pump}.Speed") / 100.0
            await self._nodes[f"{pump}.Flow"].write_value(120.0 * fraction)
            await self._nodes[f"{pump}.Pressure"].write_value(4.5 * fraction**2)
            await self._nodes[f"{pump}.Power"].write_value(30.0 * fraction**3)

    async def _step(self, dt: float) -> None:
        flow = 0.0
        energy = 0.0
        for pump in ("Pump1", "Pump2"):
            target = await self.get(f"{pump}.SpeedSetpoint") if await self.get(f"{pump}.Running") else 0.0
            speed = await self.get(f"{pump}.Speed")
            speed += max(-10.0 * dt, min(10.0 * dt, target - speed))  # ramp 10 %/s
            await self._nodes[f"{pump}.Speed"].write_value(speed)
            flow += 120.0 * speed / 100.0
            energy += 30.0 * (speed / 100.0) ** 3 * dt / 3600.0
        await self._recompute()
        level = await self.get("InletLevel") + (90.0 - flow) * dt / 3600.0
        await self._nodes["InletLevel"].write_value(min(5.0, max(0.0, level)))
        await self._nodes["EnergyTotal"].write_value(await self.get("EnergyTotal") + energy)

    async def _run(self, step_s: float) -> None:
        while True:
            await asyncio.sleep(step_s)
            try:
                await self._step(step_s)
            except Exception:  # a simulator bug must not stop the server
                logging.getLogger(__name__).exception("pump station step failed")
