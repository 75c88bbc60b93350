"""Order lanes: a decision's cancel and place run at once, one client id's requests stay in order,
and a query waits for every request given before it."""

from __future__ import annotations

import threading
import time

from actors.order_lanes import OrderLanes


def test_two_requests_of_different_orders_run_at_the_same_time() -> None:
    lanes = OrderLanes(2)
    both_running = threading.Barrier(2, timeout=10)  # each job waits for the other: serial would time out
    done: list[str] = []
    for cid in ("bot_B1_1", "bot_B2_2"):
        lanes.submit(cid, lambda cid=cid: (both_running.wait(), done.append(cid)))
    assert lanes.drain(10)
    assert sorted(done) == ["bot_B1_1", "bot_B2_2"]
    lanes.stop()


def test_one_client_ids_requests_keep_their_order_even_when_another_lane_is_free() -> None:
    lanes = OrderLanes(2)
    seen: list[str] = []
    release = threading.Event()
    lanes.submit("bot_B1_1", lambda: (release.wait(10), seen.append("place")))
    lanes.submit("bot_B1_1", lambda: seen.append("cancel"))  # must not overtake the placement
    time.sleep(0.05)
    assert seen == []
    release.set()
    assert lanes.drain(10)
    assert seen == ["place", "cancel"]
    lanes.stop()


def test_drain_waits_for_every_request_given_before_it() -> None:
    lanes = OrderLanes(2)
    seen: list[int] = []
    for i in range(20):
        lanes.submit(f"bot_B{i}_{i}", lambda i=i: (time.sleep(0.005), seen.append(i)))
    assert lanes.drain(30)
    assert sorted(seen) == list(range(20)) and lanes.busy() == 0
    lanes.stop()


def test_a_failing_request_does_not_stop_its_lane_and_stop_finishes_what_was_given() -> None:
    lanes = OrderLanes(1)
    seen: list[str] = []

    def boom() -> None:
        raise RuntimeError("a bug in a request")

    lanes.submit("bot_B1_1", boom)
    lanes.submit("bot_B2_2", lambda: (time.sleep(0.05), seen.append("after")))
    lanes.stop()
    assert seen == ["after"]
