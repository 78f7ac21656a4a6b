"""DL/T 645 peers for driver tests: the residential-meter gateway simulator (TCP or pty),
and the independent ``dlt645`` package's meter server (interoperability)."""

from __future__ import annotations

from drivers.dlt645.spec import Dlt645Params
from drivers.sim.dlt645_meters import MeterGateway, ResidentialMeter

METER_A = "000000000001"
METER_B = "202400012345"
METER_1997 = "000019970001"


def gateway(serial_port: str | None = None) -> MeterGateway:
    """Two frozen meters (A: 1000 kWh, 0.8 kW; B: 2500.5 kWh, 1.5 kW) behind one gateway."""
    a = ResidentialMeter(METER_A, energy_kwh=1000.0)
    b = ResidentialMeter(METER_B, energy_kwh=2500.5)
    b.set_load(1.5)
    return MeterGateway([a, b], serial_port=serial_port, step_s=None, late_s=0.3)


def params(gw: MeterGateway, meter: str = METER_A, **kw: object) -> Dlt645Params:
    """Fast-failing parameters for ``meter`` behind ``gw``."""
    base: dict[str, object] = dict(
        port=gw.port, timeout_s=0.2, retries=0, silence_s=0.2, backoff_initial_s=0.05, backoff_max_s=0.1,
    )
    base.update(kw)
    return Dlt645Params(f"M{meter[-2:]}", meter, **base)  # type: ignore[arg-type]
