"""Price paths, kline replay files, candle aggregation, rate limits and request signing (no sockets)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market_maker.sim.auth import check_signature, check_timestamp, sign, ws_api_payload
from market_maker.sim.candles import CandleBook
from market_maker.sim.config import SimConfig, SimConfigError, SymbolSpec
from market_maker.sim.engine import BinanceError
from market_maker.sim.limits import OrderCounter, WeightLimiter
from market_maker.sim.paths import KlineReplay, PathError, PathPoint, RandomWalk, load_klines

RULES = SymbolSpec().rules()


def walk(seed: int) -> RandomWalk:
    return RandomWalk(10_000_000, 0, seed, 0.5, 3.0, 2.0, 4.0, 0.01, 0.2)


def test_random_walk_is_seeded_and_moves_in_whole_ticks() -> None:
    assert walk(7).advance(100) == [walk(7).step(100)]
    one, two = walk(7), walk(7)
    first = [one.step(100) for _ in range(500)]
    assert first == [two.step(100) for _ in range(500)]
    assert first != [walk(8).step(100) for _ in range(500)]
    assert all(isinstance(p.price, int) and p.price > 0 and p.volume >= 1 for p in first)
    assert [p.time_ms for p in first[:3]] == [100, 200, 300]
    assert len({p.price for p in first}) > 50  # it really moves


def test_random_walk_has_volatile_regimes_and_jumps() -> None:
    w = RandomWalk(10_000_000, 0, 3, 0.5, 3.0, 3600.0, 86_400.0, 0.05, 0.2)  # switch/jump ~every second
    regimes, moves = set(), []
    prev = w.price
    for _ in range(2000):
        p = w.step(1000)
        regimes.add(w.volatile)
        moves.append(abs(p.price - prev) / prev)
        prev = p.price
    assert regimes == {True, False}
    assert max(moves) > 0.02  # a jump, far beyond the ~0.1 % calm one-second move


HEADER = "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote"
CSV = (
    HEADER
    + """,ignore
