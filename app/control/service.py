"""The control service: select-before-operate for breakers and switched loads.

Steps (each audited, each refusal with its reason):

1. **select** — the user's role may control the device's area, the device holds no
   selection of another operator or workstation, and the interlocks pass
   (:func:`app.control.interlocks.check_command`: good fresh readings, mode auto, no
   trip lockout, not already in position). The device is then held for this command
   until the selection lapses (``selection_timeout_s``, 15 s by default).
2. **confirm** — the operator re-enters the password.
3. **operate** — must match the selection exactly (device, point, value, user,
   workstation) and come before it lapses; permission and interlocks are checked again,
   the alarm engine is told (so the opening is not reported as a trip), the command is
   written; the selection is spent whatever happens next.
4. **verify** — the readback point must show the commanded state, read after the write,
   within ``verify_timeout_s``.
5. **result** — success, device refusal (e.g. Modbus exception 1 in manual mode),
   readback timeout, or refusal.

Blocking: :meth:`ControlService.operate` waits for the write and the readback (seconds);
call it from a worker thread, never the GUI thread. The other calls return at once
unless the password check is slow (Argon2: tens of ms).
"""

from __future__ import annotations

import concurrent.futures
import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import NoReturn
from datetime import datetime

from app.config import SiteConfig
from app.config.site import NodeKind, TopologyNode
from app.control.contracts import (
    AuditAction, AuditRecord, AuditSink, Command, CommandNotice, ControlRefused, ControlResult, Outcome,
    PasswordCheck, PermissionCheck, PointSource, PointWriter, Refusal, RefusalCode, Selection,
)
from app.control.interlocks import check_command, is_protective_trip
from app.control.selections import LocalSelectionRegistry, SelectionRegistry
from app.control.targets import ControlTarget, control_targets
from app.points import PointValue, Quality
from app.topology import Topology
from drivers.base import DriverError

log = logging.getLogger(__name__)

Clock = Callable[[], float]
CONTROL = "control"


