"""One Optuna study driven from this process with the ask/tell interface.

The driver asks the study for a batch of trials, hands them to an executor, and tells the results back
**in trial-number order** whatever order they finish in. Sampling happens only here, and the sampler is
made afresh for each batch with a seed derived from (``seed``, trials so far): so the trials depend on
the seed, the batch size and the data only, not on which executor ran them or how fast, and a resumed
study continues exactly where the stored trials leave it. One objective: TPE; several: NSGA-II; both
told the constraints (:mod:`.objectives`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

from market_maker.backtest.optimize.evaluate import Job, Outcome
from market_maker.backtest.optimize.executors import Executor
from market_maker.backtest.optimize.objectives import (
    feasible,
    objective_values,
    pick,
    violations,
)
from market_maker.backtest.optimize.space import Param, SearchSpace

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

METRICS = "metrics"
ERROR = "error"


def distribution(p: Param) -> BaseDistribution:
    """The Optuna distribution of a searched key (decimals as integer counts of their quantum)."""
    if p.kind == "choice":
        return CategoricalDistribution(p.choices)
    return IntDistribution(p.low, p.high, log=p.log, step=p.step)


CONSTRAINT_NAMES = ("max_drawdown_pct", "min_round_trips", "interval_above_break_even")


def constraint_values(trial: FrozenTrial) -> list[float]:
    """The trial's constraint violations in :func:`~.objectives.violations` order (0: none recorded)."""
    return [float(trial.constraints.get(k, 0.0)) for k in CONSTRAINT_NAMES]


def batch_seed(seed: int, trials_so_far: int) -> int:
    """The sampler's seed for the batch that starts after ``trials_so_far`` trials."""
    return (seed * 1_000_003 + trials_so_far * 7_919) % (2**32)


def make_sampler(objectives: int, seed: int, population: int) -> optuna.samplers.BaseSampler:
    """TPE for one objective, NSGA-II for several; both read the constraints each trial carries."""
    if objectives == 1:
        return optuna.samplers.TPESampler(
            seed=seed,
            multivariate=True,
            constant_liar=True,  # a batch's trials spread out instead of piling on one point
        )
    return optuna.samplers.NSGAIISampler(seed=seed, population_size=population)


def rdb_storage(url: str) -> optuna.storages.BaseStorage:
    """Optuna's RDB storage at ``url``; a SQLite file in WAL mode with normal sync: each ask and tell
    commits several times, and a full fsync per commit (~6 ms) cost more than a short trial's backtest.
    A crash still leaves a consistent file; at worst the last trials are run again on resume."""
    storage = optuna.storages.RDBStorage(url)
    if url.startswith("sqlite"):
        from sqlalchemy import event

        def _pragmas(conn: Any, _record: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        event.listen(storage.engine, "connect", _pragmas)
        storage.engine.dispose()  # connections opened before the listener get the pragmas too
    return storage


def open_study(storage: Any, name: str, space: SearchSpace) -> optuna.Study:
    """Create the study or load it to resume (same name, same storage)."""
    directions = [
        optuna.study.StudyDirection.MINIMIZE if o.minimize else optuna.study.StudyDirection.MAXIMIZE
        for o in space.objectives
    ]
    return optuna.create_study(storage=storage, study_name=name, directions=directions, load_if_exists=True)


def _tell(
    study: optuna.Study, trial: optuna.Trial, outcome: Outcome, space: SearchSpace
) -> tuple[list[float] | None, bool]:
    """Tell the outcome; returns (the objective values or None for a failed trial, feasible)."""
    values = objective_values(outcome.metrics, space.objectives) if outcome.error is None else None
    trial.set_user_attr(METRICS, outcome.metrics)
    if values is None:
        trial.set_user_attr(ERROR, outcome.error or "an objective has no value (e.g. Sharpe of a flat run)")
        study.tell(trial, state=TrialState.FAIL)
        return None, False
    v = violations(outcome.metrics, space.constraints)
    for key, value in zip(CONSTRAINT_NAMES, v, strict=True):
        trial.set_constraint(key, value)
    study.tell(trial, values)
    return values, feasible(v)


Told = Callable[[int, "list[float] | None", bool], None]


def run_study(
    study: optuna.Study,
    space: SearchSpace,
    span: tuple[int, int],
    n_trials: int,
    executor: Executor,
    seed: int,
    batch: int,
    population: int = 50,
    on_told: Told | None = None,
) -> None:
    """Run the study until it holds ``n_trials`` finished trials on candles ``span``; ``on_told`` hears
    each trial's number, values (None: failed) and feasibility as it is told."""
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)):
        # left by a driver that stopped mid-batch: their results were never told
        study.tell(t.number, state=TrialState.FAIL)
    dists = {p.name: distribution(p) for p in space.params}
    while (done := len(study.get_trials(deepcopy=False))) < n_trials:
        k = min(batch, n_trials - done)
        study.sampler = make_sampler(len(space.objectives), batch_seed(seed, done), population)
        trials = [study.ask(dists) for _ in range(k)]
        jobs = [Job((study.study_name, t.number), space.overrides(t.params), *span) for t in trials]
        waiting: dict[int, Outcome] = {}
        nxt = 0
        for outcome in executor.run(jobs):
            waiting[outcome.key[1]] = outcome
            while nxt < k and trials[nxt].number in waiting:
                values, ok = _tell(study, trials[nxt], waiting.pop(trials[nxt].number), space)
                if on_told is not None:
                    on_told(trials[nxt].number, values, ok)
                nxt += 1


def scored(study: optuna.Study, space: SearchSpace) -> list[FrozenTrial]:
    """The complete trials, in number order."""
    return [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]


def choose(study: optuna.Study, space: SearchSpace) -> tuple[FrozenTrial | None, bool]:
    """(the chosen trial, whether it is feasible): among feasible trials if any (see
    :func:`~.objectives.pick`), else among all complete ones."""
    trials = scored(study, space)
    ok = [t for t in trials if feasible(constraint_values(t))]
    pool = ok or trials
    minimize = [o.minimize for o in space.objectives]
    i = pick([t.values for t in pool], minimize)
    return (None, False) if i is None else (pool[i], bool(ok))
