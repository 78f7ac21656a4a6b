"""The Qt bridge coalesces point updates from another thread into batched GUI-thread signals."""

from __future__ import annotations

import threading

from app.cache import PointCache
from app.points import PointValue, Quality
from app.ui.bridge import PointBridge
from tests.ui_services import QT_WARNINGS_FAIL

pytestmark = QT_WARNINGS_FAIL


def test_burst_from_acquisition_thread_arrives_as_one_batch_last_value_wins(qtbot):
    cache = PointCache()
    cache.update([PointValue("d.old", 1.0, Quality.GOOD, 1.0)])
    bridge = PointBridge(cache, interval_ms=50)
    batches = []
    bridge.values_changed.connect(batches.append)
    bridge.start()
    qtbot.waitUntil(lambda: bool(batches), timeout=2000)
    assert set(batches[0]) == {"d.old"}          # replay: a late view is filled at once

    def burst():
        for i in range(1000):
            cache.update([PointValue("d.P", float(i), Quality.GOOD, 2.0 + i)])

    worker = threading.Thread(target=burst)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(batches) >= 2 and batches[-1]["d.P"].value == 999.0, timeout=2000)
    assert len(batches) <= 4                      # 1000 updates, a handful of repaints
    assert batches[-1]["d.P"].value == 999.0
    bridge.stop()
    cache.update([PointValue("d.P", -1.0, Quality.BAD, 9999.0, "timeout")])
    qtbot.wait(150)
    assert batches[-1]["d.P"].value == 999.0      # stopped: nothing more delivered
