"""The whole optimization: a study per walk-forward window, each scored out of sample, then a final
study over the whole history whose chosen trial becomes the recommended configuration.

Window ``i`` is a study named ``<name>/w<i>`` over its train span; its chosen trial (see
:func:`.study.choose`) is then replayed on the test span that follows. The final study, ``<name>/final``,
searches the whole history: the walk-forward table says how far its kind of choice can be trusted
out of sample. Studies live in the storage, so the same command resumes where it stopped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.trial import FrozenTrial

from market_maker.backtest.candles import Candles
from market_maker.backtest.optimize import study as st
from market_maker.backtest.optimize.evaluate import Job, Outcome
from market_maker.backtest.optimize.executors import Executor
from market_maker.backtest.optimize.objectives import feasible, violations, why_infeasible
from market_maker.backtest.optimize.space import SearchSpace
from market_maker.backtest.optimize.windows import Window, split_windows


@dataclass(frozen=True)
class Options:
    """How to search: trials per study, walk-forward shape, seed, batch size, NSGA-II population."""

    trials: int
    windows: int = 3
    train_ratio: float = 2.0
    seed: int = 1
    batch: int = 4
    population: int = 50
    final_trials: int | None = None  # None: as many as ``trials``


@dataclass
class WindowResult:
    """One walk-forward window: the trial chosen in sample and its scores in and out of sample."""

    window: Window
    trial: FrozenTrial | None
    feasible_in: bool
    overrides: dict[str, str]
    in_sample: dict[str, Any]
    out_sample: dict[str, Any]
    feasible_out: bool = False
    note: str = ""


@dataclass
class OptimizeResult:
    """Everything the report and the recommended configuration need."""

    name: str
    candles: Candles
    windows: list[WindowResult]
    final: optuna.Study
    chosen: FrozenTrial | None
    chosen_feasible: bool
    overrides: dict[str, str]
    executor: str
    workers: int
    seconds: float = 0.0
    trials_run: int = 0
    candles_replayed: int = 0
    studies: list[optuna.Study] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        """Trials x candles per second of wall time, over this run's trials."""
        return self.candles_replayed / self.seconds if self.seconds > 0 else 0.0


class _Meter:
    """Counts told trials and candles; drives the optional progress bar."""

    def __init__(self, total: int, progress: bool) -> None:
        self.started = time.perf_counter()
        self.trials = 0
        self.candles = 0
        self.bar: Any = None
        if progress:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="optimize", unit="trial", mininterval=0.5)

    def told(self, span: int, best: str) -> None:
        self.trials += 1
        self.candles += span
        if self.bar is not None:
            dt = max(time.perf_counter() - self.started, 1e-9)
            self.bar.set_postfix_str(f"best {best}, {self.candles / dt:,.0f} candles/s", refresh=False)
            self.bar.update(1)

    def skip(self, n: int) -> None:
        """Trials a resumed study already holds: done, but not run (nor counted) now."""
        if self.bar is not None and n:
            self.bar.update(n)

    def close(self) -> float:
        if self.bar is not None:
            self.bar.close()
        return time.perf_counter() - self.started


def _scores(trial: FrozenTrial | None) -> dict[str, Any]:
    return dict(trial.user_attrs.get(st.METRICS, {})) if trial is not None else {}


def optimize(
    candles: Candles,
    space: SearchSpace,
    opts: Options,
    executor: Executor,
    storage: Any,
    name: str,
    progress: bool = False,
    on_told: st.Told | None = None,
) -> OptimizeResult:
    """Run the walk-forward studies and the final one (see the module docstring)."""
    n = len(candles)
    windows = split_windows(n, opts.windows, opts.train_ratio) if opts.windows else []
    final_trials = opts.final_trials if opts.final_trials is not None else opts.trials
    meter = _Meter(opts.trials * len(windows) + final_trials, progress)
    if isinstance(storage, str):
        storage = st.rdb_storage(storage)
    studies: list[optuna.Study] = []

    def run(study_name: str, span: tuple[int, int], trials: int) -> optuna.Study:
        study = st.open_study(storage, study_name, space)
        studies.append(study)
        meter.skip(min(trials, len(study.get_trials(deepcopy=False))))
        first = space.objectives[0]
        best: list[float] = []

        def told(number: int, values: list[float] | None, ok: bool) -> None:
            if values is not None and ok and (not best or (values[0] < best[0]) == first.minimize):
                best[:] = [values[0]]
            meter.told(span[1] - span[0], f"{first.metric}={best[0]:.4g}" if best else "-")
            if on_told is not None:
                on_told(number, values, ok)

        st.run_study(study, space, span, trials, executor, opts.seed, opts.batch, opts.population, told)
        return study

    results: list[WindowResult] = []
    for w in windows:
        study = run(f"{name}/w{w.index}", (w.train_start, w.train_stop), opts.trials)
        trial, ok = st.choose(study, space)
        overrides = space.overrides(trial.params) if trial is not None else {}
        results.append(WindowResult(w, trial, ok, overrides, _scores(trial), {}))
    # out of sample: every window's choice replayed on its test span, as one batch
    jobs = [
        Job(
            (f"{name}/w{r.window.index}/test", r.window.index),
            r.overrides,
            r.window.test_start,
            r.window.test_stop,
        )
        for r in results
        if r.trial is not None
    ]
    outcomes: dict[int, Outcome] = {o.key[1]: o for o in executor.run(jobs)}
    for r in results:
        o = outcomes.get(r.window.index)
        if o is None:
            r.note = "no complete trial in sample"
            continue
        if o.error is not None:
            r.note = o.error
            continue
        r.out_sample = o.metrics
        v = violations(o.metrics, space.constraints)
        r.feasible_out = feasible(v)
        r.note = why_infeasible(v)
        meter.candles += r.window.test_stop - r.window.test_start
    final = run(f"{name}/final", (0, n), final_trials)
    chosen, ok = st.choose(final, space)
    seconds = meter.close()
    return OptimizeResult(
        name=name,
        candles=candles,
        windows=results,
        final=final,
        chosen=chosen,
        chosen_feasible=ok,
        overrides=space.overrides(chosen.params) if chosen is not None else {},
        executor=executor.name,
        workers=executor.workers,
        seconds=seconds,
        trials_run=meter.trials,
        candles_replayed=meter.candles,
        studies=studies,
    )
