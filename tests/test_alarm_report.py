"""`wattdesk report alarm-health`: the ISA-18.2 health of a period from a real SQLite journal
into a PDF (read back with pdftotext) and an Excel file (read back with openpyxl)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from app.alarms import AlarmEvent, AlarmState, EventKind
from app.cli import main
from db.historian import Historian
from db.migrate import upgrade
from tests.alarm_site import SITE, write_site

SH = ZoneInfo("Asia/Shanghai")
DOOR, SMOKE, TRIP = "IO.door:door_state", "IO.smoke:smoke_state", "QF:trip"


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=SH).timestamp()


@pytest.fixture
def journal(tmp_path):
    """Journal of 2026-03-01 .. 03-03 (Shanghai): the door (R2) chatters 12 times 10 s apart on
    03-02 10:00 with a 30-minute flood in R2; smoke (R1) raised 03-01 08:00 and never cleared;
    a trip (R1) raised and cleared on 03-03 12:00. Written through the historian."""
    url = f"sqlite:///{tmp_path}/journal.sqlite"
    upgrade(url)
    historian = Historian(url, spool_dir=tmp_path / "spool")
    historian.start()

    def event(ts, kind, alarm_id, area, state, priority=2):
        historian.submit_event(AlarmEvent(ts, kind, alarm_id, alarm_id.split(":")[0], area, priority, state,
                                          f"{alarm_id} 报警"))

    t = at("2026-03-02T10:00")
    for i in range(12):
        event(t + 10 * i, EventKind.RAISED, DOOR, "R2", AlarmState.UNACK_ACTIVE, 4)
        event(t + 10 * i + 5, EventKind.CLEARED, DOOR, "R2", AlarmState.UNACK_RTN, 4)
    event(t + 100, EventKind.FLOOD_BEGAN, "", "R2", None, 0)
    event(t + 1900, EventKind.FLOOD_ENDED, "", "R2", None, 0)
    event(at("2026-03-01T08:00"), EventKind.RAISED, SMOKE, "R1", AlarmState.UNACK_ACTIVE, 1)
    event(at("2026-03-03T12:00"), EventKind.RAISED, TRIP, "R1", AlarmState.UNACK_ACTIVE, 1)
    event(at("2026-03-03T12:01"), EventKind.CLEARED, TRIP, "R1", AlarmState.UNACK_RTN, 1)
    historian.stop()
    assert historian.stats().events_committed == 29
    site_file = tmp_path / "site.yaml"
    write_site(tmp_path, SITE.replace("{id: R1, kind: room}", "{id: R1, name: 配电室, kind: room}")
               .replace("{id: R2, kind: room}", "{id: R2, name: 监控室, kind: room}"))
    return url, site_file


def report(journal, out, *period: str) -> int:
    url, site_file = journal
    return main(["report", "alarm-health", "--from", period[0], "--to", period[1], "--out", str(out),
                 "--db", url, "--site", str(site_file)])


def test_excel_report_holds_the_figures_as_numbers(journal, tmp_path, capsys):
    out = tmp_path / "health.xlsx"
    assert report(journal, out, "2026-03-02", "2026-03-03") == 0      # two whole days
    assert "13 annunciated alarms in 2 areas, 1 chattering, 1 stale" in capsys.readouterr().out
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["报警系统健康报告", "各区域报警负荷", "各区域每日报警数", "最频繁的 10 个报警", "振荡报警",
                               "长期报警"]
    head = [row[0] for row in book["报警系统健康报告"].iter_rows(values_only=True)]
    assert head[1].startswith("站点 Alarm test，时段 2026-03-02 00:00 – 2026-03-04 00:00（Asia/Shanghai）")
    assert "报警提示 13 条，触发共 13 次；振荡报警 1 个，长期报警 1 个" in head[2]
    loads = list(book["各区域报警负荷"].iter_rows(min_row=3, values_only=True))
    # area, alarms, per 10 min mean / busiest, per day mean / busiest day, flood %, rating
    assert loads == [("配电室", 1, round(1 / 288, 3), 1, 0.5, 1, 0, "在目标之内"),
                     ("监控室", 12, round(12 / 288, 3), 12, 6.0, 12, round(100 * 1800 / 172800, 2), "超出操作员处理能力")]
    sheet = book["各区域报警负荷"]
    assert sheet.cell(row=4, column=4).font.color.rgb == "FFD05000"   # 12 in 10 min: over the 10 maximum
    assert not sheet.cell(row=3, column=4).font.bold
    days = list(book["各区域每日报警数"].iter_rows(min_row=2, values_only=True))
    assert days == [("日期", "配电室", "监控室"), ("2026-03-02", 0, 12), ("2026-03-03", 1, 0)]
    top = list(book["最频繁的 10 个报警"].iter_rows(min_row=3, values_only=True))
    assert top == [(f"{DOOR} 报警", "监控室", 12, 92.3, DOOR), (f"{TRIP} 报警", "配电室", 1, 7.7, TRIP)]
    assert list(book["振荡报警"].iter_rows(min_row=3, values_only=True)) == [(f"{DOOR} 报警", "监控室", 6, DOOR)]
    stale = list(book["长期报警"].iter_rows(min_row=3, values_only=True))
    assert stale == [(f"{SMOKE} 报警", "配电室", "2026-03-01 08:00", 64.0, SMOKE)]   # 03-01 08:00 .. 03-04 00:00


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (apt poppler-utils) not installed")
def test_pdf_report_reads_back_with_the_same_figures(journal, tmp_path):
    out = tmp_path / "health.pdf"
    assert report(journal, out, "2026-03-02T00:00", "2026-03-03T00:00") == 0     # the first day only
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "报警系统健康报告" in text and "站点 Alarm test" in text
    assert "报警提示 12 条，触发共 12 次；振荡报警 1 个，长期报警 1 个" in text
    lines = [line.split() for line in text.splitlines()]
    r2 = next(words for words in lines if words[:1] == ["监控室"] and len(words) >= 8)
    assert r2[:8] == ["监控室", "12", f"{12 / 144:g}"[:5], "12", "12", "12", f"{100 * 1800 / 86400:.2f}",
                      "超出操作员处理能力"]
    assert any(words[0] == DOOR and words[2:] == ["监控室", "12", "100", DOOR] for words in lines if words)
    assert any(words[0] == SMOKE and words[-2:] == ["40", SMOKE] for words in lines if words)   # 03-01 08:00 .. 03-03


def test_bad_dates_and_file_types_are_refused_with_the_reason(journal, tmp_path, capsys):
    assert report(journal, tmp_path / "h.pdf", "2026-03-03", "2026-03-02") == 2
    assert "before it starts" in capsys.readouterr().err
    assert report(journal, tmp_path / "h.pdf", "3/2/2026", "2026-03-02") == 2
    assert "'3/2/2026' is not a date" in capsys.readouterr().err
    assert report(journal, tmp_path / "h.csv", "2026-03-02", "2026-03-02") == 2
    assert "must end in .pdf or .xlsx" in capsys.readouterr().err
    assert not (tmp_path / "h.pdf").exists()


def test_a_quiet_period_says_so_in_every_section(journal, tmp_path):
    out = tmp_path / "quiet.xlsx"
    assert report(journal, out, "2026-02-01", "2026-02-07") == 0
    book = openpyxl.load_workbook(out)
    for name in book.sheetnames[1:]:
        rows = list(book[name].iter_rows(min_row=3, values_only=True))
        assert len(rows) == 1 and rows[0][0] == "本时段内没有。" and set(rows[0][1:]) <= {None}, name
