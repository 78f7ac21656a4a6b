"""BACnet peers for driver tests: the AHU controller simulator on a free loopback UDP port.

bacpypes3 takes any 127.x address on its own port for itself, so every peer
binds 127.0.0.1 with its own port (STACK-NOTES).
"""

from __future__ import annotations

import socket

from drivers.bacnet.spec import BacnetParams
from drivers.sim.bacnet_ahu import AhuController


def udp_port() -> int:
    """A UDP port on 127.0.0.1 free at the time of the call."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ahu(port: int | None = None) -> AhuController:
    """A frozen (no physics) AHU controller, device instance 3001."""
    return AhuController(f"127.0.0.1/8:{port or udp_port()}", instance=3001, step_s=None)


def params(device: AhuController, **kw: object) -> BacnetParams:
    """Fast-failing parameters for ``device``, with our own port on 127.0.0.1."""
    base: dict[str, object] = dict(
        device_instance=3001, timeout_s=0.3, local_address=f"127.0.0.1/8:{udp_port()}", local_instance=599,
        backoff_initial_s=0.05, backoff_max_s=0.1,
    )
    base.update(kw)
    return BacnetParams("AHU1", device.peer_address, **base)  # type: ignore[arg-type]
