"""The simulator's matching engine, without sockets: fills, partials, post-only, balances, fees, futures."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market_maker.core.model import Side
from market_maker.sim.config import SymbolSpec
from market_maker.sim.engine import SPOT, USDM, BalanceEvent, BinanceError, Engine, Fees, OrderEvent, Position

RULES = SymbolSpec().rules()
P100K = 10_000_000  # 100000.00 in ticks
KEY = "k1"


def make_engine(balances: dict[str, str] | None = None) -> Engine:
    e = Engine(
        {"BTCUSDT": RULES},
        {"BTCUSDT": P100K},
        Fees(Decimal("0.001"), Decimal("0.001")),
        Fees(Decimal("0.0002"), Decimal("0.0005")),
    )
    e.add_account(
        KEY, "secret", {a: Decimal(v) for a, v in (balances or {"USDT": "10000", "BTC": "1"}).items()}
    )
    return e


def kinds(events: list) -> list[str]:
    return [f"{e.exec_type}/{e.status}" if isinstance(e, OrderEvent) else "BAL" for e in events]


def test_resting_buy_locks_quote_and_fills_in_two_parts_with_fees_in_base() -> None:
    e = make_engine()
    o, ev = e.place(SPOT, KEY, "BTCUSDT", Side.BUY, "LIMIT", "GTC", P100K - 100, 1000, "c1", 1)
    assert kinds(ev) == ["NEW/NEW", "BAL"]
    acct = e.account(KEY)
    assert acct.spot["USDT"] == [Decimal("9000.01000"), Decimal("999.99000")]
    # the path trades through the price with 400 steps of volume: a partial fill at the order's price
    ev = e.on_trade("BTCUSDT", P100K - 101, 400, 2)
    assert kinds(ev) == ["TRADE/PARTIALLY_FILLED", "BAL"]
    t = ev[0].trade
    assert t is not None and t.price == P100K - 100 and t.qty == 400 and t.is_maker
    assert t.fee == Decimal("0.00000400") and t.fee_asset == "BTC"
    ev = e.on_trade("BTCUSDT", P100K - 150, 10_000, 3)
    assert kinds(ev) == ["TRADE/FILLED", "BAL"]
    assert acct.spot["USDT"] == [Decimal("9000.01000"), Decimal("0")]
    assert acct.spot["BTC"][0] == Decimal("1") + Decimal("0.01") - Decimal("0.00001")
    assert e.open_orders(SPOT, KEY) == []
    assert o.quote == Decimal("999.99000")


def test_touching_the_price_does_not_fill_and_trading_through_does() -> None:
    e = make_engine()
    e.place(SPOT, KEY, "BTCUSDT", Side.SELL, "LIMIT", "GTC", P100K + 50, 100, "s1", 1)
    assert e.on_trade("BTCUSDT", P100K + 50, 10**6, 2) == []
    ev = e.on_trade("BTCUSDT", P100K + 51, 10**6, 3)
    assert kinds(ev) == ["TRADE/FILLED", "BAL"]
    t = ev[0].trade
    assert t is not None and t.fee_asset == "USDT"
    # 100000.50 * 0.001 = 100.0005 USDT, fee 0.1000005 rounded up to 8 decimals
    assert t.fee == Decimal("0.10000050")


def test_force_partial_splits_a_fill_in_two() -> None:
    e = make_engine()
    e.force_partial = True
    e.place(SPOT, KEY, "BTCUSDT", Side.BUY, "LIMIT", "GTC", P100K - 1, 11, "c1", 1)
    ev = e.on_trade("BTCUSDT", P100K - 2, 10**6, 2)
    assert kinds(ev) == ["TRADE/PARTIALLY_FILLED", "BAL"] and ev[0].trade.qty == 5
    ev = e.on_trade("BTCUSDT", P100K - 2, 10**6, 3)
    assert kinds(ev) == ["TRADE/FILLED", "BAL"] and ev[0].trade.qty == 6


def test_post_only_crossing_is_rejected_with_the_venue_code() -> None:
    e = make_engine()
    with pytest.raises(BinanceError) as spot:
        e.place(SPOT, KEY, "BTCUSDT", Side.BUY, "LIMIT_MAKER", "", P100K + 1, 10, "c1", 1)
    assert (spot.value.code, spot.value.msg) == (-2010, "Order would immediately match and take.")
    with pytest.raises(BinanceError) as fut:
        e.place(USDM, KEY, "BTCUSDT", Side.SELL, "LIMIT", "GTX", P100K, 10, "c2", 1)
    assert fut.value.code == -5022
    assert e.account(KEY).spot["USDT"] == [Decimal("10000"), Decimal("0")]


def test_crossing_limit_is_a_taker_at_the_ask_and_refunds_the_difference() -> None:
    e = make_engine()
    _, ev = e.place(SPOT, KEY, "BTCUSDT", Side.BUY, "LIMIT", "GTC", P100K + 1000, 100, "c1", 1)
    assert kinds(ev) == ["NEW/NEW", "TRADE/FILLED", "BAL"]
    t = ev[1].trade
    assert t is not None and t.price == P100K + 1 and not t.is_maker
    assert e.account(KEY).spot["USDT"] == [Decimal("10000") - Decimal("100.00001"), Decimal("0")]


def test_rejections_filters_duplicates_balance_unknown() -> None:
    e = make_engine()
    cases = [
        ((SPOT, Side.BUY, P100K - 1, 1, "a"), (-1013, "Filter failure: NOTIONAL")),
        (
            (SPOT, Side.BUY, P100K - 1, 1_000_000, "b"),
            (-2010, "Account has insufficient balance for requested action."),
        ),
        ((USDM, Side.BUY, P100K - 1, 1, "c"), (-4164, None)),
        ((USDM, Side.BUY, P100K - 1, 10**9, "d"), (-4005, "Quantity greater than max quantity.")),
    ]
    for (venue, side, price, qty, cid), (code, msg) in cases:
        with pytest.raises(BinanceError) as err:
            e.place(venue, KEY, "BTCUSDT", side, "LIMIT", "GTC", price, qty, cid, 1)
        assert err.value.code == code
        if msg:
            assert err.value.msg == msg
    e.place(SPOT, KEY, "BTCUSDT", Side.BUY, "LIMIT", "GTC", P100K - 1, 100, "dup", 1)
    with pytest.raises(BinanceError, match=r"Duplicate order sent\."):
        e.place(SPOT, KEY, "BTCUSDT", Side.BUY, "LIMIT", "GTC", P100K - 2, 100, "dup", 1)
    with pytest.raises(BinanceError) as err:
        e.cancel(SPOT, KEY, "BTCUSDT", 999, None, 1)
    assert err.value.code == -2011
    with pytest.raises(BinanceError) as err:
        e.find(SPOT, KEY, "BTCUSDT", None, "nope")
    assert err.value.code == -2013
    e.cancel(SPOT, KEY, "BTCUSDT", None, "dup", 2)
    e.place(SPOT, KEY, "BTCUSDT", Side.BUY, "LIMIT", "GTC", P100K - 2, 100, "dup", 3)  # reuse once closed


def test_futures_position_pnl_fees_reduce_only_and_margin() -> None:
    e = make_engine({"USDT": "1000"})
    # 0.1 BTC at 100000 = 10000 notional; 20x needs 500 margin: fine. 0.3 BTC needs 1500: refused.
    with pytest.raises(BinanceError) as err:
        e.place(USDM, KEY, "BTCUSDT", Side.BUY, "LIMIT", "GTC", P100K - 100, 30_000, "big", 1)
    assert err.value.code == -2019
    with pytest.raises(BinanceError) as err:
        e.place(USDM, KEY, "BTCUSDT", Side.SELL, "LIMIT", "GTC", P100K + 100, 100, "ro", 1, reduce_only=True)
    assert err.value.code == -2022
    _, ev = e.place(USDM, KEY, "BTCUSDT", Side.BUY, "LIMIT", "GTC", P100K - 100, 10_000, "b1", 1)
    assert kinds(ev) == ["NEW/NEW"]  # no ACCOUNT_UPDATE for a new order
    ev = e.on_trade("BTCUSDT", P100K - 200, 10**6, 2)
    assert kinds(ev) == ["TRADE/FILLED", "BAL"]
    acct = e.account(KEY)
    pos = acct.positions["BTCUSDT"]
    assert pos.amount == 10_000 and pos.entry == Decimal("99999.00")
    maker_fee = Decimal("9999.9000") * Decimal("0.0002")
    assert acct.wallet["USDT"] == Decimal("1000") - maker_fee
    e.place(USDM, KEY, "BTCUSDT", Side.SELL, "LIMIT", "GTC", P100K + 100, 10_000, "s1", 3, reduce_only=True)
    e.on_trade("BTCUSDT", P100K + 101, 10**6, 4)
    assert pos.amount == 0 and pos.realized == Decimal("0.2")  # 0.1 BTC x 2 USDT
    exit_fee = (Decimal("10000.1000") * Decimal("0.0002")).quantize(Decimal("1e-8"))
    assert acct.wallet["USDT"] == Decimal("1000") - maker_fee + Decimal("0.2") - exit_fee
    assert isinstance(ev[1], BalanceEvent) and ev[1].positions[0].amount == 10_000


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([Side.BUY, Side.SELL]), st.integers(-500, 500), st.integers(10, 3000)),
        min_size=1,
        max_size=12,
    ),
    st.lists(st.tuples(st.integers(-800, 800), st.integers(0, 5000)), max_size=20),
    st.booleans(),
)
def test_spot_money_is_conserved(orders, moves, partial) -> None:
    """Whatever is placed, filled and cancelled: free + locked + fees paid = what we started with, and
    locked balances are exactly what open orders reserve."""
    e = make_engine({"USDT": "1000000", "BTC": "10"})
    e.force_partial = partial
    for i, (side, off, qty) in enumerate(orders):
        with contextlib.suppress(BinanceError):
            e.place(SPOT, KEY, "BTCUSDT", side, "LIMIT", "GTC", P100K + off, qty, f"c{i}", 1)
    for off, vol in moves:
        e.on_trade("BTCUSDT", P100K + off, vol, 2)
    acct = e.account(KEY)
    locked_quote = sum((o.locked for o in e.open_orders(SPOT, KEY) if o.side is Side.BUY), Decimal(0))
    locked_base = sum((o.locked for o in e.open_orders(SPOT, KEY) if o.side is Side.SELL), Decimal(0))
    assert acct.spot["USDT"][1] == locked_quote and acct.spot["BTC"][1] == locked_base
    fees = {"BTC": Decimal(0), "USDT": Decimal(0)}
    flow = {"BTC": Decimal(0), "USDT": Decimal(0)}
    for t in acct.trades:
        fees[t.fee_asset] += t.fee
        sign = 1 if t.side is Side.BUY else -1
        flow["BTC"] += sign * RULES.step_size * t.qty
        flow["USDT"] -= sign * t.quote
    for asset, start in (("USDT", Decimal(1000000)), ("BTC", Decimal(10))):
        assert sum(acct.spot[asset]) == start + flow[asset] - fees[asset]
    e.cancel_all(SPOT, KEY, "BTCUSDT", 3)
    assert acct.spot["USDT"][1] == 0 and acct.spot["BTC"][1] == 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([Side.BUY, Side.SELL]),
            st.integers(-300, 300),
            st.integers(10, 2000),
            st.booleans(),
        ),
        min_size=1,
        max_size=12,
    ),
    st.lists(st.tuples(st.integers(-600, 600), st.integers(0, 3000)), max_size=20),
)
def test_futures_position_and_wallet_follow_the_fills(orders, moves) -> None:
    """Position = signed sum of fills; wallet = start + realized PnL - fees; reduce-only never flips."""
    e = make_engine({"USDT": "100000"})
    for i, (side, off, qty, reduce_only) in enumerate(orders):
        with contextlib.suppress(BinanceError):
            e.place(
                USDM,
                KEY,
                "BTCUSDT",
                side,
                "LIMIT",
                "GTC",
                P100K + off,
                qty,
                f"f{i}",
                1,
                reduce_only=reduce_only,
            )
        for off2, vol in moves[i : i + 2]:
            e.on_trade("BTCUSDT", P100K + off2, vol, 2)
    acct = e.account(KEY)
    trades = [t for t in acct.trades if t.venue == USDM]
    pos = acct.positions.get("BTCUSDT") or Position()
    amount = 0
    for t in trades:
        before = amount
        amount += t.qty if t.side is Side.BUY else -t.qty
        if e.orders[(USDM, t.order_id)].reduce_only:  # only ever shrinks the position, never flips it
            assert abs(amount) < abs(before) and amount * before >= 0
    assert pos.amount == amount
    realized = sum((t.realized for t in trades), Decimal(0))
    fees = sum((t.fee for t in trades), Decimal(0))
    assert acct.wallet["USDT"] == Decimal(100000) + realized - fees
    assert pos.realized == realized
    # open positions and orders tie up margin: never more available than wallet + unrealized PnL
    assert e.available_margin(KEY, "USDT") <= acct.wallet["USDT"] + e.unrealized(pos, "BTCUSDT")


def test_reduce_only_never_flips_after_the_position_shrank() -> None:
    e = make_engine({"USDT": "100000"})
    e.place(USDM, KEY, "BTCUSDT", Side.BUY, "MARKET", "GTC", 0, 1000, "open", 1)
    ro, _ = e.place(
        USDM, KEY, "BTCUSDT", Side.SELL, "LIMIT", "GTC", P100K + 50, 1000, "ro", 2, reduce_only=True
    )
    e.place(USDM, KEY, "BTCUSDT", Side.SELL, "LIMIT", "GTC", P100K + 10, 600, "plain", 3)
    e.on_trade("BTCUSDT", P100K + 20, 600, 4)  # only the plain sell is crossed: position 1000 -> 400
    ev = e.on_trade("BTCUSDT", P100K + 60, 10**6, 5)
    # it fills only what is left of the position, then expires: nothing remains to reduce
    assert kinds(ev) == ["TRADE/PARTIALLY_FILLED", "BAL", "EXPIRED/EXPIRED"]
    assert ro.filled == 400 and ro.status == "EXPIRED" and e.open_orders(USDM, KEY) == []
    assert e.account(KEY).positions["BTCUSDT"].amount == 0


def test_two_reduce_only_orders_on_one_print_close_once() -> None:
    e = make_engine({"USDT": "100000"})
    e.place(USDM, KEY, "BTCUSDT", Side.BUY, "MARKET", "GTC", 0, 500, "open", 1)
    a, _ = e.place(
        USDM, KEY, "BTCUSDT", Side.SELL, "LIMIT", "GTC", P100K + 10, 500, "a", 2, reduce_only=False
    )
    b, _ = e.place(USDM, KEY, "BTCUSDT", Side.SELL, "LIMIT", "GTC", P100K + 20, 500, "b", 3, reduce_only=True)
    ev = e.on_trade("BTCUSDT", P100K + 30, 10**6, 4)
    assert kinds(ev) == ["TRADE/FILLED", "BAL", "EXPIRED/EXPIRED"]
    assert (a.status, b.status, b.filled) == ("FILLED", "EXPIRED", 0)
    assert e.account(KEY).positions["BTCUSDT"].amount == 0
