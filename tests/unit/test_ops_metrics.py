"""BotMetrics: what a Prometheus scrape of the bot shows, parsed with prometheus-client's own parser."""

from __future__ import annotations

import math
from decimal import Decimal

from prometheus_client.parser import text_string_to_metric_families

from market_maker.ops.metrics import MAX_REASONS, BotMetrics


def samples(m: BotMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(m.render().decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(m: BotMetrics, name: str, **labels: str) -> float:
    return samples(m)[(name, tuple(sorted(labels.items())))]


def test_every_listed_metric_is_exported() -> None:
    names = {
        f.name
        for f in text_string_to_metric_families(BotMetrics("b1", "BTCUSDT", "spot", "sim").render().decode())
    }
    for name in (
        "mm_bot_info",
        "mm_price",
        "mm_center",
        "mm_interval",
        "mm_atr",
        "mm_slots",
        "mm_position",
        "mm_realized_pnl",
        "mm_unrealized_pnl",
        "mm_fees",
        "mm_equity",
        "mm_drawdown_pct",
        "mm_orders_placed",
        "mm_orders_cancelled",
        "mm_orders_rejected",
        "mm_fills",
        "mm_cancel_place_ratio",
        "mm_reconcile_drift",
        "mm_stream_staleness_seconds",
        "mm_rate_limit_headroom_ratio",
        "mm_risk_triggered",
        "mm_breaker_tripped",
        "mm_tick_to_order_latency_seconds",
        "mm_open_orders",
    ):
        assert name in names, name


def test_values_and_labels() -> None:
    m = BotMetrics("b1", "BTCUSDT", "spot", "sim")
    assert math.isnan(value(m, "mm_price"))  # unknown until the first tick, not a fake zero
    m.set_price(Decimal("100123.45"))
    m.set_grid(Decimal("100120"), Decimal("10"))
    m.set_slots({"LOCKED": 5, "FILLED": 2})
    m.set_pnl(Decimal("1.5"), Decimal("-0.25"), Decimal("0.2"))
    m.set_risk(True, False)
    assert value(m, "mm_price") == 100123.45
    assert value(m, "mm_interval") == 10
    assert value(m, "mm_slots", state="LOCKED") == 5
    assert value(m, "mm_slots", state="FREE") == 0
    assert value(m, "mm_unrealized_pnl") == -0.25
    assert value(m, "mm_risk_triggered") == 1
    assert value(m, "mm_breaker_tripped") == 0
    assert value(m, "mm_bot_info", bot="b1", symbol="BTCUSDT", market="spot", venue="sim") == 1


def test_order_counters_and_cancel_place_ratio() -> None:
    m = BotMetrics("b1", "BTCUSDT", "spot", "sim")
    for _ in range(4):
        m.order_placed()
    m.order_cancelled("trailing")
    m.order_cancelled("Trailing ")
    m.order_cancelled("risk")
    m.order_rejected("post-only would cross")
    m.fill("BUY")
    assert value(m, "mm_orders_placed_total") == 4
    assert value(m, "mm_orders_cancelled_total", reason="trailing") == 2
    assert value(m, "mm_orders_rejected_total", reason="post_only_would_cross") == 1
    assert value(m, "mm_fills_total", side="BUY") == 1
    assert value(m, "mm_cancel_place_ratio") == 0.75


def test_reason_labels_are_capped() -> None:
    m = BotMetrics("b1", "BTCUSDT", "spot", "sim")
    for i in range(MAX_REASONS + 10):
        m.order_rejected(f"reason {i}")
    reasons = {dict(k[1]).get("reason") for k in samples(m) if k[0] == "mm_orders_rejected_total"}
    assert len(reasons) == MAX_REASONS + 1 and "other" in reasons
    assert value(m, "mm_orders_rejected_total", reason="other") == 10


def test_latency_histogram_buckets_span_50us_to_100ms() -> None:
    m = BotMetrics("b1", "BTCUSDT", "spot", "sim")
    for s in (0.00004, 0.0003, 0.002, 0.2):
        m.observe_latency(s)
    assert value(m, "mm_tick_to_order_latency_seconds_bucket", le="5e-05") == 1
    assert value(m, "mm_tick_to_order_latency_seconds_bucket", le="0.0005") == 2
    assert value(m, "mm_tick_to_order_latency_seconds_bucket", le="0.1") == 3
    assert value(m, "mm_tick_to_order_latency_seconds_bucket", le="+Inf") == 4
    assert value(m, "mm_tick_to_order_latency_seconds_count") == 4


def test_staleness_is_computed_at_scrape_time() -> None:
    now = [100.0]
    m = BotMetrics("b1", "BTCUSDT", "spot", "sim", clock=lambda: now[0])
    m.stream_message("market")
    now[0] = 107.5
    assert value(m, "mm_stream_staleness_seconds", stream="market") == 7.5


def test_rate_limit_headroom() -> None:
    m = BotMetrics("b1", "BTCUSDT", "spot", "sim")
    m.set_rate_limit(1500, 6000)
    assert value(m, "mm_rate_limit_headroom_ratio") == 0.75
    m.set_rate_limit(7000, 6000)
    assert value(m, "mm_rate_limit_headroom_ratio") == 0


def test_symbol_status_expiries_and_rest_fallbacks() -> None:
    m = BotMetrics("b1", "BTCUSDT", "spot", "sim")
    m.set_symbol_status("TRADING", 0)
    assert value(m, "mm_symbol_status", status="trading") == 1 and value(m, "mm_placing") == 1
    m.set_symbol_status("CANCEL_ONLY", 3)
    assert value(m, "mm_symbol_status", status="trading") == 0
    assert value(m, "mm_symbol_status", status="cancel_only") == 1
    assert value(m, "mm_placing") == 0 and value(m, "mm_order_rest_fallbacks") == 3
    m.order_expired("STP")
    m.order_expired("INSUFFICIENT_LIQUIDITY")
    assert value(m, "mm_orders_expired_total", reason="stp") == 1
    assert value(m, "mm_orders_expired_total", reason="insufficient_liquidity") == 1
