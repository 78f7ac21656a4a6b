"""The checks a command must pass before it is selected and again before it is written.

Pure functions over the latest readings, so the dialog can show *before* the operator
tries why a command would be refused, and the service checks the same thing at select
and at operate time.

Trip lockout (what "not closing onto a tripped feeder" means here): a switch that is
open with a protection trip cause (``trip_cause`` not 0 none and not 9 opened by hand)
may not be closed remotely until an operator with control permission resets the trip
(:meth:`app.control.ControlService.reset_trip`, audited), having looked at the cause.
A reset holds for that cause only, and ends as soon as the switch is read closed (by
any means: remote, by hand, or the breaker's own voltage self-recovery), so the next
trip needs a new reset.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.control.contracts import Command, Refusal, RefusalCode
from app.control.targets import NON_PROTECTIVE_CAUSES, ControlTarget, Mode
from app.points import PointValue, Quality


def freshness_limit_s(target: ControlTarget) -> float:
    """Oldest a reading may be for a command to rely on it, seconds.

    Three scan intervals plus one full round of the device's timeouts and a second of
    margin: a device scanned on time is never stale, one that stopped answering is.
    """
    d = target.device
    return 3.0 * d.scan_interval_s + d.timeout_s * (d.retries + 1) + 1.0


def is_protective_trip(cause: float | None) -> bool:
    """True for a trip cause code that locks out remote closing."""
    return cause is not None and int(cause) not in NON_PROTECTIVE_CAUSES


def check_command(target: ControlTarget, command: Command, readings: Mapping[str, PointValue | None],
                  now: float, reset_cause: int | None = None) -> list[Refusal]:
    """Every reason ``command`` may not be carried out now; empty when it may.

    Parameters
    ----------
    target : ControlTarget
    command : Command
        Its ``value`` must be one of the command point's states.
    readings : Mapping[str, PointValue | None]
        Latest value per tag of the target's readback, mode and trip cause points.
    now : float
        UTC epoch seconds, for the freshness of the readings.
    reset_cause : int or None
        Trip cause code an operator has reset the lockout for (see module docstring).

    Returns
    -------
    list[Refusal]
        Most fundamental first: communication, mode, trip lockout, already in position.
    """
    name = target.device.name or target.device_id
    if command.value not in target.command.states:
        allowed = ", ".join(f"{k} ({v})" for k, v in sorted(target.command.states.items()))
        return [Refusal(RefusalCode.BAD_VALUE,
                        f"{target.device_id}.{target.command.name}: value {command.value} is not one of {allowed}",
                        (("value", str(command.value)),))]
    limit = freshness_limit_s(target)
    tags = [t for t in (target.tag(target.readback), target.tag(target.mode), target.tag(target.trip_cause)) if t]
    for tag in tags:
        pv = readings.get(tag)
        if pv is None or pv.quality is not Quality.GOOD or pv.value is None:
            why = "never read" if pv is None else (pv.reason or f"quality {pv.quality.name.lower()}")
            return [Refusal(RefusalCode.OFFLINE,
                            f"{name}: no good reading of {tag} ({why}); the device is not under remote control",
                            (("tag", tag), ("reason", why)))]
        age = now - pv.ts
        if age > limit:
            return [Refusal(RefusalCode.STALE,
                            f"{name}: last reading of {tag} is {age:.0f} s old (limit {limit:.0f} s)",
                            (("tag", tag), ("age", f"{age:.0f}")))]
    refusals: list[Refusal] = []
    if target.mode is not None:
        mode_value = readings[target.tag(target.mode)].value
        try:
            mode = Mode(int(mode_value))
        except ValueError:
            refusals.append(Refusal(RefusalCode.MODE_UNKNOWN,
                                    f"{name}: mode switch reads {mode_value:g}, not auto/manual/maintenance",
                                    (("value", f"{mode_value:g}"),)))
        else:
            if mode is Mode.MANUAL:
                refusals.append(Refusal(RefusalCode.MODE_MANUAL,
                                        f"{name} is in manual mode and refuses remote commands; "
                                        "only hand operation at the panel acts"))
            elif mode is Mode.MAINTENANCE:
                refusals.append(Refusal(RefusalCode.MODE_MAINTENANCE,
                                        f"{name} is locked in maintenance mode; it refuses remote and hand "
                                        "operation"))
    position = readings[target.tag(target.readback)].value
    closing = command.value == 1
    if closing and target.trip_cause is not None and int(position) != command.value:
        cause = readings[target.tag(target.trip_cause)].value
        if is_protective_trip(cause) and reset_cause != int(cause):
            label = target.trip_cause.states.get(int(cause), str(int(cause)))
            refusals.append(Refusal(RefusalCode.TRIPPED,
                                    f"{name} tripped on {label}; reset the trip after finding the cause "
                                    "before closing it remotely", (("cause", label),)))
    if int(position) == command.value:
        refusals.append(Refusal(RefusalCode.ALREADY,
                                f"{name} is already {target.state_label(position)}",
                                (("state", target.state_label(position)),)))
    return refusals
