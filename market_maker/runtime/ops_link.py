"""Actor reports fed into the ops service (metrics, health), and the ``/status`` input built from them."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

from actors.messages import Status
from actors.observer import Observer
from market_maker.config import Config
from market_maker.core.risk import RiskState
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook
from market_maker.ops.service import OpsService
from market_maker.ops.status_doc import StatusInput, ladder_from_book, slot_counts


class OpsObserver(Observer):
    """Turns actor reports into metric updates and stream-health ticks (all calls return at once)."""

    def __init__(self, ops: OpsService) -> None:
        self.ops = ops
        self.rules: SymbolRules | None = None
        self.foreign = 0

    def bind(self, rules: SymbolRules) -> None:
        self.rules = rules

    def _price(self, ticks: int) -> Decimal | None:
        return self.rules.ticks_to_price(ticks) if self.rules is not None and ticks else None

    def market_data(self, price: int) -> None:
        self.ops.health.stream_message("market")
        self.ops.metrics.stream_message("market")
        self.ops.metrics.set_price(self._price(price))

    def stream(self, name: str, connected: bool, reconnect: bool) -> None:
        if connected:
            self.ops.health.stream_message(name)
        if connected and reconnect:
            self.ops.stream_reconnected(name)

    def user_event(self) -> None:
        self.ops.metrics.stream_message("user")

    def order_placed(self) -> None:
        self.ops.metrics.order_placed()

    def order_sent(self, kind: str, origin_ns: int, sent_ns: int) -> None:
        self.ops.metrics.observe_latency((sent_ns - origin_ns) / 1e9)

    def order_cancelled(self, reason: str) -> None:
        self.ops.metrics.order_cancelled(reason)

    def order_rejected(self, reason: str) -> None:
        self.ops.metrics.order_rejected(reason.split(":")[0][:40])

    def fill(self, side: str) -> None:
        self.ops.metrics.fill(side)

    def round_trip(self) -> None:
        self.ops.metrics.round_trip()

    def reconciled(self, ok: bool, error: str = "", drift: Decimal | None = None, foreign: int = 0) -> None:
        self.foreign = foreign if ok else self.foreign
        self.ops.reconcile_done(ok, error, drift)

    def book(
        self, book: SlotBook, price: int, center: int, interval: int, realized: Decimal, fees: Decimal
    ) -> None:
        if self.rules is None:
            return
        m = self.ops.metrics
        m.set_grid(self._price(center), self._price(interval))
        m.set_slots(slot_counts(book))
        m.set_position(book.position(self.rules))
        m.set_pnl(realized, book.unrealized_pnl(price, self.rules) if price else Decimal(0), fees)
        m.set_open_orders(sum(1 for s in book if s.working), self.foreign)

    def risk(self, state: RiskState, equity: Decimal | None = None) -> None:
        self.ops.metrics.set_risk(state.triggered, state.halted)


def status_input(
    config: Config, status: Callable[[], Status | None], rules: Callable[[], SymbolRules | None], foreign: int
) -> StatusInput:
    """``/status`` from the slot manager's answer (asked with a timeout); a bare document if it is silent."""
    now = int(time.time() * 1000)
    ex = config.exchange
    base = StatusInput(config.bot.id, config.trading.symbol, ex.market.value, ex.venue, now)
    st, r = status(), rules()
    if st is None or r is None:
        return base
    book = st.book
    risk = st.risk
    peak = risk.equity_peak if risk is not None else None
    return StatusInput(
        config.bot.id,
        config.trading.symbol,
        ex.market.value,
        ex.venue,
        now,
        price=r.ticks_to_price(st.price) if st.price else None,
        center=r.ticks_to_price(st.center) if st.center else None,
        interval=r.ticks_to_price(st.interval) if st.interval else None,
        slots=slot_counts(book),
        ladder=ladder_from_book(book, r, st.price or None, now_ms=now),
        position=book.position(r),
        realized_pnl=st.realized,
        unrealized_pnl=book.unrealized_pnl(st.price, r) if st.price else Decimal(0),
        fees=st.fees,
        round_trips=st.round_trips,
        equity_peak=peak,
        paused=bool(risk and risk.paused),
        risk_triggered=bool(risk and risk.triggered),
        risk_reasons=risk.reasons if risk is not None else (),
        breaker_tripped=st.halted,
        breaker_reason=risk.halt_reason if risk is not None else "",
        breaker_until_ms=(risk.halted_until_ms or None) if risk is not None else None,
        open_orders_own=st.open_orders,
        open_orders_foreign=foreign,
    )
