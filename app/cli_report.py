"""``wattdesk report``: reports from the historian into files.

``wattdesk report alarm-health --from DATE --to DATE --out FILE.pdf|FILE.xlsx [--db URL] [--site FILE]``
writes the ISA-18.2 alarm-system health of the period (see :mod:`app.reports.alarm_health`)
read from the journal of the database ``--db`` (default: the standalone edition's SQLite
file). DATE is ``YYYY-MM-DD`` (the whole day: ``--to`` counts up to the end of that day)
or ``YYYY-MM-DDTHH:MM`` (that minute; ``--to`` excluded), in the site's time zone. The
site file (default: the demo site) gives that zone, the area names and the language.

Exit codes: 0 written, 2 refused (bad dates or file type, site file invalid, database
unreachable, file not writable).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, tzinfo
from pathlib import Path


def _moment(text: str, tz: tzinfo, *, end: bool) -> datetime:
    """``YYYY-MM-DD`` (a day: its start, or with ``end`` the next day's start) or ISO date and time.

    Raises
    ------
    ValueError
        Not a date or date and time; the message quotes the text.
    """
    try:
        if len(text) == 10:
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=tz)
            return day + timedelta(days=1) if end else day
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or date and time (YYYY-MM-DDTHH:MM)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def cmd_alarm_health(args: argparse.Namespace) -> int:
    from app.alarms.health import read_alarm_health
    from app.cli import _load_or_exit
    from app.reports.alarm_health import ReportError, health_report, write_report
    from db.engine import default_url
    from db.historian import Historian, HistorianError
    from resources import DEMO_SITE

    site = _load_or_exit(args.site or DEMO_SITE)
    tz = site.tzinfo
    try:
        start = _moment(args.start, tz, end=False)
        end = _moment(args.end, tz, end=True)
    except ValueError as err:
        return _fail(str(err))
    if not end > start:
        return _fail(f"the period ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    if args.out.suffix.lower() not in (".pdf", ".xlsx"):
        return _fail(f"{args.out}: the report file must end in .pdf or .xlsx")
    historian = Historian(args.db or default_url())
    try:
        health = read_alarm_health(historian.read_events, start.timestamp(), end.timestamp(), tz=tz)
        write_report(health_report(health, site), args.out)
    except (HistorianError, ReportError, ValueError) as err:
        return _fail(str(err))
    finally:
        historian.stop()
    loads = health.areas.values()
    print(f"wattdesk: alarm health {start.isoformat()} .. {end.isoformat()}: {sum(x.raised for x in loads)} "
          f"annunciated alarms in {len(health.areas)} areas, {len(health.chattering)} chattering, "
          f"{len(health.stale)} stale -> {args.out}")
    return 0


def _fail(message: str) -> int:
    print(f"wattdesk: {message}", file=sys.stderr)
    return 2


def register_report_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``report`` and its sub-commands to the ``wattdesk`` parser's sub-parsers."""
    report = sub.add_parser("report", help="reports from the historian into PDF / Excel files")
    kinds = report.add_subparsers(dest="report_command", required=True)
    health = kinds.add_parser("alarm-health", help="ISA-18.2 alarm-system health of a period")
    health.add_argument("--from", dest="start", required=True, metavar="DATE",
                        help="first day (YYYY-MM-DD) or moment (YYYY-MM-DDTHH:MM), site time")
    health.add_argument("--to", dest="end", required=True, metavar="DATE",
                        help="last day, included (YYYY-MM-DD), or moment, excluded (YYYY-MM-DDTHH:MM)")
    health.add_argument("--out", type=Path, required=True, help="FILE.pdf or FILE.xlsx")
    health.add_argument("--db", help="database URL (default: SQLite in the user data dir)")
    health.add_argument("--site", type=Path, default=None,
                        help="site YAML file: time zone, area names, language (default: the demo site)")
    health.set_defaults(func=cmd_alarm_health)
