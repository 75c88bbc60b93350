"""Prometheus metrics of one bot: :class:`BotMetrics` owns its registry, the bot calls its setters.

Every metric is prefixed ``mm_``; the list (with units) is in docs/operations.md. Money values are
exported as floats: metrics are for humans and dashboards, never for accounting. Label values that
come from the bot (cancel/reject reasons) are normalised and capped so a bug cannot explode the
series count.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from market_maker.core.model import SlotState

# 50 us .. 100 ms, roughly 1-2.5-5 per decade: tick-to-order is in-process work plus one actor hop.
LATENCY_BUCKETS = (
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
)
MAX_REASONS = 32  # distinct reason label values per counter; the rest are counted as "other"
_REASON_RE = re.compile(r"[^a-z0-9_]+")
Number = Decimal | int | float


def _num(value: Number | None) -> float:
    return float("nan") if value is None else float(value)


def _reason(text: str) -> str:
    cleaned = _REASON_RE.sub("_", text.strip().lower()).strip("_")[:40]
    return cleaned or "unknown"


class _StalenessCollector(Collector):
    """``mm_stream_staleness_seconds{stream}`` computed at scrape time from the last message times."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def seen(self, stream: str, at: float) -> None:
        with self._lock:
            self._last[stream] = at

    def staleness(self) -> dict[str, float]:
        now = self._clock()
        with self._lock:
            return {name: max(0.0, now - at) for name, at in self._last.items()}

    def collect(self) -> list[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "mm_stream_staleness_seconds",
            "Seconds since the last message on each stream",
            labels=["stream"],
        )
        for name, age in sorted(self.staleness().items()):
            family.add_metric([name], age)
        return [family]


