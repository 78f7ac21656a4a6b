"""A farm of synthetic Modbus TCP devices in a child process, for the acquisition benchmarks.

Each device is a real pymodbus server on 127.0.0.1 (its own port) holding the register
map of ``bench/templates/bench_device.yaml``: a float64 change time (epoch seconds) at
holding register 0 and 49 float32 values from register 4 on. Every ``change_interval_s``
all values of every device change and the change time is stamped, so each scan of the
collector sees 50 changed points per device (with a change interval shorter than the
scan too: no two steps of a value cancel) and the delay from a change in the device
to the committed row can be measured.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing as mp
import random
import struct
import time

REGISTERS = 102
VALUES = 49
_PACK = struct.Struct(f">d{VALUES}f")
_UNPACK_REGS = struct.Struct(f">{REGISTERS}H")
#: Random-walk steps no two of which cancel, so a value read after two changes has still changed.
_STEPS = (-0.5, 0.25, 0.3)


def _registers(t_change: float, values: list[float]) -> list[int]:
    return list(_UNPACK_REGS.unpack(_PACK.pack(t_change, *values)))


async def _serve(base_port: int, n: int, change_interval_s, ready, stop) -> None:
    from pymodbus.server import ModbusTcpServer
    from pymodbus.simulator import DataType, SimData, SimDevice

    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    servers = []
    for i in range(n):
        device = SimDevice(id=1, simdata=(
            [SimData(0, count=1, values=False, datatype=DataType.BITS)],
            [SimData(0, count=1, values=False, datatype=DataType.BITS)],
            [SimData(0, count=REGISTERS, values=0, datatype=DataType.REGISTERS)],
            [SimData(0, count=1, values=0, datatype=DataType.REGISTERS)],
        ))
        server = ModbusTcpServer(device, address=("127.0.0.1", base_port + i))
        await server.serve_forever(background=True)
        servers.append(server)
    rng = random.Random(7)
    levels = [[rng.uniform(10, 100) for _ in range(VALUES)] for _ in range(n)]
    ready.set()
    next_t = time.monotonic()
    while not stop.is_set():
        now = time.time()
        for server, level in zip(servers, levels):
            for k in range(VALUES):
                level[k] += rng.choice(_STEPS)
            await server.async_setValues(1, 3, 0, _registers(now, level))
        next_t += change_interval_s.value
        await asyncio.sleep(max(0.0, next_t - time.monotonic()))
    for server in servers:
        await server.shutdown()


def _main(base_port: int, n: int, change_interval_s, ready, stop) -> None:
    asyncio.run(_serve(base_port, n, change_interval_s, ready, stop))


class Farm:
    """``n`` synthetic devices on ports ``base_port .. base_port + n - 1`` in a child process."""

    def __init__(self, base_port: int, n: int, change_interval_s: float = 1.0) -> None:
        ctx = mp.get_context("spawn")
        self._ready = ctx.Event()
        self._stop = ctx.Event()
        self._interval = ctx.Value("d", change_interval_s)
        self.process = ctx.Process(target=_main, name="bench-farm", daemon=True,
                                   args=(base_port, n, self._interval, self._ready, self._stop))

    @property
    def change_interval_s(self) -> float:
        """Seconds between value changes; may be set while the farm runs."""
        return self._interval.value

    @change_interval_s.setter
    def change_interval_s(self, seconds: float) -> None:
        self._interval.value = seconds

    def __enter__(self) -> Farm:
        self.process.start()
        if not self._ready.wait(120):
            self.process.kill()
            raise RuntimeError("device farm did not start within 120 s")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.process.join(30)
        if self.process.is_alive():
            self.process.kill()
