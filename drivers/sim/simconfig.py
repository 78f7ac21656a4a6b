"""Simulation parameters of the demo plant (``resources/sites/demo.sim.yaml``).

Kept apart from the site file: a real site never has them. Loads are keyed by the
id of their feeder topology node, sub-meters by their meter node, water/gas
meters and environment sensors by device id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator



class SimConfigError(ValueError):
    """demo.sim.yaml is unreadable or invalid; ``str()`` lists every problem as ``file: field: message``."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Schedule = list[tuple[float, float, float]]


class LoadSpec(_Model):
    """One feeder's load.

    ``P = peak_kw * (base + (1 - base) * shape(t)) * (1 + noise)``, where shape is a
    BDEW profile (g25/h25/l25, 0..1 of its yearly maximum), a time-switch schedule,
    or the cooling/heating demand from the outdoor temperature.
    """

    profile: Literal["g25", "h25", "l25", "schedule", "cooling", "heating"]
    peak_kw: float = Field(gt=0)
    base: float = Field(default=0.0, ge=0, le=1)
    pf: float = Field(default=0.92, gt=0.3, le=1)
    #: relative share of the three phases (normalised to a mean of 1)
    phases: tuple[float, float, float] = (1.0, 1.0, 1.0)
    thd_i_pct: float = Field(default=15.0, ge=0, le=100)
    leakage_ma: float = Field(default=3.0, ge=0)
    schedule: Schedule = []
    noise: float = Field(default=0.02, ge=0, le=0.2)

    @model_validator(mode="after")
    def _schedule_given(self) -> "LoadSpec":
        if self.profile == "schedule" and not self.schedule:
            raise ValueError("profile 'schedule' needs a schedule: [[start_h, end_h, level], ...]")
        if any(p <= 0 for p in self.phases):
            raise ValueError("phase shares must be > 0")
        return self


class SubmeterSpec(_Model):
    """A single-phase sub-meter measuring ``share`` of its upstream meter's phase power."""

    share: float = Field(gt=0, le=1)
    phase: Literal["a", "b", "c"] = "a"
    pf: float = Field(default=0.98, gt=0.3, le=1)


class FlowSpec(_Model):
    """A water or gas meter: flow = peak * (base + (1 - base) * shape(t))."""

    profile: Literal["g25", "h25", "l25", "schedule"]
    peak_m3h: float = Field(gt=0)
    base: float = Field(default=0.0, ge=0, le=1)
    schedule: Schedule = []
    noise: float = Field(default=0.05, ge=0, le=0.5)
    #: gas meters: gas temperature °C and gauge pressure kPa
    temperature_c: float = 15.0
    pressure_kpa: float = Field(default=2.5, ge=0)


class EnvSpec(_Model):
    """A room: mean temperature and humidity; the room follows the outdoor air by ``coupling``."""

    temperature_c: float = 25.0
    humidity_pct: float = Field(default=55.0, ge=0, le=100)
    coupling: float = Field(default=0.15, ge=0, le=1)


class LvSpec(_Model):
    """LV supply: per-unit no-load voltage and drop at rated load, per-phase offsets."""

    nominal_v: float = 230.0
    no_load_pu: float = 1.025
    drop_pu_at_rated: float = 0.035
    phase_pu: tuple[float, float, float] = (1.0, 0.996, 1.004)
    #: busbar/cable losses at rated load as a share of the transformer rating
    loss_pu_at_rated: float = Field(default=0.006, ge=0)
    thd_u_pct: float = 2.5


class ProtectionSpec(_Model):
    """IoT breaker timing (seed 001 §6.2) and thermal behaviour.

    ``thermal_tau_s`` is the time constant, in seconds, with which a breaker's terminal
    temperature follows its current (first order, towards 28 °C + 45 K · (I/In)²); the
    default of 600 s is that of a moulded-case breaker with its cable lugs. At 1.4 In from
    a steady 0.5 In it passes the 90 °C trip after about 11 minutes, well after the overload
    protection (``overload_trip_s``) has opened.
    """

    actuation_s: float = Field(default=0.2, ge=0)
    overload_trip_s: float = Field(default=1.0, ge=0)
    recovery_s: float = Field(default=30.0, ge=0)
    thermal_tau_s: float = Field(default=600.0, gt=0)


class BusTieSpec(_Model):
    """When the bus-tie closes, ``supplied_bus`` is fed from ``from_bus``'s transformer."""

    node: str
    supplied_bus: str
    from_bus: str


class SimConfig(_Model):
    """All simulation parameters of one plant."""

    seed: int = 1
    refresh_s: float = Field(default=0.5, gt=0)
    weather_region: int = Field(default=12, ge=1, le=15)
    #: energy registers start at the energy a typical load factor gives since this date
    commissioned: str = "2024-01-01"
    load_factor: float = Field(default=0.4, gt=0, le=1)
    hv_kv: float = Field(default=10.0, gt=0)
    lv: LvSpec = LvSpec()
    protection: ProtectionSpec = ProtectionSpec()
    bus_tie: BusTieSpec | None = None
    loads: dict[str, LoadSpec]
    submeters: dict[str, SubmeterSpec] = {}
    water: dict[str, FlowSpec] = {}
    gas: dict[str, FlowSpec] = {}
    env: dict[str, EnvSpec] = {}


def load_sim_config(path: str | Path) -> SimConfig:
    """Read and validate a simulation parameter file.

    Parameters
    ----------
    path : str or Path
        YAML file (see ``resources/sites/demo.sim.yaml``).

    Returns
    -------
    SimConfig

    Raises
    ------
    SimConfigError
        File unreadable, not YAML, or invalid; the message names the file and every
        bad field.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SimConfigError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise SimConfigError(f"{path}: expected a mapping at the top level")
    try:
        return SimConfig.model_validate(data)
    except ValidationError as exc:
        lines = [f"{path}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise SimConfigError("\n".join(lines)) from None
