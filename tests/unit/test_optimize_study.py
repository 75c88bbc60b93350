"""The ask/tell driver: the same seed gives the same trials, a resumed study continues as if it had
never stopped, and the seed matters."""

from __future__ import annotations

from pathlib import Path

import optuna

from market_maker.backtest.loaders import load_klines
from market_maker.backtest.optimize import study as st
from market_maker.backtest.optimize.evaluate import Bundle
from market_maker.backtest.optimize.executors import LocalExecutor
from market_maker.backtest.optimize.space import parse_space
from market_maker.backtest.settings import BacktestSettings
from market_maker.config import load_config

DATA = Path(__file__).resolve().parents[1] / "data"
CONFIG = load_config(DATA / "avax-backtest.yaml", {})
SETTINGS = BacktestSettings(CONFIG)
CANDLES = load_klines(
    DATA / "AVAXUSDT-1m-2026-06-06_fast-drop.csv",
    SETTINGS.params.rules.tick_size,
    SETTINGS.params.rules.step_size,
)
SPACE = parse_space(
    {
        "parameters": {
            "price_interval": {"low": "0.02", "high": "0.2", "log": True},
            "buy_window_size": {"low": 2, "high": 8},
        },
        "objectives": ["return_pct", "max_drawdown_pct"],
        "constraints": {"min_round_trips": 2},
    },
    CONFIG,
)


def _study(trials: int, seed: int = 3, study: optuna.Study | None = None) -> optuna.Study:
    s = study or optuna.create_study(
        directions=["maximize", "minimize"], storage=optuna.storages.InMemoryStorage()
    )
    st.run_study(
        s,
        SPACE,
        (0, len(CANDLES)),
        trials,
        LocalExecutor(Bundle(CANDLES, SETTINGS), 1),
        seed,
        batch=3,
        population=4,
    )
    return s


def _rows(s: optuna.Study) -> list[tuple[object, ...]]:
    return [(t.params, t.values, t.constraints, t.state.name) for t in s.trials]


def test_same_seed_same_trials_and_a_resumed_study_continues_exactly() -> None:
    whole = _study(9)
    assert len(whole.trials) == 9 and all(t.state.name == "COMPLETE" for t in whole.trials)
    assert _rows(_study(9)) == _rows(whole)
    part = _study(6)
    # a new process would load the stored study afresh: no sampler state survives, only the trials
    reloaded = optuna.load_study(study_name=part.study_name, storage=part._storage)
    resumed = _study(9, study=reloaded)
    assert _rows(resumed) == _rows(whole)
    assert _rows(_study(9, seed=4)) != _rows(whole)
    assert {"max_drawdown_pct", "min_round_trips", "interval_above_break_even"} == set(
        whole.trials[0].constraints
    )
