"""calculate_actions: buys in the window, take-profits, trailing, HODL, risk, caps and filters."""

from dataclasses import replace
from decimal import Decimal

from core_fixtures import BTC, IV, PARAMS, buy_filled, calm_risk, settle

from market_maker.core.actions import Cancel, Place, Skip
from market_maker.core.grid import GridParams
from market_maker.core.model import Side
from market_maker.core.risk import RiskParams, on_round_trip, set_paused
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook, reject, submit
from market_maker.core.strategy import calculate_actions

P0 = BTC.price_to_ticks("100234.56")


def acts(book: SlotBook, price: int, risk=None, params: GridParams = PARAMS, now: int = 0, rules=BTC):  # type: ignore[no-untyped-def]
    return calculate_actions(price, IV, book, risk or calm_risk(), params, rules, now)


def test_empty_book_buys_the_window_nearest_first() -> None:
    out = acts(SlotBook("mm1"), P0)
    assert out == tuple(
        Place(BTC.price_to_ticks(p), Side.BUY, BTC.price_to_ticks(p), 100)
        for p in ("100220", "100210", "100200", "100190", "100180")
    )
    assert acts(SlotBook("mm1"), P0) == out  # deterministic


def test_take_profit_example() -> None:
    # bought at 100220.00 with interval 10.00: take-profit frozen at 100230.00
    book = buy_filled(SlotBook("mm1"), BTC.price_to_ticks("100220.00"))
    lv = BTC.price_to_ticks("100220.00")
    # price 100234.56: C = 100230, C + I = 100240 > tp -> sell at 100240
    sells = [a for a in acts(book, P0) if isinstance(a, Place) and a.side is Side.SELL]
    assert sells == [Place(lv, Side.SELL, BTC.price_to_ticks("100240.00"), 100)]
    # price 100201.00: C = 100200, window 100210..100250 -> sell at the frozen tp 100230
    sells = [
        a for a in acts(book, BTC.price_to_ticks("100201")) if isinstance(a, Place) and a.side is Side.SELL
    ]
    assert sells == [Place(lv, Side.SELL, BTC.price_to_ticks("100230.00"), 100)]
    # price 100150.00: sell window tops at 100200 < tp -> hold (HODL until profitable), slot kept
    out = acts(book, BTC.price_to_ticks("100150"))
    assert not [a for a in out if isinstance(a, Place) and a.side is Side.SELL]
    assert all(a.level != lv for a in out)


def test_trailing_cancels_buys_left_behind_and_sells_out_of_window() -> None:
    book = settle(SlotBook("mm1"), P0, calm_risk())  # buys 100180..100220
    up = BTC.price_to_ticks("100262.00")  # C = 100260: buy window 100210..100250, slack down to 100200
    out = acts(book, up)
    cancelled = [a.level for a in out if isinstance(a, Cancel)]
    assert cancelled == [BTC.price_to_ticks("100180"), BTC.price_to_ticks("100190")]
    placed = [a.level for a in out if isinstance(a, Place)]
    assert placed == [BTC.price_to_ticks(p) for p in ("100250", "100240", "100230")]
    # a sell more than one interval above the sell window is cancelled, one within the slack is kept
    lv = BTC.price_to_ticks("100300")
    held = settle(buy_filled(SlotBook("mm1"), lv), BTC.price_to_ticks("100300.00"), calm_risk())
    sells = [s for s in held if s.side is Side.SELL and s.working]
    assert sells and sells[0].order_price == BTC.price_to_ticks("100310")
    down = BTC.price_to_ticks("100250.00")  # C = 100250: sell window 100260..100300, slack to 100310
    assert not any(isinstance(a, Cancel) and a.level == lv for a in acts(held, down))
    further = BTC.price_to_ticks("100240.00")  # C = 100240: window up to 100290, slack to 100300
    assert any(isinstance(a, Cancel) and a.level == lv for a in acts(held, further))


def test_nearest_buy_stays_working_as_the_price_comes_down_to_it() -> None:
    # The center rounds to the nearest level: at 100224.99 it is 100220, the level of the nearest buy.
    # Cancelling that buy now (it left the window 100170..100210) would mean it never fills.
    book = settle(SlotBook("mm1"), P0, calm_risk())
    near = BTC.price_to_ticks("100224.99")
    out = acts(book, near)
    assert not any(isinstance(a, Cancel) and a.level == BTC.price_to_ticks("100220") for a in out)
    # one level further away (the skewed window dropped below it) it is cancelled
    below = BTC.price_to_ticks("100214.99")  # C = 100210: the buy at 100220 is above the center
    assert any(isinstance(a, Cancel) and a.level == BTC.price_to_ticks("100220") for a in acts(book, below))


def test_risk_triggered_cancels_buys_but_sells_continue() -> None:
    book = buy_filled(SlotBook("mm1"), BTC.price_to_ticks("100210"))
    book = settle(book, P0, calm_risk())
    paused = set_paused(calm_risk(), True)
    out = acts(book, P0, paused)
    assert {type(a) for a in out} == {Cancel}
    assert all(book.slot(a.level).side is Side.BUY for a in out)  # type: ignore[union-attr]
    assert "manual pause" in out[0].reason  # type: ignore[union-attr]
    # a freshly filled slot still gets its take-profit while paused
    book2 = buy_filled(SlotBook("mm1"), BTC.price_to_ticks("100220"))
    assert [type(a) for a in acts(book2, P0, paused)] == [Place]


def test_halted_places_nothing_at_all() -> None:
    params = RiskParams(max_consecutive_losses=1)
    halted = on_round_trip(calm_risk(), Decimal("-1"), 0, params)
    assert halted.halted
    book = buy_filled(SlotBook("mm1"), BTC.price_to_ticks("100220"))
    assert acts(book, P0, halted) == ()


