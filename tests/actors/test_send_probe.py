"""The send probe: notes the order request's write time at the hook, reports it once the call is over."""

from __future__ import annotations

import time

from actors.observer import Observer
from actors.send_probe import SendProbe


class Told(Observer):
    def __init__(self) -> None:
        self.sent: list[tuple[str, int, int]] = []
        self.stages: list[tuple[str, int, tuple[int, ...], int]] = []

    def order_sent(self, kind: str, origin_ns: int, sent_ns: int) -> None:
        self.sent.append((kind, origin_ns, sent_ns))

    def order_stages(self, kind: str, origin_ns: int, hops: tuple[int, ...], sent_ns: int) -> None:
        self.stages.append((kind, origin_ns, hops, sent_ns))


def test_the_first_order_write_is_timed_at_the_hook_and_reported_after_the_call() -> None:
    told = Told()
    probe = SendProbe(told)
    probe.arm(5, "place", (6, 7))
    probe("GET", "/api/v3/order")  # a query is not the order's send
    probe("POST", "/api/v3/account")  # nor another path
    before = time.perf_counter_ns()
    probe("POST", "/api/v3/order")
    after = time.perf_counter_ns()
    probe("POST", "/api/v3/order")  # a resend (429, -1021) is not the decision's first write
    assert told.sent == []  # nothing is reported before the write: the observer never delays it
    probe.disarm()
    assert len(told.sent) == 1 and told.sent[0][:2] == ("place", 5)
    assert before <= told.sent[0][2] <= after
    assert told.stages == [("place", 5, (6, 7), told.sent[0][2])]
    probe.disarm()
    assert len(told.sent) == 1  # reported once


def test_no_report_without_an_origin_or_without_a_write() -> None:
    told = Told()
    probe = SendProbe(told)
    probe.arm(0, "cancel")  # not caused by a market-data frame
    probe("DELETE", "/fapi/v1/order")
    probe.disarm()
    probe.arm(9, "cancel")  # the connection failed: no write, no hook
    probe.disarm()
    probe("DELETE", "/fapi/v1/order")  # disarmed
    probe.disarm()
    assert told.sent == [] and told.stages == []
