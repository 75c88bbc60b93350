"""A working take-profit stays put while the price comes to it: it fills at level + I on a price that
moves a tick at a time (as live ticks do), and the trailing rule never cancels a sell that lies within
one interval above the price (unless skew lifts the center above the price)."""

from __future__ import annotations

import random
from decimal import Decimal

from core_fixtures import BTC, IV, PARAMS, calm_risk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from market_maker.core.actions import Cancel, Place
from market_maker.core.fills import apply_fill, cancelled
from market_maker.core.grid import GridParams, center
from market_maker.core.model import Fill, Side
from market_maker.core.slots import SlotBook, ack, request_cancel, submit
from market_maker.core.strategy import calculate_actions

START = 10_000_000  # 100000.00


class Walk:
    """A book traded over a price path: fills when the price goes through an order, then the strategy."""

    def __init__(self, params: GridParams, interval: int = IV) -> None:
        self.book = SlotBook("tp1")
        self.params = params
        self.interval = interval
        self.trade = 0
        self.sells_closed: list[tuple[int, int, int]] = []  # (level, price, tp_price)

    def fill_crossed(self, price: int, now: int) -> None:
        for s in [s for s in self.book if s.working and s.state.value == "LOCKED"]:
            through = price < s.order_price if s.side is Side.BUY else price > s.order_price
            if not through:
                continue
            self.trade += 1
            qty = s.order_qty - s.order_filled
            if s.side is Side.SELL:
                self.sells_closed.append((s.level, s.order_price, s.tp_price))
            cid, side = s.client_id, s.side
            f = Fill(self.trade, cid, side, s.order_price, qty, s.order_qty, Decimal(0), "USDT", now)
            self.book, _ = apply_fill(self.book, f, BTC, self.interval)

    def decide(self, price: int, now: int) -> list[Cancel]:
        """Carry out the strategy's actions at ``price``; the cancels it asked for."""
        asked: list[Cancel] = []
        for _ in range(10):
            acts = calculate_actions(price, self.interval, self.book, calm_risk(), self.params, BTC, now)
            orders = [a for a in acts if isinstance(a, Place | Cancel)]
            if not orders:
                return asked
            for a in orders:
                if isinstance(a, Place):
                    self.book, cid = submit(self.book, a)
                    self.book = ack(self.book, cid)
                else:
                    asked.append(a)
                    self.book = request_cancel(self.book, a.client_id)
                    s = self.book.find(a.client_id)
                    assert s is not None
                    self.book, _ = cancelled(self.book, a.client_id, s.order_filled, BTC, self.interval, now)
        raise AssertionError("the strategy did not settle")


def test_a_take_profit_fills_at_level_plus_interval_when_the_price_creeps_up_to_it() -> None:
    w = Walk(PARAMS)
    price, now = START, 0
    w.decide(price, now)
    for _ in range(3 * IV):  # down three intervals, one tick at a time: three buys fill
        price -= 1
        now += 1
        w.fill_crossed(price, now)
        w.decide(price, now)
    bought = sorted(s.level for s in w.book if s.held)
    assert len(bought) >= 2
    for _ in range(4 * IV):  # and back up, one tick at a time
        price += 1
        now += 1
        w.fill_crossed(price, now)
        w.decide(price, now)
    closed = {lv: (p, tp) for lv, p, tp in w.sells_closed}
    for lv in bought:
        assert closed[lv] == (lv + IV, lv + IV), "the take-profit ran away from the price"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 6),
    st.integers(1, 6),
    st.sampled_from([Decimal(0), Decimal("0.0005"), Decimal("0.01")]),
    st.integers(0, 400),
    st.sampled_from([2, 7, 50, 500]),
    st.integers(0, 2**32),
)
def test_no_sell_within_one_interval_above_the_price_is_cancelled_by_trailing(
    bw: int, sw: int, skew: Decimal, target: int, jump: int, seed: int
) -> None:
    params = GridParams(bw, sw, 100, 2000, skew_factor=skew, target_inventory=target)
    w = Walk(params)
    rng = random.Random(seed)
    price, now = START, 0
    for _ in range(400):
        price = max(START // 2, price + rng.randint(-jump, jump))
        now += 1000
        w.fill_crossed(price, now)
        before = {s.client_id: s for s in w.book if s.working}
        skew_lifts = center(price, IV, w.book.held_total, params) > price + IV // 2
        for c in w.decide(price, now):
            s = before.get(c.client_id)
            if s is None or s.side is not Side.SELL or skew_lifts:
                continue
            assert not price < s.order_price <= price + IV, (price, s.order_price, c.reason)
