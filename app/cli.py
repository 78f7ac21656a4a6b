"""The ``wattdesk`` command: the composition root of every edition.

Sub-commands
------------
demo      the demo plant (simulated Modbus TCP devices on 127.0.0.1) polled into SQLite,
          shown on the operator workstation (``--headless``: status lines only)
wall      the wall display (full screen, read-only, rotating views, no login) on the demo plant or a site
gui       the operator workstation on a site file and a database URL (login first)
collect   headless collector: acquisition and historian for a site file and a database URL
check     validate a site file and list every problem
db        database schema management (``wattdesk db upgrade``)
user      user accounts and roles; ``audit`` verify/export the audit log; ``secret`` the secret store
report    reports into PDF / Excel files (``wattdesk report alarm-health``)
discover  BACnet Who-Is / OPC UA browse written as device entries for a site file
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from app.cli_discover import register_discover_commands
from app.cli_report import register_report_commands
from app.cli_security import register_security_commands
from app.config import ConfigError, SiteConfig, load_site

log = logging.getLogger("wattdesk")


def _load_or_exit(path: Path) -> SiteConfig:
    """Load and validate a site file; on any problem print them all and exit 2."""
    try:
        return load_site(path)
    except ConfigError as err:
        print(f"wattdesk: the site configuration has {len(err.problems)} problem(s); "
              "nothing was started:", file=sys.stderr)
        print(str(err), file=sys.stderr)
        raise SystemExit(2) from None


def _stop_event() -> threading.Event:
    """An event set by SIGTERM or SIGINT (Ctrl-C)."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("signal %d received, stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop


def _run_collector(site: SiteConfig, db_url: str, duration_s: float | None) -> int:
    from app.collector import Collector, run_until

    stop = _stop_event()
    collector = Collector(site, db_url)
    collector.start()
    print(f"wattdesk: collecting {len(site.devices)} devices into {db_url}", flush=True)
    try:
        run_until(stop.is_set, collector, duration_s=duration_s)
    finally:
        collector.stop()
        print("wattdesk: stopped; " + collector.status().line(), flush=True)
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    site = _load_or_exit(args.site)
    return _run_collector(site, args.db, args.duration)


def cmd_check(args: argparse.Namespace) -> int:
    site = _load_or_exit(args.site)
    points = sum(1 for _ in site.iter_points())
    print(f"{args.site}: ok — {len(site.devices)} devices, {points} points, "
          f"{len(site.topology)} topology nodes")
    return 0


