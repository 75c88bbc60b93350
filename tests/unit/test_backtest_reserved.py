"""The replay's balance check reads what the working buys reserve from :class:`ReservedQuote`, which
carries the sum over the placements of one act instead of summing every working order per buy: after
any sequence of placements (told to it as the replay tells it), fills and cancels (not told), it must
answer what the book's working buys reserve, summed from scratch."""

from __future__ import annotations

import random
from decimal import Decimal

from core_fixtures import BTC
from hypothesis import given, settings
from hypothesis import strategies as st

from market_maker.backtest.replay import ReservedQuote
from market_maker.core.actions import Place
from market_maker.core.fills import apply_trade, cancelled
from market_maker.core.model import Side
from market_maker.core.slots import SlotBook, owned, submit_acked


def _reserved(book: SlotBook) -> int:
    return sum(
        s.order_price * (s.order_qty - s.order_filled) for s in book if s.working and s.side is Side.BUY
    )


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32), st.integers(5, 80), st.booleans())
def test_the_carried_sum_is_the_sum_from_scratch(seed: int, length: int, own: bool) -> None:
    rng = random.Random(seed)
    book = owned(SlotBook("t1")) if own else SlotBook("t1")
    rq = ReservedQuote()
    trade = 0
    for _ in range(length):
        op = rng.choice(("buy", "buy", "sell", "fill", "cancel", "ask"))
        working = [s for s in book if s.working]
        if op == "buy":
            level = 1000 * rng.randrange(1, 30)
            s = book.slot(level)
            if s is not None and s.state.name != "FREE":
                continue
            qty = rng.randrange(1, 5) * 100
            if rng.random() < 0.5:  # the replay asks before it places a buy (the balance check)
                assert rq.of(book) == _reserved(book)
            before = book
            book, _ = submit_acked(book, Place(level, Side.BUY, level, qty))
            rq.placed(before, book, level, qty)
        elif op == "sell":
            held = [s for s in book if s.state.name == "FILLED" and s.held > 0]
            if not held:
                continue
            s = rng.choice(held)
            before = book
            book, _ = submit_acked(book, Place(s.level, Side.SELL, s.level + 1000, s.held))
            rq.same(before, book)
        elif op == "fill" and working:
            s = rng.choice(working)
            qty = rng.randrange(1, s.order_qty - s.order_filled + 1)
            trade += 1
            book, _ = apply_trade(
                book,
                trade,
                s.client_id,
                s.side,
                s.order_price,
                qty,
                s.order_filled + qty,
                Decimal(0),
                "USDT",
                0,
                BTC,
                1000,
            )
        elif op == "cancel" and working:
            s = rng.choice(working)
            book, _ = cancelled(book, s.client_id, s.order_filled, BTC, 1000, 0)
        elif op == "ask":  # asking re-reads the book when it is not the one carried: ask only now and then
            assert rq.of(book) == _reserved(book)
    assert rq.of(book) == _reserved(book)
