"""Pure electrical formulas of the plant model (no state, no I/O)."""

from __future__ import annotations

import math
from dataclasses import dataclass

Phases = tuple[float, float, float]


@dataclass(frozen=True)
class PhaseFlow:
    """Active and reactive power per phase (kW, kvar), phases a, b, c."""

    p: Phases = (0.0, 0.0, 0.0)
    q: Phases = (0.0, 0.0, 0.0)

    def __add__(self, other: "PhaseFlow") -> "PhaseFlow":
        return PhaseFlow(
            tuple(a + b for a, b in zip(self.p, other.p)),  # type: ignore[arg-type]
            tuple(a + b for a, b in zip(self.q, other.q)),  # type: ignore[arg-type]
        )

    def scaled(self, factor: float) -> "PhaseFlow":
        """Both powers times ``factor``."""
        return PhaseFlow(tuple(x * factor for x in self.p), tuple(x * factor for x in self.q))  # type: ignore[arg-type]

    @property
    def p_total(self) -> float:
        """Total active power, kW."""
        return sum(self.p)

    @property
    def q_total(self) -> float:
        """Total reactive power, kvar."""
        return sum(self.q)

    @property
    def s_total(self) -> float:
        """Total apparent power, kVA (arithmetic sum of the phases' S)."""
        return sum(math.hypot(p, q) for p, q in zip(self.p, self.q))


def load_flow(p_total_kw: float, pf: float, shares: Phases, live: tuple[bool, bool, bool]) -> PhaseFlow:
    """Split a load over the phases.

    Parameters
    ----------
    p_total_kw : float
        Load active power with all phases live, kW.
    pf : float
        Power factor (lagging), 0..1.
    shares : tuple of 3 float
        Relative phase shares (any positive scale).
    live : tuple of 3 bool
        Whether each phase has voltage; a dead phase carries nothing.

    Returns
    -------
    PhaseFlow
    """
    total = sum(shares)
    tan_phi = math.tan(math.acos(pf))
    p = tuple(p_total_kw * s / total if ok else 0.0 for s, ok in zip(shares, live))
    return PhaseFlow(p, tuple(x * tan_phi for x in p))  # type: ignore[arg-type]


def phase_currents(flow: PhaseFlow, voltages: Phases) -> Phases:
    """I = S / V per phase, A (0 on a phase without voltage).

    Parameters
    ----------
    flow : PhaseFlow
        kW / kvar per phase.
    voltages : tuple of 3 float
        Phase-to-neutral voltages, V.
    """
    return tuple(  # type: ignore[return-value]
        1000.0 * math.hypot(p, q) / v if v > 1.0 else 0.0
        for p, q, v in zip(flow.p, flow.q, voltages)
    )


def line_voltages(v: Phases) -> Phases:
    """Line-to-line voltages Uab, Ubc, Uca from phase voltages 120° apart, V."""
    def ll(a: float, b: float) -> float:
        return math.sqrt(a * a + b * b + a * b)
    return ll(v[0], v[1]), ll(v[1], v[2]), ll(v[2], v[0])


def power_factor(p_kw: float, s_kva: float) -> float:
    """P / S, 1.0 when there is no load (meters show unity at zero current)."""
    return p_kw / s_kva if s_kva > 1e-9 else 1.0


def transformer_losses(s_kva: float, sn_kva: float, p0_kw: float, pk_kw: float,
                       i0_pct: float, uk_pct: float) -> tuple[float, float]:
    """No-load plus load losses of a transformer.

    Parameters
    ----------
    s_kva : float
        Apparent power through the transformer, kVA.
    sn_kva, p0_kw, pk_kw, i0_pct, uk_pct : float
        Rated power, no-load loss, load (copper) loss at rated current, no-load current
        and short-circuit voltage (percent of rated).

    Returns
    -------
    tuple of float
        (active loss kW = P0 + Pk β², reactive loss kvar = (i0 + uk β²) Sn / 100),
        β = S / Sn.
    """
    beta = s_kva / sn_kva
    return p0_kw + pk_kw * beta * beta, (i0_pct + uk_pct * beta * beta) * sn_kva / 100.0
