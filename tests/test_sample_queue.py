"""The historian's memory queue: arrival order across submitted lists, partial takes, copies."""

import threading

from app.points import PointValue, Quality
from db.sample_queue import SampleQueue


def pv(i):
    return PointValue(f"d.p{i % 7}", float(i), Quality.GOOD, 1.0 + i)


def test_takes_follow_arrival_order_across_and_within_submitted_lists():
    q = SampleQueue()
    q.extend([pv(0), pv(1), pv(2)])
    q.extend([])
    q.extend([pv(3)])
    q.extend([pv(4), pv(5)])
    assert len(q) == 6
    assert [v.value for v in q.take(2)] == [0.0, 1.0]          # splits the first list
    assert [v.value for v in q.take(3)] == [2.0, 3.0, 4.0]     # across three lists
    assert len(q) == 1
    assert [v.value for v in q.take(10)] == [5.0]
    assert q.take(5) == [] and len(q) == 0


def test_a_list_reused_by_its_submitter_does_not_change_what_was_queued():
    q = SampleQueue()
    batch = [pv(0)]
    q.extend(batch)
    batch[0] = pv(99)
    assert q.take(1)[0].value == 0.0


def test_concurrent_producers_lose_and_duplicate_nothing():
    q = SampleQueue()
    taken = []
    done = threading.Event()

    def produce(base):
        for k in range(500):
            q.extend([pv(base + 2 * k), pv(base + 2 * k + 1)])

    def consume():
        while not done.is_set() or len(q):
            taken.extend(q.take(37))

    consumer = threading.Thread(target=consume)
    consumer.start()
    producers = [threading.Thread(target=produce, args=(n * 10_000,)) for n in range(4)]
    for t in producers:
        t.start()
    for t in producers:
        t.join()
    done.set()
    consumer.join()
    values = [v.value for v in taken]
    assert sorted(values) == sorted(float(n * 10_000 + i) for n in range(4) for i in range(1000))
    for n in range(4):  # each producer's readings come out in the order it submitted them
        mine = [x for x in values if n * 10_000 <= x < (n + 1) * 10_000]
        assert mine == sorted(mine)