class BotMetrics:
    """Every metric issue 8 lists, in a private :class:`CollectorRegistry`.

    Thread-safe: setters may be called from any actor thread while the HTTP thread renders.
    ``clock`` (monotonic seconds) is injectable for tests.
    """

    def __init__(
        self,
        bot_id: str,
        symbol: str,
        market: str,
        venue: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._clock = clock
        self._lock = threading.Lock()
        info = Info("mm_bot", "Which bot this is", registry=r)
        info.info({"bot": bot_id, "symbol": symbol, "market": market, "venue": venue})

        self.price = Gauge("mm_price", "Last market price (mid), quote currency", registry=r)
        self.center = Gauge("mm_center", "Grid center price", registry=r)
        self.interval = Gauge("mm_interval", "Effective grid interval, quote currency", registry=r)
        self.atr = Gauge("mm_atr", "Average true range, quote currency", registry=r)
        self.slots = Gauge("mm_slots", "Grid slots by state", ["state"], registry=r)
        for state in SlotState:
            self.slots.labels(state.value).set(0)
        self.position = Gauge("mm_position", "Position in the base asset", registry=r)
        self.realized_pnl = Gauge("mm_realized_pnl", "Realized PnL, quote, before fees", registry=r)
        self.unrealized_pnl = Gauge("mm_unrealized_pnl", "Unrealized PnL at the last price", registry=r)
        self.fees = Gauge("mm_fees", "Fees paid, in quote", registry=r)
        self.equity = Gauge("mm_equity", "Account equity, in quote", registry=r)
        self.drawdown = Gauge("mm_drawdown_pct", "Drawdown from the equity peak, percent", registry=r)
        self.open_orders = Gauge("mm_open_orders", "Open orders on the exchange", ["owner"], registry=r)
        self.open_orders.labels("own").set(0)
        self.open_orders.labels("foreign").set(0)

        self.placed = Counter("mm_orders_placed", "Orders placed (accepted or unknown)", registry=r)
        self.cancelled = Counter("mm_orders_cancelled", "Orders cancelled, by reason", ["reason"], registry=r)
        self.rejected = Counter("mm_orders_rejected", "Orders rejected, by reason", ["reason"], registry=r)
        self.expired = Counter(
            "mm_orders_expired", "Orders the exchange expired, by reason (STP, eR)", ["reason"], registry=r
        )
        self.symbol_status = Gauge(
            "mm_symbol_status",
            "1 for the symbol's exchange status (TRADING, CANCEL_ONLY, ...)",
            ["status"],
            registry=r,
        )
        self.placing = Gauge("mm_placing", "1 while the symbol's status takes new orders", registry=r)
        self.rest_fallbacks = Gauge(
            "mm_order_rest_fallbacks", "Orders sent over REST because the order socket was down", registry=r
        )
        self.fills = Counter("mm_fills", "Fills of our orders, by side", ["side"], registry=r)
        self.fills.labels("BUY")
        self.fills.labels("SELL")
        self.round_trips = Counter("mm_round_trips", "Closed round trips (buy then sell)", registry=r)
        self.cancel_place_ratio = Gauge(
            "mm_cancel_place_ratio", "Orders cancelled per order placed, since start", registry=r
        )
        self.reconcile_drift = Gauge(
            "mm_reconcile_drift", "Position drift found by the last reconcile, base asset", registry=r
        )
        self.reconcile_ok = Gauge("mm_reconcile_ok", "1 if the last reconcile succeeded", registry=r)
        self.reconcile_time = Gauge(
            "mm_reconcile_last_timestamp_seconds", "Unix time of the last reconcile", registry=r
        )
        self.reconnects = Counter("mm_stream_reconnects", "Stream reconnects", ["stream"], registry=r)
        self.market_data_dropped = Counter(
            "mm_market_data_dropped",
            "Market-data frames dropped: unreadable, crossed, off the tick or price filter, or too far"
            " from the last trusted price",
            registry=r,
        )
        self.headroom = Gauge(
            "mm_rate_limit_headroom_ratio",
            "Share of the request-weight limit still unused (0..1)",
            registry=r,
        )
        self.used_weight = Gauge("mm_rate_limit_used_weight", "Request weight used this minute", registry=r)
        self.risk_triggered = Gauge("mm_risk_triggered", "1 while a risk trigger blocks new buys", registry=r)
        self.breaker_tripped = Gauge(
            "mm_breaker_tripped", "1 while the circuit breaker halts orders", registry=r
        )
        self.latency = Histogram(
            "mm_tick_to_order_latency_seconds",
            "From a price tick to the order request leaving the bot",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._staleness = _StalenessCollector(clock)
        r.register(self._staleness)
        self._reasons: dict[str, set[str]] = {"cancel": set(), "reject": set(), "expire": set()}
        self._statuses: set[str] = set()  # symbol-status labels ever set (the old ones go back to 0)
        self._placed_n = 0
        self._cancelled_n = 0
        self._refreshers: list[Callable[[], None]] = []
        for g in (self.price, self.center, self.interval, self.atr, self.reconcile_drift):
            g.set(float("nan"))

    # --- market and grid ----------------------------------------------------------------------------

    def set_price(self, price: Number | None) -> None:
        """The last market price (None: unknown yet)."""
        self.price.set(_num(price))

    def set_grid(self, center: Number | None, interval: Number | None) -> None:
        """The grid's center and effective interval, in quote currency."""
        self.center.set(_num(center))
        self.interval.set(_num(interval))

    def set_atr(self, atr: Number | None) -> None:
        """The current ATR (None while warming up)."""
        self.atr.set(_num(atr))

    def set_slots(self, counts: Mapping[str, int]) -> None:
        """Slots by state name (FREE/PENDING/LOCKED/FILLED); states not given are set to 0."""
        for state in SlotState:
            self.slots.labels(state.value).set(int(counts.get(state.value, 0)))

    # --- money --------------------------------------------------------------------------------------

    def set_position(self, qty: Number) -> None:
        """Position in the base asset."""
        self.position.set(_num(qty))

    def set_pnl(self, realized: Number, unrealized: Number, fees: Number) -> None:
        """Realized PnL (before fees), unrealized PnL at the last price, and fees paid, all in quote."""
        self.realized_pnl.set(_num(realized))
        self.unrealized_pnl.set(_num(unrealized))
        self.fees.set(_num(fees))

    def set_equity(self, equity: Number, drawdown_pct: Number) -> None:
        """Account equity in quote and the drawdown from its peak in percent."""
        self.equity.set(_num(equity))
        self.drawdown.set(_num(drawdown_pct))

    # --- orders -------------------------------------------------------------------------------------

    def order_placed(self) -> None:
        """One order request went out (accepted or with an unknown outcome)."""
        self.placed.inc()
        with self._lock:
            self._placed_n += 1
            self._update_ratio()

    def order_cancelled(self, reason: str) -> None:
        """One of our orders was cancelled; ``reason`` e.g. trailing, risk, stale, shutdown, manual."""
        self.cancelled.labels(self._label("cancel", reason)).inc()
        with self._lock:
            self._cancelled_n += 1
            self._update_ratio()

    def order_rejected(self, reason: str) -> None:
        """An order was definitely rejected; ``reason`` e.g. post_only, filter, balance, rate_limit."""
        self.rejected.labels(self._label("reject", reason)).inc()

    def order_expired(self, reason: str) -> None:
        """The exchange expired one of our orders; ``reason`` STP or Binance's eR (not an error)."""
        self.expired.labels(self._label("expire", reason)).inc()

    def set_symbol_status(self, status: str, fallbacks: int) -> None:
        """The symbol's exchange status (one label at 1, the last one seen) and REST fallbacks."""
        label = _reason(status)
        with self._lock:
            for old in self._statuses - {label}:
                self.symbol_status.labels(old).set(0)
            self._statuses.add(label)
        self.symbol_status.labels(label).set(1)
        self.placing.set(1 if status == "TRADING" else 0)
        self.rest_fallbacks.set(fallbacks)

    def fill(self, side: str) -> None:
        """One fill (trade) of one of our orders; ``side`` BUY or SELL."""
        self.fills.labels("BUY" if str(side).upper() == "BUY" else "SELL").inc()

    def round_trip(self) -> None:
        """A buy-then-sell round trip closed."""
        self.round_trips.inc()

    def set_open_orders(self, own: int, foreign: int) -> None:
        """Open orders on the exchange: ours and foreign (never touched, only counted)."""
        self.open_orders.labels("own").set(own)
        self.open_orders.labels("foreign").set(foreign)

    def observe_latency(self, seconds: float) -> None:
        """Tick-to-order latency of one order, in seconds."""
        self.latency.observe(seconds)

    # --- health -------------------------------------------------------------------------------------

    def stream_message(self, stream: str, at: float | None = None) -> None:
        """A message arrived on ``stream`` ("market" or "user"); staleness is computed at scrape time."""
        self._staleness.seen(stream, self._clock() if at is None else at)

    def stream_reconnected(self, stream: str) -> None:
        """``stream`` reconnected."""
        self.reconnects.labels(_reason(stream)).inc()

    def set_reconcile(self, ok: bool, drift: Number | None, at_unix_s: float) -> None:
        """Result of a reconcile: success, position drift found (base asset), when (Unix seconds)."""
        self.reconcile_ok.set(1 if ok else 0)
        self.reconcile_drift.set(_num(drift))
        self.reconcile_time.set(at_unix_s)

    def set_rate_limit(self, used_weight: int, limit: int) -> None:
        """Request weight used in the current minute against the exchange's limit."""
        self.used_weight.set(used_weight)
        self.headroom.set(max(0.0, 1 - used_weight / limit) if limit > 0 else float("nan"))

    def set_risk(self, triggered: bool, breaker_tripped: bool) -> None:
        """Risk trigger (new buys blocked) and circuit breaker (all new orders halted) states."""
        self.risk_triggered.set(1 if triggered else 0)
        self.breaker_tripped.set(1 if breaker_tripped else 0)

    # --- output -------------------------------------------------------------------------------------

    def on_scrape(self, refresh: Callable[[], None]) -> None:
        """Call ``refresh`` before each render (for values read from elsewhere, e.g. rate-limit weight)."""
        self._refreshers.append(refresh)

    def render(self) -> bytes:
        """Every metric in the Prometheus text exposition format (scrape hooks run first)."""
        for refresh in self._refreshers:
            try:
                refresh()
            except Exception:  # a broken hook must not take the whole page down
                logging.getLogger(__name__).exception("metrics scrape hook failed")
        return generate_latest(self.registry)

    def _label(self, kind: str, reason: str) -> str:
        label = _reason(reason)
        with self._lock:
            seen = self._reasons[kind]
            if label not in seen:
                if len(seen) >= MAX_REASONS:
                    return "other"
                seen.add(label)
        return label

    def _update_ratio(self) -> None:
        if self._placed_n:
            self.cancel_place_ratio.set(self._cancelled_n / self._placed_n)
