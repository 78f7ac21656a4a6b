"""OPC UA benchmark: reads/s of the OPC UA driver against the pump-station simulator on loopback.

Run:  .venv/bin/python bench/bench_opcua.py [--duration 5]

The server runs on its own event loop in a thread (as a separate device would);
the driver reads back-to-back on the main loop. Prints, for polling (one Read
service call of all points per scan) and for subscriptions (latest notified
values after a session check): scans/s and points/s; and the latency from a
value written on the server to its notification reaching the driver.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drivers.opcua.driver import OpcUaDriver  # noqa: E402
from drivers.opcua.spec import AcquisitionMode, OpcUaParams, OpcUaPoint  # noqa: E402
from drivers.sim.opcua_pump_station import PumpStationServer  # noqa: E402

PATHS = [f"{pump}.{var}" for pump in ("Pump1", "Pump2")
         for var in ("Running", "SpeedSetpoint", "Speed", "Flow", "Pressure", "Power")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _scans(driver: OpcUaDriver, duration: float) -> int:
    await driver.read()
    count = 0
    end = time.perf_counter() + duration
    while time.perf_counter() < end:
        values = await driver.read()
        assert all(pv.good for pv in values), values
        count += 1
    return count


async def _latency(driver: OpcUaDriver, server: PumpStationServer, loop: asyncio.AbstractEventLoop,
                   samples: int) -> list[float]:
    delays = []
    for i in range(samples):
        value = 10.0 + i
        asyncio.run_coroutine_threadsafe(server.set("Pump2.Power", value), loop).result()
        start = time.perf_counter()
        while (await driver.read())[0].value != value:
            await asyncio.sleep(0.0005)
        delays.append(time.perf_counter() - start)
    return delays


async def main(duration: float) -> None:
    server = PumpStationServer(_free_port(), step_s=None)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result()
    try:
        points = [OpcUaPoint(p.replace(".", "_"), server.node_id(p)) for p in PATHS]
        print(f"OPC UA on loopback, {len(points)} points per scan, {duration:g} s each")
        for mode in AcquisitionMode:
            params = OpcUaParams("PS", server.endpoint, mode=mode, publishing_interval_s=0.05)
            driver = OpcUaDriver(params, points)
            scans = await _scans(driver, duration)
            await driver.close()
            print(f"  {mode.value:9s}: {scans / duration:8.0f} scans/s  {scans * len(points) / duration:9.0f} points/s")
        params = OpcUaParams("PS", server.endpoint, mode=AcquisitionMode.SUBSCRIBE, publishing_interval_s=0.05)
        driver = OpcUaDriver(params, [OpcUaPoint("p", server.node_id("Pump2.Power"), sampling_interval_s=0.0)])
        await driver.read()
        delays = await _latency(driver, server, loop, 40)
        await driver.close()
        print(f"  notification latency, publishing interval 50 ms: median {statistics.median(delays) * 1000:.1f} ms, "
              f"max {max(delays) * 1000:.1f} ms")
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per mode")
    asyncio.run(main(parser.parse_args().duration))
