"""BACnet peers for driver tests: the AHU controller simulator on a free loopback UDP port,
or in a process of its own (:func:`serve_process`, optionally inside a network namespace).

bacpypes3 takes any 127.x address on its own port for itself, so every peer
binds 127.0.0.1 with its own port (STACK-NOTES).
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

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


async def _serve(address: str, instance: int) -> None:
    async with AhuController(address, instance=instance, step_s=None):
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.read)   # until the parent closes our stdin


def serve_process(address: str, instance: int = 3001, netns: str | None = None) -> subprocess.Popen[str]:
    """An AHU controller at ``address`` in its own process (optionally inside network
    namespace ``netns``), ready when this returns; stop it by closing its stdin.

    Raises
    ------
    RuntimeError
        The process did not come up (its output is in the message).
    """
    command = [sys.executable, __file__, address, str(instance)]
    if netns is not None:
        command = ["ip", "netns", "exec", netns, *command]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, cwd=Path(__file__).resolve().parent.parent)
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.kill()
        rest = process.communicate(timeout=10)[0]
        raise RuntimeError(f"AHU controller at {address} did not start: {line}{rest}")
    return process


def stop_process(process: subprocess.Popen[str]) -> None:
    """Stop a :func:`serve_process` controller and reap it."""
    assert process.stdin is not None
    process.stdin.close()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


if __name__ == "__main__":   # python tests/bacnet_peers.py ADDRESS INSTANCE
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    asyncio.run(_serve(sys.argv[1], int(sys.argv[2])))
