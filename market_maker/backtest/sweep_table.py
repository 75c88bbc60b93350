"""The sweep's terminal table: one line per run, best first, with the swept values, the ranking metric
and what a reader checks next (return, round trips, drawdown), so a top rank bought with a deep drawdown
or a handful of trades shows at a glance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from market_maker.backtest.sweep import SweepRow

# Shown after the ranking metric, in this order (the ranking metric is not repeated).
CONTEXT = ("return_pct", "round_trips", "max_drawdown_pct")
HEADS = {"return_pct": "return %", "round_trips": "round trips", "max_drawdown_pct": "drawdown %"}


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e-2 and value != 0 else f"{value:,.2f}"
    return str(value)


def sweep_table(rows: Sequence[SweepRow], names: Sequence[str], metric: str) -> str:
    """The table (no trailing newline): rank, the swept values, ``metric``, then :data:`CONTEXT`."""
    metrics = [metric, *(m for m in CONTEXT if m != metric)]
    heads = ["rank", *names, *(HEADS.get(m, m) for m in metrics)]
    body = [
        [str(i), *(row.overrides[n] for n in names), *(_cell(row.summary.get(m)) for m in metrics)]
        for i, row in enumerate(rows, start=1)
    ]
    widths = [max(len(r[c]) for r in [heads, *body]) for c in range(len(heads))]
    ranked = len(names) + 1  # the ranking metric's column
    heads[ranked] = f"{heads[ranked]} (ranked)"
    widths[ranked] = max(widths[ranked], len(heads[ranked]))
    lines = ["  ".join(h.rjust(w) for h, w in zip(heads, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in body]
    return "\n".join(lines)
