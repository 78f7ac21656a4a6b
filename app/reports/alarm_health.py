"""The alarm-system health report (ISA-18.2): the Health tab's figures as a PDF or an Excel file.

:func:`health_sections` lays the figures of an :class:`~app.alarms.health.AlarmHealth`
out as titled tables in the site's language; :func:`write_pdf` (reportlab, CJK font of
:mod:`app.pdf_font`) and :func:`write_xlsx` (openpyxl, one sheet per table, numbers as
numbers) write the same sections, so both files always say the same. Figures off their
ISA-18.2 target carry a rating word, and are coloured (colour only for abnormality).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from app.alarms.health import BENCHMARKS, AlarmHealth, Rating, area_rating, rate
from app.alarms.messages import fill
from app.config import SiteConfig
from app.pdf_font import register_pdf_font

Cell = str | int | float

#: Chinese words of the report's English texts (``%1`` ... placeholders as in the UI).
ZH_CN: dict[str, str] = {
    "Alarm-system health": "报警系统健康报告",
    "Site %1, period %2 – %3 (%4), generated %5": "站点 %1，时段 %2 – %3（%4），生成于 %5",
    "%1 alarms annunciated, %2 raises in all; %3 chattering, %4 stale; the 10 most frequent alarms make %5 % of "
    "the raises.": "报警提示 %1 条，触发共 %2 次；振荡报警 %3 个，长期报警 %4 个；最频繁的 10 个报警占触发次数的 %5 %。",
    "ISA-18.2 targets per operator area: %1 alarms a day acceptable, %2 at most; %3 per 10 minutes acceptable, %4 "
    "at most; never more than %5 in 10 minutes; flood time under %6 %; no chattering alarm; fewer than %7 stale "
    "alarms.": "ISA-18.2 目标（每个操作区域）：每天 %1 条可接受，最多 %2 条；每 10 分钟 %3 条可接受，最多 %4 条；"
               "任何 10 分钟内不超过 %5 条；报警泛滥时间低于 %6 %；无振荡报警；长期报警少于 %7 个。",
    "Alarm load per area": "各区域报警负荷", "Alarms per area per day": "各区域每日报警数",
    "Top 10 most frequent alarms": "最频繁的 10 个报警",
    "Chattering alarms (3 or more raises within 60 s)": "振荡报警（60 秒内触发 3 次及以上）",
    "Stale alarms (active for more than 24 h)": "长期报警（持续超过 24 小时）",
    "Area": "区域", "Alarms": "报警数", "Per 10 min, mean": "每 10 分钟（平均）", "Per 10 min, busiest": "每 10 分钟（最多）",
    "Per day, mean": "每天（平均）", "Busiest day": "单日最多", "Flood time %": "报警泛滥时间 %", "Rating": "评价",
    "Day": "日期", "Alarm id": "报警标识", "Message": "报警信息", "Raises": "触发次数", "Share of load %": "占报警负荷 %",
    "Raises within 60 s": "60 秒内触发次数", "Raised": "发生时间", "Active for (h)": "持续时间（小时）",
    "Within target": "在目标之内", "Above target, manageable": "超出目标，尚可处理",
    "Over what an operator can manage": "超出操作员处理能力", "None in the period.": "本时段内没有。",
}
RATING_TEXT = {Rating.ACCEPTABLE: "Within target", Rating.MANAGEABLE: "Above target, manageable",
               Rating.OVER: "Over what an operator can manage"}
#: Colour of a figure off target (as the Health tab's).
RATING_COLOURS = {Rating.MANAGEABLE: "#b08800", Rating.OVER: "#d05000"}


class ReportError(Exception):
    """The report cannot be written: unknown file type, missing font, unwritable file."""


@dataclass(frozen=True)
class Section:
    """One titled table: header row, rows of cells, and a rating per cell where off target.

    Attributes
    ----------
    title : str
    headers : tuple of str
    rows : list of tuple of Cell
        ``int``/``float`` cells stay numbers in Excel.
    ratings : dict[(row, column), Rating]
        Cells whose figure is off its ISA-18.2 target.
    """

    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    ratings: dict[tuple[int, int], Rating] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthReport:
    """Everything a health report says: heading lines and sections, in one language."""

    title: str
    lines: tuple[str, ...]
    sections: tuple[Section, ...]
    empty_text: str


def _translator(language: str):
    table = ZH_CN if language == "zh_CN" else {}
    return lambda text: table.get(text, text)


def health_report(health: AlarmHealth, site: SiteConfig, *, generated: datetime | None = None) -> HealthReport:
    """The report of ``health`` for ``site``, in the site's language and time zone.

    Parameters
    ----------
    health : AlarmHealth
    site : SiteConfig
        Name, area names, ``language``, ``tzinfo``.
    generated : datetime, optional
        When the report was made (default now).
    """
    t = _translator(site.language)
    tz = site.tzinfo
    areas = {a.id: a.name or a.id for root in site.areas for a in root.walk()}
    stamp = "%Y-%m-%d %H:%M"
    generated = generated or datetime.now(tz)
    loads = list(health.areas.values())
    b = BENCHMARKS
    lines = (
        fill(t("Site %1, period %2 – %3 (%4), generated %5"), site.name,
             datetime.fromtimestamp(health.start, tz).strftime(stamp),
             datetime.fromtimestamp(health.end, tz).strftime(stamp),
             site.timezone, generated.astimezone(tz).strftime(stamp)),
        fill(t("%1 alarms annunciated, %2 raises in all; %3 chattering, %4 stale; the 10 most frequent alarms make "
               "%5 % of the raises."), sum(x.raised for x in loads), health.raises, len(health.chattering),
             len(health.stale), f"{health.top_share_pct:.0f}"),
        fill(t("ISA-18.2 targets per operator area: %1 alarms a day acceptable, %2 at most; %3 per 10 minutes "
               "acceptable, %4 at most; never more than %5 in 10 minutes; flood time under %6 %; no chattering alarm; "
               "fewer than %7 stale alarms."), f"{b['per_day'].acceptable:g}", f"{b['per_day'].manageable:g}",
             f"{b['per_10min'].acceptable:g}", f"{b['per_10min'].manageable:g}", f"{b['per_10min_max'].manageable:g}",
             f"{b['flood_time_pct'].acceptable:g}", f"{b['stale'].manageable + 1:g}"),
    )

    load_rows: list[tuple[Cell, ...]] = []
    load_ratings: dict[tuple[int, int], Rating] = {}
    for r, load in enumerate(loads):
        figures = ((2, "per_10min", load.per_10min_mean), (3, "per_10min_max", load.per_10min_max),
                   (4, "per_day", load.per_day_mean), (5, "per_day", load.per_day_max),
                   (6, "flood_time_pct", load.flood_time_pct))
        for col, figure, value in figures:
            if (rating := rate(figure, value)) is not Rating.ACCEPTABLE:
                load_ratings[(r, col)] = rating
        overall = area_rating(load)
        if overall is not Rating.ACCEPTABLE:
            load_ratings[(r, 7)] = overall
        load_rows.append((areas.get(load.area, load.area), load.raised, round(load.per_10min_mean, 3),
                          load.per_10min_max, round(load.per_day_mean, 1), load.per_day_max,
                          round(load.flood_time_pct, 2), t(RATING_TEXT[overall])))

    first = datetime.fromtimestamp(health.start, tz).date()
    last = datetime.fromtimestamp(health.end - 1e-3, tz).date()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    per_day_rows: list[tuple[Cell, ...]] = [
        (day.isoformat(), *(load.per_day.get(day, 0) for load in loads)) for day in days] if loads else []
    per_day_ratings = {(r, c + 1): rating for r, day in enumerate(days) for c, load in enumerate(loads)
                       if (rating := rate("per_day", load.per_day.get(day, 0))) is not Rating.ACCEPTABLE}

    total = health.raises
    top_rows: list[tuple[Cell, ...]] = [
        (c.message, areas.get(c.area, c.area), c.count, round(100.0 * c.count / total, 1) if total else 0.0, c.alarm_id)
        for c in health.top]
    chatter_rows: list[tuple[Cell, ...]] = [(c.message, areas.get(c.area, c.area), c.count, c.alarm_id)
                                            for c in health.chattering]
    stale_rows: list[tuple[Cell, ...]] = [
        (s.message, areas.get(s.area, s.area), datetime.fromtimestamp(s.raised_ts, tz).strftime(stamp),
         round(s.active_s / 3600.0, 1), s.alarm_id) for s in health.stale]
    stale_rating = rate("stale", len(health.stale))
    sections = (
        Section(t("Alarm load per area"), tuple(t(h) for h in (
            "Area", "Alarms", "Per 10 min, mean", "Per 10 min, busiest", "Per day, mean", "Busiest day",
            "Flood time %", "Rating")), load_rows, load_ratings),
        Section(t("Alarms per area per day"), (t("Day"), *(areas.get(x.area, x.area) for x in loads)),
                per_day_rows, per_day_ratings),
        Section(t("Top 10 most frequent alarms"), tuple(t(h) for h in (
            "Message", "Area", "Raises", "Share of load %", "Alarm id")), top_rows),
        Section(t("Chattering alarms (3 or more raises within 60 s)"), tuple(t(h) for h in (
            "Message", "Area", "Raises within 60 s", "Alarm id")), chatter_rows,
            {(r, 2): Rating.OVER for r in range(len(chatter_rows))}),
        Section(t("Stale alarms (active for more than 24 h)"), tuple(t(h) for h in (
            "Message", "Area", "Raised", "Active for (h)", "Alarm id")), stale_rows,
            {} if stale_rating is Rating.ACCEPTABLE else {(r, 3): stale_rating for r in range(len(stale_rows))}),
    )
    return HealthReport(t("Alarm-system health"), lines, sections, t("None in the period."))


def _text(cell: Cell) -> str:
    return f"{cell:g}" if isinstance(cell, float) else str(cell)


def write_pdf(report: HealthReport, path: Path) -> None:
    """Write ``report`` as an A4 landscape PDF.

    Raises
    ------
    ReportError
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
        raise ReportError(str(err)) from None
    body = ParagraphStyle("cell", fontName=font, fontSize=8, leading=10, wordWrap="CJK")
    head = ParagraphStyle("head", parent=body, fontSize=15, leading=19)
    sub = ParagraphStyle("sub", parent=body, fontSize=11, leading=14, spaceBefore=4)

    def para(text: str, style: ParagraphStyle = body, colour: str | None = None) -> Paragraph:
        text = escape(text)
        return Paragraph(f'<font color="{colour}">{text}</font>' if colour else text, style)

    story = [para(report.title, head)] + [para(line) for line in report.lines]
    for section in report.sections:
        story += [Spacer(1, 4 * mm), para(section.title, sub)]
        if not section.rows:
            story.append(para(report.empty_text))
            continue
        rows = [[para(h) for h in section.headers]]
        rows += [[para(_text(cell), colour=RATING_COLOURS.get(section.ratings.get((r, c))))
                  for c, cell in enumerate(row)] for r, row in enumerate(section.rows)]
        table = LongTable(rows, repeatRows=1, hAlign="LEFT")
        table.setStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                        ("VALIGN", (0, 0), (-1, -1), "TOP")])
        story.append(table)
    try:
        SimpleDocTemplate(str(path), pagesize=landscape(A4), leftMargin=10 * mm, rightMargin=10 * mm,
                          topMargin=10 * mm, bottomMargin=10 * mm, title=report.title).build(story)
    except OSError as err:
        raise ReportError(f"cannot write {path}: {err.strerror or err}") from None


