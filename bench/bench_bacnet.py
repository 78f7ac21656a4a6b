"""BACnet/IP benchmark: reads/s of the BACnet driver against the AHU simulator on loopback.

Run:  .venv/bin/python bench/bench_bacnet.py [--duration 5]

The AHU controller runs on its own event loop in a thread (its own UDP port on
127.0.0.1); the driver polls back to back on the main loop. Prints scans/s and
points/s for polling (one ReadPropertyMultiple of present value and status
flags per scan) and for COV (a liveness ReadProperty per scan, values from
notifications).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drivers.bacnet.driver import BacnetDriver  # noqa: E402
from drivers.bacnet.spec import BacnetParams, BacnetPoint, ObjectType  # noqa: E402
from drivers.sim.bacnet_ahu import AhuController  # noqa: E402

POINTS = [
    BacnetPoint("supply", ObjectType.ANALOG_INPUT, 1), BacnetPoint("return", ObjectType.ANALOG_INPUT, 2),
    BacnetPoint("outdoor", ObjectType.ANALOG_INPUT, 3), BacnetPoint("setpoint", ObjectType.ANALOG_VALUE, 1),
    BacnetPoint("valve", ObjectType.ANALOG_OUTPUT, 1), BacnetPoint("fan", ObjectType.BINARY_OUTPUT, 1),
    BacnetPoint("fan_status", ObjectType.BINARY_INPUT, 1), BacnetPoint("filter", ObjectType.BINARY_INPUT, 2),
]


def _udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def main(duration: float) -> None:
    device = AhuController(f"127.0.0.1/8:{_udp_port()}", step_s=None)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(device.start(), loop).result()
    try:
        print(f"BACnet/IP on loopback, {len(POINTS)} points per scan, {duration:g} s each")
        for cov in (False, True):
            params = BacnetParams("AHU", device.peer_address, device_instance=3001, cov=cov,
                                  local_address=f"127.0.0.1/8:{_udp_port()}")
            driver = BacnetDriver(params, POINTS)
            await driver.read()
            scans = 0
            end = time.perf_counter() + duration
            while time.perf_counter() < end:
                values = await driver.read()
                assert all(pv.good for pv in values), values
                scans += 1
            await driver.close()
            mode = "cov" if cov else "poll"
            print(f"  {mode:5s}: {scans / duration:7.0f} scans/s  {scans * len(POINTS) / duration:8.0f} points/s")
    finally:
        asyncio.run_coroutine_threadsafe(device.stop(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per mode")
    asyncio.run(main(parser.parse_args().duration))
