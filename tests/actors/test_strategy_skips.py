"""The strategy logs a level's skip when its reason changes, not on every decision (nor when only the
back-off's end in it moves), and sends only the order actions."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest

from actors import wiring as w
from actors.latest import LatestBox
from actors.messages import Decisions
from actors.strategy import StrategyActor
from actors.wiring import Wiring
from market_maker.core.actions import Place, Skip
from market_maker.core.grid import GridParams
from market_maker.core.model import Side
from market_maker.core.params import TradingParams
from market_maker.core.risk import RiskParams, on_market_data, start_risk
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook, reject, submit

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"))
IV = 1000
PRICE = 10_000_000  # the centre: buys at 9 999 000, 9 998 000, 9 997 000


class Slots:
    """The slot manager's reference: keeps the Decisions."""

    def __init__(self) -> None:
        self.told: list[Decisions] = []

    def tell(self, message: Any) -> None:
        self.told.append(message)


def rejected(book: SlotBook, level: int, now_ms: int) -> SlotBook:
    """``book`` with the buy at ``level`` rejected at ``now_ms`` (in back-off for a while)."""
    book, cid = submit(book, Place(level, Side.BUY, level, 100))
    book, _ = reject(book, cid, now_ms, "post-only would cross")
    return book


def test_a_skip_is_logged_once_per_reason(caplog: pytest.LogCaptureFixture) -> None:
    wiring, slots = Wiring(), Slots()
    wiring.set(w.SLOTS, slots)
    params = TradingParams(RULES, GridParams(3, 3, 100, 10_000), RiskParams(), IV)
    risk = on_market_data(start_risk(params.risk), 0)
    far = 4_102_444_800_000  # 2100-01-01T00:00:00Z: back-offs that outlast the test
    book = rejected(SlotBook("t1"), PRICE - IV, far)
    actor = StrategyActor(wiring, LatestBox(), params, book, risk, IV)
    lines: list[str] = []

    def decide(price: int, book: SlotBook) -> Decisions:
        actor.price, actor.book, actor._in_flight_since = price, book, None
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="market_maker.strategy"):
            actor._decide()
        lines[:] = [r.getMessage() for r in caplog.records]
        return slots.told[-1]

    first = decide(PRICE, book)
    # prices, quantities and times as a person reads them, never ticks, steps or epoch numbers
    assert lines == ["skip level 99990.00: buy in reject back-off until 2100-01-01T00:00:01.000Z"]
    assert [a.level for a in first.actions if isinstance(a, Place)] == [PRICE - 2 * IV, PRICE - 3 * IV]
    decide(PRICE + 1, book)  # same skip, same reason: not logged again
    assert lines == []
    decide(PRICE + 2, rejected(book, PRICE - IV, far + 5))  # only the back-off's end moved
    assert lines == []
    decide(PRICE + 3, SlotBook("t1"))  # the skip is gone ...
    assert lines == []
    decide(PRICE + 4, book)  # ... and back: logged again
    assert len(lines) == 1


def test_a_skip_reason_shows_prices_and_quantities_not_ticks() -> None:
    params = TradingParams(RULES, GridParams(3, 3, 100, 10_000), RiskParams(), IV)
    risk = on_market_data(start_risk(params.risk), 0)
    actor = StrategyActor(Wiring(), LatestBox(), params, SlotBook("t1"), risk, IV)
    sell = Skip(PRICE, "buy would not stay below working sell {:price}", args=(PRICE + IV,))
    assert sell.text(actor._shown) == "buy would not stay below working sell 100010.00"
    cap = Skip(PRICE, "max inventory: {:qty} left, order needs {:qty}", args=(50, 100))
    assert cap.text(actor._shown) == "max inventory: 0.00050 left, order needs 0.00100"
    assert cap.reason == "max inventory: 50 steps left, order needs 100 steps"  # the core's own view
