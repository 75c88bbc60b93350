"""``python -m market_maker optimize`` end to end on a shipped slice: walk-forward table, report,
a recommended config that check-config accepts and run trades with, resuming, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "AVAXUSDT-1m-2026-06-01_03.csv"
CONFIG = REPO / "tests" / "data" / "avax-backtest.yaml"
SPACE = """\
parameters:
  price_interval: {low: "0.02", high: "0.2", log: true}
  buy_window_size: {low: 2, high: 8}
  dynamic_interval: {choices: [false, true]}
objectives: [return_pct, max_drawdown_pct]
constraints:
  max_drawdown_pct: 5
  min_round_trips: 3
"""


def _mm(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "market_maker", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
    )


def _optimize(tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    space = tmp / "space.yaml"
    space.write_text(SPACE)
    return _mm(
        "optimize",
        "--data",
        str(DATA),
        "--config",
        str(CONFIG),
        "--space",
        str(space),
        "--trials",
        "6",
        "--windows",
        "2",
        "--train-ratio",
        "1",
        "--batch",
        "3",
        "--processes",
        "2",
        "--storage",
        str(tmp / "studies.sqlite"),
        "--report",
        str(tmp / "report"),
        "--json",
        "--no-progress",
        *extra,
    )


@pytest.fixture(scope="module")
def first_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict, subprocess.CompletedProcess[str]]:
    tmp = tmp_path_factory.mktemp("opt")
    p = _optimize(tmp)
    assert p.returncode == 0, p.stderr
    return tmp, json.loads(p.stdout), p


def test_walk_forward_report_and_throughput(first_run) -> None:
    tmp, result, p = first_run
    wf = result["walk_forward"]
    assert [w["window"] for w in wf] == [1, 2]
    for w in wf:
        assert w["train_candles"] == w["test_candles"] == 1440
        assert w["in_sample"]["round_trips"] is not None and w["out_of_sample"]["round_trips"] is not None
        assert w["test"][0] > w["train"][1]  # scored only on candles after those it was chosen on
    assert result["trials_run"] == 18  # 6 per window, 6 on the whole history
    assert result["trials_x_candles_per_second"] > 0
    assert "trials x candles/s" in p.stderr
    report = tmp / "report"
    for name in (
        "report.html",
        "history.png",
        "pareto.png",
        "importance.png",
        "walkforward.png",
        "trials.csv",
    ):
        assert (report / name).stat().st_size > 1000 or name == "trials.csv", name
    html = (report / "report.html").read_text()
    assert "Walk-forward" in html and "Pareto front" in html and html.count("data:image/png;base64") == 4
    study = optuna.load_study(
        study_name=result["study"] + "/final", storage=f"sqlite:///{tmp / 'studies.sqlite'}"
    )
    assert len(study.trials) == 6 and len(study.directions) == 2


def test_recommended_config_passes_check_config_and_trades(first_run, tmp_path: Path) -> None:
    tmp, result, _ = first_run
    rec = Path(result["recommended"]["file"])
    assert rec == tmp / "report" / "recommended.yaml"
    text = rec.read_text()
    for key, value in result["recommended"]["values"].items():
        assert f"{key}: " in text and value.strip("'") in text
    check = _mm("check-config", "--config", str(rec))
    assert check.returncode == 0, check.stderr
    env = dict(os.environ, MM_ENGINE__DATABASE=str(tmp_path / "bot.sqlite"))
    run = _mm("run", "--config", str(rec), "--for", "4", env=env, timeout=90)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "placing BUY" in run.stderr or "placing BUY" in run.stdout


def test_the_same_command_resumes_the_stored_studies(first_run) -> None:
    tmp, result, _ = first_run
    again = _optimize(tmp)
    assert again.returncode == 0, again.stderr
    resumed = json.loads(again.stdout)
    assert resumed["trials_run"] == 0  # every trial was already stored
    assert resumed["recommended"] == result["recommended"]
    assert resumed["walk_forward"] == result["walk_forward"]


def test_bad_space_exits_2_with_one_line_naming_file_and_key(tmp_path: Path) -> None:
    space = tmp_path / "space.yaml"
    space.write_text("parameters:\n  price_intervall: {low: 1, high: 2}\n")
    p = _mm("optimize", "--data", str(DATA), "--config", str(CONFIG), "--space", str(space), "--trials", "2")
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [
        f"error: {space}: parameters.price_intervall: unknown setting (a configuration key such as"
        " trading.price_interval: docs/configuration.md)"
    ]
    space.write_text("parameters:\n  buy_window_size: {low: 9, high: 3}\n")
    p = _mm("optimize", "--data", str(DATA), "--config", str(CONFIG), "--space", str(space), "--trials", "2")
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [
        f"error: {space}: parameters.buy_window_size: low 9 must be below high 3"
    ]


def test_studies_can_live_in_postgresql(pg_url: str, tmp_path: Path) -> None:
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    args = [
        "optimize",
        "--data",
        str(DATA),
        "--config",
        str(CONFIG),
        "--space",
        str(space),
        "--trials",
        "3",
        "--windows",
        "0",
        "--batch",
        "3",
        "--processes",
        "1",
        "--storage",
        pg_url,
        "--out",
        str(tmp_path / "rec.yaml"),
        "--json",
        "--no-progress",
    ]
    p = _mm(*args)
    assert p.returncode == 0, p.stderr
    name = json.loads(p.stdout)["study"] + "/final"
    url = "postgresql+psycopg://" + pg_url.split("://", 1)[1]
    assert len(optuna.load_study(study_name=name, storage=url).trials) == 3
    again = _mm(*args)  # resumed from the database: nothing left to run
    assert again.returncode == 0 and json.loads(again.stdout)["trials_run"] == 0
