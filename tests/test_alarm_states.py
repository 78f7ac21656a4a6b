"""The ISA-18.2 state machine, table-driven: every (status, trigger) pair is checked.

Each start status lists the triggers that change it and the status they lead to; every
trigger not listed must leave the status unchanged (returned as the same object).
"""

from __future__ import annotations

import pytest

from app.alarms import AlarmState as S
from app.alarms import Status, Trigger as T, step

NORMAL = Status(S.NORMAL)
UNACK = Status(S.UNACK_ACTIVE, active=True)
ACKED = Status(S.ACK_ACTIVE, active=True)
RTN = Status(S.UNACK_RTN)
SHELVED_ON = Status(S.SHELVED, active=True, shelved=True)
SHELVED_OFF = Status(S.SHELVED, shelved=True)
SUPP_ON = Status(S.SUPPRESSED, active=True, suppressed=True)
SUPP_OFF = Status(S.SUPPRESSED, suppressed=True)
OOS_ON = Status(S.OUT_OF_SERVICE, active=True, out_of_service=True)
OOS_OFF = Status(S.OUT_OF_SERVICE, out_of_service=True)
# Several flags at once: precedence out of service > suppressed > shelved.
OOS_SHELVED = Status(S.OUT_OF_SERVICE, active=True, shelved=True, out_of_service=True)
SUPP_SHELVED = Status(S.SUPPRESSED, shelved=True, suppressed=True)

TABLE: dict[Status, dict[T, Status]] = {
    NORMAL: {T.ACTIVATE: UNACK, T.SHELVE: SHELVED_OFF, T.SUPPRESS: SUPP_OFF, T.REMOVE: OOS_OFF},
    UNACK: {T.ACK: ACKED, T.CLEAR: RTN, T.SHELVE: SHELVED_ON, T.SUPPRESS: SUPP_ON, T.REMOVE: OOS_ON},
    ACKED: {T.CLEAR: NORMAL, T.SHELVE: SHELVED_ON, T.SUPPRESS: SUPP_ON, T.REMOVE: OOS_ON},
    RTN: {T.ACK: NORMAL, T.ACTIVATE: UNACK, T.SHELVE: SHELVED_OFF, T.SUPPRESS: SUPP_OFF, T.REMOVE: OOS_OFF},
    # Shelved: the condition is tracked silently; leaving re-evaluates (active -> unacknowledged).
    SHELVED_ON: {T.CLEAR: SHELVED_OFF, T.UNSHELVE: UNACK, T.SHELF_EXPIRE: UNACK,
                 T.SUPPRESS: Status(S.SUPPRESSED, True, True, True, False), T.REMOVE: OOS_SHELVED},
    SHELVED_OFF: {T.ACTIVATE: SHELVED_ON, T.UNSHELVE: NORMAL, T.SHELF_EXPIRE: NORMAL,
                  T.SUPPRESS: SUPP_SHELVED, T.REMOVE: Status(S.OUT_OF_SERVICE, False, True, False, True)},
    SUPP_ON: {T.CLEAR: SUPP_OFF, T.UNSUPPRESS: UNACK, T.SHELVE: Status(S.SUPPRESSED, True, True, True, False),
              T.REMOVE: Status(S.OUT_OF_SERVICE, True, False, True, True)},
    SUPP_OFF: {T.ACTIVATE: SUPP_ON, T.UNSUPPRESS: NORMAL, T.SHELVE: SUPP_SHELVED,
               T.REMOVE: Status(S.OUT_OF_SERVICE, False, False, True, True)},
    OOS_ON: {T.CLEAR: OOS_OFF, T.RESTORE: UNACK, T.SHELVE: OOS_SHELVED,
             T.SUPPRESS: Status(S.OUT_OF_SERVICE, True, False, True, True)},
    OOS_OFF: {T.ACTIVATE: OOS_ON, T.RESTORE: NORMAL, T.SHELVE: Status(S.OUT_OF_SERVICE, False, True, False, True),
              T.SUPPRESS: Status(S.OUT_OF_SERVICE, False, False, True, True)},
    # Leaving one hidden state while another holds keeps the alarm hidden.
    OOS_SHELVED: {T.CLEAR: Status(S.OUT_OF_SERVICE, False, True, False, True), T.RESTORE: SHELVED_ON,
                  T.UNSHELVE: OOS_ON, T.SHELF_EXPIRE: OOS_ON,
                  T.SUPPRESS: Status(S.OUT_OF_SERVICE, True, True, True, True)},
    SUPP_SHELVED: {T.ACTIVATE: Status(S.SUPPRESSED, True, True, True, False), T.UNSUPPRESS: SHELVED_OFF,
                   T.UNSHELVE: SUPP_OFF, T.SHELF_EXPIRE: SUPP_OFF,
                   T.REMOVE: Status(S.OUT_OF_SERVICE, False, True, True, True)},
}

CASES = [pytest.param(start, trigger, changes.get(trigger, start), id=f"{start.state.value}"
                      f"{'+active' if start.active else ''}{'+shelved' if start.shelved else ''}"
                      f"{'+suppressed' if start.suppressed else ''}-{trigger.value}")
         for start, changes in TABLE.items() for trigger in T]


@pytest.mark.parametrize(("start", "trigger", "expected"), CASES)
def test_transition(start: Status, trigger: T, expected: Status) -> None:
    after = step(start, trigger)
    assert after == expected
    if expected == start:
        assert after is start, "a trigger that does not apply returns the status itself"


def test_table_covers_every_trigger_of_every_state() -> None:
    assert len(CASES) == len(TABLE) * len(T)
    shown = {start.state for start in TABLE}
    assert shown == set(S)


def test_full_cycle_with_chattering_guarded_by_caller() -> None:
    """NORMAL -> raise -> clear -> raise again before ack -> ack -> clear -> NORMAL."""
    status = NORMAL
    for trigger, state in [(T.ACTIVATE, S.UNACK_ACTIVE), (T.CLEAR, S.UNACK_RTN), (T.ACTIVATE, S.UNACK_ACTIVE),
                           (T.ACK, S.ACK_ACTIVE), (T.CLEAR, S.NORMAL)]:
        status = step(status, trigger)
        assert status.state is state
