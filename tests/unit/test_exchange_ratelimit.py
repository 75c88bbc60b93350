"""The weight-aware limiter, driven by a fake clock (reference §A.4)."""

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market_maker.exchange.errors import BannedError, RateLimitedError
from market_maker.exchange.ratelimit import RateLimiter, WaitStopped, Window, limits_from_exchange_info
from market_maker.exchange.timesync import ServerClock


class FakeClock:
    def __init__(self, now: float = 999_980.0) -> None:  # 20 s into a minute
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def limiter(
    clock: FakeClock, limits: dict[Window, int] | None = None, max_wait_s: float = 120
) -> RateLimiter:
    return RateLimiter(limits, clock=clock, sleep=clock.sleep, max_wait_s=max_wait_s, safety=1.0)


def test_limits_are_read_from_exchange_info() -> None:
    limits = limits_from_exchange_info(
        [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
            {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
        ]
    )
    assert limits == {Window("weight", 60): 6000, Window("orders", 10): 100, Window("orders", 86400): 200000}


def test_used_weight_header_is_read_case_insensitively() -> None:
    clock = FakeClock()
    rl = limiter(clock)
    rl.observe(200, {"x-mbx-used-weight-1m": "37"})
    assert rl.used("weight", 60) == 37
    rl.observe(200, {"X-MBX-USED-WEIGHT-1M": "41", "X-Mbx-Order-Count-10s": "3"})
    assert rl.used("weight", 60) == 41 and rl.used("orders", 10) == 3


def test_a_request_that_would_pass_the_weight_limit_waits_for_the_next_minute() -> None:
    clock = FakeClock()
    rl = limiter(clock, {Window("weight", 60): 100})
    rl.observe(200, {"X-MBX-USED-WEIGHT-1M": "95"})
    rl.acquire(5)  # exactly at the limit: goes
    assert clock.slept == []
    rl.acquire(1)  # over: waits out the 40 s left of this minute
    assert len(clock.slept) == 1 and 40 <= clock.slept[0] < 41
    assert rl.used("weight", 60) == 1


def test_order_counts_limit_only_orders() -> None:
    clock = FakeClock()
    rl = limiter(clock, {Window("orders", 10): 2})
    rl.acquire(1, orders=1)
    rl.acquire(1, orders=1)
    rl.acquire(4)  # a query is not an order
    assert clock.slept == []
    rl.acquire(1, orders=1)
    assert clock.slept and clock.slept[0] <= 10.02


def test_after_429_nothing_is_sent_before_retry_after() -> None:
    clock = FakeClock()
    rl = limiter(clock)
    rl.observe(429, {"Retry-After": "3"})
    rl.acquire(1)
    assert clock.slept == [pytest.approx(3.0)]


def test_a_wait_longer_than_allowed_raises_instead_of_freezing_the_caller() -> None:
    clock = FakeClock()
    rl = limiter(clock, max_wait_s=2)
    rl.observe(429, {"retry-after": "30"})
    with pytest.raises(RateLimitedError) as info:
        rl.acquire(1)
    assert info.value.retry_after_s == pytest.approx(30)
    assert clock.slept == []


def test_during_a_418_ban_nothing_is_sent_until_it_ends() -> None:
    clock = FakeClock()
    rl = limiter(clock)
    rl.observe(418, {"Retry-After": "120"})
    for _ in range(3):
        with pytest.raises(BannedError):
            rl.acquire(1)
        clock.now += 30
    assert rl.banned_for() == pytest.approx(30)
    clock.now += 30
    rl.acquire(1)  # the ban is over
    assert clock.slept == []


class ClockedStop(threading.Event):
    """A stop event whose waits pass on the fake clock (and which a test may set mid-wait)."""

    def __init__(self, clock: FakeClock, set_after_s: float | None = None) -> None:
        super().__init__()
        self.clock = clock
        self.set_after_s = set_after_s
        self.waited: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        if self.set_after_s is not None and timeout >= self.set_after_s:
            self.clock.now += self.set_after_s
            self.set()
            return True
        self.waited.append(timeout)
        self.clock.now += timeout
        return self.is_set()


def test_a_patient_thread_waits_out_a_spent_minute_that_an_actor_may_not() -> None:
    clock = FakeClock()  # 40 s left of the minute
    rl = limiter(clock, {Window("weight", 60): 100}, max_wait_s=10)
    rl.observe(200, {"X-MBX-USED-WEIGHT-1M": "100"})  # an earlier process spent the minute
    with pytest.raises(RateLimitedError):
        rl.acquire(1)
    told: list[tuple[float, str]] = []
    stop = ClockedStop(clock)
    with rl.patient(stop, lambda s, why: told.append((s, why))):
        rl.acquire(1)
    assert len(told) == 1 and 40 <= told[0][0] < 41 and "weight window" in told[0][1]
    assert clock.now >= 1_000_020 and rl.used("weight", 60) == 1  # sent in the next minute, counted
    assert not rl.is_patient() and clock.slept == []
    rl.observe(200, {"X-MBX-USED-WEIGHT-1M": "100"})
    with pytest.raises(RateLimitedError):  # patience ends with the block
        rl.acquire(1)


@pytest.mark.parametrize(
    ("status", "seconds", "why"),
    [
        (418, 120, "the exchange's IP ban (HTTP 418) to end"),
        (429, 35, "the exchange's Retry-After (HTTP 429) to pass"),
    ],
)
def test_a_patient_thread_sends_nothing_before_a_ban_or_retry_after_ends(
    status: int, seconds: int, why: str
) -> None:
    clock = FakeClock()
    rl = limiter(clock, max_wait_s=10)
    rl.observe(status, {"Retry-After": str(seconds)})
    told: list[tuple[float, str]] = []
    with rl.patient(ClockedStop(clock), lambda s, why: told.append((s, why))):
        rl.acquire(1)
    assert clock.now >= 999_980 + seconds  # not a moment before the end
    assert told == [(pytest.approx(seconds), why)]


def test_a_stop_during_a_patient_wait_ends_it_at_once_and_sends_nothing() -> None:
    clock = FakeClock()
    rl = limiter(clock, max_wait_s=10)
    rl.observe(418, {"Retry-After": "600"})
    stop = ClockedStop(clock, set_after_s=2)
    with rl.patient(stop, lambda s, why: None), pytest.raises(WaitStopped, match="418"):
        rl.acquire(1)
    assert clock.now == pytest.approx(999_982) and rl.used("weight", 60) == 0


def test_patience_belongs_to_the_thread_that_asked_for_it() -> None:
    clock = FakeClock()
    rl = limiter(clock, max_wait_s=10)
    rl.observe(429, {"Retry-After": "30"})
    other: list[BaseException] = []

    def actor() -> None:
        try:
            rl.acquire(1)
        except RateLimitedError as exc:
            other.append(exc)

    with rl.patient(ClockedStop(clock), lambda s, why: None):
        t = threading.Thread(target=actor)
        t.start()
        t.join()
        assert rl.is_patient()
    assert len(other) == 1  # the actor thread still gives up instead of freezing


def test_a_placement_waiting_for_the_order_window_gives_up_when_the_bot_stops() -> None:
    clock = FakeClock(1_000_001.0)  # 9 s before the 10-second order window rolls over
    rl = RateLimiter({Window("orders", 10): 5}, clock=clock, safety=1.0, max_wait_s=10)  # real sleeping
    rl.observe(200, {"X-MBX-ORDER-COUNT-10S": "5"})
    out: list[BaseException] = []

    def place() -> None:
        try:
            rl.acquire(1, orders=1)
        except RateLimitedError as exc:
            out.append(exc)

    t = threading.Thread(target=place)
    t.start()
    t.join(0.2)
    assert t.is_alive()  # asleep in the limiter, as the exchange actor's lanes were at a stop
    rl.refuse_orders()
    t.join(8)  # well before the 9 s the window still had to run
    assert not t.is_alive() and "stopping" in str(out[0])
    rl.acquire(1)  # a cancel or a query still goes
    with pytest.raises(RateLimitedError, match="no new orders"):
        rl.acquire(1, orders=1)


@given(st.lists(st.tuples(st.integers(1, 20), st.floats(0, 5)), max_size=60))
def test_never_more_weight_in_a_minute_than_the_limit(requests: list[tuple[int, float]]) -> None:
    clock = FakeClock()
    rl = limiter(clock, {Window("weight", 60): 50})
    sent: dict[int, int] = {}
    for weight, gap in requests:
        clock.now += gap
        rl.acquire(weight)
        minute = int(clock.now // 60)
        sent[minute] = sent.get(minute, 0) + weight
    assert all(v <= 50 for v in sent.values())


def test_server_clock_offset_uses_the_round_trip_midpoint() -> None:
    clock = FakeClock(now=1000.0)

    def fetch() -> int:
        clock.now += 0.2  # 200 ms round trip
        return 1_000_000 + 3_000 + 100  # server is 3 s ahead, answered at the midpoint

    sc = ServerClock(fetch, refresh_s=60, clock=clock)
    assert sc.due()
    assert sc.sync() == 3000
    assert not sc.due()
    assert sc.now_ms() == 1_000_200 + 3000
    clock.now += 61
    assert sc.due()


def test_try_acquire_counts_only_what_may_go_now_and_never_waits() -> None:
    clock = FakeClock()
    rl = limiter(clock, {Window("orders", 10): 2, Window("weight", 60): 100})
    assert rl.try_acquire(1, orders=1) and rl.try_acquire(1, orders=1)
    assert not rl.try_acquire(1, orders=1)  # the order window is spent: acquire would wait
    assert rl.try_acquire(1)  # a cancel (no order count) still goes
    assert rl.used("orders", 10) == 2 and rl.used("weight", 60) == 3
    rl.observe(429, {"Retry-After": "3"})
    assert not rl.try_acquire(1)
    clock.now += 3
    assert rl.try_acquire(1)
    rl.observe(418, {"Retry-After": "60"})
    assert not rl.try_acquire(1)
    clock.now += 60
    assert rl.try_acquire(1)
    rl.refuse_orders()
    assert not rl.try_acquire(1, orders=1) and rl.try_acquire(1)
    assert clock.slept == [] and rl.used("weight", 60) < 100


@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),  # weight
            st.integers(0, 2),  # order count
            st.sampled_from([0.0, 0.4, 3.0, 11.0]),  # seconds before the request
            st.one_of(st.none(), st.integers(0, 12)),  # an answer's X-MBX-ORDER-COUNT-10S before it
        ),
        max_size=40,
    )
)
def test_try_acquire_goes_exactly_when_acquire_would_not_wait_and_counts_the_same(
    steps: list[tuple[int, int, float, int | None]],
) -> None:
    limits = {Window("orders", 10): 4, Window("weight", 60): 9}
    c_try, c_acq = FakeClock(), FakeClock()
    r_try, r_acq = limiter(c_try, limits, max_wait_s=0.0), limiter(c_acq, limits, max_wait_s=0.0)
    for weight, orders, gap, header in steps:
        c_try.now += gap
        c_acq.now += gap
        if header is not None:  # a window the server reports: counted though it has no limit of ours
            for r in (r_try, r_acq):
                r.observe(200, {"X-MBX-ORDER-COUNT-10S": str(header), "X-MBX-USED-WEIGHT-1S": str(header)})
        went = r_try.try_acquire(weight, orders)
        try:
            r_acq.acquire(weight, orders)
            would = True
        except RateLimitedError:
            would = False
        assert went == would
        for kind, seconds in (("orders", 10), ("weight", 60), ("weight", 1)):
            assert r_try.used(kind, seconds) == r_acq.used(kind, seconds)
    assert c_acq.slept == []
