"""The ISA-18.2 / IEC 62682 alarm state model as a pure state machine.

An alarm's :class:`Status` is its annunciation state plus the process condition and
three independent "hidden" flags. :func:`step` maps a status and a :class:`Trigger`
to the next status; it has no clock, no I/O and no side effects.

Annunciated states (ISA-18.2 figure 5, states A-D)::

    NORMAL --ACTIVATE--> UNACK_ACTIVE --ACK--> ACK_ACTIVE --CLEAR--> NORMAL
                             |  ^                                       ^
                          CLEAR ACTIVATE                                |
                             v  |                                       |
                          UNACK_RTN -------------ACK--------------------+

Hidden states (E shelved, F suppressed by design, G out of service): setting a flag
hides the alarm, whatever its annunciated state; while hidden, ACTIVATE/CLEAR only
track the condition and ACK does nothing. When the last flag is cleared the alarm is
re-evaluated: UNACK_ACTIVE if the condition is active, else NORMAL. When several
flags are set, the shown state is OUT_OF_SERVICE, then SUPPRESSED, then SHELVED.
"""

from __future__ import annotations

import enum
from typing import NamedTuple


class AlarmState(str, enum.Enum):
    """State shown to the operator."""

    NORMAL = "normal"
    UNACK_ACTIVE = "unack_active"      # new alarm: flashing
    ACK_ACTIVE = "ack_active"          # acknowledged, condition still present
    UNACK_RTN = "unack_rtn"            # condition gone, not yet acknowledged
    SHELVED = "shelved"                # hidden by an operator for a limited time
    SUPPRESSED = "suppressed"          # hidden by design (e.g. upstream breaker open)
    OUT_OF_SERVICE = "out_of_service"  # removed from service (maintenance)


class Priority(enum.IntEnum):
    """Alarm priority, 1 the most urgent."""

    CRITICAL = 1
    HIGH = 2
    MEDIUM = 3
    LOW = 4


class Trigger(str, enum.Enum):
    """What can happen to an alarm."""

    ACTIVATE = "activate"        # condition became true (after on-delay)
    CLEAR = "clear"              # condition became false (after off-delay)
    ACK = "ack"
    SHELVE = "shelve"
    UNSHELVE = "unshelve"
    SHELF_EXPIRE = "shelf_expire"
    SUPPRESS = "suppress"
    UNSUPPRESS = "unsuppress"
    REMOVE = "remove"            # out of service
    RESTORE = "restore"          # return to service


class Status(NamedTuple):
    """Everything the state machine knows about one alarm.

    Attributes
    ----------
    state : AlarmState
        Shown state.
    active : bool
        The process condition, after on/off delays.
    shelved, suppressed, out_of_service : bool
        The hidden flags.
    """

    state: AlarmState
    active: bool = False
    shelved: bool = False
    suppressed: bool = False
    out_of_service: bool = False

    @property
    def hidden(self) -> bool:
        """True while shelved, suppressed or out of service."""
        return self.shelved or self.suppressed or self.out_of_service


NORMAL = Status(AlarmState.NORMAL)

#: Annunciated transitions: (state, trigger) -> state; pairs not listed change nothing.
ANNUNCIATED: dict[tuple[AlarmState, Trigger], AlarmState] = {
    (AlarmState.NORMAL, Trigger.ACTIVATE): AlarmState.UNACK_ACTIVE,
    (AlarmState.UNACK_ACTIVE, Trigger.ACK): AlarmState.ACK_ACTIVE,
    (AlarmState.UNACK_ACTIVE, Trigger.CLEAR): AlarmState.UNACK_RTN,
    (AlarmState.ACK_ACTIVE, Trigger.CLEAR): AlarmState.NORMAL,
    (AlarmState.UNACK_RTN, Trigger.ACK): AlarmState.NORMAL,
    (AlarmState.UNACK_RTN, Trigger.ACTIVATE): AlarmState.UNACK_ACTIVE,
}

_FLAG_TRIGGERS: dict[Trigger, tuple[str, bool]] = {
    Trigger.SHELVE: ("shelved", True),
    Trigger.UNSHELVE: ("shelved", False),
    Trigger.SHELF_EXPIRE: ("shelved", False),
    Trigger.SUPPRESS: ("suppressed", True),
    Trigger.UNSUPPRESS: ("suppressed", False),
    Trigger.REMOVE: ("out_of_service", True),
    Trigger.RESTORE: ("out_of_service", False),
}


def _hidden_state(status: Status) -> AlarmState:
    if status.out_of_service:
        return AlarmState.OUT_OF_SERVICE
    if status.suppressed:
        return AlarmState.SUPPRESSED
    return AlarmState.SHELVED


def step(status: Status, trigger: Trigger) -> Status:
    """The status after ``trigger``.

    Parameters
    ----------
    status : Status
    trigger : Trigger

    Returns
    -------
    Status
        ``status`` itself when the trigger does not apply (ACK of an alarm that needs
        none, ACTIVATE of an active alarm, UNSHELVE of an alarm not shelved, ...).
    """
    if trigger is Trigger.ACTIVATE or trigger is Trigger.CLEAR:
        active = trigger is Trigger.ACTIVATE
        if status.active == active:
            return status
        if status.hidden:
            return status._replace(active=active)
        return status._replace(state=ANNUNCIATED[(status.state, trigger)], active=active)
    if trigger is Trigger.ACK:
        target = None if status.hidden else ANNUNCIATED.get((status.state, trigger))
        return status if target is None else status._replace(state=target)
    flag, value = _FLAG_TRIGGERS[trigger]
    if getattr(status, flag) == value:
        return status
    changed = status._replace(**{flag: value})
    if changed.hidden:
        return changed._replace(state=_hidden_state(changed))
    return changed._replace(state=AlarmState.UNACK_ACTIVE if changed.active else AlarmState.NORMAL)
