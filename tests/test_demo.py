"""`wattdesk demo --headless` end to end: the demo plant polled into its SQLite historian."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from app.config import load_site
from app.points import Quality
from resources import DEMO_SITE

REPO = Path(__file__).resolve().parents[1]


def test_demo_headless_stores_good_samples_for_every_demo_point(tmp_path):
    db = tmp_path / "demo.sqlite3"
    proc = subprocess.run(
        [sys.executable, "main.py", "demo", "--headless", "--db", f"sqlite:///{db}",
         "--base-port", "25100", "--duration", "25"],
        cwd=REPO, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "demo plant up" in proc.stdout and "stopped" in proc.stdout
    site = load_site(DEMO_SITE)
    expected = set(site.tags())
    with sqlite3.connect(db) as con:
        good = {tag for (tag,) in con.execute(
            "SELECT DISTINCT p.tag FROM samples s JOIN points p ON p.id = s.point_id "
            "WHERE s.quality = ?", (int(Quality.GOOD),))}
        hv_power = con.execute(
            "SELECT s.value FROM samples s JOIN points p ON p.id = s.point_id "
            "WHERE p.tag = 'HV_M.P' AND s.quality = 0 ORDER BY s.ts DESC LIMIT 1").fetchone()[0]
    assert len(expected) > 500
    assert expected - good == set()
    assert hv_power > 10.0   # the plant draws real power through the 10 kV line
