"""Point cache: latest value, deadband and change detection, fan-out that never blocks acquisition."""

from app.cache import PointCache
from app.points import PointValue, Quality

G, B = Quality.GOOD, Quality.BAD


def pv(tag, value, ts, quality=G, reason=""):
    return PointValue(tag, value, quality, ts, reason)


def test_latest_value_kept_even_inside_deadband():
    cache = PointCache({"d.P": 1.0})
    cache.update([pv("d.P", 10.0, 1.0)])
    cache.update([pv("d.P", 10.4, 2.0)])
    assert cache.get("d.P").value == 10.4
    assert cache.get("d.P").ts == 2.0
    assert cache.get("nope") is None


def test_deadband_passes_on_only_real_changes():
    cache = PointCache({"d.P": 1.0})
    seen = []
    cache.subscribe(seen.extend)
    assert len(cache.update([pv("d.P", 10.0, 1.0)])) == 1          # first reading
    assert cache.update([pv("d.P", 10.9, 2.0)]) == []               # within 1.0 of 10.0
    assert cache.update([pv("d.P", 9.1, 3.0)]) == []                # still within
    assert [v.value for v in cache.update([pv("d.P", 11.2, 4.0)])] == [11.2]  # beyond
    assert [v.value for v in seen] == [10.0, 11.2]


def test_zero_deadband_is_change_detection():
    cache = PointCache()
    assert len(cache.update([pv("d.S", 1.0, 1.0)])) == 1
    assert cache.update([pv("d.S", 1.0, 2.0)]) == []
    assert len(cache.update([pv("d.S", 0.0, 3.0)])) == 1


def test_quality_change_always_passed_on_with_stale_value():
    cache = PointCache({"d.P": 100.0})
    cache.update([pv("d.P", 10.0, 1.0)])
    changed = cache.update([pv("d.P", 10.0, 2.0, B, "timeout after 1.0 s")])
    assert changed and changed[0].quality is B and changed[0].value == 10.0
    back = cache.update([pv("d.P", 10.0, 3.0)])
    assert back and back[0].quality is G


def test_heartbeat_passes_on_a_steady_value():
    cache = PointCache({"d.T": 5.0}, heartbeat_s=60.0)
    cache.update([pv("d.T", 20.0, 0.0)])
    assert cache.update([pv("d.T", 20.0, 59.0)]) == []
    assert len(cache.update([pv("d.T", 20.0, 60.0)])) == 1


def test_late_subscriber_gets_replay_of_cached_values():
    cache = PointCache()
    cache.update([pv("a.x", 1.0, 1.0), pv("b.y", 2.0, 1.0)])
    got = []
    cache.subscribe(got.extend)
    assert {v.tag for v in got} == {"a.x", "b.y"}
    got.clear()
    cache.subscribe(got.extend, replay=False)
    assert got == []


def test_failing_subscriber_never_stops_acquisition_or_others():
    cache = PointCache()
    seen = []

    def broken(values):
        raise RuntimeError("subscriber bug")

    cache.subscribe(broken)
    cache.subscribe(seen.extend)
    cache.update([pv("d.P", 1.0, 1.0)])
    cache.update([pv("d.P", 2.0, 2.0)])
    assert [v.value for v in seen] == [1.0, 2.0]
    assert cache.get("d.P").value == 2.0


def test_unsubscribe_stops_delivery():
    cache = PointCache()
    seen = []
    unsubscribe = cache.subscribe(seen.extend)
    cache.update([pv("d.P", 1.0, 1.0)])
    unsubscribe()
    cache.update([pv("d.P", 2.0, 2.0)])
    assert [v.value for v in seen] == [1.0]
    assert cache.updates == 2 and cache.published == 2