1700000000000,100.00,110.00,95.00,105.00,8,1700000059999,0,1,0,0,0
1700000060000000,105.00,106.00,90.00,91.00,4.00001,1700000119999999,0,1,0,0,0
"""
)


def test_kline_csv_replay_goes_through_low_and_high_in_candle_order(tmp_path: Path) -> None:
    f = tmp_path / "BTCUSDT-1m.csv"
    f.write_text(CSV)
    candles = load_klines(f, RULES)
    assert candles[1].open_time_ms == 1_700_000_060_000  # microseconds converted
    replay = KlineReplay(candles)
    points = []
    while (p := replay.step()) is not None:
        points.append(p)
    prices = [RULES.ticks_to_price(p.price) for p in points]
    # rising candle: open, low, high, close; falling candle: open, high, low, close
    assert [str(x) for x in prices] == [
        "100.00",
        "95.00",
        "110.00",
        "105.00",
        "105.00",
        "106.00",
        "90.00",
        "91.00",
    ]
    assert sum(p.volume for p in points[:4]) == 800_000 and sum(p.volume for p in points[4:]) == 400_001
    assert [p.time_ms - 1_700_000_000_000 for p in points[:4]] == [0, 15_000, 30_000, 45_000]


def test_kline_json_replay_advances_by_market_time(tmp_path: Path) -> None:
    rows = [
        [60_000 * i, "100.00", "101.00", "99.00", "100.50", "1.0", 60_000 * i + 59_999, "0", 1, "0", "0", "0"]
        for i in range(3)
    ]
    f = tmp_path / "k.json"
    f.write_text(json.dumps(rows))
    replay = KlineReplay(load_klines(f, RULES))
    assert [p.time_ms for p in replay.advance(30_000)] == [0, 15_000, 30_000]
    assert len(replay.advance(600_000)) == 9 and replay.finished


def test_bad_kline_files_name_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("1700000000000,100.00,90.00,95.00,105.00,8,1700000059999,0,1,0,0,0\n")
    with pytest.raises(PathError, match=r"bad\.csv line 1: low/high"):
        load_klines(f, RULES)
    f.write_text("1700000000000,100.001,110.00,95.00,105.00,8,1700000059999,0,1,0,0,0\n")
    with pytest.raises(PathError, match=r"bad\.csv line 1: .*not a multiple of tick"):
        load_klines(f, RULES)
    with pytest.raises(PathError, match=r"missing\.csv"):
        load_klines(tmp_path / "missing.csv", RULES)


def test_candles_aggregate_from_points() -> None:
    book = CandleBook()
    for i, price in enumerate([100, 105, 98, 101, 110, 90]):
        book.add(PathPoint(i * 30_000, price, 2))  # two points per minute
    one_min = book.klines("1m", None, None, 10)
    assert [r[:5] for r in one_min] == [
        [0, 100, 105, 100, 105],
        [60_000, 98, 101, 98, 101],
        [120_000, 110, 110, 90, 90],
    ]
    (three,) = book.klines("3m", None, None, 10)
    assert three[:6] == [0, 100, 110, 90, 90, 12] and three[7] == 6
    assert book.klines("1m", 60_000, None, 1)[0][0] == 60_000
    assert book.current("3m") == three


def test_signature_and_timestamp_rules() -> None:
    secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    qs = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
    body = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    sig = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    assert sign(secret, qs + "&" + body) == sig
    check_signature(secret, qs + "&", body + "&signature=" + sig.upper())  # hex is case-insensitive
    with pytest.raises(BinanceError) as bad:
        check_signature(secret, qs, body + "&signature=" + sig)
    assert bad.value.code == -1022
    check_timestamp({"timestamp": "1000"}, 1999)
    for ts, server, window in (("3000", 1999, "5000"), ("1000", 7001, "5000"), ("1000", 2001, "1000")):
        with pytest.raises(BinanceError) as late:
            check_timestamp({"timestamp": ts, "recvWindow": window}, server)
        assert late.value.code == -1021
    assert ws_api_payload({"timestamp": 1, "apiKey": "k", "signature": "x"}) == "apiKey=k&timestamp=1"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 30), min_size=1, max_size=40))
def test_weight_limiter_429_then_418(weights: list[int]) -> None:
    lim = WeightLimiter(100, 120)
    used, limited = 0, False
    for w in weights:
        v = lim.admit("ip", w, 30.0)
        if limited:
            assert v.status == 418 and v.retry_after >= 120  # ignored the Retry-After
            return
        used += w
        assert v.used == used
        if used > 100:
            assert v.status == 429 and v.retry_after == 31  # until the minute ends
            limited = True
        else:
            assert v.status == 0


def test_weight_window_resets_and_order_counter_slides() -> None:
    lim = WeightLimiter(10, 120)
    assert lim.admit("a", 10, 1.0).status == 0
    assert lim.admit("a", 1, 2.0).status == 429
    assert lim.admit("a", 1, 61.0).status == 0  # the penalty ended with the minute: no ban
    counter = OrderCounter(2)
    assert counter.add("k", 0.0) == 1 and counter.add("k", 1.0) == 2 and counter.add("k", 2.0) is None
    assert counter.add("k", 10.5) == 2


def test_config_from_mapping_rejects_unknown_and_bad_values() -> None:
    cfg = SimConfig.from_mapping({"seed": 3, "symbols": [{"symbol": "ETHUSDT", "base_asset": "ETH"}]})
    assert cfg.symbols[0].symbol == "ETHUSDT" and cfg.seed == 3
    with pytest.raises(SimConfigError, match="unknown key"):
        SimConfig.from_mapping({"sed": 3})
    with pytest.raises(SimConfigError, match=r"symbols\[0\]: unknown key"):
        SimConfig.from_mapping({"symbols": [{"tick": "0.1"}]})
    with pytest.raises(SimConfigError, match="tick_size"):
        SimConfig.from_mapping({"symbols": [{"tick_size": "abc"}]})
    with pytest.raises(SimConfigError, match="default_leverage"):
        SimConfig(default_leverage=0)
