"""Acquisition engine + point cache + historian, end to end against real pymodbus servers."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.acquisition import AcquisitionEngine
from app.cache import PointCache
from app.config import load_site
from app.points import PointValue, Quality
from drivers.base import Driver
from drivers.modbus.codec import encode
from tests.modbus_peers import SimServer, free_port

REPO = Path(__file__).resolve().parents[1]

SITE = """\
site: {{name: Test plant, timezone: Asia/Shanghai}}
areas: [{{id: A, name: Power room, kind: room}}]
devices:
  - {{id: QF1, name: Feeder 1, area: A, protocol: modbus_tcp, host: 127.0.0.1, port: {live},
      scan_interval_s: 0.2, timeout_s: 0.5, retries: 0, template: iot_breaker}}
  - {{id: QF2, name: Feeder 2 (dead), area: A, protocol: modbus_tcp, host: 127.0.0.1, port: {dead},
      scan_interval_s: 0.2, timeout_s: 0.5, retries: 0, template: iot_breaker}}
"""


class ServerThread:
    """A real pymodbus server for QF1 in its own thread and event loop."""

    def __init__(self, site):
        self.site = site
        self.port = site.device("QF1").port
        self.loop = asyncio.new_event_loop()
        self.server = SimServer(port=self.port)
        self._thread = threading.Thread(target=self.loop.run_forever, name="test-modbus-server")

    def __enter__(self):
        self._thread.start()
        self.call(self.server.start())
        return self

    def call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(5)

    def put(self, point_name, value):
        device = self.site.device("QF1")
        point = {p.name: p for p in device.modbus()[1]}[point_name]
        self.call(self.server.set(point.table, point.address, encode(point, value)))

    def __exit__(self, *exc):
        self.call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


@pytest.fixture
def site(tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text(SITE.format(live=free_port(), dead=free_port()), encoding="utf-8")
    return load_site(path)


def wait_for(predicate, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_engine_scans_into_cache_and_marks_dead_device_bad(site):
    cache = PointCache()
    with ServerThread(site) as server:
        server.put("Ia", 12.5)
        server.put("Ua", 229.0)
        engine = AcquisitionEngine(site.devices, cache)
        engine.start()
        try:
            assert wait_for(lambda: (v := cache.get("QF1.Ia")) is not None and v.value == 12.5)
            assert cache.get("QF1.Ia").quality is Quality.GOOD
            assert wait_for(lambda: (v := cache.get("QF2.Ia")) is not None)
            dead = cache.get("QF2.Ia")
            assert dead.quality is Quality.BAD and dead.value is None and dead.reason
            server.put("Ia", 40.0)
            assert wait_for(lambda: cache.get("QF1.Ia").value == 40.0)
            # the dead device's timeouts do not hold up the live one's 0.2 s scans
            before = engine.status["QF1"].scans
            time.sleep(1.0)
            assert engine.status["QF1"].scans - before >= 3
            assert engine.status["QF1"].online and not engine.status["QF2"].online
        finally:
            engine.stop()
    assert not engine.running


class SlowDriver(Driver):
    """A device whose every scan takes ``read_s`` (the engine's scheduling under test)."""

    def __init__(self, read_s):
        self.read_s = read_s
        self.spans = []   # (start, end) of each read, loop time

    @property
    def online(self):
        return True

    async def read(self):
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.sleep(self.read_s)
        self.spans.append((start, loop.time()))
        return [PointValue("QF1.Ia", float(len(self.spans)), Quality.GOOD, time.time())]

    async def write(self, point, value):
        raise AssertionError("not written")

    async def close(self):
        pass


def test_a_scan_that_overruns_its_interval_is_followed_at_once_and_counted(site):
    # scans of 0.25 s at a 0.2 s interval: waiting for the next slot would idle 0.15 s each time
    slow = SlowDriver(0.25)
    engine = AcquisitionEngine([site.device("QF1")], PointCache(), driver_factory=lambda device: slow)
    engine.start()
    try:
        assert wait_for(lambda: len(slow.spans) >= 5)
    finally:
        engine.stop()
    gaps = [start - end for (_, end), (start, _) in zip(slow.spans, slow.spans[1:])]
    assert max(gaps[:4]) < 0.1, gaps
    assert engine.status["QF1"].overruns >= 4


def test_write_goes_to_the_device(site):
    cache = PointCache()
    with ServerThread(site) as server:
        engine = AcquisitionEngine(site.devices, cache)
        engine.start()
        try:
            engine.write("QF1", "command", 1).result(5)
            device = site.device("QF1")
            command = {p.name: p for p in device.modbus()[1]}["command"]
            assert server.call(server.server.get(command.table, command.address, 1)) == [1]
        finally:
            engine.stop()


def test_collector_commits_good_samples_for_every_point(site, tmp_path):
    from app.collector import GC_YOUNG_THRESHOLD, Collector

    db = tmp_path / "hist.sqlite3"
    collector = Collector(site, f"sqlite:///{db}")
    thresholds = gc.get_threshold()
    with ServerThread(site) as server:
        server.put("P", 7.5)
        collector.start()
        try:
            # while running, the started process is frozen out of the garbage collector
            assert gc.get_freeze_count() > 0 and gc.get_threshold()[0] >= GC_YOUNG_THRESHOLD
            live = [site.device("QF1").tag(p.name) for p in site.device("QF1").points]
            assert wait_for(lambda: all((v := collector.cache.get(t)) and v.good for t in live))
            assert wait_for(lambda: collector.cache.get("QF2.Ia") is not None)
        finally:
            collector.stop()
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds  # and given back at stop
    with sqlite3.connect(db) as con:
        rows = dict(con.execute(
            "SELECT p.tag, min(s.quality) FROM samples s JOIN points p ON p.id = s.point_id "
            "GROUP BY p.tag").fetchall())
    assert set(live) <= set(rows)
    assert all(rows[t] == int(Quality.GOOD) for t in live)
    # the dead device's points are stored too, with bad quality
    assert rows["QF2.Ia"] == int(Quality.BAD)
    assert collector.status().committed >= len(live)


def test_bad_site_file_refuses_to_start_and_lists_every_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SITE.format(live=1502, dead=1503).replace("scan_interval_s: 0.2", "scan_interval_s: -1")
                   .replace("area: A, protocol", "area: NOWHERE, protocol", 1), encoding="utf-8")
    db = tmp_path / "never.sqlite3"
    proc = subprocess.run([sys.executable, "main.py", "collect", "--site", str(bad), "--db", f"sqlite:///{db}"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "nothing was started" in proc.stderr
    assert f"{bad}:4:" in proc.stderr and "NOWHERE" in proc.stderr        # unknown area, its line
    assert proc.stderr.count("scan_interval_s") >= 2                      # both devices reported
    assert not db.exists()


def test_collect_command_flushes_on_sigterm(site, tmp_path):
    db = tmp_path / "collect.sqlite3"
    with ServerThread(site) as server:
        server.put("Ia", 3.25)
        proc = subprocess.Popen(
            [sys.executable, "main.py", "collect", "--site", str(site.source), "--db", f"sqlite:///{db}"],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            assert proc.stdout.readline().startswith("wattdesk: collecting 2 devices")
            time.sleep(2.0)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped" in out
    with sqlite3.connect(db) as con:
        value, quality = con.execute(
            "SELECT s.value, s.quality FROM samples s JOIN points p ON p.id = s.point_id "
            "WHERE p.tag = 'QF1.Ia' ORDER BY s.ts DESC LIMIT 1").fetchone()
    assert value == 3.25 and quality == int(Quality.GOOD)
