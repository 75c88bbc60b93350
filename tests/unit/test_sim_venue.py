"""The venue without sockets: a kline replay driven at a speed factor, step mode, set_price."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from market_maker.core.model import Side
from market_maker.sim.config import AccountSpec, SimConfig
from market_maker.sim.engine import SPOT
from market_maker.sim.venue import Venue


def rows(n: int) -> list[list[object]]:
    out: list[list[object]] = []
    for i in range(n):
        o = 100 + i
        out.append(
            [
                60_000 * i,
                f"{o}.00",
                f"{o + 2}.00",
                f"{o - 2}.00",
                f"{o + 1}.00",
                "1",
                60_000 * i + 59_999,
                "0",
                1,
                "0",
                "0",
                "0",
            ]
        )
    return out


def test_replay_at_60x_plays_a_one_minute_candle_per_wall_second(tmp_path: Path) -> None:
    f = tmp_path / "k.json"
    f.write_text(json.dumps(rows(5)))
    v = Venue(SimConfig(replay_file=str(f), speed=60.0))
    assert v.engine.last["BTCUSDT"] == 10_000  # starts at the first open
    v.advance(1_000)  # one wall second = one market minute: candle 0 whole, then candle 1 opens
    assert v.engine.last["BTCUSDT"] == 10_100
    assert [r[0] for r in v.candles["BTCUSDT"].klines("1m", None, None, 10)] == [0, 60_000]
    assert v.candles["BTCUSDT"].klines("1m", None, None, 10)[0][1:5] == [10_000, 10_200, 9_800, 10_100]


def test_step_mode_and_set_price_fill_resting_orders() -> None:
    cfg = SimConfig(
        step_mode=True, accounts=(AccountSpec("k", "s", {"USDT": "1000"}),), force_partial_fills=True
    )
    v = Venue(cfg, history_minutes=0)
    assert v.candles["BTCUSDT"].klines("1m", None, None, 10) == []
    t0 = v.paths["BTCUSDT"].time_ms
    v.step(5)  # five points, step_ms apart, and the market clock does not run on its own
    assert v.paths["BTCUSDT"].time_ms == t0 + 5 * cfg.step_ms
    assert sum(r[7] for r in v.candles["BTCUSDT"].klines("1s", None, None, 10)) == 5
    v.set_price("BTCUSDT", "100000")
    order, _ = v.engine.place(SPOT, "k", "BTCUSDT", Side.BUY, "LIMIT", "GTC", 9_999_000, 1000, "c", 1)
    v.set_price("BTCUSDT", "99980")
    assert order.status == "PARTIALLY_FILLED" and order.filled == 500  # forced by config
    v.set_price("BTCUSDT", "99970")
    assert order.status == "FILLED"
    assert v.view("balances", "k")["spot"]["BTC"] == {
        "free": str(Decimal("0.01") - Decimal("0.00001")),
        "locked": "0",
    }
