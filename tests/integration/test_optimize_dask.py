"""The Dask executor: a two-worker cluster on loopback gives the trials and results the local executor
gives for the same seed, and a worker killed mid-run loses no finished trial."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

from market_maker.backtest.candles import concat
from market_maker.backtest.loaders import load_klines
from market_maker.backtest.optimize.evaluate import Bundle
from market_maker.backtest.optimize.executors import DaskExecutor
from market_maker.backtest.optimize.runner import Options, optimize
from market_maker.backtest.optimize.space import load_space
from market_maker.backtest.settings import BacktestSettings
from market_maker.config import load_config

distributed = pytest.importorskip("distributed")

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "AVAXUSDT-1m-2026-06-01_03.csv"
CONFIG = REPO / "tests" / "data" / "avax-backtest.yaml"
SPACE = """\
parameters:
  price_interval: {low: "0.02", high: "0.2", log: true}
  buy_window_size: {low: 2, high: 8}
  inventory_skew_factor: {low: "0", high: "0.5", step: "0.1"}
objectives: [return_pct]
constraints:
  min_round_trips: 3
"""
ARGS = ("--trials", "8", "--windows", "1", "--train-ratio", "1", "--batch", "4", "--seed", "7")


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
    ) as c:
        yield c


def _cli(tmp: Path, *extra: str) -> dict:
    space = tmp / "space.yaml"
    space.write_text(SPACE)
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "market_maker",
            "optimize",
            "--data",
            str(DATA),
            "--config",
            str(CONFIG),
            "--space",
            str(space),
            *ARGS,
            "--storage",
            str(tmp / "s.sqlite"),
            "--out",
            str(tmp / "rec.yaml"),
            "--json",
            "--no-progress",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def _trials(tmp: Path, name: str) -> list[tuple]:
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{tmp / 's.sqlite'}")
    return [(t.number, t.state.name, t.params, t.values, t.constraints, t.user_attrs) for t in study.trials]


def _same(result: dict) -> dict:
    """The result without what may differ between executors: who ran it, how fast, where it wrote."""
    skip = ("executor", "workers", "seconds", "trials_x_candles_per_second")
    out = {k: v for k, v in result.items() if k not in skip}
    out["recommended"] = {k: v for k, v in result["recommended"].items() if k != "file"}
    return out


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    tmp = tmp_path_factory.mktemp("local")
    return tmp, _cli(tmp, "--processes", "2")


def test_dask_gives_the_local_executors_trials_and_results(cluster, local_run, tmp_path: Path) -> None:
    tmp_local, local = local_run
    remote = _cli(tmp_path, "--executor", "dask", "--scheduler", cluster.scheduler_address)
    assert remote["executor"] == "dask" and remote["workers"] == 2
    assert _same(remote) == _same(local)
    for study in (f"{local['study']}/w1", f"{local['study']}/final"):
        ours, theirs = _trials(tmp_path, study), _trials(tmp_local, study)
        assert len(ours) == 8 and ours == theirs
    assert (tmp_path / "rec.yaml").read_text() == (tmp_local / "rec.yaml").read_text()


def test_a_worker_killed_mid_run_loses_no_trial(cluster, local_run) -> None:
    tmp_local, local = local_run
    config = load_config(CONFIG, {})
    settings = BacktestSettings(config)
    space_file = tmp_local / "space.yaml"
    space = load_space(space_file, config)
    candles = concat([load_klines(DATA, settings.params.rules.tick_size, settings.params.rules.step_size)])
    storage = optuna.storages.InMemoryStorage()
    with distributed.Client(cluster) as client:
        executor = DaskExecutor(Bundle(candles, settings), client)
        pids = client.run(os.getpid)
        killed: list[int] = []

        def told(number: int, values: object, ok: bool) -> None:
            if len(killed) == 0 and number == 1:  # mid-batch: trials 2 and 3 are still out there
                victim = sorted(pids.values())[0]
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

        result = optimize(
            candles,
            space,
            Options(8, 1, 1.0, seed=7, batch=4),
            executor,
            storage,
            local["study"],
            on_told=told,
        )
        executor.close()
    assert killed
    for name in (f"{local['study']}/w1", f"{local['study']}/final"):
        study = optuna.load_study(study_name=name, storage=storage)
        got = [
            (t.number, t.state.name, t.params, t.values, t.constraints, t.user_attrs) for t in study.trials
        ]
        assert got == _trials(tmp_local, name)  # every trial, the same as without the kill
    assert result.overrides == local["recommended"]["values"]
