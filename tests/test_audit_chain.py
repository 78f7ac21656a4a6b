"""The audit log's hash chain on real SQLite and PostgreSQL: a hand-edited, inserted or deleted
record is reported by ``wattdesk audit verify``; concurrent appenders keep the chain linear;
storage warning; CSV and PDF export of hostile text, verbatim and never interpreted."""

from __future__ import annotations

import csv
import shutil
import subprocess
import threading

import pytest
import sqlalchemy as sa

from app.security import AuditLog
from app.security.audit_export import write_csv, write_pdf
from db.engine import make_engine
from db.security_schema import audit_head, audit_log, chain_hash
from tests.security_rig import Clock, database, wattdesk

BACKENDS = ["sqlite", "postgresql"]


def fill(log: AuditLog, n: int = 6) -> None:
    for i in range(n):
        log.append(f"user{i}", "alarm.ack", f"TAG{i}:high", before={"state": "unack"}, after={"state": "ack"})


def verify(url: str, capsys) -> tuple[int, str]:
    code = wattdesk("audit", "verify", "--db", url)
    return code, capsys.readouterr().out


@pytest.fixture(params=BACKENDS)
def chain(request, tmp_path):
    with database(request.param, tmp_path) as url:
        engine = make_engine(url)
        log = AuditLog(engine, workstation="ws-1", clock=Clock())
        fill(log)
        yield url, engine, log
        engine.dispose()


def test_an_untouched_chain_verifies(chain, capsys):
    url, _engine, log = chain
    code, out = verify(url, capsys)
    assert code == 0 and "audit log intact: 6 records" in out
    assert [r.seq for r in log.records()] == [1, 2, 3, 4, 5, 6]
    assert log.records()[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in zip(log.records(), log.records()[1:]))


def test_a_hand_edited_record_is_detected(chain, capsys):
    url, engine, _log = chain
    with engine.begin() as conn:
        conn.execute(sa.update(audit_log).where(audit_log.c.seq == 3).values(user="someone-else"))
    code, out = verify(url, capsys)
    assert code == 1 and "record 3: edited" in out and "AUDIT LOG TAMPERED: 1 problem" in out


def test_an_edited_and_rehashed_record_breaks_the_link_of_the_next(chain, capsys):
    url, engine, _log = chain
    with engine.begin() as conn:
        row = conn.execute(sa.select(audit_log).where(audit_log.c.seq == 3)).one()._asdict()
        row["result"] = "ok-forged"
        fields = {k: row[k] for k in ("seq", "ts", "user", "workstation", "action", "target", "before", "after",
                                      "result", "prev_hash")}
        conn.execute(sa.update(audit_log).where(audit_log.c.seq == 3)
                     .values(result="ok-forged", hash=chain_hash(**fields)))
    code, out = verify(url, capsys)
    assert code == 1 and "record 4: link" in out and "record 3" not in out.split("record 4")[0]


def test_a_deleted_record_is_detected(chain, capsys):
    url, engine, _log = chain
    with engine.begin() as conn:
        conn.execute(sa.delete(audit_log).where(audit_log.c.seq == 2))
    code, out = verify(url, capsys)
    assert code == 1 and "record 3: gap" in out and "record 3: link" in out


def test_deleting_the_newest_records_is_detected(chain, capsys):
    url, engine, _log = chain
    with engine.begin() as conn:
        conn.execute(sa.delete(audit_log).where(audit_log.c.seq >= 5))
    code, out = verify(url, capsys)
    assert code == 1 and "record 4: head" in out and "2 newest record(s) deleted" in out


def test_an_inserted_record_is_detected(chain, capsys):
    url, engine, _log = chain
    forged = {"seq": 7, "ts": 1_800_000_000_000, "user": "intruder", "workstation": "ws-1", "action": "login",
              "target": "intruder", "before": "null", "after": "null", "result": "ok", "prev_hash": "0" * 64}
    with engine.begin() as conn:
        conn.execute(audit_log.insert().values(**forged, hash=chain_hash(**forged)))
    code, out = verify(url, capsys)
    assert code == 1 and "record 7: link" in out and "record 7: head" in out


def test_an_inserted_record_renumbered_into_the_middle_is_detected(chain, capsys):
    url, engine, _log = chain
    with engine.begin() as conn:
        rows = conn.execute(sa.select(audit_log).where(audit_log.c.seq >= 4).order_by(audit_log.c.seq.desc())).all()
        for row in rows:                                            # make room at 4
            conn.execute(sa.update(audit_log).where(audit_log.c.seq == row.seq).values(seq=row.seq + 1))
        prev = conn.execute(sa.select(audit_log.c.hash).where(audit_log.c.seq == 3)).scalar_one()
        forged = {"seq": 4, "ts": 1_800_000_000_000, "user": "intruder", "workstation": "ws-1",
                  "action": "control.operate", "target": "QF1_01.command=0", "before": "null", "after": "null",
                  "result": "ok", "prev_hash": prev}
        conn.execute(audit_log.insert().values(**forged, hash=chain_hash(**forged)))
    code, out = verify(url, capsys)
    assert code == 1 and "record 5: edited" in out and "record 5: link" in out


