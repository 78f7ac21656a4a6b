"""DL/T 645 benchmark: reads/s of the DL/T 645 driver against the meter-gateway simulator.

Run:  .venv/bin/python bench/bench_dlt645.py [--duration 5] [--meters 8]

The gateway (TCP, loopback) runs on its own event loop in a thread, holding
``--meters`` residential meters; the drivers share one gateway connection, as
meters behind one transparent gateway do, and read back to back. Each meter
read is 4 requests (energy, voltage, current, power). Prints meter reads/s and
requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drivers.dlt645.driver import Dlt645Driver, bus_for  # noqa: E402
from drivers.dlt645.spec import Dlt645Params, Dlt645Point  # noqa: E402
from drivers.sim.dlt645_meters import MeterGateway, ResidentialMeter  # noqa: E402

POINTS = [Dlt645Point("energy", 0x00010000), Dlt645Point("voltage", 0x02010100),
          Dlt645Point("current", 0x02020100), Dlt645Point("power", 0x02030000)]


async def main(duration: float, meters: int) -> None:
    numbers = [f"{i + 1:012d}" for i in range(meters)]
    gateway = MeterGateway([ResidentialMeter(n) for n in numbers], step_s=None)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(gateway.start(), loop).result()
    try:
        params = [Dlt645Params(f"M{i}", n, port=gateway.port) for i, n in enumerate(numbers)]
        bus = bus_for(params[0])
        drivers = [Dlt645Driver(p, POINTS, bus=bus) for p in params]
        reads = 0
        end = time.perf_counter() + duration
        while time.perf_counter() < end:
            for driver in drivers:
                values = await driver.read()
                assert all(pv.good for pv in values), values
                reads += 1
        for driver in drivers:
            await driver.close()
        bus.close()
        print(f"DL/T 645-2007 over a TCP gateway on loopback, {meters} meters on one connection, "
              f"{len(POINTS)} requests per meter read")
        print(f"  {reads / duration:8.0f} meter reads/s  {reads * len(POINTS) / duration:8.0f} requests/s")
    finally:
        asyncio.run_coroutine_threadsafe(gateway.stop(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds")
    parser.add_argument("--meters", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.duration, args.meters))
