"""OPC UA peers for driver tests: the pump-station simulator on a free loopback port."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from modbus_peers import free_port

from drivers.opcua.certs import CertificatePair, make_certificate
from drivers.opcua.spec import OpcUaParams
from drivers.sim.opcua_pump_station import PumpStationServer

CLIENT_URI = "urn:wattdesk:test-client"
T = TypeVar("T")


def station(tmp_path: Path | None = None, users: dict[str, str] | None = None,
            port: int | None = None) -> PumpStationServer:
    """A frozen (no physics) pump station; with ``tmp_path`` it also offers Basic256Sha256."""
    return PumpStationServer(port or free_port(), cert_dir=tmp_path, users=users, step_s=None)


def client_certificate(tmp_path: Path) -> CertificatePair:
    """A client application certificate for :data:`CLIENT_URI`."""
    return make_certificate(tmp_path, "wattdesk-client", CLIENT_URI)


def params(server: PumpStationServer, **kw: object) -> OpcUaParams:
    """Fast-failing parameters for ``server``."""
    base: dict[str, object] = dict(
        timeout_s=1.0, publishing_interval_s=0.05, backoff_initial_s=0.05, backoff_max_s=0.2,
        application_uri=CLIENT_URI,
    )
    base.update(kw)
    return OpcUaParams("PS", server.endpoint, **base)  # type: ignore[arg-type]


class StationThread:
    """A pump station on its own event loop in a thread, shared by many tests.

    asyncua's server takes ~2 s to build its address space and 1 s to stop, so
    tests that neither stop it nor need security share one. ``tmp_path`` and
    ``users`` are :func:`station`'s (security and user identities). Use as a context
    manager; :meth:`run` executes a coroutine on the server's loop.
    """

    def __init__(self, tmp_path: Path | None = None, users: dict[str, str] | None = None) -> None:
        self.server = station(tmp_path, users)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="opcua-station", daemon=True)

    def __enter__(self) -> StationThread:
        self._thread.start()
        try:
            self.call(self.server.start())
        except BaseException:
            self._end_loop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.call(self.server.stop())
        self._end_loop()

    def _end_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the server's loop, blocking until done (not from a test's loop)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the server's loop and await it from another loop."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))
