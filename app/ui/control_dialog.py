"""The breaker control dialog: select-before-operate on one device (issue 3 §5).

Shows the device's position, mode, trip cause, communication state and live I/U/P,
and says *before* the operator tries whether each command is possible and, if not,
why (manual or maintenance mode, trip lockout, another workstation's selection,
no permission, no good reading). The steps follow :class:`app.control.ControlService`:
Close/Open selects; the confirm panel lists the loads an opening de-energises and
asks for the password; Execute writes and waits for the readback; the result says
what happened. The selection's countdown is shown and the selection is withdrawn when
it lapses or the dialog closes.

Every service call runs on a short-lived worker thread and reports back by queued
signal, so the GUI thread never waits on the device, the password hash or the user
database: the steps, and the check of what is possible (whose permission check may
read the roles and grants), which runs on every value change and tick, one at a time;
the commands stay disabled until the first check has answered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QDialog, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QPushButton, QVBoxLayout, QWidget)

from app.config.point import Point
from app.control import (CLOSE, OPEN, Command, ControlRefused, ControlResult, ControlService, ControlTarget, Outcome,
                         Refusal, RefusalCode, Selection, is_protective_trip)
from app.points import PointValue, Quality
from app.ui.devices_view import format_value, state_label
from app.ui.services import UiServices
from app.ui.theme import colours
from widgets.sld.palette import sld_palette

CONTEXT = "ControlDialog"
TICK_MS = 250

#: translated templates of refusals, by code; ``{name}`` fields come from ``Refusal.args``
REFUSAL_TEXT: dict[RefusalCode, str] = {
    RefusalCode.UNKNOWN_TARGET: "{target} is not under remote control.",
    RefusalCode.BAD_VALUE: "Value {value} is not a command of this point.",
    RefusalCode.PERMISSION: "Your role may not control devices in {area}.",
    RefusalCode.MODE_MANUAL: "Manual mode: the breaker refuses remote commands. Only hand operation at the "
                             "panel acts.",
    RefusalCode.MODE_MAINTENANCE: "Maintenance mode: the breaker is locked and refuses remote and hand "
                                  "operation.",
    RefusalCode.MODE_UNKNOWN: "The mode switch reads an unknown value ({value}).",
    RefusalCode.OFFLINE: "No good reading of {tag} ({reason}): not under remote control.",
    RefusalCode.STALE: "The last reading of {tag} is {age} s old.",
    RefusalCode.TRIPPED: "Tripped on {cause}: find the cause, then reset the trip before closing.",
    RefusalCode.ALREADY: "Already {state}.",
    RefusalCode.HELD: "Selected by {user} at {workstation} until {until}.",
    RefusalCode.NO_SELECTION: "There is no current selection; select again.",
    RefusalCode.LAPSED: "The selection lapsed after {seconds} s; select again.",
    RefusalCode.MISMATCH: "The operate differs from the selection ({details}); the selection is withdrawn.",
    RefusalCode.NOT_CONFIRMED: "The selection was not confirmed with the password.",
    RefusalCode.PASSWORD: "Password re-entry failed; the selection is withdrawn.",
    RefusalCode.NOT_TRIPPED: "Not open on a protection trip; nothing to reset.",
}
#: arguments that are point state labels, translated in context ``PointStates``
_STATE_ARGS = frozenset({"cause", "state"})


def refusal_text(refusal: Refusal, area_name: Callable[[str], str] = str) -> str:
    """The operator's sentence for ``refusal`` in the current language.

    Parameters
    ----------
    refusal : Refusal
    area_name : callable
        Area id -> display name (for PERMISSION).
    """
    args = dict(refusal.args)
    for key in _STATE_ARGS & args.keys():
        args[key] = QCoreApplication.translate("PointStates", args[key])
    if "area" in args:
        args["area"] = area_name(args["area"])
    template = QCoreApplication.translate(CONTEXT, REFUSAL_TEXT[refusal.code])
    try:
        return template.format(**args)
    except (KeyError, IndexError, ValueError):  # a translation with a field the refusal lacks
        return refusal.message


class _Relay(QObject):
    """Carries a worker's outcome to the GUI thread (queued connection)."""

    finished = Signal(str, object)   # step, return value or ControlRefused
    checked = Signal(object)         # {CLOSE: [Refusal], OPEN: [Refusal]}, or the exception raised


