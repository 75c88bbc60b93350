"""Actor reports fed into the ops service (metrics, health, alerts), and the ``/status`` input built
from them.

Alerts fire on transitions only: the breaker going from clear to tripped (``breaker_trip``), a risk
trigger appearing (``risk_trigger``, once per new set of reasons), and a reconnect storm (counted by
:meth:`OpsService.stream_reconnected`). The notifier rate-limits each kind on top of that.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable
from decimal import Decimal

from actors.messages import Status
from actors.observer import Observer
from market_maker.config import Config
from market_maker.core.atr import SCALE
from market_maker.core.risk import RiskState, drawdown_pct
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook
from market_maker.ops.alerts import AlertKind
from market_maker.ops.service import OpsService
from market_maker.ops.status_doc import FillRow, StatusInput, ladder_from_book, slot_counts


class OpsObserver(Observer):
    """Turns actor reports into metric updates and stream-health ticks (all calls return at once)."""

    def __init__(self, ops: OpsService, exchange: object = None) -> None:
        self.ops = ops
        self.exchange = exchange  # its rate limiter feeds the rate-limit gauges at scrape time
        self.rules: SymbolRules | None = None
        self.started = time.monotonic()
        self.foreign = 0
        # the last values seen, for /status (plain stores: read by the HTTP thread, written by actors)
        self.counts = {"placed": 0, "cancelled": 0, "rejected": 0, "expired": 0, "fills": 0}
        self.atr: Decimal | None = None
        self.equity: Decimal | None = None
        self.drawdown: Decimal | None = None
        self.drift: Decimal | None = None
        self.last_fills: deque[FillRow] = deque(maxlen=10)
        ops.metrics.on_scrape(self._refresh_rate_limit)
        ops.metrics.on_scrape(self._refresh_symbol_status)
        self._halt_reason = ""  # the breaker's reason last seen ("" while clear)
        self._reasons: tuple[str, ...] = ()  # the risk triggers last seen

    def bind(self, rules: SymbolRules) -> None:
        self.rules = rules

    def _price(self, ticks: int) -> Decimal | None:
        return self.rules.ticks_to_price(ticks) if self.rules is not None and ticks else None

    def market_data(self, price: int) -> None:
        self.ops.health.stream_message("market")
        self.ops.metrics.stream_message("market")
        self.ops.metrics.set_price(self._price(price))

    def market_data_dropped(self) -> None:
        self.ops.metrics.market_data_dropped.inc()

    def stream(self, name: str, connected: bool, reconnect: bool) -> None:
        if connected:
            self.ops.health.stream_message(name)
        if connected and reconnect:
            self.ops.stream_reconnected(name)

    def user_event(self) -> None:
        self.ops.metrics.stream_message("user")

    def order_placed(self) -> None:
        self.counts["placed"] += 1
        self.ops.metrics.order_placed()

    def order_sent(self, kind: str, origin_ns: int, sent_ns: int) -> None:
        self.ops.metrics.observe_latency((sent_ns - origin_ns) / 1e9)

    def order_cancelled(self, reason: str) -> None:
        self.counts["cancelled"] += 1
        self.ops.metrics.order_cancelled(reason)

    def order_expired(self, reason: str) -> None:
        self.counts["expired"] += 1
        self.ops.metrics.order_expired(reason)

    def order_rejected(self, reason: str) -> None:
        self.counts["rejected"] += 1
        self.ops.metrics.order_rejected(reason.split(":")[0][:40])

    def fill(
        self, side: str, price: Decimal | None = None, qty: Decimal | None = None, trade_id: int = 0
    ) -> None:
        self.counts["fills"] += 1
        self.ops.metrics.fill(side)
        if price is not None and qty is not None:  # newest first, for the dashboard's last fills
            self.last_fills.appendleft(FillRow(int(time.time() * 1000), side, price, qty, trade_id))

    def round_trip(self) -> None:
        self.ops.metrics.round_trip()

    def reconciled(self, ok: bool, error: str = "", drift: Decimal | None = None, foreign: int = 0) -> None:
        self.foreign = foreign if ok else self.foreign
        self.drift = drift if ok else self.drift
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
        unrealized = book.unrealized_pnl(price, self.rules) if price else Decimal(0)
        m.set_pnl(realized, unrealized, fees)
        self.ops.history.add(realized, unrealized, fees)
        m.set_open_orders(sum(1 for s in book if s.working), self.foreign)

    def risk(self, state: RiskState, equity: Decimal | None = None) -> None:
        m = self.ops.metrics
        m.set_risk(state.triggered, state.halted)
        if self.rules is not None:
            ready = state.atr.ready
            self.atr = self.rules.ticks_to_price(1) * state.atr.scaled / SCALE if ready else None
            m.set_atr(self.atr)
        if equity is not None and state.equity_peak is not None:
            self.equity, self.drawdown = equity, drawdown_pct(state.equity_peak, equity)
            m.set_equity(equity, self.drawdown)
        self._alert_transitions(state)

    def rate_limit(self) -> tuple[int, int] | None:
        """(weight used this minute, limit) from the connector, or None when unknown."""
        return rate_limit_of(self.exchange)

    def _refresh_rate_limit(self) -> None:
        weight = self.rate_limit()
        if weight is not None:
            self.ops.metrics.set_rate_limit(*weight)

    def _refresh_symbol_status(self) -> None:
        status = symbol_status_of(self.exchange)
        if status is not None:
            self.ops.metrics.set_symbol_status(status, int(getattr(self.exchange, "rest_fallbacks", 0)))

    def _alert_transitions(self, state: RiskState) -> None:
        """A breaker that just tripped, or a risk trigger that just appeared: one alert each."""
        if state.halt_reason and state.halt_reason != self._halt_reason:
            self.ops.alert(
                AlertKind.BREAKER_TRIP,
                f"circuit breaker tripped: {state.halt_reason} (no new orders)",
                reason=state.halt_reason,
                losses=state.consecutive_losses,
                until_ms=state.halted_until_ms or None,
            )
        self._halt_reason = state.halt_reason
        new = tuple(r for r in state.reasons if r not in self._reasons)
        if new:
            self.ops.alert(
                AlertKind.RISK_TRIGGER,
                f"risk triggered: {', '.join(state.reasons)} (buys cancelled, no new buys)",
                reasons=list(state.reasons),
            )
        self._reasons = state.reasons


def rate_limit_of(exchange: object) -> tuple[int, int] | None:
    """(request weight used this minute, the minute's limit) from the connector's rate limiter, or
    None when the connector has none or the exchange announced no per-minute weight limit yet."""
    limiter = getattr(getattr(exchange, "rest", None), "limiter", None)
    if limiter is None:
        return None
    limit = limiter.limit("weight", 60)
    return (limiter.used("weight", 60), limit) if limit else None


def symbol_status_of(exchange: object) -> str | None:
    """The symbol's exchange status as the connector last read it (TRADING, CANCEL_ONLY, BREAK, ...)."""
    status = getattr(exchange, "symbol_status", None)
    return status if isinstance(status, str) else None


def status_input(
    config: Config,
    status: Callable[[], Status | None],
    rules: Callable[[], SymbolRules | None],
    observer: OpsObserver,
) -> StatusInput:
    """``/status`` from the slot manager's answer (asked with a timeout) and what the observer saw;
    a bare document if the slot manager is silent."""
    now = int(time.time() * 1000)
    ex = config.exchange
    weight = observer.rate_limit()
    o = observer
    base = StatusInput(
        config.bot.id,
        config.trading.symbol,
        ex.market.value,
        ex.venue,
        now,
        atr=o.atr,
        equity=o.equity,
        drawdown_pct=o.drawdown,
        reconcile_drift=o.drift,
        open_orders_foreign=o.foreign,
        orders_placed=o.counts["placed"],
        orders_cancelled=o.counts["cancelled"],
        orders_rejected=o.counts["rejected"],
        orders_expired=o.counts["expired"],
        symbol_status=symbol_status_of(o.exchange),
        order_transport=str(getattr(o.exchange, "order_transport", "rest")),
        fills=o.counts["fills"],
        rate_limit_used=weight[0] if weight else None,
        rate_limit_limit=weight[1] if weight else None,
        uptime_s=round(time.monotonic() - o.started, 3),
        last_fills=tuple(o.last_fills),
    )
    st, r = status(), rules()
    if st is None or r is None:
        return base
    book = st.book
    risk = st.risk
    # the clock read after the slot manager answered: an order sent while it was asked is age 0, not negative
    answered = int(time.time() * 1000)
    return dataclasses.replace(
        base,
        price=r.ticks_to_price(st.price) if st.price else None,
        center=r.ticks_to_price(st.center) if st.center else None,
        interval=r.ticks_to_price(st.interval) if st.interval else None,
        slots=slot_counts(book),
        ladder=ladder_from_book(book, r, st.price or None, placed_at_ms=st.sent_ms, now_ms=answered),
        position=book.position(r),
        realized_pnl=st.realized,
        unrealized_pnl=book.unrealized_pnl(st.price, r) if st.price else Decimal(0),
        fees=st.fees,
        round_trips=st.round_trips,
        equity_peak=risk.equity_peak if risk is not None else None,
        paused=bool(risk and risk.paused),
        risk_triggered=bool(risk and risk.triggered),
        risk_reasons=risk.reasons if risk is not None else (),
        breaker_tripped=st.halted,
        breaker_reason=risk.halt_reason if risk is not None else "",
        breaker_until_ms=(risk.halted_until_ms or None) if risk is not None else None,
        open_orders_own=st.open_orders,
    )
