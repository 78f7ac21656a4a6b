"""Render every view of the live demo, and the wall display, to PNG.

``python -m app.ui.screenshots OUTDIR [--settle S] [--history S]`` starts the demo plant
(real Modbus TCP servers on free ports of 127.0.0.1) and a collector writing to a
temporary SQLite database, opens the workstation on the current display (Xvfb
``DISPLAY=:99`` or ``QT_QPA_PLATFORM=offscreen``), lets the plant run ``--history``
seconds so the trends have minutes to show, stages an incident (a feeder tripped by
its protection, a breaker switched to manual, a device offline), and saves, for Chinese
and English and for the dark and light themes, ``<view>_<language>_<theme>.png`` of
every installed view — the diagrams once per sheet as ``diagrams-<sheet>_…`` and the
trends with a few pens preselected (:data:`TREND_PENS`) — with an operator shown as
logged in, then ``control-<device>_<language>_dark.png`` of the control dialog for
:data:`CONTROL_SHOTS` (a breaker with an opening selected, the breaker in manual mode,
a pump), then ``wall_<view>_<language>.png`` of each wall display page.
"""

from __future__ import annotations

import argparse
import random
import secrets
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QWidget

from app.collector import Collector
from app.config import load_site
from app.control import ControlService
from app.security import AuthError, Grant, Permission, Role, SecurityService
from app.ui.app import Appearance, build_services, create_application
from app.ui.control_dialog import ControlDialog
from app.ui.services import UiServices, UiSettings
from drivers.sim.plant import DemoPlant
from resources import DEMO_SITE

OFFLINE_IN_SHOTS = "ENV_HV"  #: device taken offline before the shots, to show a lost device
TRIPPED_IN_SHOTS = ("QF1_09", 1)  #: feeder breaker tripped before the shots, and its trip cause (overload)
MANUAL_IN_SHOTS = "QF1_04"  #: breaker switched to manual mode before the shots
#: pens of the trend shots: HV and transformer active power, one feeder's phase currents
TREND_PENS = ("HV_M.P", "T1_M.P", "T2_M.P", "QF2_01.Ia", "QF2_01.Ib", "QF2_01.Ic")
#: diagram sheets shot: the HV overview and the LV panel of the tripped and the manual breaker
DIAGRAM_SHEETS = ("overview", "panel:BUS1")
#: control dialogs shot: (device, telecontrol point, command selected or None)
CONTROL_SHOTS = (("QF1_01", "command", 0), (MANUAL_IN_SHOTS, "command", None), ("PS_PUMP", "pump1_running", None))
SHOT_USER = "zhangwei"  #: the operator shown as logged in


#: accounts of the users view shots (name, full name, role): the operator shown as logged in (whose
#: role is granted manage_users for the shots), the administrator, one operator locked out, one
#: viewer disabled
SHOT_ACCOUNTS = ((SHOT_USER, "张伟", Role.OPERATOR), ("chenjing", "陈静", Role.ADMIN), ("liqiang", "李强", Role.OPERATOR),
                 ("wangfang", "王芳", Role.OPERATOR), ("zhaomin", "赵敏", Role.VIEWER))


def shot_accounts(security: SecurityService) -> None:
    """Accounts for the users view shots (one random password; see :data:`SHOT_ACCOUNTS`), grants
    made by the administrator, then :data:`SHOT_USER` logged in."""
    password = secrets.token_urlsafe(16)
    for name, full_name, role in SHOT_ACCOUNTS:
        security.users.add(name, role, password, full_name=full_name, actor="screenshots")
    security.login("chenjing", password)
    security.grant(Grant(Role.OPERATOR, Permission.MANAGE_USERS))
    security.grant(Grant(Role.OPERATOR, Permission.SHELVE, "HV_ROOM"))
    security.set_disabled("zhaomin", True)
    for _ in range(security.users.lockout_threshold):
        try:
            security.users.authenticate("wangfang", "not-the-password")
        except AuthError:
            pass
    security.login(SHOT_USER, password)


