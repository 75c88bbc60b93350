"""Scoring trials: constraint violations, feasibility, the Pareto front and the chosen point."""

from __future__ import annotations

from market_maker.backtest.optimize.objectives import feasible, pareto_front, pick, violations, why_infeasible
from market_maker.backtest.optimize.space import Constraints


def test_each_constraint_says_how_far_it_is_violated() -> None:
    c = Constraints(max_drawdown_pct=5.0, min_round_trips=30, interval_above_break_even=True)
    ok = {"max_drawdown_pct": 4.0, "round_trips": 31, "interval_margin_ticks": 3}
    assert feasible(violations(ok, c))
    bad = {"max_drawdown_pct": 6.5, "round_trips": 10, "interval_margin_ticks": -2}
    v = violations(bad, c)
    assert v == [1.5, 20.0, 3.0] and not feasible(v)
    assert why_infeasible(v) == (
        "drawdown over the limit by 1.50 pts; 20 round trips short; interval 3 tick(s) short of break-even"
    )


def test_an_interval_at_the_break_even_is_infeasible_one_tick_above_is_not() -> None:
    c = Constraints()
    assert not feasible(violations({"interval_margin_ticks": 0}, c))  # at break-even: loses on fees
    assert feasible(violations({"interval_margin_ticks": 1}, c))
    assert feasible(violations({"interval_margin_ticks": -5}, Constraints(interval_above_break_even=False)))


def test_pareto_front_and_pick() -> None:
    # (return, drawdown): maximize return, minimize drawdown
    pts = [(1.0, 5.0), (2.0, 9.0), (0.5, 1.0), (0.9, 6.0), (2.0, 9.5)]
    minimize = [False, True]
    assert pareto_front(pts, minimize) == [0, 1, 2]
    assert pick(pts, minimize) == 0  # nearest the ideal (2.0, 1.0) once both are scaled to the front
    assert pick([(1.0,), (3.0,), (3.0,)], [False]) == 1  # one objective: the best, earliest on ties
    assert pick([], [False]) is None