def write_xlsx(report: HealthReport, path: Path) -> None:
    """Write ``report`` as an Excel workbook: the heading and each section on its own sheet,
    figures as numbers, off-target figures in bold colour.

    Raises
    ------
    ReportError
        The file cannot be written.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    first = book.active
    first.title = _sheet_name(report.title)
    first.append([report.title])
    first["A1"].font = Font(bold=True, size=14)
    for line in report.lines:
        first.append([line])
    for section in report.sections:
        sheet = book.create_sheet(_sheet_name(section.title))
        sheet.append([section.title])
        sheet["A1"].font = Font(bold=True)
        sheet.append(list(section.headers))
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for r, row in enumerate(section.rows):
            sheet.append(list(row))
            for c in range(len(row)):
                rating = section.ratings.get((r, c))
                if rating is not None:
                    colour = "FF" + RATING_COLOURS[rating][1:].upper()       # ARGB
                    sheet.cell(row=r + 3, column=c + 1).font = Font(bold=True, color=colour)
        if not section.rows:
            sheet.append([report.empty_text])
        for c, header in enumerate(section.headers, start=1):
            width = max([len(str(header))] + [len(_text(row[c - 1])) for row in section.rows]) + 2
            sheet.column_dimensions[get_column_letter(c)].width = min(max(width, 8), 60)
    try:
        book.save(path)
    except OSError as err:
        raise ReportError(f"cannot write {path}: {err.strerror or err}") from None


def _sheet_name(title: str) -> str:
    """An Excel sheet name (<= 31 characters, none of ``[]:*?/\\``)."""
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    return title.split("（")[0].split(" (")[0][:31]


def write_report(report: HealthReport, path: Path) -> None:
    """Write ``report`` as PDF or Excel by ``path``'s suffix (``.pdf`` / ``.xlsx``).

    Raises
    ------
    ReportError
        Any other suffix, or the file cannot be written.
    """
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        write_pdf(report, path)
    elif suffix == ".xlsx":
        write_xlsx(report, path)
    else:
        raise ReportError(f"{path}: report file must end in .pdf or .xlsx, not {suffix or 'nothing'!r}")

