"""REST faults against the simulator: timeouts after accept, 5xx, clock skew, 418 bans, 429 bursts."""

# ruff: noqa: F811  -- pytest fixtures are imported from test_connector_support

from __future__ import annotations

import threading
import time

import pytest
from test_connector_support import connect, ex, market, price_off_market, wait_for  # noqa: F401

from market_maker.core.model import OrderStatus, Side
from market_maker.exchange import errors as e
from market_maker.exchange.binance import BinanceExchange
from market_maker.sim.server import SimConfig, SimServer


def test_timeout_after_accept_is_unknown_and_the_order_is_found_by_client_id(
    ex: BinanceExchange, sim: SimServer
) -> None:
    sim.control.timeout_after_accept_next(1, hold_seconds=0.5)  # answered late with -1007
    price = price_off_market(sim, ex, Side.BUY, "-0.02")
    with pytest.raises(e.UnknownOutcomeError) as info:
        ex.place(Side.BUY, price, 100, "mm1_B1_0")
    assert not isinstance(info.value, e.RejectedError)
    found = ex.get_order("mm1_B1_0")
    assert found is not None and found.status is OrderStatus.NEW and found.price == price


def test_client_side_timeout_is_unknown_too(sim: SimServer, market: str) -> None:
    quick = connect(sim, market, timeout_s=(3.0, 0.3))
    sim.control.timeout_after_accept_next(1, hold_seconds=2.0)  # longer than our read timeout
    with pytest.raises(e.UnknownOutcomeError, match="no answer in time"):
        quick.place(Side.BUY, price_off_market(sim, quick, Side.BUY, "-0.02"), 100, "mm1_B2_0")
    found = quick.get_order("mm1_B2_0")
    assert found is not None and found.status is OrderStatus.NEW


def test_server_error_is_unknown_and_querying_tells_it_did_not_happen(
    ex: BinanceExchange, sim: SimServer
) -> None:
    sim.control.fail_next(1, status=503)
    with pytest.raises(e.UnknownOutcomeError) as info:
        ex.place(Side.BUY, price_off_market(sim, ex, Side.BUY, "-0.02"), 100, "mm1_B3_0")
    assert info.value.http_status == 503
    assert ex.get_order("mm1_B3_0") is None


def test_injected_engine_reject_is_a_definite_reject(ex: BinanceExchange, sim: SimServer) -> None:
    sim.control.reject_next_orders(1)
    with pytest.raises(e.RejectedError) as info:
        ex.place(Side.BUY, price_off_market(sim, ex, Side.BUY, "-0.02"), 100, "mm1_B4_0")
    assert info.value.code == -2010 and not isinstance(info.value, e.PostOnlyRejectedError)


@pytest.mark.parametrize("skew_ms", [3000, -3000])
def test_three_second_clock_skew_is_corrected_by_the_offset(
    sim: SimServer, market: str, skew_ms: int
) -> None:
    ex = connect(sim, market, recv_window_ms=2000)  # 3 s is outside the window either way
    assert abs(ex.time_offset_ms) < 500
    sim.control.skew_clock(skew_ms)
    assert ex.open_orders() == []  # -1021, re-measure, resend: the caller sees success
    assert abs(ex.time_offset_ms - skew_ms) < 500

    fresh = connect(sim, market, recv_window_ms=2000)  # measured at start
    assert abs(fresh.time_offset_ms - skew_ms) < 500
    sent = fresh.rest.sent
    assert fresh.balances()["USDT"].total > 0
    assert fresh.rest.sent == sent + 1  # a signed call accepted at once: no -1021 round trip


def test_a_418_ban_halts_requests_until_it_ends(sim: SimServer, market: str) -> None:
    ex = connect(sim, market)
    sim.control.ban(2)
    with pytest.raises(e.BannedError) as info:
        ex.server_time()
    assert info.value.http_status == 418 and info.value.retry_after_s > 0
    sent = ex.rest.sent
    for call in (ex.server_time, ex.open_orders, ex.balances):
        with pytest.raises(e.BannedError):
            call()
    assert ex.rest.sent == sent  # nothing at all went out during the ban
    assert wait_for(lambda: ex.rest.limiter.banned_for() == 0, timeout_s=10)
    assert ex.server_time() > 0  # the ban is over: requests flow again
    assert ex.rest.sent == sent + 1


@pytest.fixture
def sim_config() -> SimConfig:
    """Low weight limits so that a 500-request burst must cross at least two minute windows."""
    return SimConfig(step_mode=True, spot_weight_limit=200, futures_weight_limit=200)


@pytest.mark.slow
def test_burst_of_500_meets_429s_backs_off_by_retry_after_and_never_gets_418(sim: SimServer) -> None:
    # Limits deliberately unknown (exchangeInfo not read), so only 429 + Retry-After protect us.
    exchanges = {m: connect(sim, m, start=False, max_wait_s=70) for m in ("spot", "usdm")}
    failures: list[BaseException] = []
    done: dict[str, int] = {}

    def burst(market: str) -> None:
        try:
            conn = exchanges[market]
            done[market] = sum(1 for _ in range(500) if conn.server_time() > 0)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=burst, args=(m,)) for m in exchanges]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not failures, failures
    assert done == {"spot": 500, "usdm": 500}
    for conn in exchanges.values():
        assert conn.rest.limiter.stats["rate_limited"] >= 1  # met a 429 ...
        assert conn.rest.limiter.stats["banned"] == 0  # ... and never a 418
    weights = sim.control.weights()
    assert all(ip["bans"] == 0 for venue in ("spot", "futures") for ip in weights[venue]["ips"].values())
    assert time.monotonic() - started < 300