class ControlService:
    """Select-before-operate for every controllable point of a site.

    Parameters
    ----------
    site : SiteConfig
    writer : PointWriter
        ``write(device_id, point, value) -> Future`` (the acquisition engine).
    reader : PointSource
        Latest value per tag (the point cache); its timestamps are UTC epoch seconds.
    clock : callable
        UTC epoch seconds now, on the same clock as the readings' timestamps.
    permission : PermissionCheck
        ``(user, "control", area id) -> bool``.
    password : PasswordCheck
        ``(user, password) -> bool``; may raise with a reason (e.g. account locked).
    audit : AuditSink
        Receives every step. A step whose record cannot be written before the write is
        not carried out (the exception propagates).
    workstation : str, optional
        Name of this workstation (default: the host name).
    registry : SelectionRegistry, optional
        Selections shared between workstations (default: a private in-process one).
    note_command : callable, optional
        ``(device_id) -> None`` told just before each write (``AlarmEngine.note_command``).
    selection_timeout_s : float
        A selection lapses this long after it was granted (default 15 s).
    write_timeout_s : float
        Longest wait for the device's reply to the write, seconds.
    verify_timeout_s : float or None
        Longest wait for the readback; None: two scan intervals of the device plus 5 s.
    poll_s : float
        Readback polling period, seconds.

    Raises
    ------
    ValueError
        A timeout that is not positive.
    """

    def __init__(self, site: SiteConfig, writer: PointWriter, reader: PointSource, clock: Clock = time.time, *,
                 permission: PermissionCheck, password: PasswordCheck, audit: AuditSink,
                 workstation: str | None = None, registry: SelectionRegistry | None = None,
                 note_command: CommandNotice | None = None, selection_timeout_s: float = 15.0,
                 write_timeout_s: float = 10.0, verify_timeout_s: float | None = None,
                 poll_s: float = 0.05) -> None:
        for name, value in (("selection_timeout_s", selection_timeout_s), ("write_timeout_s", write_timeout_s),
                            ("verify_timeout_s", 1.0 if verify_timeout_s is None else verify_timeout_s),
                            ("poll_s", poll_s)):
            if not value > 0:
                raise ValueError(f"ControlService: {name} must be > 0 s, got {value!r}")
        self.site = site
        self._writer = writer
        self._reader = reader
        self._clock = clock
        self._permission = permission
        self._password = password
        self._audit = audit
        self.workstation = workstation if workstation is not None else socket.gethostname()
        self.registry: SelectionRegistry = registry if registry is not None else LocalSelectionRegistry()
        self._note_command = note_command
        self.selection_timeout_s = selection_timeout_s
        self.write_timeout_s = write_timeout_s
        self._verify_timeout_s = verify_timeout_s
        self._poll_s = poll_s
        self.targets: dict[tuple[str, str], ControlTarget] = control_targets(site)
        self.topology = Topology.from_site(site)
        self._lock = threading.Lock()
        self._resets: dict[str, int] = {}   # device id -> trip cause code reset by an operator
        self._readback_device = {t.tag(t.readback): t.device_id for t in self.targets.values()}
        self._unsubscribe: Callable[[], None] | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Watch the readbacks, so a trip reset ends when its switch is read closed."""
        if self._unsubscribe is None:
            self._unsubscribe = self._reader.subscribe(self._on_reader_values, replay=True)

    def stop(self) -> None:
        """Stop watching (idempotent)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_reader_values(self, values: Sequence[PointValue]) -> None:
        # acquisition thread: a dict lookup per value, never blocks
        for pv in values:
            device = self._readback_device.get(pv.tag)
            if device is not None and pv.quality is Quality.GOOD and pv.value is not None and pv.value >= 0.5:
                with self._lock:
                    self._resets.pop(device, None)

    # ------------------------------------------------------------------ queries
    def target(self, device_id: str, point: str = "command") -> ControlTarget:
        """The controllable point ``point`` of ``device_id``.

        Raises
        ------
        ControlRefused
            UNKNOWN_TARGET when the device or point is not under control.
        """
        target = self.targets.get((device_id, point))
        if target is None:
            raise ControlRefused(Refusal(RefusalCode.UNKNOWN_TARGET,
                                         f"{device_id}.{point} is not a controllable point of this site",
                                         (("target", f"{device_id}.{point}"),)))
        return target

    def readings(self, target: ControlTarget) -> dict[str, PointValue | None]:
        """Latest readback, mode and trip cause values of ``target`` by tag."""
        tags = (target.tag(target.readback), target.tag(target.mode), target.tag(target.trip_cause))
        return {t: self._reader.get(t) for t in tags if t is not None}

    def check(self, user: str, command: Command) -> list[Refusal]:
        """Every reason ``command`` by ``user`` at this workstation would be refused now.

        No side effect and no audit record: the dialog calls it to say what is possible
        before the operator tries.
        """
        try:
            target = self.target(command.device_id, command.point)
        except ControlRefused as refused:
            return [refused.refusal]
        now = self._clock()
        refusals = []
        if not self._allowed(user, target):
            refusals.append(self._permission_refusal(user, target))
        held = self.registry.get(command.device_id)
        if held is not None and held.expires_at > now and (held.user, held.workstation) != (user, self.workstation):
            refusals.append(self._held_refusal(held))
        refusals.extend(check_command(target, command, self.readings(target), now, self.reset_cause(target)))
        return refusals

    def reset_cause(self, target: ControlTarget) -> int | None:
        """Trip cause code whose lockout an operator has reset on ``target``'s device, or None."""
        with self._lock:
            return self._resets.get(target.device_id)

    def trip_cause(self, target: ControlTarget) -> tuple[int, str] | None:
        """``(code, English label)`` of a protection trip locking out ``target``, else None."""
        if target.trip_cause is None:
            return None
        pv = self._reader.get(target.tag(target.trip_cause))
        if pv is None or not pv.good or not is_protective_trip(pv.value):
            return None
        code = int(pv.value)
        return code, target.trip_cause.states.get(code, str(code))

    def deenergised_loads(self, device_id: str) -> list[TopologyNode]:
        """Loads live now that opening ``device_id``'s switch would leave without supply.

        Returns
        -------
        list[TopologyNode]
            Load nodes in file order; empty when the device operates no topology switch.
        """
        node_id = next((t.node_id for t in self.targets.values() if t.device_id == device_id and t.node_id), None)
        if node_id is None:
            return []
        values = {tag: pv for tag in self.topology.state_tags.values() if (pv := self._reader.get(tag)) is not None}
        positions = self.topology.positions(values)
        nodes = self.topology.nodes
        return [nodes[n] for n in self.topology.deenergised_by_opening(node_id, positions)
                if nodes[n].kind is NodeKind.LOAD]

    def verify_timeout_s(self, target: ControlTarget) -> float:
        """Longest wait for ``target``'s readback after a write, seconds."""
        if self._verify_timeout_s is not None:
            return self._verify_timeout_s
        return 2.0 * target.device.scan_interval_s + 5.0

    # ------------------------------------------------------------------ steps
    def select(self, user: str, command: Command) -> Selection:
        """Step 1: hold the device for ``command``.

        Returns
        -------
        Selection
            Lapses at ``expires_at`` (``selection_timeout_s`` from now).

        Raises
        ------
        ControlRefused
            With the first reason that applies (permission, holder, communication, mode,
            trip lockout, already in position); audited as ``refused``.
        """
        now = self._clock()
        try:
            target = self.target(command.device_id, command.point)
        except ControlRefused as refused:
            self._record(user, AuditAction.REFUSED, command.target, reason=refused.refusal.message,
                         result="refused")
            raise
        before = self._state(target)
        refusals = self.check(user, command)
        if refusals:
            self._refuse(user, command, refusals[0], before)
        selection = Selection(secrets.token_hex(8), command, user, self.workstation, now,
                              now + self.selection_timeout_s)
        holder = self.registry.claim(selection, now)
        if holder is not None:  # another workstation got there between check and claim
            self._refuse(user, command, self._held_refusal(holder), before)
        try:
            self._record(user, AuditAction.SELECT, command.target, before=before, selection=selection.id,
                         when=now)
        except Exception:
            self.registry.release(selection.id)
            raise
        return selection

    def confirm(self, selection_id: str, user: str, password: str) -> Selection:
        """Step 2: the operator re-enters the password; arms the selection.

        Raises
        ------
        ControlRefused
            NO_SELECTION, LAPSED, MISMATCH (another user's selection) or PASSWORD; audited.
        """
        held = self._own_selection(selection_id, user)
        try:
            ok = self._password(user, password)
            why = "" if ok else "password does not match"
        except Exception as exc:  # the security module's reason (e.g. account locked)
            log.warning("password check for %s failed: %s", user, exc)
            ok, why = False, str(exc)
        if not ok:
            self.registry.release(held.id)
            self._refuse(user, held.command, Refusal(RefusalCode.PASSWORD,
                                                     f"password re-entry failed ({why}); selection withdrawn",
                                                     (("reason", why),)), selection=held.id)
        confirmed = held._replace(confirmed=True)
        if not self.registry.update(confirmed):
            self._refuse(user, held.command, Refusal(RefusalCode.NO_SELECTION,
                                                     f"{held.command.device_id} has no current selection"),
                         selection=held.id)
        self._record(user, AuditAction.CONFIRM, held.command.target,
                     before=self._state(self.target(held.command.device_id, held.command.point)),
                     selection=held.id)
        return confirmed

    def cancel(self, selection_id: str, user: str, reason: str = "cancelled by the operator") -> bool:
        """Withdraw a selection (the operator closed the dialog, or it lapsed).

        Returns
        -------
        bool
            True when the selection was held and is now released (audited as ``cancel``).
        """
        held = self.registry.find(selection_id)
        if held is None or (held.user, held.workstation) != (user, self.workstation):
            return False
        if self.registry.release(selection_id) is None:
            return False
        self._record(user, AuditAction.CANCEL, held.command.target, reason=reason, selection=selection_id)
        return True

    def operate(self, selection_id: str, user: str, command: Command) -> ControlResult:
        """Steps 3-5: write the selected command and verify it by readback (blocking).

        Parameters
        ----------
        selection_id : str
            From :meth:`select` (confirmed by :meth:`confirm`).
        user : str
        command : Command
            Must equal the selected command.

        Returns
        -------
        ControlResult
            SUCCESS (readback reached the commanded state), REFUSED (not written; why),
            FAILED (the device refused the write or did not answer) or TIMEOUT (written,
            readback did not follow within the verify timeout). Never raises for a
            refusal or a device fault.
        """
        now = self._clock()
        target = self.targets.get((command.device_id, command.point))
        if target is None:
            return self._refused_result(user, command, self._unknown(command), "")
        before = self._state(target)
        held = self.registry.get(command.device_id)
        if held is None or held.id != selection_id:
            refusal = (self._held_refusal(held) if held is not None and held.expires_at > now
                       else Refusal(RefusalCode.NO_SELECTION,
                                    f"{command.device_id}: no current selection for this operate; select first"))
            return self._refused_result(user, command, refusal, before, selection_id)
        self.registry.release(held.id)  # spent, whatever follows
        refusal = self._match(held, user, command, now)
        if refusal is None and not self._allowed(user, target):
            refusal = self._permission_refusal(user, target)
        if refusal is None:
            problems = check_command(target, command, self.readings(target), now, self.reset_cause(target))
            refusal = problems[0] if problems else None
        if refusal is not None:
            return self._refused_result(user, command, refusal, before, held.id)
        return self._write_and_verify(target, held, before)

    def reset_trip(self, user: str, device_id: str) -> str:
        """Reset the trip lockout of ``device_id`` after the operator has looked at the cause.

        Returns
        -------
        str
            English label of the trip cause reset (e.g. ``"leakage"``).

        Raises
        ------
        ControlRefused
            UNKNOWN_TARGET, PERMISSION, or NOT_TRIPPED when no protection trip locks it out;
            audited.
        """
        command = Command(device_id, "command", 1)
        try:
            target = self.target(device_id)
        except ControlRefused as refused:
            self._record(user, AuditAction.REFUSED, device_id, reason=refused.refusal.message, result="refused")
            raise
        before = self._state(target)
        if not self._allowed(user, target):
            self._refuse(user, command, self._permission_refusal(user, target), before, target=device_id)
        trip = self.trip_cause(target)
        if trip is None or before != target.state_label(0):
            self._refuse(user, command, Refusal(RefusalCode.NOT_TRIPPED,
                                                f"{device_id} is not open on a protection trip; nothing to reset"),
                         before, target=device_id)
        code, label = trip
        with self._lock:
            self._resets[device_id] = code
        self._record(user, AuditAction.RESET, device_id, before=before, reason=f"trip on {label} reset")
        return label

    # ------------------------------------------------------------------ operate internals
    def _write_and_verify(self, target: ControlTarget, held: Selection, before: str) -> ControlResult:
        command, user = held.command, held.user
        self._record(user, AuditAction.OPERATE, command.target, before=before, selection=held.id)
        if self._note_command is not None:
            self._note_command(command.device_id)
        written_at = self._clock()
        started = time.monotonic()
        try:
            self._writer.write(command.device_id, command.point, float(command.value)).result(self.write_timeout_s)
        except DriverError as exc:
            return self._finish(target, held, before, Outcome.FAILED,
                                f"{command.device_id} did not carry out the command: {exc}",
                                time.monotonic() - started)
        except concurrent.futures.TimeoutError:
            return self._finish(target, held, before, Outcome.FAILED,
                                f"{command.device_id} did not answer the write within {self.write_timeout_s:g} s",
                                time.monotonic() - started)
        limit = self.verify_timeout_s(target)
        tag = target.tag(target.readback)
        deadline = started + limit
        while True:
            pv = self._reader.get(tag)
            if (pv is not None and pv.good and pv.value is not None and pv.ts >= written_at
                    and int(pv.value) == command.value):
                elapsed = time.monotonic() - started
                return self._finish(target, held, before, Outcome.SUCCESS,
                                    f"{target.device.name or command.device_id} "
                                    f"{target.state_label(command.value)}, verified by readback in {elapsed:.1f} s",
                                    elapsed)
            if time.monotonic() >= deadline:
                break
            time.sleep(self._poll_s)
        elapsed = time.monotonic() - started
        expected = target.state_label(command.value)
        message = (f"{command.device_id} accepted the command but {tag} did not read {expected} "
                   f"within {limit:g} s")
        trip = self.trip_cause(target)
        if trip is not None:
            message += f"; it tripped on {trip[1]}"
        return self._finish(target, held, before, Outcome.TIMEOUT, message, elapsed)

    def _finish(self, target: ControlTarget, held: Selection, before: str, outcome: Outcome, message: str,
                elapsed: float) -> ControlResult:
        after = self._state(target)
        trip = self.trip_cause(target)
        target_text = held.command.target
        reason = "" if outcome is Outcome.SUCCESS else message
        try:
            if outcome is not Outcome.FAILED:
                self._record(held.user, AuditAction.VERIFY, target_text, before=before, after=after,
                             result="ok" if outcome is Outcome.SUCCESS else "timeout", reason=reason,
                             selection=held.id)
            self._record(held.user, AuditAction.RESULT, target_text, before=before, after=after,
                         result=outcome.value, reason=reason, selection=held.id)
        except Exception:  # the command is done; the caller must still learn its result
            log.exception("audit of the result of %s failed", target_text)
            message += " (audit record could not be written)"
        if outcome is Outcome.SUCCESS and held.command.value == 1:
            with self._lock:
                self._resets.pop(target.device_id, None)
        return ControlResult(outcome, message, before, after, elapsed, None, trip[1] if trip else "")

    def _match(self, held: Selection, user: str, command: Command, now: float) -> Refusal | None:
        """Why an operate does not match its selection, or None."""
        if held.expires_at <= now:
            return Refusal(RefusalCode.LAPSED,
                           f"selection of {held.command.target} lapsed after {self.selection_timeout_s:g} s; "
                           "select again", (("seconds", f"{self.selection_timeout_s:g}"),))
        differences = []
        if command != held.command:
            differences.append(f"command {command.target} but {held.command.target} was selected")
        if user != held.user:
            differences.append(f"user {user!r} but {held.user!r} selected")
        if self.workstation != held.workstation:
            differences.append(f"workstation {self.workstation!r} but {held.workstation!r} selected")
        if differences:
            return Refusal(RefusalCode.MISMATCH,
                           "operate differs from the selection: " + "; ".join(differences) + "; selection withdrawn",
                           (("details", "; ".join(differences)),))
        if not held.confirmed:
            return Refusal(RefusalCode.NOT_CONFIRMED,
                           f"selection of {held.command.target} was not confirmed with the password; "
                           "selection withdrawn")
        return None

    # ------------------------------------------------------------------ helpers
    def _own_selection(self, selection_id: str, user: str) -> Selection:
        """The current selection ``selection_id`` of ``user`` at this workstation, else refuse."""
        now = self._clock()
        held = self.registry.find(selection_id)
        if held is None:
            self._refuse(user, None, Refusal(RefusalCode.NO_SELECTION, "no current selection; select first"),
                         selection=selection_id)
        if (held.user, held.workstation) != (user, self.workstation):
            self._refuse(user, held.command, Refusal(
                RefusalCode.MISMATCH, f"selection of {held.command.target} belongs to {held.user} at "
                                      f"{held.workstation}", (("details", f"{held.user}@{held.workstation}"),)),
                selection=selection_id)
        if held.expires_at <= now:
            self.registry.release(held.id)
            self._refuse(user, held.command, Refusal(
                RefusalCode.LAPSED, f"selection of {held.command.target} lapsed after "
                                    f"{self.selection_timeout_s:g} s; select again",
                (("seconds", f"{self.selection_timeout_s:g}"),)), selection=selection_id)
        return held

    def _allowed(self, user: str, target: ControlTarget) -> bool:
        try:
            return bool(self._permission(user, CONTROL, target.area))
        except Exception:  # a faulty permission check refuses, never allows
            log.exception("permission check for %s on %s failed", user, target.area)
            return False

    def _permission_refusal(self, user: str, target: ControlTarget) -> Refusal:
        return Refusal(RefusalCode.PERMISSION, f"user {user!r} may not control devices in area {target.area}",
                       (("user", user), ("area", target.area)))

    def _held_refusal(self, held: Selection) -> Refusal:
        until = datetime.fromtimestamp(held.expires_at, self.site.tzinfo).strftime("%H:%M:%S")
        return Refusal(RefusalCode.HELD,
                       f"{held.command.device_id} is selected by {held.user} at {held.workstation} until {until}",
                       (("user", held.user), ("workstation", held.workstation), ("until", until)))

    def _unknown(self, command: Command) -> Refusal:
        return Refusal(RefusalCode.UNKNOWN_TARGET,
                       f"{command.device_id}.{command.point} is not a controllable point of this site",
                       (("target", f"{command.device_id}.{command.point}"),))

    def _state(self, target: ControlTarget) -> str:
        pv = self._reader.get(target.tag(target.readback))
        if pv is None or not pv.good:
            return "?"
        return target.state_label(pv.value)

    def _refuse(self, user: str, command: Command | None, refusal: Refusal, before: str = "",
                selection: str = "", target: str | None = None) -> NoReturn:
        """Audit ``refusal`` and raise it."""
        text = target if target is not None else (command.target if command is not None else "")
        self._record(user, AuditAction.REFUSED, text, before=before, result="refused", reason=refusal.message,
                     selection=selection)
        raise ControlRefused(refusal)

    def _refused_result(self, user: str, command: Command, refusal: Refusal, before: str,
                        selection: str = "") -> ControlResult:
        self._record(user, AuditAction.REFUSED, command.target, before=before, result="refused",
                     reason=refusal.message, selection=selection)
        return ControlResult(Outcome.REFUSED, refusal.message, before, before, 0.0, refusal)

    def _record(self, user: str, action: AuditAction, target: str, *, before: str = "", after: str = "",
                result: str = "", reason: str = "", selection: str = "", when: float | None = None) -> None:
        self._audit(AuditRecord(user, self._clock() if when is None else when, self.workstation, action, target,
                                before, after, result, reason, selection))
