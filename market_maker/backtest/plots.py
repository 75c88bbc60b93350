"""The report's figure: price with the grid's fills, inventory, equity and drawdown (PNG).

Built on ``matplotlib.figure.Figure`` without pyplot, so it renders with the Agg backend, needs no
display and is safe in worker processes. Long runs are drawn from a per-bucket min/max envelope of
the candles (at most ~4000 buckets), so a year of minutes still gives a legible picture.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure

from market_maker.backtest.results import RunResult
from market_maker.core.model import Side

MAX_BUCKETS = 4000


def _buckets(n: int) -> npt.NDArray[np.int64]:
    """Start index of each plotting bucket."""
    size = max(1, -(-n // MAX_BUCKETS))
    return np.arange(0, n, size, dtype=np.int64)


def _times(ms: npt.NDArray[np.int64]) -> npt.NDArray[np.datetime64]:
    return ms.astype("datetime64[ms]")


def render_figure(run: RunResult) -> Figure:
    """The four-panel report figure."""
    c = run.candles
    n = len(c)
    tick, step = float(c.tick_size), float(c.step_size)
    starts = _buckets(n)
    t = _times(c.open_time_ms[starts])
    hi = np.maximum.reduceat(c.high, starts) * tick if n else np.zeros(0)
    lo = np.minimum.reduceat(c.low, starts) * tick if n else np.zeros(0)
    close = c.close[np.minimum(np.append(starts[1:], n) - 1, n - 1)] * tick if n else np.zeros(0)
    equity = run.equity()
    peak = np.maximum.accumulate(np.maximum(equity, float(run.initial_capital)))
    dd = np.where(peak > 0, (equity - peak) / peak * 100.0, 0.0)
    eq_lo = np.minimum.reduceat(equity, starts) if n else np.zeros(0)
    eq_hi = np.maximum.reduceat(equity, starts) if n else np.zeros(0)
    dd_lo = np.minimum.reduceat(dd, starts) if n else np.zeros(0)
    pos = run.position.astype(np.float64) * step
    pos_hi = np.maximum.reduceat(pos, starts) if n else np.zeros(0)
    pos_lo = np.minimum.reduceat(pos, starts) if n else np.zeros(0)

    fig = Figure(figsize=(13, 11), dpi=110, layout="constrained")
    axes = fig.subplots(4, 1, sharex=True, height_ratios=(3, 1.2, 1.6, 1.2))
    ax_p, ax_i, ax_e, ax_d = axes
    ax_p.fill_between(t, lo, hi, color="#9fb3c8", alpha=0.45, linewidth=0, label="candle range")
    ax_p.plot(t, close, color="#1f3b57", linewidth=0.8, label="close")
    for side, color, marker in ((Side.BUY, "#1a9850", "^"), (Side.SELL, "#d73027", "v")):
        sel = [f for f in run.fills if f.side is side]
        if sel:
            ax_p.scatter(
                _times(np.array([f.time_ms for f in sel], dtype=np.int64)),
                np.array([f.price for f in sel]) * tick,
                s=14,
                c=color,
                marker=marker,
                label=f"{side.value.lower()} fills ({len(sel)})",
                zorder=3,
                linewidths=0,
            )
    ax_p.set_ylabel("price")
    ax_p.set_title(f"{c.name}: price and the grid's fills")
    # beside the panel, never over the fills it explains (constrained layout narrows every panel alike)
    ax_p.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), borderaxespad=0, fontsize=9)
    ax_i.fill_between(t, pos_lo, pos_hi, step="post", color="#7570b3", alpha=0.6, linewidth=0.6)
    ax_i.set_ylabel("inventory (base)")
    ax_e.fill_between(t, eq_lo, eq_hi, color="#2c7fb8", alpha=0.5, linewidth=0)
    ax_e.plot(t, (eq_lo + eq_hi) / 2, color="#2c7fb8", linewidth=0.8)
    ax_e.axhline(float(run.initial_capital), color="grey", linewidth=0.6, linestyle="--")
    ax_e.set_ylabel("equity (quote)")
    ax_d.fill_between(t, dd_lo, 0, color="#d73027", alpha=0.55, linewidth=0)
    ax_d.set_ylabel("drawdown %")
    ax_d.set_xlabel("time (UTC)")
    for ax in axes:
        ax.grid(True, linewidth=0.3, alpha=0.6)
    return fig


def png_bytes(run: RunResult) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    render_figure(run).savefig(buf, format="png")
    return buf.getvalue()


def write_png(run: RunResult, path: Path) -> bytes:
    """Write the figure to ``path``; returns the PNG bytes (for the HTML report)."""
    data = png_bytes(run)
    path.write_bytes(data)
    return data
