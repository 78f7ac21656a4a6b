"""The demo plant's physics: every device's point values as a function of time and state.

:class:`PlantModel` is built from the site (topology, devices, ratings) and the
simulation parameters. ``step(now_utc, mono)`` advances it and returns the engineering
value of every point of every simulated device, keyed by device id and point name.
It does no I/O and keeps no clock of its own, so tests can drive it directly.

Power flows bottom-up along the topology: feeder loads (BDEW profile / weather /
schedule, scaled to the feeder, with slow noise) -> busbar -> the transformer that
supplies the busbar (the other one's when the bus-tie is closed) -> incoming line.
Voltages flow top-down: HV -> transformer LV (no-load ratio minus a drop with load)
-> busbar -> breaker line side; an open breaker leaves everything downstream dead.

* feeder meter = its breaker's flow (downstream of the breaker);
* transformer LV meter = Σ feeders of the busbars it supplies + LV busbar/cable losses
  (``lv.loss_pu_at_rated · Sn · β²``);
* HV meter = Σ transformer LV meters + transformer losses (P0 + Pk β², reactive
  (i0 + uk β²)·Sn), β = S/Sn;
* energy registers integrate P and Q over the monotonic time between steps and
  start at ``load_factor × rated power × hours since commissioning``.

Dynamics run on the monotonic time between steps, never on the step count, so the
plant behaves the same at any refresh interval: a breaker's terminal temperature lags
its steady-state value ``28 °C + 45 K · (I_max / In)²`` with the time constant
``protection.thermal_tau_s`` (exact first-order solution per step), and the slow noise
of loads, meters, HV voltage and frequency is an Ornstein-Uhlenbeck process with the
correlation times ``*_NOISE_TAU_S`` below.
"""

from __future__ import annotations

import collections
import datetime as dt
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from drivers.sim.breaker import BreakerLogic, BreakerMeasurement, TripCause
from drivers.sim.electrical import (
    PhaseFlow,
    Phases,
    line_voltages,
    load_flow,
    phase_currents,
    power_factor,
    transformer_losses,
)
from drivers.sim.profiles import (
    BDEW_PROFILES,
    bdew_factor,
    outdoor_temperature,
    schedule_factor,
)
from drivers.sim.simconfig import FlowSpec, LoadSpec, SimConfig

#: incident kinds the model handles (``offline`` is the servers' business)
MODEL_INCIDENTS = ("overload", "over_temperature", "leakage", "phase_loss", "over_voltage",
                   "under_voltage", "trip", "flood", "imbalance", "surge", "sensor_fault")
DEMAND_WINDOW_S = 900.0
#: protocols of the devices the model must simulate (the plant serves them as Modbus servers)
MODBUS_PROTOCOLS = ("modbus_tcp", "modbus_rtu")
PHASE_INDEX = {"a": 0, "b": 1, "c": 2}
#: correlation times of the slow noise, s: a feeder's load, a meter's harmonics and gas
#: readings, the HV supply voltage, the grid frequency
LOAD_NOISE_TAU_S = 5.0
METER_NOISE_TAU_S = 2.0
HV_NOISE_TAU_S = 100.0
FREQUENCY_NOISE_TAU_S = 25.0
#: breaker terminal temperature: ambient °C, and rise in K at rated current (rise ∝ I²)
TERMINAL_AMBIENT_C = 28.0
TERMINAL_RISE_AT_IN_K = 45.0


class ModelError(ValueError):
    """The site and simulation parameters do not describe a plant the model can run."""


def _kind(node: Any) -> str:
    kind = node.kind
    return str(getattr(kind, "value", kind))