def free_port_block(count: int, attempts: int = 50) -> int:
    """First port of ``count`` consecutive free TCP ports on 127.0.0.1.

    Raises
    ------
    RuntimeError
        No free block found in ``attempts`` tries.
    """
    for _ in range(attempts):
        base = random.randrange(20000, 60000 - count)
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no block of {count} free TCP ports on 127.0.0.1")


def pump(seconds: float, until: Callable[[], bool] | None = None) -> None:
    """Run the Qt event loop for ``seconds`` (or until ``until()`` is true)."""
    app = QApplication.instance()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        if until is not None and until():
            return
        time.sleep(0.02)


def save(widget: QWidget, path: Path) -> Path:
    """Grab ``widget`` to the PNG ``path``.

    Raises
    ------
    OSError
        The image could not be written.
    """
    if not widget.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    return path


def _sheet_file_id(sheet_id: str) -> str:
    """``'panel:BUS1'`` -> ``'panel-BUS1'`` (no colon in file names)."""
    return sheet_id.replace(":", "-")


def stage_incident(plant: DemoPlant, collector: Collector, out=print) -> None:
    """Trip a feeder, switch a breaker to manual and take a device offline; wait until acquired."""
    breaker, cause = TRIPPED_IN_SHOTS
    plant.trigger("trip", breaker, cause=cause)
    plant.set_mode(MANUAL_IN_SHOTS, 1)
    plant.trigger("offline", OFFLINE_IN_SHOTS)  # shows how a lost device looks

    def seen() -> bool:
        state = collector.cache.get(f"{breaker}.state")
        mode = collector.cache.get(f"{MANUAL_IN_SHOTS}.mode")
        return (state is not None and state.value == 0 and mode is not None and mode.value == 1
                and not collector.engine.status[OFFLINE_IN_SHOTS].online)

    pump(20.0, until=seen)
    if not seen():
        out("warning: the staged incident was not fully acquired within 20 s", flush=True)
    pump(2.0)


def prepare_trends(window: QWidget, span_s: float) -> None:
    """Preselect :data:`TREND_PENS` on the trend view and show the last ``span_s`` seconds."""
    view = window.views.get("trends")
    if view is None:
        return
    for tag in TREND_PENS:
        if tag not in view.points():
            view.add_point(tag)
    view.show_last(span_s)
    pump(10.0, until=lambda: not view.loading())


def control_service(collector: Collector) -> ControlService:
    """A control service on the demo plant for the dialog shots: every user may control,
    no password is accepted (nothing is ever operated), the audit goes nowhere."""
    service = ControlService(collector.site, collector.engine, collector.cache,
                             permission=lambda _user, _action, _area: True,
                             password=lambda _user, _password: False,
                             audit=lambda _record: None, workstation="WS-01")
    service.start()
    return service


def shoot_control(services: UiServices, outdir: Path, language: str, out=print) -> list[Path]:
    """Open the control dialog on each of :data:`CONTROL_SHOTS`, select its command, save it."""
    written = []
    for device, point, command in CONTROL_SHOTS:
        dialog = ControlDialog(services, device, SHOT_USER, point=point)
        try:
            dialog.show()
            pump(1.5)
            if command is not None:
                dialog.select(command)
                pump(3.0, until=lambda d=dialog: d.selection is not None)
                pump(0.5)
            written.append(save(dialog, outdir / f"control-{device}_{language}_dark.png"))
            out(written[-1], flush=True)
        finally:
            dialog.cancel_selection()
            dialog.wait_idle()
            dialog.reject()
            dialog.wait_idle()
            dialog.deleteLater()
    return written


