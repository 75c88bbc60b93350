"""The optimizer's figures (PNG, matplotlib without pyplot): optimization history, Pareto front,
parameter importance and the walk-forward in / out of sample comparison."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure

from market_maker.backtest.optimize.objectives import feasible, pareto_front
from market_maker.backtest.optimize.space import SearchSpace
from market_maker.backtest.optimize.study import constraint_values

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from market_maker.backtest.optimize.runner import OptimizeResult

_OK, _BAD, _FRONT, _PICK = "#1f77b4", "#bbbbbb", "#d62728", "#2ca02c"


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _ok(t: FrozenTrial) -> bool:
    return feasible(constraint_values(t))


def history_png(trials: Sequence[FrozenTrial], space: SearchSpace, title: str) -> bytes:
    """Each objective per trial (feasible in colour, infeasible grey) and the best feasible so far."""
    objs = space.objectives
    fig = Figure(figsize=(9, 2.6 * len(objs) + 0.6), dpi=110, layout="constrained")
    axes = fig.subplots(len(objs), 1, squeeze=False, sharex=True)[:, 0]
    for d, (ax, o) in enumerate(zip(axes, objs, strict=True)):
        xs = np.array([t.number for t in trials])
        ys = np.array([t.values[d] for t in trials]) if trials else np.zeros(0)
        ok = np.array([_ok(t) for t in trials], dtype=bool)
        ax.scatter(xs[~ok], ys[~ok], s=14, c=_BAD, marker="x", label="infeasible")
        ax.scatter(xs[ok], ys[ok], s=16, c=_OK, label="feasible")
        best, line = None, []
        for y, f in zip(ys, ok, strict=True):
            if f and (best is None or (y < best if o.minimize else y > best)):
                best = y
            line.append(np.nan if best is None else best)
        ax.step(xs, line, where="post", color=_FRONT, label="best feasible so far")
        ax.set_ylabel(o.metric)
        ax.grid(alpha=0.3)
        if d == 0:
            ax.legend(loc="best", fontsize=8)
    axes[-1].set_xlabel("trial")
    axes[0].set_title(title)
    return _png(fig)


def pareto_png(
    trials: Sequence[FrozenTrial], space: SearchSpace, chosen: FrozenTrial | None, title: str
) -> bytes:
    """The first two objectives of every trial with the feasible Pareto front; with one objective, the
    objective against max drawdown (not searched, shown so the trade-off is visible)."""
    objs = space.objectives
    if len(objs) >= 2:
        xo, yo = objs[1], objs[0]
        xname, yname, xmin, ymin = xo.metric, yo.metric, xo.minimize, yo.minimize
        xi, yi = 1, 0
    else:
        xname, yname, xmin, ymin = "max_drawdown_pct", objs[0].metric, True, objs[0].minimize
        xi, yi = -1, 0

    def xy(t: FrozenTrial) -> tuple[float, float]:
        x = t.values[xi] if xi >= 0 else float(t.user_attrs.get("metrics", {}).get(xname) or 0.0)
        return x, t.values[yi]

    fig = Figure(figsize=(8, 5.2), dpi=110, layout="constrained")
    ax = fig.subplots()
    pts = [xy(t) for t in trials]
    ok = [_ok(t) for t in trials]
    bad = [p for p, f in zip(pts, ok, strict=True) if not f]
    good = [p for p, f in zip(pts, ok, strict=True) if f]
    if bad:
        ax.scatter([p[0] for p in bad], [p[1] for p in bad], s=14, c=_BAD, marker="x", label="infeasible")
    if good:
        ax.scatter([p[0] for p in good], [p[1] for p in good], s=18, c=_OK, label="feasible")
        front = sorted(good[i] for i in pareto_front(good, [xmin, ymin]))
        ax.plot(*zip(*front, strict=True), "-o", color=_FRONT, ms=5, label="Pareto front (feasible)")
    if chosen is not None:
        cx, cy = xy(chosen)
        ax.scatter(
            [cx],
            [cy],
            s=180,
            marker="*",
            c=_PICK,
            edgecolors="black",
            zorder=5,
            label=f"chosen: trial {chosen.number}",
        )
    ax.set_xlabel(f"{xname} ({'lower' if xmin else 'higher'} is better)")
    ax.set_ylabel(f"{yname} ({'lower' if ymin else 'higher'} is better)")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    more = len(objs) - 2
    ax.set_title(title + (f"\n(front of these two; {more} more objective(s) not drawn)" if more > 0 else ""))
    return _png(fig)


def importance_png(importances: dict[str, float], title: str) -> bytes:
    """Horizontal bars: each parameter's importance for the first objective (PED-ANOVA: how much the
    values of the good trials differ from those of all trials)."""
    names = list(importances)[::-1]
    fig = Figure(figsize=(8, 1.2 + 0.45 * max(1, len(names))), dpi=110, layout="constrained")
    ax = fig.subplots()
    if names:
        vals = [importances[n] for n in names]
        ax.barh(names, vals, color=_OK)
        for i, v in enumerate(vals):
            ax.text(v, i, f" {v:.2f}", va="center", fontsize=9)
        ax.set_xlim(0, max(1.0, max(vals) * 1.15))
    else:
        ax.text(
            0.5, 0.5, "too few complete trials to rank the parameters", ha="center", transform=ax.transAxes
        )
    ax.set_xlabel("importance (PED-ANOVA)")
    ax.set_title(title)
    return _png(fig)


def walkforward_png(result: OptimizeResult, space: SearchSpace) -> bytes:
    """Per window: the first objective and the round trips, in sample vs out of sample."""
    metrics = [space.objectives[0].metric, "round_trips"]
    fig = Figure(figsize=(9, 3.4), dpi=110, layout="constrained")
    axes = fig.subplots(1, len(metrics))
    labels = [f"w{r.window.index}" for r in result.windows]
    x = np.arange(len(labels))
    for ax, m in zip(axes, metrics, strict=True):
        ins = [_num(r.in_sample.get(m)) for r in result.windows]
        outs = [_num(r.out_sample.get(m)) for r in result.windows]
        ax.bar(x - 0.2, ins, 0.4, label="in sample (train)", color=_OK)
        ax.bar(x + 0.2, outs, 0.4, label="out of sample (test)", color="#ff7f0e")
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(x, labels)
        ax.set_title(m)
        ax.grid(alpha=0.3, axis="y")
    axes[0].legend(fontsize=8)
    fig.suptitle("walk-forward: the chosen parameters on their train span and on the test span after it")
    return _png(fig)


def _num(v: Any) -> float:
    return float(v) if v is not None else np.nan