def test_concurrent_appenders_keep_one_linear_chain(chain):
    url, _engine, _log = chain
    engines = [make_engine(url) for _ in range(4)]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            log = AuditLog(engines[i], workstation=f"ws-{i}")
            for j in range(10):
                log.append(f"u{i}", "login", f"{i}-{j}")
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for e in engines:
        e.dispose()
    assert not errors
    report = AuditLog(make_engine(url)).verify()
    assert report.ok and report.records == 46 and report.head_seq == 46


def test_storage_warning_near_the_limit(chain):
    _url, engine, log = chain
    roomy = log.storage(limit_bytes=10**9, min_free_bytes=0)
    assert roomy.records == 6 and roomy.bytes_used > 0 and not roomy.near_limit
    assert log.storage(limit_bytes=roomy.bytes_used, min_free_bytes=0).near_limit
    if engine.dialect.name == "sqlite":
        assert log.storage(limit_bytes=10**9, min_free_bytes=roomy.free_bytes + 1).near_limit


HOSTILE_TEXT = ["=cmd|'/c calc'!A1", "+1+1", "-2", "@SUM(A1)", "<b>not bold</b> &amp; <br/>",
                "'; DROP TABLE audit_log;--", "{0} %s %(x)s", "\u202eRTL\u202c مرحبا 中文", "y" * 5000]


def test_exports_hold_hostile_text_verbatim_and_never_interpreted(tmp_path):
    with database("sqlite", tmp_path) as url:
        engine = make_engine(url)
        log = AuditLog(engine, workstation="ws-<i>")
        for text in HOSTILE_TEXT:
            log.append(text, "setting.change", text, before={"v": text}, after=[text], result="ok")
        records = log.records()
        assert [r.user for r in records] == HOSTILE_TEXT and [r.after for r in records] == [[t] for t in HOSTILE_TEXT]

        path = tmp_path / "audit.csv"
        assert write_csv(records, path) == len(HOSTILE_TEXT)
        rows = list(csv.DictReader(path.open(encoding="utf-8-sig", newline="")))
        users = [r["user"] for r in rows]
        # formulas are neutralised with a leading quote, everything else verbatim
        assert users == ["'" + t if t[0] in "=+-@" else t for t in HOSTILE_TEXT]
        assert rows[4]["target"] == HOSTILE_TEXT[4] and rows[8]["target"] == "y" * 5000
        assert [r["hash"] for r in rows] == [r.hash for r in records]

        pdf = tmp_path / "audit.pdf"
        assert write_pdf(records, pdf, log.verify()) == len(HOSTILE_TEXT)
        assert pdf.read_bytes().startswith(b"%PDF")
        if shutil.which("pdftotext") is None:
            pytest.fail("pdftotext (apt poppler-utils) is needed to check the PDF's text")
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "chain intact" in text and "<b>not bold</b>" in text and "&amp;" in text and "中文" in text
        engine.dispose()


def test_cli_export_writes_csv_and_pdf_and_needs_a_target(tmp_path, capsys):
    with database("sqlite", tmp_path) as url:
        engine = make_engine(url)
        fill(AuditLog(engine))
        assert wattdesk("audit", "export", "--db", url) == 2
        assert "--csv" in capsys.readouterr().err
        assert wattdesk("audit", "export", "--db", url, "--csv", str(tmp_path / "a.csv"),
                        "--pdf", str(tmp_path / "a.pdf")) == 0
        assert len(list(csv.reader((tmp_path / "a.csv").open(encoding="utf-8-sig")))) == 7
        assert (tmp_path / "a.pdf").stat().st_size > 1000
        assert wattdesk("audit", "export", "--db", url, "--csv", str(tmp_path / "no" / "dir.csv")) == 2
        assert "cannot write" in capsys.readouterr().err
        engine.dispose()


def test_head_row_is_kept_in_step(tmp_path):
    with database("sqlite", tmp_path) as url:
        engine = make_engine(url)
        log = AuditLog(engine)
        fill(log, 3)
        with engine.connect() as conn:
            head = conn.execute(sa.select(audit_head)).one()
        assert (head.seq, head.hash) == (3, log.records()[-1].hash)
        engine.dispose()
