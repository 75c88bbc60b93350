"""The backtester and the simulator's matching engine give the same fills on the same candles.

The simulator side is driven the way the live shell drives it: the kline replay's path points go to
the matching engine (``on_trade``), its fills go to the core's slot book, and the core's actions go
back to the engine as post-only (GTX) orders and cancels. Both sides therefore share the core; what
is compared is the two fill models. Documented differences (docs/backtesting.md) are kept out of the
scenario: volume is ample (the simulator caps fills by each point's volume), and without skew no
grid order is ever placed at the last price (where the two post-only checks differ by one tick).
"""

from __future__ import annotations

from decimal import Decimal as D

from market_maker.backtest.engine import run_backtest
from market_maker.backtest.settings import BacktestSettings
from market_maker.backtest.synthetic import synthetic_candles
from market_maker.core.actions import Cancel, Place
from market_maker.core.fills import apply_fill, cancelled
from market_maker.core.model import Fill
from market_maker.core.risk import on_market_data, start_risk
from market_maker.core.slots import SlotBook, ack, reject, request_cancel, submit
from market_maker.core.strategy import calculate_actions
from market_maker.sim.engine import USDM, BinanceError, Engine, Fees, OrderEvent
from market_maker.sim.paths import KlineReplay

SETTINGS = BacktestSettings().with_overrides(
    {
        "price_interval": "40",
        "order_quantity": "0.001",
        "max_inventory": "0.02",
        "atr_spike_multiple": "0",
        "volume_spike_multiple": "0",
        "max_consecutive_losses": "0",
        "max_drawdown_pct": "0",
        "maker_fee": "0.0002",
        "taker_fee": "0.0005",
    }
)


def _through_simulator(candles, s: BacktestSettings) -> list[tuple[str, str, int, int, int]]:  # type: ignore[no-untyped-def]
    cp, fm = s.params, s.fill_model()
    rules, sym, key = cp.rules, cp.rules.symbol, "k"
    eng = Engine(
        {sym: rules}, {sym: int(candles.open[0])}, Fees(D(0), D(0)), Fees(fm.maker_fee, fm.taker_fee)
    )
    eng.add_account(key, "secret", {"USDT": D("10000000")})
    book, risk = SlotBook(s.bot_id), start_risk(cp.risk)
    out = []
    replay = KlineReplay([candles.candle(i) for i in range(len(candles))])
    while (pt := replay.step()) is not None:
        for ev in eng.on_trade(sym, pt.price, pt.volume, pt.time_ms):
            if isinstance(ev, OrderEvent) and ev.trade is not None:
                t = ev.trade
                fill = Fill(
                    t.trade_id,
                    ev.order.client_id,
                    t.side,
                    t.price,
                    t.qty,
                    ev.filled,
                    t.fee,
                    t.fee_asset,
                    t.time_ms,
                )
                book, _ = apply_fill(book, fill, rules, cp.interval)
                out.append((ev.order.client_id, t.side.value, t.price, t.qty, t.time_ms))
        risk = on_market_data(risk, pt.time_ms)
        for _ in range(16):
            actions = calculate_actions(pt.price, cp.interval, book, risk, cp.grid, rules, pt.time_ms)
            if not any(isinstance(a, Cancel | Place) for a in actions):
                break
            for a in actions:
                if isinstance(a, Cancel):
                    o, _ = eng.cancel(USDM, key, sym, None, a.client_id, pt.time_ms)
                    book = request_cancel(book, a.client_id)
                    book, _ = cancelled(book, a.client_id, o.filled, rules, cp.interval, pt.time_ms)
            for a in actions:
                if isinstance(a, Place):
                    book, cid = submit(book, a)
                    try:
                        eng.place(USDM, key, sym, a.side, "LIMIT", "GTX", a.price, a.qty, cid, pt.time_ms)
                    except BinanceError as exc:
                        book, _ = reject(book, cid, pt.time_ms, exc.msg)
                    else:
                        book = ack(book, cid)
    return out


def test_same_fills_as_the_simulator_on_a_synthetic_path() -> None:
    candles = synthetic_candles(2000, seed=21, mean_volume="1000")
    sim = _through_simulator(candles, SETTINGS)
    bt = run_backtest(candles, SETTINGS)
    mine = [(f.client_id, f.side.value, f.price, f.qty, f.time_ms) for f in bt.fills]
    assert len(mine) > 20
    assert mine == sim