def test_max_inventory_caps_new_buys() -> None:
    params = replace(PARAMS, max_inventory=250)
    out = acts(SlotBook("mm1"), P0, params=params)
    assert [type(a) for a in out] == [Place, Place, Skip, Skip, Skip]
    assert "max inventory" in out[2].reason  # type: ignore[union-attr]
    book = buy_filled(SlotBook("mm1"), BTC.price_to_ticks("100150"), 200)  # held 200: room for no buy
    assert not [a for a in acts(book, P0, params=params) if isinstance(a, Place) and a.side is Side.BUY]


def test_min_notional_is_a_visible_skip_never_a_zero_order() -> None:
    tiny = replace(PARAMS, order_qty=4)  # 0.00004 BTC * 100220 = 4.0088 USDT < 5 min notional
    out = acts(SlotBook("mm1"), P0, params=tiny)
    assert len(out) == 5 and all(isinstance(a, Skip) and "NOTIONAL" in a.reason for a in out)
    strict = SymbolRules(
        "BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), min_qty=Decimal("0.01")
    )
    assert all(
        isinstance(a, Skip) and "LOT_SIZE" in a.reason for a in acts(SlotBook("mm1"), P0, rules=strict)
    )


def test_reject_back_off_skips_the_level_until_it_expires() -> None:
    lv = BTC.price_to_ticks("100220")
    book, cid = submit(SlotBook("mm1"), Place(lv, Side.BUY, lv, 100))
    book, _ = reject(book, cid, now_ms=1_000, reason="post-only would cross")
    early = acts(book, P0, now=1_500)
    assert early[0] == Skip(lv, "buy in reject back-off until 2000")
    assert Place(lv, Side.BUY, lv, 100) in acts(book, P0, now=2_000)


def test_buy_never_at_or_above_a_working_sell() -> None:
    # a take-profit working at 100230 while a price spike moves the buy window up to it
    lv = BTC.price_to_ticks("100220")
    book = settle(buy_filled(SlotBook("mm1"), lv), P0, calm_risk())
    spike = BTC.price_to_ticks("100290")  # C = 100290: buy window 100240..100280
    sell = next(s for s in book if s.side is Side.SELL)
    assert sell.order_price == BTC.price_to_ticks("100240")
    out = acts(book, spike)
    assert not [a for a in out if isinstance(a, Place) and a.side is Side.BUY]
    skips = [a for a in out if isinstance(a, Skip)]
    assert len(skips) == 5 and all("below working sell" in a.reason for a in skips)
    assert Cancel(lv, sell.client_id, "trailing: price is below the grid center") in out


def test_quiet_band_bounds_for_a_settled_book() -> None:
    from market_maker.core.quiet import quiet_band

    book = settle(SlotBook("mm1"), P0, calm_risk())
    band = quiet_band(book, P0, IV, PARAMS, calm_risk(), BTC, 0)
    # center 100230 holds for prices in [100225.00, 100235.00); the highest buy (100220) is further away
    assert (band.lo, band.hi, band.until_ms) == (
        BTC.price_to_ticks("100224.99"),
        BTC.price_to_ticks("100235"),
        None,
    )
    # odd interval 999: center 10010 x 999 = 9_999_990 holds for [9_999_490.5, 10_000_489.5)
    odd = settle(SlotBook("mm1"), 10_000_000, calm_risk(), interval=999)
    band = quiet_band(odd, 10_000_000, 999, PARAMS, calm_risk(), BTC, 0)
    assert (band.lo, band.hi) == (9_999_490, 10_000_490)  # open bounds: 9_999_491 .. 10_000_489 are quiet


def test_skewed_window_never_places_a_buy_that_would_cross_the_price() -> None:
    # Short of the target inventory, the skew lifts the center above the price: the buy levels at or
    # above the price would be rejected by a post-only order, so they wait (visibly) for the price.
    params = GridParams(
        buy_window=5,
        sell_window=5,
        order_qty=100,
        max_inventory=1_000,
        skew_factor=Decimal("0.001"),
        target_inventory=1_000,
    )
    price = BTC.price_to_ticks("100000.00")
    out = acts(SlotBook("mm1"), price, params=params)
    buys = [a for a in out if isinstance(a, Place)]
    crossing = [a for a in out if isinstance(a, Skip) and a.resumes_above is not None]
    assert crossing, "the skew should have lifted some buy levels above the price"
    assert all(a.price < price for a in buys)
    assert all(a.level >= price and "cross" in a.reason for a in crossing)
    # once the price rises past a skipped level, that level's buy goes out
    lvl = min(a.level for a in crossing)
    later = acts(SlotBook("mm1"), lvl + 1, params=params)
    assert any(isinstance(a, Place) and a.level == lvl for a in later) or all(
        not (isinstance(a, Skip) and a.level == lvl and "cross" in a.reason) for a in later
    )


def test_skewed_window_never_places_a_sell_that_would_cross_the_price() -> None:
    # Far above the target, the skew lowers the center: a take-profit at or below the price waits.
    params = GridParams(
        buy_window=5,
        sell_window=5,
        order_qty=100,
        max_inventory=100,
        skew_factor=Decimal("0.001"),
        target_inventory=0,
    )
    lv = BTC.price_to_ticks("99890.00")  # take-profit 99900; skewed center 99900, window 99910..99950
    book = buy_filled(SlotBook("mm1"), lv)
    price = BTC.price_to_ticks("100000.00")
    out = acts(book, price, params=params)
    assert not any(isinstance(a, Place) and a.side is Side.SELL and a.price <= price for a in out)
    assert any(isinstance(a, Skip) and a.resumes_below is not None for a in out)
