"""The demo plant: every device of the demo site as a real server on one event loop.

Modbus devices are Modbus TCP servers fed by the physics model; the devices of the
other protocols (BACnet/IP, OPC UA, DL/T 645, MQTT) are served by their own simulators
(:mod:`drivers.sim.protocol_peers`).

:class:`DemoPlant` runs in-process (its own thread and asyncio loop), for tests and
for embedding; :class:`PlantProcess` runs one in a child process (multiprocessing,
spawn) and forwards incidents over a pipe, for ``wattdesk demo``.

Incidents (``trigger(kind, device_id, **params)`` / ``clear(kind, device_id)``):

=================  ===========================  =========================================
kind               applies to                   params (default)
=================  ===========================  =========================================
overload           IoT breaker                  factor (1.3): peak phase current / In
over_temperature   IoT breaker                  temperature_c (95)
leakage            IoT breaker                  leakage_ma (1.5 × residual_mA)
phase_loss         breaker / transformer meter  phase ("c"); a transformer meter: its bus
over_voltage       breaker / transformer meter  voltage_v (280)
under_voltage      breaker / transformer meter  voltage_v (150)
trip               IoT breaker                  cause (2, short circuit); momentary
flood              environment sensor           (none): water immersion contact
imbalance          IoT breaker                  deviation_pct (40): phase a above the mean, b and c below
surge              IoT breaker                  factor (3): the feeder's load (and consumption) times factor
sensor_fault       IoT breaker                  (none): the terminal-temperature register reads NaN
offline            any device                   (none): the device stops answering; clear
                                                brings it back (see below)
=================  ===========================  =========================================

``offline`` on a Modbus device closes its server (connections refused); on a device of
another protocol its simulator stops answering as :class:`~drivers.sim.protocol_peers.ProtocolPeers`
describes (BACnet/OPC UA server closed, DL/T 645 meter silent on its gateway, MQTT sensor gone).

Ports: with ``base_port`` the devices move from the site file's ports to
``base_port + (port - lowest port in the site)`` (an OPC UA endpoint and a BACnet
``local_address`` move with them), so tests never collide with a running demo.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable, Coroutine
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from app.config import Protocol, SiteConfig, load_site
from drivers.sim.breaker import CommandRefused, Mode
from drivers.sim.model import MODEL_INCIDENTS, PlantModel
from drivers.sim.protocol_peers import ProtocolPeers
from drivers.sim.server import DeviceServer
from drivers.sim.simconfig import load_sim_config
from resources import DEMO_SITE

log = logging.getLogger(__name__)

DEMO_SIM = DEMO_SITE.with_name("demo.sim.yaml")
INCIDENTS = (*MODEL_INCIDENTS, "offline")
START_TIMEOUT_S = 60.0


def move_ports(site: SiteConfig, base_port: int | None) -> SiteConfig:
    """The site with its devices' TCP ports moved to start at ``base_port``.

    Parameters
    ----------
    site : SiteConfig
    base_port : int or None
        New port of the device with the lowest port; None returns ``site`` as is.

    Returns
    -------
    SiteConfig
        A new, re-indexed site; each port p becomes ``base_port + p - min(ports)``.

    Raises
    ------
    ValueError
        A moved port falls outside 1..65535.
    """
    if base_port is None:
        return site
    lowest = min(d.port for d in site.devices)
    devices = []
    for d in site.devices:
        port = base_port + d.port - lowest
        if not 1 <= port <= 65535:
            raise ValueError(f"base_port {base_port}: device {d.id} would get port {port}, outside 1..65535")
        update: dict[str, Any] = {"port": port}
        if d.protocol is Protocol.OPC_UA and d.endpoint:
            update["endpoint"] = d.endpoint.replace(f":{d.port}/", f":{port}/", 1)
        if d.protocol is Protocol.BACNET_IP:
            local, _, local_port = d.local_address.rpartition(":")
            update["local_address"] = f"{local}:{base_port + int(local_port) - lowest}"
        devices.append(d.model_copy(update=update))
    return type(site)(**{**dict(site), "devices": tuple(devices)})


class DemoPlant:
    """The demo site's devices served from the physics model.

    Parameters
    ----------
    site_path : str or Path
        Site file (default: resources/sites/demo.yaml).
    sim_path : str or Path
        Simulation parameters (default: demo.sim.yaml beside the demo site).
    base_port : int or None
        Move the devices' ports (see :func:`move_ports`).
    refresh_s : float or None
        Seconds between physics steps; None uses the simulation file's ``refresh_s``.

    Raises
    ------
    app.config.ConfigError, drivers.sim.simconfig.SimConfigError, drivers.sim.model.ModelError
        Bad site file, bad simulation parameters, or a plant the model cannot run.
    ValueError
        A non-Modbus device with no simulator (see :mod:`drivers.sim.protocol_peers`).
    """

    def __init__(self, site_path: str | Path = DEMO_SITE, sim_path: str | Path = DEMO_SIM, *,
                 base_port: int | None = None, refresh_s: float | None = None) -> None:
        self.site = move_ports(load_site(site_path), base_port)
        self.sim = load_sim_config(sim_path)
        self.refresh_s = refresh_s if refresh_s is not None else self.sim.refresh_s
        modbus = tuple(d for d in self.site.devices if d.protocol in (Protocol.MODBUS_TCP, Protocol.MODBUS_RTU))
        self.model = PlantModel(type(self.site)(**{**dict(self.site), "devices": modbus}), self.sim, time.time())
        self.peers = ProtocolPeers([d for d in self.site.devices
                                    if d.protocol not in (Protocol.MODBUS_TCP, Protocol.MODBUS_RTU)])
        self.servers: dict[str, DeviceServer] = {}
        for device in modbus:
            params, points = device.modbus()
            self.servers[device.id] = DeviceServer(device.id, params.host, params.port, params.unit_id, points,
                                                   self._write_handler(device.id))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start every server and the physics loop in a background thread; returns once listening.

        Raises
        ------
        OSError
            A port could not be bound (the plant is stopped again).
        RuntimeError
            Already started, or the loop did not come up in time.
        """
        if self._thread is not None:
            raise RuntimeError("demo plant already started")
        self._started.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="demo-plant", daemon=True)
        self._thread.start()
        if not self._started.wait(START_TIMEOUT_S):
            raise RuntimeError("demo plant did not start in time")
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise self._error

    def stop(self) -> None:
        """Stop the servers and the loop; idempotent."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        if loop is not None and stopping is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopping.set)
        thread.join()
        self._thread = None

    def __enter__(self) -> "DemoPlant":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start(); the thread ends either way
            self._error = exc
            self._started.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            self._refresh()
            for server in self.servers.values():
                await server.start()
            await self.peers.start()
            self._started.set()
            while not self._stopping.is_set():
                try:
                    await asyncio.wait_for(self._stopping.wait(), self.refresh_s)
                except TimeoutError:
                    self._refresh()
        finally:
            await self.peers.stop()
            for server in self.servers.values():
                await server.stop()

    def _refresh(self) -> None:
        """One physics step, encoded into every server's register image."""
        values = self.model.step(time.time(), time.monotonic())
        for device_id, server in self.servers.items():
            server.image.update(values[device_id])

    def _write_handler(self, device_id: str) -> Callable[[str, float], None]:
        def on_write(point: str, value: float) -> None:
            breaker = self.model.breakers.get(device_id)
            if breaker is None or point != "command":
                raise ValueError(f"{device_id}.{point} is not writable in the simulator")
            breaker.command(int(value), time.monotonic())
            assert self._loop is not None
            self._loop.call_later(breaker.actuation_s + 0.01, self._refresh)
        return on_write

    def _call(self, coro_fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
        loop = self._loop
        if self._thread is None or loop is None:
            raise RuntimeError("demo plant is not running")
        asyncio.run_coroutine_threadsafe(coro_fn(), loop).result(START_TIMEOUT_S)

    # ------------------------------------------------------------------ operations
    def trigger(self, kind: str, device_id: str, **params: float | str) -> None:
        """Start an incident (table in the module docstring); registers change at once.

        Raises
        ------
        ValueError
            Unknown kind or device, or an incident the device cannot have.
        RuntimeError
            The plant is not running.
        """
        async def run() -> None:
            if kind == "offline":
                if self.peers.serves(device_id):
                    await self.peers.offline(device_id)
                else:
                    await self._server(device_id).stop()
                return
            self.model.trigger(kind, device_id, params)
            self._refresh()
        self._call(run)

    def clear(self, kind: str, device_id: str) -> None:
        """End an incident; ``offline``: the device answers again.

        Raises
        ------
        ValueError
            Unknown kind or device.
        """
        async def run() -> None:
            if kind not in INCIDENTS:
                raise ValueError(f"unknown incident {kind!r}; expected one of {', '.join(INCIDENTS)}")
            if kind == "offline":
                if self.peers.serves(device_id):
                    await self.peers.back(device_id)
                else:
                    await self._server(device_id).start()
                return
            self._server(device_id)
            self.model.clear(kind, device_id)
            self._refresh()
        self._call(run)

    def set_mode(self, device_id: str, mode: int) -> None:
        """Turn an IoT breaker's mode switch: 0 auto, 1 manual, 2 maintenance (local action)."""
        async def run() -> None:
            self._breaker(device_id).mode = Mode(mode)
            self._refresh()
        self._call(run)

    def operate_locally(self, device_id: str, close: bool) -> None:
        """Close or open an IoT breaker by hand at the panel.

        Raises
        ------
        CommandRefused
            In maintenance mode.
        """
        async def run() -> None:
            self._breaker(device_id).operate_locally(close)
            self._refresh()
        self._call(run)

    def _server(self, device_id: str) -> DeviceServer:
        try:
            return self.servers[device_id]
        except KeyError:
            raise ValueError(f"unknown device {device_id!r}") from None

    def _breaker(self, device_id: str):
        try:
            return self.model.breakers[device_id]
        except KeyError:
            raise ValueError(f"{device_id!r} is not an IoT breaker of the plant") from None


def _child_main(conn: Connection, kwargs: dict[str, Any]) -> None:
    """Child process: run a DemoPlant and answer control messages until ``stop``."""
    logging.basicConfig(level=logging.WARNING)
    try:
        plant = DemoPlant(**kwargs)
        plant.start()
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ok", None))
    try:
        while True:
            try:
                op, args, params = conn.recv()
            except EOFError:
                break
            if op == "stop":
                break
            try:
                getattr(plant, op)(*args, **params)
            except (ValueError, CommandRefused, RuntimeError) as exc:
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
            else:
                conn.send(("ok", None))
    finally:
        plant.stop()
        conn.send(("ok", None))


class PlantProcess:
    """A :class:`DemoPlant` in a child process (spawn), controlled over a pipe.

    Parameters
    ----------
    site_path, sim_path, base_port, refresh_s
        As for :class:`DemoPlant`.
    """

    _OPS = ("trigger", "clear", "set_mode", "operate_locally")

    def __init__(self, site_path: str | Path = DEMO_SITE, sim_path: str | Path = DEMO_SIM, *,
                 base_port: int | None = None, refresh_s: float | None = None) -> None:
        self.site_path = Path(site_path)
        self.base_port = base_port
        self._kwargs = {"site_path": str(site_path), "sim_path": str(sim_path), "base_port": base_port,
                        "refresh_s": refresh_s}
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._lock = threading.Lock()

    def site_config(self, site: SiteConfig | None = None) -> SiteConfig:
        """The site as the plant serves it (ports moved by ``base_port``)."""
        return move_ports(site if site is not None else load_site(self.site_path), self.base_port)

    def start(self) -> None:
        """Spawn the child and wait until every server listens.

        Raises
        ------
        RuntimeError
            The child failed to start (message from the child) or did not answer in time.
        """
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        process = ctx.Process(target=_child_main, args=(child, self._kwargs), name="wattdesk-demo-plant",
                              daemon=True)
        process.start()
        child.close()
        if not parent.poll(START_TIMEOUT_S):
            process.terminate()
            process.join()
            raise RuntimeError("demo plant process did not start in time")
        status, message = parent.recv()
        if status != "ok":
            process.join()
            raise RuntimeError(f"demo plant process failed: {message}")
        self._conn, self._process = parent, process

    def _request(self, op: str, *args: Any, **params: Any) -> None:
        with self._lock:
            if self._conn is None:
                raise RuntimeError("demo plant process is not running")
            self._conn.send((op, args, params))
            status, message = self._conn.recv()
        if status != "ok":
            raise ValueError(message)

    def trigger(self, kind: str, device_id: str, **params: float | str) -> None:
        """As :meth:`DemoPlant.trigger`; errors come back as ValueError with the child's message."""
        self._request("trigger", kind, device_id, **params)

    def clear(self, kind: str, device_id: str) -> None:
        """As :meth:`DemoPlant.clear`."""
        self._request("clear", kind, device_id)

    def set_mode(self, device_id: str, mode: int) -> None:
        """As :meth:`DemoPlant.set_mode`."""
        self._request("set_mode", device_id, mode)

    def operate_locally(self, device_id: str, close: bool) -> None:
        """As :meth:`DemoPlant.operate_locally`."""
        self._request("operate_locally", device_id, close)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the plant and the child process; idempotent."""
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if conn is not None:
            with self._lock:
                try:
                    conn.send(("stop", (), {}))
                    if conn.poll(timeout_s):
                        conn.recv()
                except (BrokenPipeError, EOFError, ConnectionResetError):
                    pass
                conn.close()
        if process is not None:
            process.join(timeout_s)
            if process.is_alive():
                process.terminate()
                process.join()
