"""One synthetic path through the backtester and through the simulator traded by the real bot.

The same seeded candles are written as a Binance CSV; the simulator replays that file (its kline
replay: four points a candle, the backtester's waypoints) in step mode, and the real actor system
(TradingSystem, Simple engine, USD-M so that fees are in the quote asset as in the backtest) trades it.
The settings of both sides come from the one bot configuration (``BacktestSettings(config)``).

Synchronisation is by condition, never by sleeping: for each path point the test steps the simulator,
waits until the slot manager has taken the strategy's decisions at that point's price, then lets the
point's fills go out on the user stream, and waits until bot and venue agree (nothing in flight, the
core has nothing left to do at this price, the venue's open orders are the bot's working slots, every
venue fill is stored). Fills are held back until the price is seen because that is the backtester's
model: the core acts at a waypoint knowing both its price and its fills. A live bot may instead see
a fill before the print that caused it and price the take-profit from the previous price; that is the
"latency" row of docs/backtesting.md's differences and is kept out of the comparison on purpose.

The comparison is the simulator's own trade record (path point, side, price, quantity, fee, the slot
level decoded from the client id) against the backtester's fills. The documented differences of the
two fill models are each asserted not to arise on this path, so the lists must be equal (up to the
order of simultaneous fills within one point: queue priority, see the comment at the end).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from invariants import bot_run

from market_maker.backtest.engine import run_backtest
from market_maker.backtest.kline_csv import write_candles
from market_maker.backtest.settings import BacktestSettings
from market_maker.backtest.synthetic import synthetic_candles
from market_maker.core.ids import decode
from market_maker.sim.config import SimConfig
from market_maker.sim.paths import KlineReplay
from market_maker.sim.server import SimServer

N_CANDLES = 150
QTY = Decimal("0.001")
TICK, STEP = Decimal("0.01"), Decimal("0.00001")  # the simulator's defaults (config sim section)

TRADING = {
    "price_interval": "75",
    "order_quantity": str(QTY),
    "buy_window_size": 3,
    "sell_window_size": 3,
    "dynamic_interval": False,
    "inventory_skew_factor": "0",
}
FEES = {"maker_fee": "0.0002", "taker_fee": "0.0005"}

Row = tuple[int, str, int, int, Decimal, int]  # point, side, price ticks, qty steps, fee, level ticks


def _fast_replay_limits(cfg: SimConfig) -> SimConfig:
    """The replay runs hundreds of times faster than real minutes; the venue's order and weight limits
    are raised in proportion so that the pace of the test, not the strategy, never meets them."""
    return replace(cfg, futures_order_limit_10s=10_000, futures_weight_limit=100_000)


def _first_point(sim: SimServer) -> None:
    """The bot takes its first price from the klines; a replay has none before its first point."""
    sim.control.step(1)


def _sim_fills(run: Any, prices: list[int]) -> list[Row]:
    """Step the replay point by point with the bot settled after each; the venue's fills per point."""
    ctl, bot = run.control, run.config.bot.id
    run.wait_for(lambda st: st.reconciled, "the bot to reconcile")
    ctl.hold_user_events(True)
    out: list[Row] = []
    seen = 0
    for k, price in enumerate(prices):
        if k:
            ctl.step(1)
        else:  # printed before the bot started (for its klines): print it again for its market stream
            ctl.set_price(run.config.trading.symbol, str(run.rules.ticks_to_price(price)))
        run.wait_for(lambda st, p=price: st.price == p, f"point {k}: price {price} taken")
        ctl.hold_user_events(False)  # the point's fills go out only now that its price is known
        ctl.hold_user_events(True)
        run.settle()
        trades = run.venue_trades()
        for t in trades[seen:]:
            ident = decode(t["clientOrderId"], bot)
            assert ident is not None, f"venue fill {t['id']} of a foreign order {t['clientOrderId']!r}"
            # documented difference "fee asset": on USD-M the simulator charges the margin asset, USDT
            assert t["commissionAsset"] == "USDT" and t["isMaker"], t
            out.append(
                (
                    k,
                    "BUY" if t["isBuyer"] else "SELL",
                    run.rules.price_to_ticks(t["price"]),
                    run.rules.qty_to_steps(t["qty"]),
                    Decimal(t["commission"]),
                    ident.level,
                )
            )
        seen = len(trades)
    ctl.hold_user_events(False)
    return out


def test_the_actor_system_on_the_simulator_makes_the_backtesters_fills(tmp_path: Path) -> None:
    candles = synthetic_candles(
        N_CANDLES, seed=11, tick_size=TICK, step_size=STEP, volatility=0.0008, mean_volume="200"
    )
    data = tmp_path / "BTCUSDT-1m-synthetic.csv"
    write_candles(data, candles)
    replay = KlineReplay([candles.candle(i) for i in range(len(candles))])
    points = []
    while (pt := replay.step()) is not None:
        points.append(pt)
    sim_section = {**FEES, "price_path": "replay", "replay_file": str(data), "balances": {"USDT": "1000000"}}
    usdm = {"venue": "sim", "market": "usdm", "leverage": 1}
    with bot_run(
        tmp_path,
        adjust_sim=_fast_replay_limits,
        before_start=_first_point,
        trading=TRADING,
        exchange=usdm,
        sim=sim_section,
    ) as run:
        settings = BacktestSettings(run.config)  # the bot's own configuration, as `backtest --config` does
        assert (settings.params.rules.tick_size, settings.params.rules.step_size) == (TICK, STEP)
        sim = _sim_fills(run, [p.price for p in points])

    bt = run_backtest(candles, settings)
    point_of = {p.time_ms: k for k, p in enumerate(points)}
    mine = [(point_of[f.time_ms], f.side.value, f.price, f.qty, f.fee, f.level) for f in bt.fills]
    # documented difference "post-only check": the simulator's ask is one tick above the last price,
    # so the two checks differ only for an order placed at the last price; neither side refused one
    assert bt.counters.post_only_rejects == 0 and bt.counters.balance_rejects == 0
    assert not [o for o in run.store_orders() if o.status in ("REJECTED", "EXPIRED")]
    # documented difference "partial fills": the simulator caps a fill by the point's volume; every
    # order here filled whole at one point, as the backtester (no --volume-share) fills them
    steps = run.rules.qty_to_steps(str(QTY))
    assert all(r[3] == steps for r in sim + mine)
    assert len(mine) > 100, f"too few fills to compare: {len(mine)}"
    # the trailing cancels (one level of slack, in the core) happen on both sides
    assert bt.counters.cancels > 20 and len([o for o in run.store_orders() if o.status == "CANCELED"]) > 20
    # orders filled by one point fill at one instant; which goes first among equal prices is queue
    # priority, the order in which they were placed, a matter of the bot's message timing: compare
    # each point's fills as a set (the rows start with the point, so the points' order still counts)
    assert sorted(mine) == sorted(sim)
