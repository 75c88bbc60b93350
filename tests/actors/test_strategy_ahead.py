"""The strategy decides the neighbouring centers ahead only off the tick-to-order path: after a decision
that no price tick started, and only while no price waits in the box."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from actors import wiring as w
from actors.latest import LatestBox
from actors.messages import Decisions
from actors.strategy import StrategyActor
from actors.wiring import Wiring
from market_maker.core.actions import Place
from market_maker.core.grid import GridParams
from market_maker.core.model import Side
from market_maker.core.params import TradingParams
from market_maker.core.risk import RiskParams, on_market_data, start_risk
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook, ack, submit

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"))
IV = 1000
PRICE = 10_000_000


class Slots:
    """The slot manager's reference: keeps the Decisions."""

    def __init__(self) -> None:
        self.told: list[Decisions] = []

    def tell(self, message: Any) -> None:
        self.told.append(message)


def strategy() -> tuple[StrategyActor, Slots, LatestBox[tuple[int, int]]]:
    wiring, slots = Wiring(), Slots()
    wiring.set(w.SLOTS, slots)
    params = TradingParams(RULES, GridParams(3, 3, 100, 10_000), RiskParams(), IV)
    box: LatestBox[tuple[int, int]] = LatestBox()
    actor = StrategyActor(wiring, box, params, SlotBook("t1"), on_market_data(start_risk(params.risk), 0), IV)
    return actor, slots, box


def decide(actor: StrategyActor, price: int, origin_ns: int = 0) -> None:
    actor.price, actor._in_flight_since = price, None  # the slot manager took the last one
    actor._decide(origin_ns, (origin_ns,) if origin_ns else ())


def with_buy(book: SlotBook, level: int) -> SlotBook:
    book, cid = submit(book, Place(level, Side.BUY, level, 100))
    return ack(book, cid)


def test_a_book_change_decides_the_next_centers_ahead_and_the_tick_is_a_look_up() -> None:
    actor, slots, _ = strategy()
    actor.book = with_buy(SlotBook("t1"), PRICE - IV)
    decide(actor, PRICE)  # the book arrived: not a price tick
    decide(actor, PRICE + IV, origin_ns=5)  # the price rises one level
    assert actor._memo.hits == 1
    tick = slots.told[-1]
    assert tick.origin_ns == 5 and Place(PRICE, Side.BUY, PRICE, 100) in tick.actions
    decide(actor, PRICE + 2 * IV, origin_ns=6)  # a tick's own decision looked nothing ahead
    assert actor._memo.hits == 1


def test_nothing_is_decided_ahead_while_a_price_waits() -> None:
    actor, _, box = strategy()
    actor.book = with_buy(SlotBook("t1"), PRICE - IV)
    box.put((PRICE + IV, 7))
    decide(actor, PRICE)
    decide(actor, PRICE + IV, origin_ns=7)
    assert actor._memo.hits == 0
