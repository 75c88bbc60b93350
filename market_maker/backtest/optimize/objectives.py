"""Scoring a trial: its objective values and how far it is from feasible (pure functions).

Optuna's convention for constraints: one number per constraint, feasible when every number is <= 0.
Here each number is the violation in the constraint's own unit (drawdown points over the limit, round
trips missing, ticks of interval missing to beat the fees), so the report can say why a trial failed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from market_maker.backtest.optimize.space import Constraints, Objective


def objective_values(metrics: Mapping[str, Any], objectives: Sequence[Objective]) -> list[float] | None:
    """The objectives' values in order; None when a metric is missing (e.g. Sharpe of a flat run)."""
    out = []
    for o in objectives:
        v = metrics.get(o.metric)
        if v is None:
            return None
        out.append(float(v))
    return out


def violations(metrics: Mapping[str, Any], c: Constraints) -> list[float]:
    """One number per constraint (all three, a disabled one is 0): > 0 is a violation."""
    dd = float(metrics.get("max_drawdown_pct") or 0.0)
    rt = int(metrics.get("round_trips") or 0)
    return [
        dd - c.max_drawdown_pct if c.max_drawdown_pct is not None else 0.0,
        float(c.min_round_trips - rt) if c.min_round_trips is not None else 0.0,
        float(1 - int(metrics.get("interval_margin_ticks", 1))) if c.interval_above_break_even else 0.0,
    ]


def feasible(v: Sequence[float]) -> bool:
    """True when no constraint is violated."""
    return all(x <= 0 for x in v)


def why_infeasible(v: Sequence[float]) -> str:
    """A short text of the violated constraints ('' when feasible)."""
    names = (
        "drawdown over the limit by {:.2f} pts",
        "{:.0f} round trips short",
        "interval {:.0f} tick(s) short of break-even",
    )
    return "; ".join(n.format(x) for n, x in zip(names, v, strict=True) if x > 0)


def dominates(a: Sequence[float], b: Sequence[float], minimize: Sequence[bool]) -> bool:
    """True when ``a`` is at least as good as ``b`` in every objective and better in one."""
    better = False
    for x, y, lo in zip(a, b, minimize, strict=True):
        if (x > y) if lo else (x < y):
            return False
        if x != y:
            better = True
    return better


def pareto_front(points: Sequence[Sequence[float]], minimize: Sequence[bool]) -> list[int]:
    """Indices of the non-dominated points (in input order)."""
    return [
        i
        for i, p in enumerate(points)
        if not any(dominates(q, p, minimize) for j, q in enumerate(points) if j != i)
    ]


def pick(points: Sequence[Sequence[float]], minimize: Sequence[bool]) -> int | None:
    """The chosen point. One objective: the best (earliest on ties). Several: on the Pareto front, the
    point nearest the ideal one (each objective's best on the front), each objective scaled to its
    range on the front, so no unit dominates; earliest on ties."""
    front = pareto_front(points, minimize)
    if not front:
        return None
    dims = range(len(minimize))
    lo = [min(points[i][d] for i in front) for d in dims]
    hi = [max(points[i][d] for i in front) for d in dims]

    def gap(i: int) -> tuple[float, int]:
        total = 0.0
        for d in dims:
            span = hi[d] - lo[d]
            if span > 0:
                ideal = lo[d] if minimize[d] else hi[d]
                total += ((points[i][d] - ideal) / span) ** 2
        return (total, i)

    return min(front, key=gap)
