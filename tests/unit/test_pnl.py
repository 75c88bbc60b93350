"""Fees converted at fill time (base, quote, BNB), absurd fees rejected, FIFO cost, unrealized PnL."""

from decimal import Decimal

import pytest
from core_fixtures import BTC, IV, buy_filled

from market_maker.core.pnl import FeeError, PnlLedger, convert_fee, fifo_take, unrealized
from market_maker.core.slots import SlotBook

PX = BTC.price_to_ticks("100000.00")


def test_fee_in_quote_base_and_bnb() -> None:
    # 0.001 BTC at 100000.00: notional 100 USDT
    assert convert_fee(Decimal("0.1"), "USDT", PX, 100, BTC).quote == Decimal("0.1")
    base = convert_fee(Decimal("0.000001"), "BTC", PX, 100, BTC)
    assert (base.quote, base.base) == (Decimal("0.1"), Decimal("0.000001"))
    bnb = convert_fee(Decimal("0.000125"), "BNB", PX, 100, BTC, {"BNB": Decimal("600")})
    assert (bnb.quote, bnb.base) == (Decimal("0.075"), 0)


def test_absurd_fees_are_refused() -> None:
    with pytest.raises(FeeError, match="negative"):
        convert_fee(Decimal("-0.01"), "USDT", PX, 100, BTC)
    with pytest.raises(FeeError, match="exceeds the trade notional"):
        convert_fee(Decimal("100.01"), "USDT", PX, 100, BTC)
    with pytest.raises(FeeError, match="no BNB->USDT rate"):
        convert_fee(Decimal("0.001"), "BNB", PX, 100, BTC)


def test_fifo_takes_the_oldest_lots_first() -> None:
    lots = ((30, 100), (70, 90))
    rest, cost = fifo_take(lots, 50)
    assert rest == ((50, 90),) and cost == 30 * 100 + 20 * 90


def test_unrealized_at_a_mark_price() -> None:
    book = buy_filled(SlotBook("mm1"), PX, 100, interval=IV)
    mark = BTC.price_to_ticks("100050.00")
    assert book.unrealized_pnl(mark, BTC) == Decimal("0.05")  # 0.001 BTC x 50 USDT
    # 50 steps held, FIFO cost 30 @ 100000 + 20 @ 99990 = 49.998; value 0.0005 x 100050 = 50.025
    assert unrealized(50, ((30, PX), (70, PX - 1000)), mark, BTC) == Decimal("0.027")


def test_ledger_keeps_gross_and_fees_apart() -> None:
    led = PnlLedger().add(Decimal("101"), Decimal("100"), Decimal("0.2"))
    led = led.add(Decimal("99"), Decimal("100"), Decimal("0.2"))
    assert (led.gross, led.fees, led.realized) == (Decimal("0"), Decimal("0.4"), Decimal("-0.4"))
    assert (led.round_trips, led.wins, led.losses) == (2, 1, 1)


def test_unrealized_counts_dust_and_keeps_the_base_fee_out_of_cost() -> None:
    # 0.001 BTC bought at 100000.00, 0.000001 BTC fee (0.1 USDT): held 99 steps + 0.000009 BTC dust
    book = buy_filled(SlotBook("mm1"), PX, 100, interval=IV, fee="0.000001", asset="BTC")
    mark = BTC.price_to_ticks("100050.00")
    # 0.000999 BTC x (100050 - 100000): the fee is a fee, not part of the position's cost
    assert book.unrealized_pnl(mark, BTC) == Decimal("0.04995")
    assert book.open_result() == Decimal("-0.1")  # the round trip so far: its fee