def render_all(outdir: Path, settle_s: float = 12.0, history_s: float = 0.0, out=print) -> list[Path]:
    """Start the demo, render every view in both languages and themes and the wall display.

    Parameters
    ----------
    outdir : Path
        Directory for the PNG files (created).
    settle_s : float
        Longest wait, s, for every device to be polled before anything else.
    history_s : float
        Seconds the plant runs before the shots, so the trends show that much history.

    Returns
    -------
    list of Path
        The PNG files written.
    """
    from app.ui.app import attach_alarm_banner
    from app.ui.main_window import MainWindow
    from app.ui.wall import WallWindow

    outdir.mkdir(parents=True, exist_ok=True)
    app = create_application()
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="wattdesk-shots-") as tmp:
        site = load_site(DEMO_SITE)
        span = max(d.port for d in site.devices) - min(d.port for d in site.devices) + 1
        plant = DemoPlant(base_port=free_port_block(span))
        plant.start()
        collector = Collector(plant.site, f"sqlite:///{tmp}/demo.sqlite")
        collector.start()
        settings = UiSettings()
        services = build_services(collector, settings)
        services.control = control = control_service(collector)
        appearance = Appearance(settings)
        appearance.apply()
        services.bridge.start()
        window = MainWindow(services, appearance)
        attach_alarm_banner(window, appearance)
        security = SecurityService.open(collector.db_url, workstation="WS-SHOTS")
        shot_accounts(security)
        window.set_security(security)               # the users view
        try:
            window.resize(1600, 950)
            window.show()
            out(f"waiting up to {settle_s:.0f} s for the demo plant to be polled…", flush=True)
            pump(settle_s, until=lambda: collector.status().devices_online == len(plant.site.devices)
                 and collector.status().committed > 2000)
            if history_s > 0:
                out(f"letting the plant run {history_s:.0f} s for the trends…", flush=True)
                pump(history_s)
            stage_incident(plant, collector, out)
            prepare_trends(window, max(history_s, 60.0) + 30.0)
            overview = window.views.get("overview")
            if overview is not None:
                overview.refresh_energy()
                overview.wait_idle()
            for language in ("zh_CN", "en"):
                appearance.set_language(language)
                window.set_user(SHOT_USER, QCoreApplication.translate("SessionGuard", "operator"))
                for theme in ("dark", "light"):
                    appearance.set_theme(theme)
                    for key in window.views:
                        window.show_view(key)
                        if key == "diagrams":
                            diagrams = window.views[key]
                            for sheet in DIAGRAM_SHEETS:
                                diagrams.show_sheet(sheet)
                                pump(1.0)
                                name = f"{key}-{_sheet_file_id(sheet)}_{language}_{theme}.png"
                                written.append(save(window, outdir / name))
                                out(written[-1], flush=True)
                            continue
                        if key == "trends":
                            pump(5.0, until=lambda: not window.views[key].loading())
                        if key == "devices":
                            tree = window.views[key].tree
                            tree.collapseAll()
                            proxy = window.views[key].proxy
                            for row in range(proxy.rowCount()):
                                if proxy.index(row, 0).data().startswith(OFFLINE_IN_SHOTS):
                                    tree.expand(proxy.index(row, 0))
                                    tree.scrollTo(proxy.index(row, 0), tree.ScrollHint.PositionAtTop)
                        pump(1.0)
                        written.append(save(window, outdir / f"{key}_{language}_{theme}.png"))
                        out(written[-1], flush=True)
            window.hide()
            appearance.set_theme("dark")
            for language in ("zh_CN", "en"):
                appearance.set_language(language)
                written += shoot_control(services, outdir, language, out)
                wall = WallWindow(services, cycle_s=3600)
                wall.resize(1920, 1080)
                wall.show()
                try:
                    for key in wall.pages:
                        pump(1.5)
                        overview = wall.stack.currentWidget()
                        if key == "overview":
                            overview.refresh_energy()
                            overview.wait_idle()
                            pump(0.5)
                        written.append(save(wall, outdir / f"wall_{key}_{language}.png"))
                        out(written[-1], flush=True)
                        wall.next_page()
                finally:
                    wall.close()
                    wall.deleteLater()
        finally:
            control.stop()
            services.bridge.stop()
            window.close()
            window.deleteLater()
            pump(0.2)
            security.users.engine.dispose()
            collector.stop()
            plant.stop()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.ui.screenshots", description=__doc__.split("\n")[0])
    parser.add_argument("outdir", type=Path, help="directory for the PNG files")
    parser.add_argument("--settle", type=float, default=20.0,
                        help="longest wait, seconds, for every device to be polled before the first shot")
    parser.add_argument("--history", type=float, default=180.0,
                        help="seconds the plant runs before the shots, for the trends (default 180)")
    args = parser.parse_args(argv)
    render_all(args.outdir, args.settle, args.history)
    return 0


if __name__ == "__main__":
    sys.exit(main())
