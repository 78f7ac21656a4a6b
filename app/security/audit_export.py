"""Export audit records to CSV (csv module) and PDF (reportlab, Chinese-capable font).

Text is written verbatim. Two precautions keep it from being interpreted: in CSV a
cell that a spreadsheet would run as a formula (starting ``=``, ``+``, ``-``, ``@``,
tab or carriage return) is prefixed with ``'`` (OWASP "CSV injection"), which
spreadsheets show as the plain text; in PDF every cell is escaped before reportlab's
paragraph markup sees it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from xml.sax.saxutils import escape

from app.pdf_font import register_pdf_font
from app.security.audit import AuditRecord, VerifyReport

#: Columns of both exports.
COLUMNS = ("seq", "time", "user", "workstation", "action", "target", "before", "after", "result", "hash")
#: First characters that make a spreadsheet evaluate a cell.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportError(RuntimeError):
    """The export file cannot be written, or the PDF font is missing; the message says which."""


def _cells(record: AuditRecord, tz: tzinfo) -> list[str]:
    when = datetime.fromtimestamp(record.ts, tz).isoformat(timespec="milliseconds")
    return [str(record.seq), when, record.user, record.workstation, record.action, record.target,
            json.dumps(record.before, ensure_ascii=False, sort_keys=True),
            json.dumps(record.after, ensure_ascii=False, sort_keys=True), record.result, record.hash]


def spreadsheet_safe(text: str) -> str:
    """``text``, prefixed with ``'`` if a spreadsheet would evaluate it as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def write_csv(records: Iterable[AuditRecord], path: Path, tz: tzinfo = UTC) -> int:
    """Write records as UTF-8 CSV (with BOM, so spreadsheets read the Chinese) and return how many.

    Parameters
    ----------
    records : iterable of AuditRecord
    path : Path
    tz : tzinfo
        Time zone of the ``time`` column (ISO 8601 with offset); default UTC.

    Raises
    ------
    ExportError
        The file cannot be written.
    """
    count = 0
    try:
        with path.open("w", newline="", encoding="utf-8-sig") as f:
            writer = csv.writer(f)
            writer.writerow(COLUMNS)
            for record in records:
                writer.writerow([spreadsheet_safe(c) for c in _cells(record, tz)])
                count += 1
    except OSError as err:
        raise ExportError(f"cannot write {path}: {err.strerror or err}") from None
    return count


def write_pdf(records: Sequence[AuditRecord], path: Path, report: VerifyReport, *, title: str = "WattDesk audit log",
              tz: tzinfo = UTC) -> int:
    """Write records as a landscape A4 PDF table, headed by the chain's verification result.

    Parameters
    ----------
    records : sequence of AuditRecord
    path : Path
    report : VerifyReport
        Printed in the heading (records, head number and hash, problems).
    title : str
    tz : tzinfo

    Returns
    -------
    int
        Records written.

    Raises
    ------
    ExportError
        Font file missing (apt ``fonts-wqy-microhei``) or the file cannot be written.
    """
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer

    try:
        font = register_pdf_font()
    except FileNotFoundError as err:
        raise ExportError(str(err)) from None
    body = ParagraphStyle("cell", fontName=font, fontSize=7, leading=8.5, wordWrap="CJK")
    head = ParagraphStyle("head", parent=body, fontSize=13, leading=16)

    def para(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    status = "chain intact" if report.ok else f"CHAIN BROKEN: {len(report.problems)} problem(s)"
    story = [para(title, head),
             para(f"Generated {datetime.now(tz).isoformat(timespec='seconds')} — {status} — {report.records} "
                  f"records, head #{report.head_seq} {report.head_hash}")]
    story += [para(f"#{p.seq} {p.kind}: {p.detail}") for p in report.problems]
    story.append(Spacer(1, 4 * mm))
    widths = [10, 30, 24, 22, 24, 40, 40, 40, 14, 25]
    rows = [[para(c) for c in COLUMNS]] + [[para(c) for c in _cells(r, tz)] for r in records]
    table = LongTable(rows, colWidths=[w * mm for w in widths], repeatRows=1, splitInRow=1)
    table.setStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                    ("VALIGN", (0, 0), (-1, -1), "TOP")])
    story.append(table)
    try:
        SimpleDocTemplate(str(path), pagesize=landscape(A4), leftMargin=8 * mm, rightMargin=8 * mm,
                          topMargin=10 * mm, bottomMargin=10 * mm, title=title).build(story)
    except OSError as err:
        raise ExportError(f"cannot write {path}: {err.strerror or err}") from None
    return len(records)
