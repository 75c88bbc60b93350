"""The bot end to end on the simulator (real actors, SQLite, HTTP + WebSocket): order life cycles."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from invariants import bot_run, stored_round_trips

from actors.system import StartError
from market_maker.core.model import Side

FEE = Decimal("0.001")  # the simulator's spot maker fee


def test_buy_then_take_profit_closes_a_round_trip_with_fees(tmp_path: Path, engine: dict[str, str]) -> None:
    with bot_run(tmp_path, engine=engine) as run:
        run.price("100000")  # step mode: the market moves only when a test moves it
        buys = sorted(o["price"] for o in run.own_open() if o["side"] == "BUY")
        assert buys == ["99970.00000000", "99980.00000000", "99990.00000000"]
        st = run.price("99989.99")  # trades through the nearest buy: it fills
        slot = st.book.slot(run.rules.price_to_ticks("99990"))
        assert slot is not None and slot.held == 99  # 0.001 BTC less the 0.000001 BTC fee, in whole steps
        (sell,) = [o for o in run.own_open() if o["side"] == "SELL"]
        # take-profit at level + interval, or one interval above the center if the fill was seen first
        sell_price = Decimal(sell["price"])
        assert sell_price in (Decimal("100000"), Decimal("100010")) and Decimal(sell["origQty"]) == Decimal(
            "0.00099"
        )
        st = run.price(str(sell_price + Decimal("0.01")))  # the take-profit fills
        assert st.round_trips == 1
        # the store's order rows follow the exchange to the end: both orders of the round trip FILLED
        # (a new buy at the freed level may already be working: that one is NEW)
        # with the venue's average price (one fill each, at the order's price)
        done = {
            (o.side, o.price, o.executed_qty, o.avg_price) for o in run.store_orders() if o.status == "FILLED"
        }
        assert (Side.BUY, run.rules.price_to_ticks("99990"), 100, Decimal("99990")) in done
        assert (Side.SELL, run.rules.price_to_ticks(str(sell_price)), 99, sell_price) in done
    (rt,) = stored_round_trips(run.config)
    proceeds = Decimal("0.00099") * sell_price
    fees = (
        Decimal("0.000001") * 99990 + proceeds * FEE
    )  # base fee on the buy at fill price, quote on the sell
    assert (rt.level, rt.qty, rt.proceeds, rt.fees) == (run.rules.price_to_ticks("99990"), 99, proceeds, fees)
    assert rt.realized == proceeds - Decimal("0.00099") * 99990 - fees
    assert st.realized == rt.realized


def test_usdm_futures_round_trip_with_futures_fees(tmp_path: Path) -> None:
    with bot_run(tmp_path, exchange={"venue": "sim", "market": "usdm", "leverage": 1}) as run:
        run.price("100000")
        run.price("99989.99")
        (sell,) = [o for o in run.own_open() if o["side"] == "SELL"]
        assert Decimal(sell["origQty"]) == Decimal("0.001")  # quote-asset fees: the whole buy is sellable
        sell_price = Decimal(sell["price"])
        st = run.price(str(sell_price + Decimal("0.01")))
        assert st.round_trips == 1
        fees = (Decimal("0.001") * 99990 + Decimal("0.001") * sell_price) * Decimal("0.0002")
        assert st.realized == Decimal("0.001") * (sell_price - 99990) - fees


def test_usdm_refuses_leverage_above_the_configured_maximum(tmp_path: Path) -> None:
    with (
        pytest.raises(StartError, match=r"above risk\.max_leverage") as err,
        bot_run(tmp_path, check=False, exchange={"venue": "sim", "market": "usdm"}),
    ):
        pass  # the simulator's default leverage is 20
    assert err.value.code == 4
