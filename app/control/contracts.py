"""Value objects and interfaces of the control service (select-before-operate).

The control service depends on the rest of the system only through the small
interfaces here, so the users/roles/audit issue (``app/security``) and the
networked edition plug in without changing it:

* :data:`PermissionCheck` ``(user, action, area) -> bool`` — may ``user`` do ``action``
  (always ``"control"`` here) on devices of ``area``;
* :data:`PasswordCheck` ``(user, password) -> bool`` — the operator's password re-entered
  at the confirm step;
* :data:`AuditSink` ``(AuditRecord) -> None`` — receives every step, in order;
* :class:`PointWriter` — ``write(device_id, point, value)`` returning a concurrent future
  (:meth:`app.acquisition.AcquisitionEngine.write`);
* :class:`PointSource` — latest value per tag (:class:`app.cache.PointCache`).
"""

from __future__ import annotations

import concurrent.futures
import enum
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

from app.points import PointValue


class AuditAction(str, enum.Enum):
    """The step an :class:`AuditRecord` records."""

    SELECT = "select"      #: a selection was granted
    CONFIRM = "confirm"    #: the operator re-entered the password; the selection is armed
    OPERATE = "operate"    #: the command is about to be written to the device
    VERIFY = "verify"      #: readback after the write (``after`` holds what was read)
    RESULT = "result"      #: final outcome of an operate (``result`` holds the outcome)
    REFUSED = "refused"    #: any step refused; ``reason`` says why
    CANCEL = "cancel"      #: the operator withdrew a selection, or it lapsed
    RESET = "reset"        #: an operator reset the trip lockout of a feeder


class AuditRecord(NamedTuple):
    """One audited control step.

    Attributes
    ----------
    who : str
        User name of the operator.
    when : float
        UTC epoch seconds (the service's clock).
    workstation : str
        Workstation the step came from.
    action : AuditAction
    target : str
        ``"<device>.<telecontrol point>=<value>"``, e.g. ``"QF1_01.command=0"``; for a trip
        reset ``"<device>"``.
    before, after : str
        Readback value before the step and after it (``"open"``, ``"closed"``, ``"?"`` when
        not known, empty when the step does not read back).
    result : str
        ``"ok"``, ``"refused"``, ``"failed"``, ``"timeout"``, or empty for intermediate steps.
    reason : str
        Why a step was refused or failed, in English; empty when it went well.
    selection : str
        Id of the selection the step belongs to (correlates select .. result), may be empty.
    """

    who: str
    when: float
    workstation: str
    action: AuditAction
    target: str
    before: str
    after: str
    result: str
    reason: str
    selection: str = ""


class RefusalCode(str, enum.Enum):
    """Why a control step is refused; the dialog translates by code."""

    UNKNOWN_TARGET = "unknown_target"      #: no such device/point under control
    BAD_VALUE = "bad_value"                #: value not one of the command point's states
    PERMISSION = "permission"              #: the user's role may not control this area
    MODE_MANUAL = "mode_manual"            #: mode switch in manual: device refuses remote commands
    MODE_MAINTENANCE = "mode_maintenance"  #: maintenance (locked out): refuses remote and local
    MODE_UNKNOWN = "mode_unknown"          #: mode not read with good quality
    OFFLINE = "offline"                    #: the device does not answer / readings not GOOD
    STALE = "stale"                        #: readings older than the device's freshness limit
    TRIPPED = "tripped"                    #: close onto a feeder tripped by its protection
    ALREADY = "already"                    #: the device is already in the commanded position
    HELD = "held"                          #: another workstation or user holds the selection
    NO_SELECTION = "no_selection"          #: operate/confirm without a current selection
    LAPSED = "lapsed"                      #: the selection timed out
    MISMATCH = "mismatch"                  #: operate differs from what was selected
    NOT_CONFIRMED = "not_confirmed"        #: operate before the password confirmation
    PASSWORD = "password"                  #: password re-entry failed
    NOT_TRIPPED = "not_tripped"            #: trip reset asked for a feeder not tripped