class _Noise:
    """Slow, bounded noise: an Ornstein-Uhlenbeck process around 0 with unit standard deviation.

    Sampled exactly at any spacing (``keep = exp(-Δt / tau_s)``), so its correlation time
    is ``tau_s`` seconds of monotonic time whatever the refresh interval; several reads at
    the same instant return the same value.
    """

    def __init__(self, rng: random.Random, tau_s: float) -> None:
        self._rng = rng
        self._tau_s = tau_s
        self._value = 0.0
        self._last_mono: float | None = None

    def at(self, mono: float) -> float:
        """The value at monotonic second ``mono`` (dimensionless, σ = 1)."""
        if self._last_mono is not None and mono > self._last_mono:
            keep = math.exp(-(mono - self._last_mono) / self._tau_s)
            self._value = keep * self._value + math.sqrt(1.0 - keep * keep) * self._rng.gauss(0.0, 1.0)
        if self._last_mono is None or mono > self._last_mono:
            self._last_mono = mono
        return self._value


@dataclass
class _FirstOrder:
    """A first-order lag: ``dy/dt = (target - y) / tau_s`` over monotonic time, solved exactly per step.

    Starts at the steady state of the first step (``start``, else the first target), so
    the plant needs no warm-up.
    """

    tau_s: float
    value: float | None = None
    last_mono: float | None = None

    def follow(self, target: float, mono: float, start: float | None = None) -> float:
        """Advance to ``mono`` (monotonic s) towards ``target``; the new value, same unit as target.

        ``start`` is the value to begin from on the first call (ignored afterwards).
        """
        if self.value is None or self.last_mono is None:
            self.value = target if start is None else start
        elif mono > self.last_mono:
            self.value += (target - self.value) * (1.0 - math.exp(-(mono - self.last_mono) / self.tau_s))
        if self.last_mono is None or mono > self.last_mono:
            self.last_mono = mono
        return self.value


@dataclass
class _Accumulator:
    """Energy (or volume) register integrated over monotonic time."""

    value: float
    last_mono: float | None = None

    def add(self, rate_per_h: float, mono: float) -> float:
        if self.last_mono is not None:
            self.value += max(rate_per_h, 0.0) * max(mono - self.last_mono, 0.0) / 3600.0
        self.last_mono = mono
        return self.value


@dataclass
class _Demand:
    """Sliding-window mean of P (``DEMAND_WINDOW_S``)."""

    samples: collections.deque = field(default_factory=collections.deque)

    def add(self, p: float, mono: float) -> float:
        self.samples.append((mono, p))
        while self.samples and mono - self.samples[0][0] > DEMAND_WINDOW_S:
            self.samples.popleft()
        return sum(s[1] for s in self.samples) / len(self.samples)


@dataclass
class _Feeder:
    node: str
    bus: str
    breaker: str
    load: LoadSpec
    noise: _Noise
    thermal: _FirstOrder


@dataclass
class _Meter:
    """Meter node: mirrors a feeder, or (sub-meter) a share of one phase of its parent meter."""

    device: str
    feeder: str
    share: float = 1.0
    phase: int | None = None
    pf: float = 1.0


@dataclass
class _Transformer:
    node: str
    device: str | None
    sn_kva: float
    p0_kw: float
    pk_kw: float
    i0_pct: float
    uk_pct: float
    beta: float = 0.0


@dataclass
class _MeterReading:
    voltages: Phases
    flow: PhaseFlow
    thd_i: float


