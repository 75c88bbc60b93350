"""Render a ``/status`` document (docs/status.schema.json) as a box, like Hummingbot's grid status.

Works from the JSON alone, so ``python -m market_maker status`` shows exactly what the bot reported.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from market_maker.ops.heartbeat import plain


def _v(value: Any, missing: str = "-") -> str:
    return missing if value is None else str(value)


def _money(value: Any) -> str:
    """PnL and fees for the eye: at most 8 decimals, no trailing zeros (``--json`` keeps every digit)."""
    if value is None:
        return "-"
    try:
        return plain(round(Decimal(str(value)), 8))
    except (InvalidOperation, ValueError):
        return str(value)


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value}%"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def _above(price: Any, row: Mapping[str, Any]) -> bool:
    key = row.get("price") or row.get("level")
    try:
        return Decimal(str(key)) > Decimal(str(price))
    except (InvalidOperation, ValueError):
        return False


def _ladder(doc: Mapping[str, Any]) -> list[str]:
    rows: Sequence[Mapping[str, Any]] = doc.get("ladder", [])
    price = doc["market"].get("price")
    head = f"  {'Level':>12} {'State':<8}{'Side':<5}{'Price':>12} {'Qty':>11} {'Filled':>11} {'Age':>6}"
    lines = ["Ladder (working orders and held levels around the price)", head]
    marker_done = price is None
    for row in rows:
        if not marker_done and not _above(price, row):
            lines.append(f"  {'>>> price ' + str(price):>12}")
            marker_done = True
        lines.append(
            f"  {_v(row['level']):>12} {row['state']:<8}{_v(row['side'], ''):<5}{_v(row['price']):>12}"
            f" {_v(row['qty']):>11} {_v(row['filled']):>11} {_age(row.get('age_s')):>6}"
        )
    if not marker_done:
        lines.append(f"  {'>>> price ' + str(price):>12}")
    if not rows:
        lines.append("  (no working orders)")
    return lines


def _risk(doc: Mapping[str, Any]) -> str:
    risk = doc["risk"]
    trig = "TRIGGERED (" + ", ".join(risk["reasons"]) + ")" if risk["triggered"] else "ok"
    br = risk["breaker"]
    breaker = f"TRIPPED ({br['reason'] or 'no reason given'})" if br["tripped"] else "ok"
    return f"Risk {trig}   Breaker {breaker}"


def _streams(doc: Mapping[str, Any], now_ms: int) -> str:
    parts = []
    for name, s in doc["streams"].items():
        state = "down" if s.get("connected") is False else _age(s.get("staleness_s"))
        parts.append(f"{name} {state}")
    rec = doc["reconcile"]
    if rec["last_ms"] is None:
        reconcile = "never"
    else:
        ago = _age(max(0, now_ms - rec["last_ms"]) / 1000)
        reconcile = f"{'ok' if rec['ok'] else 'FAILED: ' + rec['error']} {ago} ago"
    return f"Streams {' '.join(parts) or '-'}   Reconcile {reconcile}"


WIDTH = 100  # the box, borders included, fits a 100-column terminal


def _fit(line: str) -> list[str]:
    """``line`` wrapped at word boundaries to the box's inner width (continuations indented)."""
    inner = WIDTH - 4
    if len(line) <= inner:
        return [line]
    return textwrap.wrap(line, inner, subsequent_indent="    ", break_on_hyphens=False) or [""]


def render_status(doc: Mapping[str, Any], now_ms: int | None = None) -> str:
    """The box (several lines, no trailing newline, at most :data:`WIDTH` columns) for one document."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    bot, m, pnl, eq = doc["bot"], doc["market"], doc["pnl"], doc["equity"]
    orders, rl, health = doc["orders"], doc["rate_limit"], doc["health"]
    slots = "  ".join(f"{k} {v}" for k, v in doc["slots"].items())
    headroom = "" if rl["headroom"] is None else f" ({rl['headroom'] * 100:.0f}% free)"
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(doc["time_ms"] / 1000))
    title = f"{bot['id']} | {bot['symbol']} {bot['market']} | {bot['venue']}" + (
        " | PAUSED" if bot["paused"] else ""
    )
    transport = orders.get("transport", "rest")
    if orders.get("placing") is False:  # the symbol's exchange status takes no new orders
        title += f" | {orders.get('symbol_status')}: cancels only"
    body = [
        f"Price {_v(m['price'])}   Center {_v(m['center'])}   Interval {_v(m['interval'])}"
        f"   ATR {_v(m['atr'])}",
        f"Slots  {slots}",
        "",
        *_ladder(doc),
        "",
        f"Position {doc['position']}",
        f"PnL realized {_money(pnl['realized'])}  unrealized {_money(pnl['unrealized'])}"
        f"  fees {_money(pnl['fees'])}  net {_money(pnl['net'])}  round trips {pnl['round_trips']}",
        f"Equity {_v(eq['equity'])}  peak {_v(eq['peak'])}  drawdown {_pct(eq['drawdown_pct'])}",
        _risk(doc),
        _streams(doc, now_ms),
        f"Orders open {orders['open_own']} own / {orders['open_foreign']} foreign   placed {orders['placed']}"
        f"  cancelled {orders['cancelled']}  rejected {orders['rejected']}"
        f"  expired {orders.get('expired', 0)}  fills {orders['fills']}  via {transport}",
        f"Rate limit {_v(rl['used_weight'])}/{_v(rl['limit'])}{headroom}   "
        f"Health {'ok' if health['ok'] else 'UNHEALTHY: ' + health['reason']}",
    ]
    body = [part for line in body for part in _fit(line)]
    title = title[: WIDTH - 4 - len(stamp) - 6]
    width = max(len(line) for line in [*body, title + stamp + "      "])
    top = f"+- {title} " + "-" * (width - len(title) - len(stamp) - 4) + f" {stamp} -+"
    lines = [top] + [f"| {line:<{width}} |" for line in body] + ["+" + "-" * (width + 2) + "+"]
    return "\n".join(lines)