class ControlDialog(QDialog):
    """Select-before-operate for one controllable point of one device.

    Parameters
    ----------
    services : UiServices
        ``control`` must be a :class:`~app.control.ControlService`; bridge for live values,
        device_status for communication, settings for theme and breaker colours.
    device_id : str
    user : str
        The logged-in operator (from the session).
    point : str
        Telecontrol point (default ``command``).

    Raises
    ------
    ValueError
        No control service, or the point is not controllable.

    Signals
    -------
    step_finished(str)
        A step's worker returned: ``select``, ``confirm``, ``operate``, ``reset`` or ``cancel``.
    """

    step_finished = Signal(str)

    def __init__(self, services: UiServices, device_id: str, user: str, parent: QWidget | None = None,
                 point: str = "command") -> None:
        super().__init__(parent)
        if not isinstance(services.control, ControlService):
            raise ValueError("control dialog: no control service in UiServices.control")
        self.services = services
        self.control: ControlService = services.control
        try:
            self.target: ControlTarget = self.control.target(device_id, point)
        except ControlRefused as refused:
            raise ValueError(str(refused)) from None
        self.user = user
        self._colours = colours(services.settings.theme)
        self._palette = sld_palette(services.settings.theme, services.settings.breaker_colours)
        self._ready = False
        self.selection: Selection | None = None
        self._operated: Selection | None = None
        self.result: ControlResult | None = None
        self.refusals: dict[int, list[Refusal]] = {CLOSE: [], OPEN: []}
        #: what is possible has been checked at least once (commands stay disabled until then)
        self.checked = False
        self._check_error = ""
        self._worker: threading.Thread | None = None
        self._checker: threading.Thread | None = None
        self._recheck = False
        self._relay = _Relay(self)
        self._relay.finished.connect(self._on_worker_finished)
        self._relay.checked.connect(self._on_relay_checked)
        dev = self.target.device
        #: a breaker or switch (close/open, a position); else a load's run command (run/stop, a state)
        self._switch = self.target.command.name == "command"
        self._tags = {p.name: dev.tag(p.name) for p in dev.points}
        self._watched = set(self._tags.values())
        self.setObjectName("controlDialog")
        self.setModal(True)
        self.setMinimumWidth(560)
        self._build()
        services.bridge.values_changed.connect(self._on_bridge_values_changed)
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()
        self._ready = True
        self._retranslate()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        bold = QFont("Noto Sans CJK SC")
        bold.setPointSize(13)
        bold.setBold(True)
        self.title = QLabel(self)
        self.title.setFont(bold)
        self.subtitle = QLabel(self)
        self.subtitle.setProperty("role", "note")

        self.status_box = QGroupBox(self)
        grid = QGridLayout(self.status_box)
        self._status_names: dict[str, QLabel] = {}
        self.status_values: dict[str, QLabel] = {}
        self.state_swatch = QLabel(self.status_box)
        self.state_swatch.setFixedSize(18, 18)
        for row, key in enumerate(("state", "mode", "trip_cause", "comm")):
            name = QLabel(self.status_box)
            name.setProperty("role", "note")
            value = QLabel(self.status_box)
            self._status_names[key] = name
            self.status_values[key] = value
            grid.addWidget(name, row, 0)
            absent = {"mode": self.target.mode, "trip_cause": self.target.trip_cause}
            if key in absent and absent[key] is None:   # a pump or fan has no mode switch or trip cause
                name.hide()
                value.hide()
            if key == "state":
                box = QHBoxLayout()
                box.addWidget(self.state_swatch)
                box.addWidget(value, 1)
                grid.addLayout(box, row, 1)
            else:
                grid.addWidget(value, row, 1)
        grid.setColumnStretch(1, 1)

        self.live_box = QGroupBox(self)
        live = QGridLayout(self.live_box)
        live.setHorizontalSpacing(12)
        self.live_values: dict[str, QLabel] = {}
        self._live_names: dict[str, QLabel] = {}
        for i, point in enumerate(self.target.live_points):
            name = QLabel(point.name, self.live_box)
            self._live_names[point.name] = name
            name.setProperty("role", "note")
            value = QLabel(self.live_box)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setMinimumWidth(90)
            self.live_values[point.name] = value
            name.setMinimumWidth(36)
            live.addWidget(name, i // 3, (i % 3) * 3)
            live.addWidget(value, i // 3, (i % 3) * 3 + 1)
            if i % 3 < 2:
                live.setColumnMinimumWidth((i % 3) * 3 + 2, 28)

        self.availability = QLabel(self)
        self.availability.setWordWrap(True)
        self.availability.setObjectName("controlAvailability")

        self.close_button = QPushButton(self)
        self.open_button = QPushButton(self)
        self.reset_button = QPushButton(self)
        self.close_button.clicked.connect(lambda: self.select(CLOSE))
        self.open_button.clicked.connect(lambda: self.select(OPEN))
        self.reset_button.clicked.connect(self.reset_trip)
        commands = QHBoxLayout()
        commands.addWidget(self.close_button)
        commands.addWidget(self.open_button)
        commands.addStretch(1)
        commands.addWidget(self.reset_button)

        self.confirm_box = QGroupBox(self)
        confirm = QVBoxLayout(self.confirm_box)
        self.selection_label = QLabel(self.confirm_box)
        self.selection_label.setWordWrap(True)
        self.countdown = QLabel(self.confirm_box)
        self.countdown.setProperty("role", "note")
        self.loads_label = QLabel(self.confirm_box)
        self.loads = QListWidget(self.confirm_box)
        self.loads.setMaximumHeight(110)
        self.password = QLineEdit(self.confirm_box)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.returnPressed.connect(self.confirm)
        self.confirm_button = QPushButton(self.confirm_box)
        self.confirm_button.clicked.connect(self.confirm)
        self.execute_button = QPushButton(self.confirm_box)
        self.execute_button.clicked.connect(self.execute)
        self.cancel_selection_button = QPushButton(self.confirm_box)
        self.cancel_selection_button.clicked.connect(self.cancel_selection)
        steps = QHBoxLayout()
        steps.addWidget(self.password, 1)
        steps.addWidget(self.confirm_button)
        steps.addWidget(self.execute_button)
        steps.addWidget(self.cancel_selection_button)
        confirm.addWidget(self.selection_label)
        confirm.addWidget(self.countdown)
        confirm.addWidget(self.loads_label)
        confirm.addWidget(self.loads)
        confirm.addLayout(steps)
        self.confirm_box.hide()

        self.result_label = QLabel(self)
        self.result_label.setWordWrap(True)
        self.result_label.setObjectName("controlResult")
        self.log = QListWidget(self)
        self.log.setMinimumHeight(84)
        self.log.setMaximumHeight(110)
        self.close_dialog_button = QPushButton(self)
        self.close_dialog_button.clicked.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.close_dialog_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(8)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.status_box)
        layout.addWidget(self.live_box)
        layout.addWidget(self.availability)
        layout.addLayout(commands)
        layout.addWidget(self.confirm_box)
        layout.addWidget(self.result_label)
        layout.addWidget(self.log)
        layout.addStretch(1)
        layout.addLayout(bottom)

    def _retranslate(self) -> None:
        dev = self.target.device
        try:
            area = self.services.site.area(dev.area).name or dev.area
        except KeyError:
            area = dev.area
        self.setWindowTitle(self.tr("Remote control — {name}").format(name=dev.name or dev.id))
        language = self.services.settings.language
        title = f"{dev.name or dev.id}  ({dev.id})"
        if not self._switch:   # which of the device's commands: "1号泵启停命令及状态"
            title += f" — {self.target.command.describe(language) or self.target.command.name}"
            for name, label in self._live_names.items():   # I, U, P need no words; a pump's flow does
                point = next(p for p in self.target.live_points if p.name == name)
                label.setText(point.describe(language) or name)
        self.title.setText(title)
        self.subtitle.setText(self.tr("Area: {area}    Operator: {user}    Workstation: {ws}").format(
            area=area, user=self.user, ws=self.control.workstation))
        self.status_box.setTitle(self.tr("Status"))
        self.live_box.setTitle(self.tr("Live values"))
        position = self.tr("Position") if self._switch else self.tr("State")
        for key, text in (("state", position), ("mode", self.tr("Mode")),
                          ("trip_cause", self.tr("Last trip cause")), ("comm", self.tr("Communication"))):
            self._status_names[key].setText(text)
        self.close_button.setText(self._verb(CLOSE))
        self.open_button.setText(self._verb(OPEN))
        self.reset_button.setText(self.tr("Reset trip"))
        self.confirm_box.setTitle(self.tr("Confirm"))
        self.password.setPlaceholderText(self.tr("Re-enter your password"))
        self.confirm_button.setText(self.tr("Confirm"))
        self.execute_button.setText(self.tr("Execute"))
        self.cancel_selection_button.setText(self.tr("Cancel selection"))
        self.close_dialog_button.setText(self.tr("Close window"))
        self._show_selection()
        self.refresh()

    def changeEvent(self, event: QEvent) -> None:  # Qt override
        if event.type() == QEvent.Type.LanguageChange and self._ready:
            self._retranslate()
        super().changeEvent(event)

    # ------------------------------------------------------------------ live display
    def _online(self) -> bool:
        status = self.services.device_status().get(self.target.device_id)
        return bool(status and status.online)

    def _show_value(self, label: QLabel, tag: str, text: str, pv: PointValue | None, online: bool) -> None:
        """Set ``label`` to ``text``; greyed, '?'-marked and struck through unless GOOD and online."""
        good = pv is not None and pv.quality is Quality.GOOD and online
        font = label.font()
        font.setStrikeOut(not good)
        label.setFont(font)
        if good:
            label.setText(text)
            label.setStyleSheet("")
            label.setToolTip(tag)
            return
        label.setText("?" + text)
        label.setStyleSheet(f"color: {self._colours.bad};")
        if not online:
            why = self.tr("device offline")
        elif pv is None:
            why = self.tr("never read")
        else:
            why = pv.reason or self.tr("quality uncertain")
        label.setToolTip(f"{tag}: {why}")

    def _show_status(self, online: bool) -> None:
        t = self.target
        for key, point in (("state", t.readback), ("mode", t.mode), ("trip_cause", t.trip_cause)):
            label = self.status_values[key]
            if point is None:
                label.setText("—")
                continue
            tag = t.tag(point)
            pv = self.services.bridge.value(tag)
            self._show_value(label, tag, format_value(point, None if pv is None else pv.value), pv, online)
        pv = self.services.bridge.value(t.tag(t.readback))
        known = pv is not None and pv.good and pv.value is not None and online
        colour = self._palette.breaker_unknown
        filled = False
        if known:
            filled = pv.value >= 0.5
            colour = self._palette.breaker_closed if filled else self._palette.breaker_open
        fill = colour.name() if filled else "transparent"   # closed filled, open hollow (both conventions)
        self.state_swatch.setStyleSheet(f"background: {fill}; border: 2px solid {colour.name()};")
        self._flag(self.status_values["mode"], t.mode, lambda v: int(v) != 0)
        self._flag(self.status_values["trip_cause"], t.trip_cause, is_protective_trip)
        comm = self.status_values["comm"]
        comm.setText(self.tr("online") if online else self.tr("offline"))
        comm.setStyleSheet("" if online else f"color: {self._colours.offline}; font-weight: bold;")

    def _flag(self, label: QLabel, point: Point | None, abnormal: Callable[[float], bool]) -> None:
        """Colour a good status value that is abnormal (mode not auto, a protection trip)."""
        pv = None if point is None else self.services.bridge.value(self.target.tag(point))
        if pv is not None and pv.good and pv.value is not None and abnormal(pv.value) and self._online():
            label.setStyleSheet(f"color: {self._colours.warning}; font-weight: bold;")

    def refresh(self) -> None:
        """Re-read values and what is possible; enable the commands accordingly."""
        if not self._ready:
            return
        online = self._online()
        self._show_status(online)
        for point in self.target.live_points:
            tag = self._tags[point.name]
            pv = self.services.bridge.value(tag)
            self._show_value(self.live_values[point.name], tag,
                             format_value(point, None if pv is None else pv.value), pv, online)
        self._start_check()
        self._show_refusals()

    def _start_check(self) -> None:
        """Ask the service what is possible on a worker thread (the permission check may read
        the user database); one check at a time, one more if asked meanwhile."""
        if self._checker is not None and self._checker.is_alive():
            self._recheck = True
            return
        self._recheck = False
        control, user, relay = self.control, self.user, self._relay
        commands = {v: Command(self.target.device_id, self.target.command.name, v) for v in (CLOSE, OPEN)}

        def work() -> None:
            try:
                outcome: Any = {v: control.check(user, command) for v, command in commands.items()}
            except Exception as exc:  # shown, and the commands stay disabled
                outcome = exc
            try:
                relay.checked.emit(outcome)
            except RuntimeError:  # the dialog was deleted meanwhile
                pass

        self._checker = threading.Thread(target=work, name="control-check", daemon=True)
        self._checker.start()

    def _on_relay_checked(self, outcome: object) -> None:
        if isinstance(outcome, Exception):
            self._check_error = str(outcome)
            self.checked = False
        else:
            self._check_error = ""
            self.refusals = outcome
            self.checked = True
        if self._ready:
            self._show_refusals()
            if self._recheck:
                self._start_check()

    def _show_refusals(self) -> None:
        """Enable the commands the last check allows, with the reasons for the others."""
        busy = self.selection is not None or self._busy() or not self.checked
        self.close_button.setEnabled(not busy and not self.refusals[CLOSE])
        self.open_button.setEnabled(not busy and not self.refusals[OPEN])
        self.close_button.setToolTip(self._reasons(self.refusals[CLOSE]))
        self.open_button.setToolTip(self._reasons(self.refusals[OPEN]))
        tripped = any(r.code is RefusalCode.TRIPPED for r in self.refusals[CLOSE])
        self.reset_button.setVisible(tripped)
        self.reset_button.setEnabled(tripped and not busy)
        self._show_availability()

    def _reasons(self, refusals: list[Refusal]) -> str:
        area = self._area_name
        return "\n".join(refusal_text(r, area) for r in refusals)

    def _area_name(self, area_id: str) -> str:
        try:
            return self.services.site.area(area_id).name or area_id
        except KeyError:
            return area_id

    def _show_availability(self) -> None:
        """One line on what remote control can do now; the blocking reasons first."""
        if not self.checked:
            text = self._check_error and self.tr("Cannot tell what is possible: {reason}").format(
                reason=self._check_error)
            self.availability.setText(text or self.tr("Checking what is possible…"))
            self.availability.setStyleSheet(f"color: {self._colours.warning if text else self._colours.muted};")
            return
        blocking = [r for v in (CLOSE, OPEN) for r in self.refusals[v] if r.code is not RefusalCode.ALREADY]
        unique: dict[str, Refusal] = {}
        for r in blocking:
            unique.setdefault(refusal_text(r, self._area_name), r)
        if unique and (self.refusals[CLOSE] and self.refusals[OPEN]):
            self.availability.setText(self.tr("Remote control not possible: {reasons}").format(
                reasons=" ".join(unique)))
            self.availability.setStyleSheet(f"color: {self._colours.warning}; font-weight: bold;")
        elif unique:
            self.availability.setText(" ".join(unique))
            self.availability.setStyleSheet(f"color: {self._colours.warning};")
        else:
            self.availability.setText(self.tr("Remote control available."))
            self.availability.setStyleSheet(f"color: {self._colours.muted};")

    def _on_bridge_values_changed(self, batch: dict[str, PointValue]) -> None:
        if not self._watched.isdisjoint(batch):
            self.refresh()

    def _on_timer_timeout(self) -> None:
        self._show_selection()
        if self.selection is not None and not self._busy() and time.time() >= self.selection.expires_at:
            lapsed = self.selection
            self.selection = None
            self._log(self.tr("Selection lapsed after {s} s").format(s=f"{self.control.selection_timeout_s:g}"))
            self._run("cancel", lambda: self.control.cancel(lapsed.id, self.user, "selection lapsed"))
            self._show_selection()
        self.refresh()

    # ------------------------------------------------------------------ steps
    def select(self, value: int) -> None:
        """Step 1 (Close / Open button): ask the service for a selection."""
        command = Command(self.target.device_id, self.target.command.name, value)
        self.result = None
        self.result_label.clear()
        self._run("select", lambda: self.control.select(self.user, command))

    def confirm(self) -> None:
        """Step 2: send the re-entered password."""
        if self.selection is None or self.selection.confirmed:
            return
        selection, password = self.selection, self.password.text()
        self.password.clear()
        self._run("confirm", lambda: self.control.confirm(selection.id, self.user, password))

    def execute(self) -> None:
        """Steps 3-5: write and verify (on the worker thread)."""
        if self.selection is None or not self.selection.confirmed:
            return
        selection = self._operated = self.selection
        self._run("operate", lambda: self.control.operate(selection.id, self.user, selection.command))

    def cancel_selection(self) -> None:
        """Withdraw the current selection."""
        if self.selection is None:
            return
        selection, self.selection = self.selection, None
        self._run("cancel", lambda: self.control.cancel(selection.id, self.user))
        self._show_selection()

    def reset_trip(self) -> None:
        """Reset the trip lockout (the operator has found the cause)."""
        self._run("reset", lambda: self.control.reset_trip(self.user, self.target.device_id))

    def _busy(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    def _run(self, step: str, call: Callable[[], Any]) -> None:
        if self._busy():
            return
        relay = self._relay

        def work() -> None:
            try:
                outcome: Any = call()
            except ControlRefused as refused:
                outcome = refused
            except Exception as exc:  # shown, never a crash of the GUI
                outcome = exc
            relay.finished.emit(step, outcome)

        self._worker = threading.Thread(target=work, name=f"control-{step}", daemon=True)
        self._worker.start()
        self._set_steps_enabled(False)

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Join the step and check worker threads if they run (tests, closing)."""
        for thread in (self._worker, self._checker):
            if thread is not None:
                thread.join(timeout_s)

    def _set_steps_enabled(self, enabled: bool) -> None:
        for button in (self.confirm_button, self.execute_button, self.cancel_selection_button):
            button.setEnabled(enabled)
        enabled = enabled and self.checked and self.selection is None
        self.close_button.setEnabled(enabled and not self.refusals[CLOSE])
        self.open_button.setEnabled(enabled and not self.refusals[OPEN])

    def _on_worker_finished(self, step: str, outcome: object) -> None:
        self._worker = None
        if isinstance(outcome, ControlRefused):
            text = refusal_text(outcome.refusal, self._area_name)
            self._log(self.tr("Refused: {reason}").format(reason=text))
            self._show_result(text, bad=True)
            if step in ("confirm", "operate"):
                self.selection = None
        elif isinstance(outcome, Exception):
            self._log(self.tr("Error: {reason}").format(reason=str(outcome)))
            self._show_result(str(outcome), bad=True)
            self.selection = None
        elif step == "select":
            self.selection = outcome
            self._log(self.tr("Selected: {verb}").format(verb=self._verb(outcome.command.value)))
        elif step == "confirm":
            self.selection = outcome
            self._log(self.tr("Confirmed with password"))
        elif step == "operate":
            self.selection = None
            self._show_operate_result(outcome)
        elif step == "reset":
            cause = QCoreApplication.translate("PointStates", outcome)
            self._log(self.tr("Trip on {cause} reset").format(cause=cause))
        self._set_steps_enabled(True)
        self._show_selection()
        self.refresh()
        self.step_finished.emit(step)

    def _show_operate_result(self, result: ControlResult) -> None:
        self.result = result
        target = self.target
        if result.outcome is Outcome.SUCCESS:
            state = state_label(target.readback, 1 if result.after == target.state_label(1) else 0)
            text = self.tr("Done: {state}, verified by readback in {s} s.").format(
                state=state, s=f"{result.elapsed_s:.1f}")
            self._log(text)
            self._show_result(text, bad=False)
            return
        if result.outcome is Outcome.REFUSED and result.refusal is not None:
            text = self.tr("Refused: {reason}").format(reason=refusal_text(result.refusal, self._area_name))
        elif result.outcome is Outcome.FAILED:
            detail = result.message.split(": ", 1)[-1]
            text = self.tr("The device did not carry out the command: {reason}").format(reason=detail)
        else:
            value = self._operated.command.value if self._operated is not None else CLOSE
            expected = QCoreApplication.translate("PointStates", target.state_label(value))
            text = self.tr("The command was accepted but the position did not become {state} within {s} s.").format(
                state=expected, s=f"{self.control.verify_timeout_s(target):g}")
            if result.trip_cause:
                text += " " + self.tr("The breaker tripped on {cause}.").format(
                    cause=QCoreApplication.translate("PointStates", result.trip_cause))
        self._log(text)
        self._show_result(text, bad=True)

    def _show_result(self, text: str, bad: bool) -> None:
        self.result_label.setText(text)
        colour = self._colours.offline if bad else self._colours.text
        self.result_label.setStyleSheet(f"color: {colour}; font-weight: bold;")

    def _show_selection(self) -> None:
        selection = self.selection
        if selection is None:
            if not self.confirm_box.isHidden():
                self.confirm_box.hide()
                self.adjustSize()
            return
        if self.confirm_box.isHidden():
            self.confirm_box.show()
            self.adjustSize()
        verb = self._verb(selection.command.value)
        name = self.target.device.name or self.target.device_id
        if not self._switch:
            name = f"{name} — {self.target.command.description or self.target.command.name}"
        self.selection_label.setText(self.tr("Selected: {verb} {name}").format(verb=verb, name=name))
        left = max(0.0, selection.expires_at - time.time())
        until = datetime.fromtimestamp(selection.expires_at, self.services.site.tzinfo).strftime("%H:%M:%S")
        self.countdown.setText(self.tr("The selection lapses in {s} s ({until}).").format(
            s=f"{left:.0f}", until=until))
        opening = selection.command.value == OPEN and self.target.node_id is not None  # a topology switch
        self.loads_label.setVisible(opening)
        self.loads.setVisible(opening)
        if opening:
            loads = self.control.deenergised_loads(self.target.device_id)
            self.loads_label.setText(
                self.tr("Opening de-energises these loads:") if loads else self.tr("Opening de-energises no load."))
            names = [n.name or n.id for n in loads]
            if [self.loads.item(i).text() for i in range(self.loads.count())] != names:
                self.loads.clear()
                self.loads.addItems(names)
        busy = self._busy()
        self.password.setEnabled(not selection.confirmed and not busy)
        self.confirm_button.setEnabled(not selection.confirmed and not busy)
        self.execute_button.setEnabled(selection.confirmed and not busy)
        self.cancel_selection_button.setEnabled(not busy)

    def _verb(self, value: int) -> str:
        """The command's word: Close/Open for a switch, Start/Stop for a load's run command."""
        if self._switch:
            return self.tr("Close") if value == CLOSE else self.tr("Open")
        return self.tr("Start") if value == CLOSE else self.tr("Stop")

    def _log(self, text: str) -> None:
        stamp = datetime.now(self.services.site.tzinfo).strftime("%H:%M:%S")
        self.log.addItem(f"{stamp}  {text}")
        self.log.scrollToBottom()

    # ------------------------------------------------------------------ closing
    def done(self, result: int) -> None:  # Qt override
        """Close, withdrawing a selection; not while a step runs (its result must be seen)."""
        if self._busy():
            return
        super().done(result)
        if not self._ready:
            return
        self._ready = False
        self._timer.stop()
        if self.selection is not None:
            selection, self.selection = self.selection, None
            control, user = self.control, self.user
            self._worker = threading.Thread(
                target=lambda: control.cancel(selection.id, user, "control window closed"),
                name="control-cancel", daemon=True)
            self._worker.start()
        self.services.bridge.values_changed.disconnect(self._on_bridge_values_changed)