class Refusal(NamedTuple):
    """A refused step: a code for the dialog and an English sentence for the audit log.

    Attributes
    ----------
    code : RefusalCode
    message : str
        Complete English sentence with the specifics (device, mode, holder, seconds ...).
    args : tuple[tuple[str, str], ...]
        The specifics as ``(name, text)`` pairs, for a translated message.
    """

    code: RefusalCode
    message: str
    args: tuple[tuple[str, str], ...] = ()

    def arg(self, name: str) -> str:
        """The specific ``name`` (empty if absent)."""
        return dict(self.args).get(name, "")


class ControlRefused(Exception):
    """A select, confirm, cancel or reset was refused; ``refusal`` says why."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


class Command(NamedTuple):
    """What an operator asks for: write ``value`` to ``device_id``'s telecontrol ``point``.

    ``value`` is a state code of the point (``iot_breaker`` ``command``: 1 close, 0 open).
    """

    device_id: str
    point: str
    value: int

    @property
    def target(self) -> str:
        return f"{self.device_id}.{self.point}={self.value}"


class Selection(NamedTuple):
    """A granted selection: one device held for one command by one operator at one workstation.

    Attributes
    ----------
    id : str
        Random token identifying this selection.
    command : Command
    user, workstation : str
    selected_at, expires_at : float
        UTC epoch seconds; the selection lapses at ``expires_at``.
    confirmed : bool
        The password was re-entered (the confirm step passed).
    """

    id: str
    command: Command
    user: str
    workstation: str
    selected_at: float
    expires_at: float
    confirmed: bool = False


class Outcome(str, enum.Enum):
    """Outcome of an operate."""

    SUCCESS = "ok"         #: written and verified by readback
    REFUSED = "refused"    #: not written (see ``refusal``)
    FAILED = "failed"      #: the device refused the write or could not be reached
    TIMEOUT = "timeout"    #: written, but the readback did not reach the commanded state in time


class ControlResult(NamedTuple):
    """What an operate came to.

    Attributes
    ----------
    outcome : Outcome
    message : str
        English sentence for the audit log and the dialog's detail line.
    before, after : str
        Readback state label before the write and at the end of verification.
    elapsed_s : float
        Seconds from the write to the verified readback (or to the failure).
    refusal : Refusal or None
        Set when ``outcome`` is REFUSED.
    trip_cause : str
        The device's trip cause label at the end when it is not ``none`` (a close onto a
        fault trips again at once), else empty.
    """

    outcome: Outcome
    message: str
    before: str = ""
    after: str = ""
    elapsed_s: float = 0.0
    refusal: Refusal | None = None
    trip_cause: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.SUCCESS


#: ``(user, action, area id) -> allowed``; action is ``"control"``.
PermissionCheck = Callable[[str, str, str], bool]
#: ``(user, password) -> the password is the user's``.
PasswordCheck = Callable[[str, str], bool]
#: Receives every audit record, on the caller's thread; must not block for long.
AuditSink = Callable[[AuditRecord], None]
#: Told the device id just before a command is written (``AlarmEngine.note_command``).
CommandNotice = Callable[[str], None]


class PointWriter(Protocol):
    """Writes one telecontrol point (``AcquisitionEngine``)."""

    def write(self, device_id: str, point: str, value: float) -> concurrent.futures.Future[None]:
        """Schedule the write; the future raises ``DriverError`` with the device's reason.

        May itself raise ``DriverError`` (e.g. acquisition not running).
        """
        ...


class PointSource(Protocol):
    """Latest value per tag and change notification (``PointCache``)."""

    def get(self, tag: str) -> PointValue | None:
        ...

    def subscribe(self, callback: Callable[[Sequence[PointValue]], None],
                  replay: bool = True) -> Callable[[], None]:
        ...
