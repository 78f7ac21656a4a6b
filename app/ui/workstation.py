"""The operator workstation put together: window, session, lock screen and remote control.

:class:`Workstation` is what :func:`app.ui.app.run_workstation` opens after the login:
the main window with its alarm banner, the :class:`~app.ui.lock_screen.SessionGuard`
(idle lock, emergency control), and the :class:`~app.control.ControlService` that
every breaker command goes through, with the security service's permission check,
password re-check and audit chain. A click on a breaker of a single-line diagram
opens the :class:`~app.ui.control_dialog.ControlDialog` for the session's user; a
user whose role may not control that area gets the dialog read-only with the
reason shown, and the refused attempt is audited (``control.open``, ``denied``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout,
                               QWidget)

from app.collector import Collector
from app.control import ControlRefused, ControlService
from app.security import Permission, PermissionDenied, SecurityService, UserInfo
from app.ui.app import Appearance, attach_alarm_banner, build_services
from app.ui.control_dialog import ControlDialog, refusal_text
from app.ui.lock_screen import SessionGuard
from app.ui.main_window import MainWindow
from app.ui.services import UiSettings

#: Milliseconds a status-bar message about a refused click stays.
STATUS_MESSAGE_MS = 10_000


class EmergencyPicker(QDialog):
    """The list of remotely controllable devices, for emergency control from the lock screen.

    Parameters
    ----------
    control : ControlService
    user : str
        Who passed emergency access (shown in the title).
    parent : QWidget, optional

    Attributes
    ----------
    chosen : str or None
        Device id picked when accepted.
    """

    def __init__(self, control: ControlService, user: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chosen: str | None = None
        self.setWindowTitle(self.tr("Emergency control — {user}").format(user=user))
        intro = QLabel(self.tr("The session stays locked. Choose the device to operate; every step is "
                               "checked and audited for you."), self)
        intro.setWordWrap(True)
        self.devices = QListWidget(self)
        seen: set[str] = set()
        for target in control.targets.values():
            if target.device_id in seen:
                continue
            seen.add(target.device_id)
            item = QListWidgetItem(f"{target.device.name or target.device_id}  ({target.device_id})", self.devices)
            item.setData(Qt.ItemDataRole.UserRole, target.device_id)
        self.devices.itemDoubleClicked.connect(lambda _item: self._on_buttons_accepted())
        buttons = QDialogButtonBox(self)
        self.open_button = buttons.addButton(self.tr("Open control"), QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.devices, 1)
        layout.addWidget(buttons)
        self.resize(420, 480)

    def pick(self, device_id: str) -> None:
        """Select ``device_id`` in the list and accept.

        Raises
        ------
        KeyError
            The device is not in the list (not remotely controllable).
        """
        for row in range(self.devices.count()):
            if self.devices.item(row).data(Qt.ItemDataRole.UserRole) == device_id:
                self.devices.setCurrentRow(row)
                self._on_buttons_accepted()
                return
        raise KeyError(f"{device_id!r} is not a remotely controllable device")

    def _on_buttons_accepted(self) -> None:
        item = self.devices.currentItem()
        if item is None:
            return
        self.chosen = item.data(Qt.ItemDataRole.UserRole)
        self.accept()


class Workstation(QObject):
    """Main window, session guard and control service on a running collector.

    Parameters
    ----------
    collector : Collector
        Started; its acquisition engine writes the commands, its cache reads back, its
        alarm engine is told of each command (so an opening is not annunciated as a trip).
    security : SecurityService
        With the session of the logged-in user.
    settings : UiSettings, optional
    appearance : Appearance, optional
    workstation : str, optional
        Name recorded with every control step; default the audit log's (the host name).
    control_options : dict, optional
        Extra keyword arguments of :class:`ControlService` (timeouts).

    Attributes
    ----------
    window : MainWindow
    guard : SessionGuard
    control : ControlService
    dialog : ControlDialog or None
        The control dialog open now.
    picker : EmergencyPicker or None
        The emergency device list open now.
    """

    def __init__(self, collector: Collector, security: SecurityService, settings: UiSettings | None = None,
                 appearance: Appearance | None = None, *, workstation: str | None = None,
                 control_options: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.collector = collector
        self.security = security
        self.services = build_services(collector, settings)
        self.appearance = appearance or Appearance(self.services.settings)
        self.control = ControlService(
            collector.site, collector.engine, collector.cache,
            permission=security.control_permission, password=security.control_password,
            audit=security.control_audit, note_command=collector.alarms.note_command,
            workstation=workstation or security.audit.workstation, **(control_options or {}))
        self.services.control = self.control
        self.window = MainWindow(self.services, self.appearance)
        self.banner = attach_alarm_banner(self.window, self.appearance)
        self.guard = SessionGuard(self.window, security, emergency=self.open_emergency)
        self.guard.locked_changed.connect(self._on_guard_locked_changed)
        self.dialog: ControlDialog | None = None
        self.picker: EmergencyPicker | None = None
        diagrams = self.window.views.get("diagrams")
        if diagrams is not None:
            diagrams.breaker_clicked.connect(self.open_control)
        devices = self.window.views.get("devices")
        if devices is not None:   # lighting circuits, fans, pumps, AC units: the same path
            devices.control_requested.connect(lambda device_id, point: self.open_control(device_id, point=point))
        self._sync_alarm_user()

    def start(self) -> None:
        """Start the control service and the live values; show the window."""
        self.control.start()
        self.services.bridge.start()
        self.window.resize(1600, 950)
        self.window.show()

    def stop(self) -> None:
        """Close the dialogs (withdrawing a selection), stop watching, log the user out."""
        for dialog in (self.dialog, self.picker):
            if dialog is not None:
                if isinstance(dialog, ControlDialog):
                    dialog.wait_idle()
                dialog.reject()
                if isinstance(dialog, ControlDialog):
                    dialog.wait_idle()
        self.dialog = self.picker = None
        self.guard.detach()
        alarms = self.window.views.get("alarms")
        if alarms is not None:
            alarms.shutdown()
        self.control.stop()
        self.services.bridge.stop()
        self.security.logout()
        self.window.close()

    # ------------------------------------------------------------------ control
    def open_control(self, device_id: str, user: str | None = None, point: str | None = None) -> ControlDialog | None:
        """Open the control dialog on ``device_id`` for ``user`` (default the unlocked session's).

        ``point`` names the telecontrol point (a breaker's ``command``, a pump's
        ``pump1_running``); by default the device's ``command``, else its first
        controllable point.

        A user who may not control the device's area gets the dialog read-only (the
        commands disabled, the reason shown); the attempt is audited as ``control.open``
        ``denied``. Nothing opens while the session is locked (except by
        :meth:`open_emergency`) or for a device that is not remotely controllable (the
        status bar says why).

        Returns
        -------
        ControlDialog or None
        """
        if user is None:
            info = self.security.current_user()
            if info is None:
                return None
            user = info.name
        if point is None:
            points = [p for d, p in self.control.targets if d == device_id]
            point = "command" if "command" in points or not points else points[0]
        try:
            target = self.control.target(device_id, point)
        except ControlRefused as refused:
            self.window.statusBar().showMessage(refusal_text(refused.refusal), STATUS_MESSAGE_MS)
            return None
        try:
            self.security.authorize(Permission.CONTROL, action="control.open", target=device_id,
                                    area=target.device.area, user=user)
        except PermissionDenied:
            pass  # audited; the dialog shows the refusal and offers no command
        if self.dialog is not None:
            self.dialog.wait_idle()
            self.dialog.reject()
        dialog = ControlDialog(self.services, device_id, user, parent=self.window, point=point)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _code, d=dialog: self._on_dialog_finished(d))
        self.dialog = dialog
        dialog.open()
        return dialog

    def open_emergency(self, user: UserInfo) -> EmergencyPicker:
        """The lock screen's emergency hook: the device list, then the control dialog for ``user``.

        ``user`` passed :meth:`SecurityService.emergency_access` (own password, audited).
        """
        picker = EmergencyPicker(self.control, user.name, self.window)
        picker.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        picker.accepted.connect(lambda: self.open_control(picker.chosen, user.name) if picker.chosen else None)
        picker.finished.connect(lambda _code: setattr(self, "picker", None))
        self.picker = picker
        picker.open()
        return picker

    # ------------------------------------------------------------------ internals
    def _on_dialog_finished(self, dialog: ControlDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def _on_guard_locked_changed(self, _locked: bool) -> None:
        self._sync_alarm_user()

    def _sync_alarm_user(self) -> None:
        """The alarm view acts for the unlocked session's user; for nobody while locked."""
        alarms = self.window.views.get("alarms")
        if alarms is not None:
            info = self.security.current_user()
            alarms.set_user(info.name if info is not None else "")