def _positive_seconds(text: str) -> float:
    """argparse type: a number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0 seconds, got {text}")
    return value


def _require_display() -> None:
    """Exit 2 with advice when Qt would find no screen (Linux without X11/Wayland)."""
    if (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        print("wattdesk: no display (DISPLAY/WAYLAND_DISPLAY unset); use --headless for status lines, "
              "or run under a desktop or Xvfb", file=sys.stderr)
        raise SystemExit(2)


def _gui_db_url(db_url: str) -> str:
    """``db_url`` with its PostgreSQL password from the secret store (when it names a user)."""
    from app.security.secrets import SecretError, open_secret_store, with_db_password

    if not db_url.startswith("postgresql"):
        return db_url
    try:
        store = open_secret_store()
    except SecretError:
        store = None  # no keyring here: trust or peer authentication
    return with_db_password(db_url, store)


def _run_gui(site: SiteConfig, db_url: str, wall: bool, cycle_s: float | None = None) -> int:
    """Collector plus the workstation (login first) or the wall display (no login, read-only)
    until the window is closed. The schema is upgraded before anything else."""
    from app.collector import Collector
    from app.security import SecurityService
    from app.security.secrets import SecretError
    from app.ui.app import run_workstation
    from app.ui.services import UiSettings
    from db.migrate import upgrade

    settings = UiSettings() if cycle_s is None else UiSettings(wall_cycle_s=cycle_s)
    try:
        db_url = _gui_db_url(db_url)
    except SecretError as err:
        print(f"wattdesk: {err}", file=sys.stderr)
        return 2
    upgrade(db_url)
    security = None if wall else SecurityService.open(db_url, workstation=socket.gethostname())
    collector = Collector(site, db_url,
                          alarm_permission=None if security is None else security.alarm_permission,
                          alarm_query=None if security is None else security.alarm_may)
    collector.start()
    try:
        return run_workstation(collector, settings, wall=wall, security=security)
    finally:
        collector.stop()


def cmd_demo(args: argparse.Namespace) -> int:
    from db.engine import default_url
    from drivers.sim.plant import PlantProcess
    from resources import DEMO_SITE

    site = _load_or_exit(DEMO_SITE)
    db_url = args.db or default_url()
    if not args.headless:
        _require_display()
    plant = PlantProcess(base_port=args.base_port)
    plant.start()
    try:
        site = plant.site_config(site)
        print(f"wattdesk: demo plant up — {len(site.devices)} simulated devices (Modbus TCP, BACnet/IP, OPC UA, DL/T 645, MQTT) "
              "on 127.0.0.1", flush=True)
        if args.headless:
            return _run_collector(site, db_url, args.duration)
        return _run_gui(site, db_url, wall=False)
    finally:
        plant.stop()


def cmd_wall(args: argparse.Namespace) -> int:
    from db.engine import default_url

    db_url = args.db or default_url()
    _require_display()
    if args.site is not None:
        return _run_gui(_load_or_exit(args.site), db_url, wall=True, cycle_s=args.cycle)
    from drivers.sim.plant import PlantProcess
    from resources import DEMO_SITE

    site = _load_or_exit(DEMO_SITE)
    plant = PlantProcess(base_port=args.base_port)
    plant.start()
    try:
        return _run_gui(plant.site_config(site), db_url, wall=True, cycle_s=args.cycle)
    finally:
        plant.stop()


def cmd_gui(args: argparse.Namespace) -> int:
    from db.engine import default_url

    site = _load_or_exit(args.site)
    _require_display()
    return _run_gui(site, args.db or default_url(), wall=False)


def cmd_db(args: argparse.Namespace) -> int:
    from db.engine import default_url
    from db.migrate import upgrade

    url = args.db or default_url()
    upgrade(url)
    print(f"wattdesk: database schema up to date: {url}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wattdesk", description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="start the demo plant and poll it into the historian")
    demo.add_argument("--headless", action="store_true",
                      help="no window: print status lines (for machines with no screen)")
    demo.add_argument("--db", help="database URL (default: SQLite in the user data dir)")
    demo.add_argument("--base-port", type=int, default=None,
                      help="move the simulated devices to ports from this one on")
    demo.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    demo.set_defaults(func=cmd_demo)

    wall = sub.add_parser("wall", help="wall display: full screen, read-only, rotating views")
    wall.add_argument("--site", type=Path, default=None,
                      help="site YAML file to collect from (default: the demo plant)")
    wall.add_argument("--db", help="database URL (default: SQLite in the user data dir)")
    wall.add_argument("--cycle", type=_positive_seconds, default=None, help="seconds per view (default 20)")
    wall.add_argument("--base-port", type=int, default=None,
                      help="demo plant only: move the simulated devices to ports from this one on")
    wall.set_defaults(func=cmd_wall)

    gui = sub.add_parser("gui", help="operator workstation on a site (login, control, alarms)")
    gui.add_argument("--site", type=Path, required=True, help="site YAML file")
    gui.add_argument("--db", help="database URL (default: SQLite in the user data dir)")
    gui.set_defaults(func=cmd_gui)

    collect = sub.add_parser("collect", help="headless collector: acquisition and historian")
    collect.add_argument("--site", type=Path, required=True, help="site YAML file")
    collect.add_argument("--db", required=True, help="database URL (sqlite:///… or postgresql+psycopg://…)")
    collect.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    collect.set_defaults(func=cmd_collect)

    check = sub.add_parser("check", help="validate a site file")
    check.add_argument("--site", type=Path, required=True)
    check.set_defaults(func=cmd_check)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="bring the schema up to date (Alembic)")
    up.add_argument("--db", help="database URL (default: SQLite in the user data dir)")
    up.set_defaults(func=cmd_db)
    register_security_commands(sub)
    register_report_commands(sub)
    register_discover_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
