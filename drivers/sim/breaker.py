"""IoT breaker behaviour (seed 001 §6.2): mode switch, remote command, protection trips.

Remote command (holding register ``command``): 1 closes, 0 opens; it acts only in
mode 0 (auto). In manual (1) or maintenance (2) mode the device refuses the write
with Modbus exception 01 (ILLEGAL FUNCTION), which the Modbus spec reserves for a
server "in the wrong state to process a request of this type": the master learns
at once that the command was not carried out, instead of waiting for a readback
that never comes. The contacts move ``actuation_s`` after an accepted command.

Protection (electronic, values of §6.2): overload I > 1.2 In and over-power
P > 1.5 Pn trip after ``overload_trip_s``; leakage >= residual_mA, over-temperature
> 90 °C, over-voltage > 275 V, under-voltage < 160 V and phase loss trip at once.
After an over/under-voltage trip the breaker closes again by itself once every phase
voltage has been back inside 185..255 V for ``recovery_s`` (self-recovering, item 4).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class TripCause(enum.IntEnum):
    """Codes of the ``trip_cause`` register (template iot_breaker)."""

    NONE = 0
    OVERLOAD = 1
    SHORT_CIRCUIT = 2
    LEAKAGE = 3
    OVER_VOLTAGE = 4
    UNDER_VOLTAGE = 5
    OVER_TEMPERATURE = 6
    PHASE_LOSS = 7
    OVER_POWER = 8
    MANUAL = 9


class Mode(enum.IntEnum):
    """Codes of the ``mode`` register (seed item 9)."""

    AUTO = 0
    MANUAL = 1
    MAINTENANCE = 2


class CommandRefused(Exception):
    """A remote command the breaker does not carry out; ``str()`` says why."""


#: protection thresholds of seed 001 §6.2
OVERLOAD_TRIP_IN = 1.2
OVERPOWER_TRIP_PN = 1.5
OVER_TEMPERATURE_C = 90.0
OVER_VOLTAGE_V = 275.0
UNDER_VOLTAGE_V = 160.0
RECOVERY_LOW_V = 185.0
RECOVERY_HIGH_V = 255.0
#: a phase below this while another is above UNDER_VOLTAGE_V counts as lost
PHASE_LOST_V = 50.0


@dataclass
class BreakerMeasurement:
    """What the breaker's own sensors see in one step.

    Attributes
    ----------
    voltages : tuple of 3 float
        Line-side phase voltages, V.
    currents : tuple of 3 float
        Phase currents, A (0 when open).
    p_kw : float
        Active power, kW.
    temperature_c : float
        Terminal temperature, °C.
    leakage_ma : float
        Residual current, mA.
    """

    voltages: tuple[float, float, float]
    currents: tuple[float, float, float]
    p_kw: float
    temperature_c: float
    leakage_ma: float


@dataclass
class BreakerLogic:
    """State machine of one IoT breaker; all times are monotonic seconds.

    Attributes
    ----------
    in_a, pn_kw, residual_ma : float
        Ratings: rated current A, rated active power kW, residual operating current mA.
    closed : bool
        Contacts closed.
    mode : Mode
    trip_cause : TripCause
        Cause of the last trip; reset to NONE when the breaker closes.
    last_command : int
        Value last accepted in the ``command`` register (read back as written).
    """

    in_a: float
    pn_kw: float
    residual_ma: float
    actuation_s: float
    overload_trip_s: float
    recovery_s: float
    closed: bool = True
    mode: Mode = Mode.AUTO
    trip_cause: TripCause = TripCause.NONE
    last_command: int = 1
    _pending: tuple[float, bool] | None = None
    _overload_since: dict[TripCause, float] = field(default_factory=dict)
    _healthy_since: float | None = None

    def command(self, value: int, now: float) -> None:
        """A remote close (1) / open (0) written to the ``command`` register.

        Raises
        ------
        ValueError
            The value is not 0 or 1.
        CommandRefused
            Mode is not auto.
        """
        if value not in (0, 1):
            raise ValueError(f"command value must be 0 (open) or 1 (close), got {value}")
        if self.mode is not Mode.AUTO:
            raise CommandRefused(f"remote command refused in {self.mode.name.lower()} mode")
        self.last_command = value
        self._pending = (now + self.actuation_s, bool(value))

    def operate_locally(self, close: bool) -> None:
        """Hand operation at the breaker (auto or manual mode; maintenance locks it).

        Raises
        ------
        CommandRefused
            In maintenance mode the handle is locked.
        """
        if self.mode is Mode.MAINTENANCE:
            raise CommandRefused("breaker is locked in maintenance mode")
        self._pending = None
        if close:
            self._close()
        else:
            self.closed = False
            self.trip_cause = TripCause.MANUAL

    def trip(self, cause: TripCause) -> None:
        """Open at once and record ``cause``."""
        self.closed = False
        self.trip_cause = cause
        self._pending = None
        self._overload_since.clear()
        self._healthy_since = None

    def _close(self) -> None:
        self.closed = True
        self.trip_cause = TripCause.NONE
        self._overload_since.clear()

    def advance(self, now: float, m: BreakerMeasurement) -> None:
        """Carry out a due command, run the protection and the voltage self-recovery.

        Parameters
        ----------
        now : float
            Monotonic seconds.
        m : BreakerMeasurement
            The sensors' view in this step (currents with the contacts as they are).
        """
        if self._pending is not None and now >= self._pending[0]:
            close = self._pending[1]
            self._pending = None
            if close:
                self._close()
            else:
                self.closed = False
                self.trip_cause = TripCause.NONE
        v_max, v_min = max(m.voltages), min(m.voltages)
        if self.closed:
            cause = self._instant_cause(m, v_max, v_min)
            if cause is None:
                cause = self._delayed_cause(now, m)
            if cause is not None:
                self.trip(cause)
        elif self.trip_cause in (TripCause.OVER_VOLTAGE, TripCause.UNDER_VOLTAGE):
            healthy = RECOVERY_LOW_V <= v_min and v_max <= RECOVERY_HIGH_V
            if not healthy:
                self._healthy_since = None
            elif self._healthy_since is None:
                self._healthy_since = now
            elif now - self._healthy_since >= self.recovery_s:
                self._healthy_since = None
                self._close()

    def _instant_cause(self, m: BreakerMeasurement, v_max: float, v_min: float) -> TripCause | None:
        if m.leakage_ma >= self.residual_ma:
            return TripCause.LEAKAGE
        if m.temperature_c > OVER_TEMPERATURE_C:
            return TripCause.OVER_TEMPERATURE
        if v_max > OVER_VOLTAGE_V:
            return TripCause.OVER_VOLTAGE
        if v_min < PHASE_LOST_V and v_max >= UNDER_VOLTAGE_V:
            return TripCause.PHASE_LOSS
        if 0.0 < v_max < UNDER_VOLTAGE_V:
            return TripCause.UNDER_VOLTAGE
        return None

    def _delayed_cause(self, now: float, m: BreakerMeasurement) -> TripCause | None:
        conditions = {
            TripCause.OVERLOAD: max(m.currents) > OVERLOAD_TRIP_IN * self.in_a,
            TripCause.OVER_POWER: m.p_kw > OVERPOWER_TRIP_PN * self.pn_kw,
        }
        for cause, active in conditions.items():
            if not active:
                self._overload_since.pop(cause, None)
                continue
            since = self._overload_since.setdefault(cause, now)
            if now - since >= self.overload_trip_s:
                return cause
        return None