class PlantModel:
    """Physics of the demo plant.

    Parameters
    ----------
    site : app.config.SiteConfig
        The validated demo site (devices, ratings, topology).
    sim : SimConfig
        Simulation parameters.
    now_utc : float
        UTC epoch seconds at start, for the initial energy registers.

    Raises
    ------
    ModelError
        A feeder without load parameters, an unknown node in the simulation
        parameters, a device whose template the model does not simulate, etc.
    """

    def __init__(self, site: Any, sim: SimConfig, now_utc: float) -> None:
        self.sim = sim
        self.tz = ZoneInfo(site.timezone)
        self._rng = random.Random(sim.seed)
        self._devices = {d.id: d for d in site.devices}
        nodes = {n.id: n for n in site.topology}
        self.breakers: dict[str, BreakerLogic] = {}
        self.feeders: dict[str, _Feeder] = {}
        self.meters: dict[str, _Meter] = {}
        self.transformers: dict[str, _Transformer] = {}
        self.bus_transformer: dict[str, str] = {}
        self.hv_device: str | None = None
        self.tie_breaker: str | None = None
        self.incidents: dict[tuple[str, str], dict[str, float | str]] = {}
        self._energy: dict[str, tuple[_Accumulator, _Accumulator]] = {}
        self._demand: dict[str, _Demand] = {}
        self._noise: dict[str, _Noise] = {}
        self._outputs: dict[str, dict[str, float]] = {}
        for node in site.topology:
            self._add_node(node, nodes)
        unknown = (set(sim.loads) - set(self.feeders)) | (set(sim.submeters) - set(nodes))
        if unknown:
            raise ModelError(f"simulation parameters name unknown topology nodes: {', '.join(sorted(unknown))}")
        if sim.bus_tie is not None:
            tie = nodes.get(sim.bus_tie.node)
            if tie is None or _kind(tie) != "bus_tie" or tie.device is None:
                raise ModelError(f"bus_tie.node {sim.bus_tie.node!r} is not a bus_tie node with a device")
            for bus in (sim.bus_tie.supplied_bus, sim.bus_tie.from_bus):
                if bus not in self.bus_transformer:
                    raise ModelError(f"bus_tie: {bus!r} is not a busbar fed by a transformer")
        for device_id in (*sim.water, *sim.gas):
            if device_id not in self._devices:
                raise ModelError(f"water/gas parameters for unknown device {device_id!r}")
        for device_id in sim.env:
            if device_id not in self._devices:
                raise ModelError(f"environment parameters for unknown device {device_id!r}")
        self._volume = {d: _Accumulator(self._initial_volume(f, now_utc)) for d, f in {**sim.water, **sim.gas}.items()}
        for device_id in [*self.meters, *self.breakers, *(t.device for t in self.transformers.values() if t.device)]:
            self._start_energy(device_id, now_utc)
        if self.hv_device:
            self._start_energy(self.hv_device, now_utc)
        simulated = set(self.breakers) | set(self.meters) | set(self._energy) | set(sim.water) | set(sim.gas) | set(sim.env)
        # devices of other protocols are served by their own simulators (drivers.sim.protocol_peers)
        missing = sorted(d.id for d in site.devices
                         if str(getattr(d.protocol, "value", d.protocol)) in MODBUS_PROTOCOLS and d.id not in simulated)
        if missing:
            raise ModelError(f"Modbus devices without simulation: {', '.join(missing)}")
        self._frequency = _Noise(self._rng, FREQUENCY_NOISE_TAU_S)
        self._hv_noise = _Noise(self._rng, HV_NOISE_TAU_S)
        self._tie_thermal = _FirstOrder(sim.protection.thermal_tau_s)

    # ------------------------------------------------------------------ building
    def _ratings(self, device_id: str) -> Mapping[str, float]:
        return self._devices[device_id].ratings

    def _add_breaker(self, device_id: str, closed: bool) -> None:
        ratings = self._ratings(device_id)
        try:
            in_a, pn_kw, residual = ratings["In_A"], ratings["Pn_kW"], ratings["residual_mA"]
        except KeyError as exc:
            raise ModelError(f"breaker {device_id!r} lacks rating {exc}") from None
        p = self.sim.protection
        self.breakers[device_id] = BreakerLogic(in_a, pn_kw, residual, p.actuation_s, p.overload_trip_s,
                                                p.recovery_s, closed=closed, last_command=int(closed))

    def _add_node(self, node: Any, nodes: Mapping[str, Any]) -> None:
        kind = _kind(node)
        if kind == "incoming_line":
            self.hv_device = node.device
        elif kind == "transformer":
            r = node.ratings
            try:
                self.transformers[node.id] = _Transformer(node.id, node.device, r["Sn_kVA"], r["P0_kW"], r["Pk_kW"],
                                                          r["i0_pct"], r["uk_pct"])
            except KeyError as exc:
                raise ModelError(f"transformer {node.id!r} lacks rating {exc}") from None
        elif kind == "busbar":
            self.bus_transformer[node.id] = node.upstream[0]
        elif kind == "bus_tie" and node.device:
            self.tie_breaker = node.device
            self._add_breaker(node.device, closed=not node.normally_open)
        elif kind in ("feeder", "breaker") and node.device:
            if node.id not in self.sim.loads:
                raise ModelError(f"feeder {node.id!r} has no load in the simulation parameters")
            self.feeders[node.id] = _Feeder(node.id, node.upstream[0], node.device, self.sim.loads[node.id],
                                            _Noise(self._rng, LOAD_NOISE_TAU_S),
                                            _FirstOrder(self.sim.protection.thermal_tau_s))
            self._add_breaker(node.device, closed=True)
        elif kind == "meter" and node.device:
            parent = nodes[node.upstream[0]]
            if _kind(parent) == "meter":
                sub = self.sim.submeters.get(node.id)
                if sub is None:
                    raise ModelError(f"sub-meter {node.id!r} has no entry in submeters")
                self.meters[node.device] = _Meter(node.device, parent.upstream[0], sub.share,
                                                  PHASE_INDEX[sub.phase], sub.pf)
            else:
                self.meters[node.device] = _Meter(node.device, parent.id)

    def _hours_since_commissioning(self, now_utc: float) -> float:
        start = dt.datetime.fromisoformat(self.sim.commissioned).replace(tzinfo=self.tz).timestamp()
        return max(now_utc - start, 0.0) / 3600.0

    def _initial_volume(self, flow: FlowSpec, now_utc: float) -> float:
        return flow.peak_m3h * self.sim.load_factor * self._hours_since_commissioning(now_utc)

    def _rated_kw(self, device_id: str) -> float:
        feeder_kw = {f.breaker: f.load.peak_kw for f in self.feeders.values()}
        if device_id in feeder_kw:
            return feeder_kw[device_id]
        if device_id in self.meters:
            m = self.meters[device_id]
            return self.feeders[m.feeder].load.peak_kw * (m.share if m.phase is None else m.share / 3)
        if device_id == self.hv_device:
            return sum(t.sn_kva for t in self.transformers.values()) * 0.5
        for t in self.transformers.values():
            if t.device == device_id:
                return t.sn_kva * 0.5
        return self._ratings(device_id).get("Pn_kW", 0.0) * 0.1

    def _start_energy(self, device_id: str, now_utc: float) -> None:
        # Meters were installed, replaced and loaded differently over the years: each register
        # starts from its own share of the rated-load history (deterministic per device and seed).
        usage = random.Random(f"{self.sim.seed}:{device_id}").uniform(0.75, 1.25)
        e0 = self._rated_kw(device_id) * self.sim.load_factor * usage * self._hours_since_commissioning(now_utc)
        self._energy[device_id] = (_Accumulator(e0), _Accumulator(e0 * 0.35))
        self._demand[device_id] = _Demand()
        self._noise[device_id] = _Noise(self._rng, METER_NOISE_TAU_S)

    # ------------------------------------------------------------------ incidents
    def trigger(self, kind: str, device_id: str, params: Mapping[str, float | str]) -> None:
        """Start an incident on a device (see :meth:`drivers.sim.plant.DemoPlant.trigger`).

        Raises
        ------
        ValueError
            Unknown kind, unknown device, or a device the incident does not apply to.
        """
        if kind not in MODEL_INCIDENTS:
            raise ValueError(f"unknown incident {kind!r}; expected one of {', '.join(MODEL_INCIDENTS)}, offline")
        if device_id not in self._devices:
            raise ValueError(f"unknown device {device_id!r}")
        breaker_only = ("overload", "over_temperature", "leakage", "trip", "imbalance", "surge", "sensor_fault")
        if kind in breaker_only and device_id not in self.breakers:
            raise ValueError(f"incident {kind!r} applies to IoT breakers; {device_id!r} is not one")
        if kind in ("phase_loss", "over_voltage", "under_voltage") and device_id not in self.breakers \
                and not any(t.device == device_id for t in self.transformers.values()):
            raise ValueError(f"incident {kind!r} applies to breakers and transformer meters; {device_id!r} is neither")
        if kind == "flood" and device_id not in self.sim.env:
            raise ValueError(f"incident 'flood' applies to environment sensors; {device_id!r} is not one")
        if kind == "phase_loss" and str(params.get("phase", "c")) not in PHASE_INDEX:
            raise ValueError(f"phase_loss: phase must be a, b or c, got {params.get('phase')!r}")
        if kind == "trip":
            cause = int(params.get("cause", TripCause.SHORT_CIRCUIT))
            if cause not in TripCause.__members__.values() or cause == TripCause.NONE:
                raise ValueError(f"trip: cause must be a trip cause code 1..9, got {cause}")
            self.breakers[device_id].trip(TripCause(cause))
            return
        self.incidents[(kind, device_id)] = dict(params)

    def clear(self, kind: str, device_id: str) -> None:
        """End an incident; a no-op if it is not active (``trip`` is momentary)."""
        self.incidents.pop((kind, device_id), None)

    # ------------------------------------------------------------------ physics
    def step(self, now_utc: float, mono: float) -> dict[str, dict[str, float]]:
        """Advance to ``now_utc`` / ``mono`` and return every device's point values.

        Parameters
        ----------
        now_utc : float
            UTC epoch seconds: selects the profile values (site local time).
        mono : float
            Monotonic seconds: integrates energy and times the breakers.

        Returns
        -------
        dict
            ``{device_id: {point_name: engineering value}}`` (V, A, kW, kvar, kVA,
            Hz, %, kWh, kvarh, °C, mA, m³, m³/h, %RH, codes as floats).
        """
        local = dt.datetime.fromtimestamp(now_utc, self.tz)
        t_out = outdoor_temperature(self.sim.weather_region, local)
        lv = self.sim.lv
        hv_pu = 1.0 + 0.004 * self._hv_noise.at(mono)
        freq = 50.0 + 0.015 * self._frequency.at(mono)
        out: dict[str, dict[str, float]] = {}

        tie_closed = self.tie_breaker is not None and self.breakers[self.tie_breaker].closed
        supplier = dict(self.bus_transformer)
        if tie_closed and self.sim.bus_tie is not None:
            supplier[self.sim.bus_tie.supplied_bus] = self.bus_transformer[self.sim.bus_tie.from_bus]

        tr_voltage: dict[str, Phases] = {}
        for tr in self.transformers.values():
            v = [lv.nominal_v * hv_pu * lv.no_load_pu * k * (1.0 - lv.drop_pu_at_rated * tr.beta)
                 for k in lv.phase_pu]
            tr_voltage[tr.node] = self._apply_voltage_incidents(tr.device, tuple(v))  # type: ignore[arg-type]

        feeder_flow: dict[str, _MeterReading] = {}
        bus_flow: dict[str, PhaseFlow] = {b: PhaseFlow() for b in self.bus_transformer}
        bus_thd: dict[str, list[tuple[float, float]]] = {b: [] for b in self.bus_transformer}
        for f in self.feeders.values():
            line_v = self._apply_voltage_incidents(f.breaker, tr_voltage[supplier[f.bus]])
            reading, out[f.breaker] = self._feeder_step(f, local, t_out, line_v, mono)
            feeder_flow[f.node] = reading
            bus_flow[f.bus] = bus_flow[f.bus] + reading.flow
            bus_thd[f.bus].append((reading.flow.s_total, reading.thd_i))

        if self.tie_breaker is not None and self.sim.bus_tie is not None:
            out[self.tie_breaker] = self._tie_values(tie_closed, bus_flow[self.sim.bus_tie.supplied_bus],
                                                     tr_voltage[supplier[self.sim.bus_tie.from_bus]], mono)

        for m in self.meters.values():
            out[m.device] = self._meter_values(m, feeder_flow[m.feeder], freq, mono)

        hv_flow = PhaseFlow()
        hv_thd: list[tuple[float, float]] = []
        for tr in self.transformers.values():
            flow = PhaseFlow()
            thd = []
            for bus, source in supplier.items():
                if source == tr.node:
                    flow = flow + bus_flow[bus]
                    thd += bus_thd[bus]
            s = flow.s_total
            lv_loss = lv.loss_pu_at_rated * tr.sn_kva * (s / tr.sn_kva) ** 2
            if s > 1e-9:
                flow = flow + PhaseFlow(tuple(lv_loss * p / flow.p_total for p in flow.p),  # type: ignore[arg-type]
                                        (0.0, 0.0, 0.0))
            tr.beta = flow.s_total / tr.sn_kva
            thd_i = 0.6 * _weighted(thd)
            if tr.device:
                out[tr.device] = self._three_phase_values(tr.device, tr_voltage[tr.node], flow, thd_i,
                                                          lv.thd_u_pct * (1 + 0.3 * tr.beta), freq, mono)
            p_loss, q_loss = transformer_losses(flow.s_total, tr.sn_kva, tr.p0_kw, tr.pk_kw, tr.i0_pct, tr.uk_pct)
            hv_flow = hv_flow + flow + PhaseFlow((p_loss / 3,) * 3, (q_loss / 3,) * 3)  # type: ignore[arg-type]
            hv_thd.append((flow.s_total, thd_i))
        if self.hv_device:
            v_hv = self.sim.hv_kv * 1000.0 / math.sqrt(3) * hv_pu
            out[self.hv_device] = self._three_phase_values(self.hv_device, (v_hv, v_hv * 0.999, v_hv * 1.001),
                                                           hv_flow, 0.5 * _weighted(hv_thd), 1.2, freq, mono)
        for device_id in (*self.sim.water, *self.sim.gas):
            out[device_id] = self._flow_values(device_id, local, mono)
        for device_id, env in self.sim.env.items():
            day = 2 * math.pi * (local.hour + local.minute / 60 - 9) / 24
            temp = env.temperature_c + env.coupling * (t_out - 20.0) + 1.2 * math.sin(day) \
                + 0.1 * self._rng.gauss(0, 1)
            hum = env.humidity_pct - 1.8 * (temp - env.temperature_c) + 0.3 * self._rng.gauss(0, 1)
            out[device_id] = {"temperature": round(temp, 1), "humidity": round(min(max(hum, 5.0), 99.0), 1),
                              "water_immersion": 1.0 if ("flood", device_id) in self.incidents else 0.0}
        self._outputs = out
        return out

    def _apply_voltage_incidents(self, device_id: str | None, v: Phases) -> Phases:
        if device_id is None:
            return v
        for kind in ("over_voltage", "under_voltage"):
            params = self.incidents.get((kind, device_id))
            if params is not None:
                default = 280.0 if kind == "over_voltage" else 150.0
                level = float(params.get("voltage_v", default))
                v = tuple(level * k for k in self.sim.lv.phase_pu)  # type: ignore[assignment]
        params = self.incidents.get(("phase_loss", device_id))
        if params is not None:
            lost = PHASE_INDEX[str(params.get("phase", "c"))]
            v = tuple(0.0 if i == lost else x for i, x in enumerate(v))  # type: ignore[assignment]
        return v

    def _load_shape(self, load: LoadSpec, local: dt.datetime, t_out: float) -> float:
        if load.profile in BDEW_PROFILES:
            return bdew_factor(load.profile, local)
        if load.profile == "schedule":
            return schedule_factor(load.schedule, local)
        if load.profile == "cooling":
            return min(max((t_out - 18.0) / 15.0, 0.0), 1.0)
        return min(max((14.0 - t_out) / 20.0, 0.0), 1.0)

    def _feeder_step(self, f: _Feeder, local: dt.datetime, t_out: float, line_v: Phases,
                     mono: float) -> tuple[_MeterReading, dict[str, float]]:
        """One feeder: its load, its breaker's sensors and protection; (downstream reading, breaker values)."""
        breaker = self.breakers[f.breaker]
        load = f.load
        shape = self._load_shape(load, local, t_out)
        p_total = load.peak_kw * (load.base + (1.0 - load.base) * shape) * (1.0 + load.noise * f.noise.at(mono))
        surge = self.incidents.get(("surge", f.breaker))
        if surge is not None:
            p_total *= float(surge.get("factor", 3.0))
        shares = load.phases
        unbalanced = self.incidents.get(("imbalance", f.breaker))
        if unbalanced is not None:   # single-phase loads moved onto phase a
            d = float(unbalanced.get("deviation_pct", 40.0)) / 100.0
            shares = (1.0 + d, 1.0 - d / 2.0, 1.0 - d / 2.0)
        live = tuple(v > 50.0 for v in line_v)
        flow = load_flow(max(p_total, 0.0), load.pf, shares, live)  # type: ignore[arg-type]
        normal = _terminal_temperature(phase_currents(flow, line_v), breaker.in_a)
        overload = self.incidents.get(("overload", f.breaker))
        if overload is not None:
            peak = max(phase_currents(flow, line_v))
            if peak > 0:
                flow = flow.scaled(float(overload.get("factor", 1.3)) * breaker.in_a / peak)
        if not breaker.closed:
            flow = PhaseFlow()
        currents = phase_currents(flow, line_v)
        # the plant ran at its normal load before the simulation began: start from that steady state
        temperature = f.thermal.follow(_terminal_temperature(currents, breaker.in_a), mono, normal)
        hot = self.incidents.get(("over_temperature", f.breaker))
        if hot is not None:
            temperature = float(hot.get("temperature_c", 95.0))
        leak = self.incidents.get(("leakage", f.breaker))
        if leak is not None:
            leakage = float(leak.get("leakage_ma", 1.5 * breaker.residual_ma))
        else:
            leakage = load.leakage_ma * (1.0 + 0.1 * f.noise.at(mono)) if breaker.closed else 0.0
        breaker.advance(mono, BreakerMeasurement(line_v, currents, flow.p_total, temperature, leakage))
        if not breaker.closed:
            flow = PhaseFlow()
            currents = (0.0, 0.0, 0.0)
            leakage = 0.0 if leak is None else leakage
        values = self._breaker_register_values(f.breaker, line_v, flow, currents, temperature, leakage, mono)
        if ("sensor_fault", f.breaker) in self.incidents:   # broken terminal-temperature sensor reads NaN
            values["temperature"] = math.nan
        reading = _MeterReading(line_v if breaker.closed else (0.0, 0.0, 0.0), flow, load.thd_i_pct)
        return reading, values

    def _breaker_register_values(self, device_id: str, line_v: Phases, flow: PhaseFlow, currents: Phases,
                                 temperature: float, leakage: float, mono: float) -> dict[str, float]:
        b = self.breakers[device_id]
        ep, _ = self._energy[device_id]
        return {
            "state": float(b.closed), "trip_cause": float(b.trip_cause), "mode": float(b.mode),
            "Ia": currents[0], "Ib": currents[1], "Ic": currents[2],
            "Ua": line_v[0], "Ub": line_v[1], "Uc": line_v[2],
            "P": flow.p_total, "PF": power_factor(flow.p_total, flow.s_total),
            "temperature": temperature, "leakage": leakage,
            "Ep": ep.add(flow.p_total, mono), "command": float(b.last_command),
        }

    def _tie_values(self, closed: bool, flow: PhaseFlow, line_v: Phases, mono: float) -> dict[str, float]:
        assert self.tie_breaker is not None
        b = self.breakers[self.tie_breaker]
        if not closed:
            flow = PhaseFlow()
        currents = phase_currents(flow, line_v)
        temperature = self._tie_thermal.follow(_terminal_temperature(currents, b.in_a), mono)
        b.advance(mono, BreakerMeasurement(line_v, currents, flow.p_total, temperature, 0.0))
        if not b.closed:
            flow, currents = PhaseFlow(), (0.0, 0.0, 0.0)
        return self._breaker_register_values(self.tie_breaker, line_v, flow, currents, temperature, 0.0, mono)

    def _meter_values(self, m: _Meter, reading: _MeterReading, freq: float, mono: float) -> dict[str, float]:
        if m.phase is None:
            return self._three_phase_values(m.device, reading.voltages, reading.flow, reading.thd_i,
                                            self.sim.lv.thd_u_pct, freq, mono)
        p = reading.flow.p[m.phase] * m.share
        v = reading.voltages[m.phase]
        s = p / m.pf
        ep, _ = self._energy[m.device]
        return {"U": v, "I": 1000.0 * s / v if v > 1.0 else 0.0, "P": p, "PF": power_factor(p, s),
                "F": freq if v > 1.0 else 0.0, "Ep_imp": ep.add(p, mono)}

    def _three_phase_values(self, device_id: str, v: Phases, flow: PhaseFlow, thd_i: float, thd_u: float,
                            freq: float, mono: float) -> dict[str, float]:
        currents = phase_currents(flow, v)
        ep, eq = self._energy[device_id]
        uab, ubc, uca = line_voltages(v)
        p, q, s = flow.p_total, flow.q_total, flow.s_total
        noise = self._noise[device_id].at(mono)
        live = tuple(x > 1.0 for x in v)
        values = {
            "Ua": v[0], "Ub": v[1], "Uc": v[2], "Uab": uab, "Ubc": ubc, "Uca": uca,
            "Ia": currents[0], "Ib": currents[1], "Ic": currents[2],
            "Pa": flow.p[0], "Pb": flow.p[1], "Pc": flow.p[2], "P": p, "Q": q, "S": s,
            "PF": power_factor(p, s), "F": freq if any(live) else 0.0,
            "demand_P": self._demand[device_id].add(p, mono),
            "Ep_imp": ep.add(p, mono), "Eq_imp": eq.add(q, mono),
        }
        for i, ph in enumerate("abc"):
            values[f"THD_U{ph}"] = max(thd_u * (1 + 0.05 * noise) + 0.1 * i, 0.0) if live[i] else 0.0
            values[f"THD_I{ph}"] = max(thd_i * (1 + 0.05 * noise) + 0.3 * i, 0.0) if currents[i] > 0 else 0.0
        return values

    def _flow_values(self, device_id: str, local: dt.datetime, mono: float) -> dict[str, float]:
        spec = self.sim.water.get(device_id) or self.sim.gas[device_id]
        shape = bdew_factor(spec.profile, local) if spec.profile in BDEW_PROFILES \
            else schedule_factor(spec.schedule, local)
        noise = self._noise.setdefault(device_id, _Noise(self._rng, METER_NOISE_TAU_S)).at(mono)
        flow = max(spec.peak_m3h * (spec.base + (1 - spec.base) * shape) * (1 + spec.noise * noise), 0.0)
        values = {"volume": self._volume[device_id].add(flow, mono), "flow": flow}
        if device_id in self.sim.gas:
            values["temperature"] = spec.temperature_c + 0.2 * noise
            values["pressure"] = spec.pressure_kpa * (1 - 0.02 * flow / spec.peak_m3h)
        return values


def _terminal_temperature(currents: Phases, in_a: float) -> float:
    """Steady-state terminal temperature, °C, of a breaker carrying ``currents`` (A) with rating ``in_a`` (A)."""
    return TERMINAL_AMBIENT_C + TERMINAL_RISE_AT_IN_K * (max(currents) / in_a) ** 2


def _weighted(parts: list[tuple[float, float]]) -> float:
    """Mean of the second items weighted by the first (0 when the weights are 0)."""
    total = sum(w for w, _ in parts)
    return sum(w * x for w, x in parts) / total if total > 1e-9 else 0.0
