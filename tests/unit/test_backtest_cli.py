"""``python -m market_maker backtest``: files written, clear one-line errors, sweeps."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "AVAXUSDT-1m-2026-06-01_03.csv"
CONFIGS = Path(__file__).resolve().parents[2] / "config"
AVAX = [
    "--set",
    "symbol=AVAXUSDT",
    "base_asset=AVAX",
    "tick_size=0.001",
    "step_size=1",
    "price_interval=0.05",
    "order_quantity=1",
    "max_inventory=10",
]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "market_maker", "backtest", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_backtest_writes_summary_csvs_png_and_html(tmp_path: Path) -> None:
    out = tmp_path / "report"
    p = _run("--data", str(DATA), *AVAX, "--report", str(out), "--json", "--no-progress")
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)
    assert summary["candles"] == 4320 and summary["params"]["symbol"] == "AVAXUSDT"
    assert summary["fills"] > 0
    for name in ("summary.json", "summary.txt", "fills.csv", "equity.csv", "report.png", "report.html"):
        assert (out / name).stat().st_size > 0, name


def test_backtest_with_the_default_config_file(tmp_path: Path) -> None:
    config = CONFIGS / "default.yaml"
    p = _run("--synthetic", "3000", "--config", str(config), "--report", str(tmp_path), "--no-progress")
    assert p.returncode == 0, p.stderr
    assert "Round trips" in p.stdout and (tmp_path / "report.html").exists()


def test_malformed_data_is_one_line_naming_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    lines = DATA.read_text().splitlines()[:10]
    lines[5] = lines[5].replace(",", ";", 1)
    bad.write_text("\n".join(lines) + "\n")
    p = _run("--data", str(bad), *AVAX)
    assert p.returncode == 2
    assert p.stderr.startswith(f"error: {bad}:6: expected 12 fields, got 11")
    assert "Traceback" not in p.stderr


def test_another_symbols_history_is_refused_early() -> None:
    p = _run("--data", str(DATA), "--config", str(CONFIGS / "default.yaml"))
    assert p.returncode == 2
    assert "holds AVAXUSDT klines but the configuration trades BTCUSDT" in p.stderr


def test_wrong_tick_size_gives_a_hint(tmp_path: Path) -> None:
    renamed = tmp_path / "klines.csv"
    renamed.write_text(DATA.read_text())
    p = _run("--data", str(renamed))
    assert p.returncode == 2
    assert "is not a multiple of 0.01" in p.stderr and "tick_size" in p.stderr


def test_the_shipped_avax_config_runs_the_shipped_slice(tmp_path: Path) -> None:
    config = DATA.parent / "avax-backtest.yaml"
    p = _run("--data", str(DATA), "--config", str(config), "--report", str(tmp_path), "--no-progress")
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "report.html").exists() and (tmp_path / "fills.csv").exists()


def test_bad_setting_is_usage_error_naming_the_key() -> None:
    p = _run("--synthetic", "100", "--set", "buy_window_size=many")
    assert p.returncode == 2 and p.stderr.startswith("error: --set: trading.buy_window_size: Input should be")
    p = _run("--synthetic", "100", "--set", "trading.price_interval=0.005")
    assert p.returncode == 2
    assert p.stderr == "error: --set: trading.price_interval: 0.005 is not a multiple of sim.tick_size 0.01\n"
    p = _run("--synthetic", "100", "--set", "interval_seconds=5")
    assert p.returncode == 2 and "say reconcile.interval_seconds or cleanup.interval_seconds" in p.stderr


def test_a_misspelt_key_in_the_config_file_is_one_line_naming_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "bot.yaml"
    config.write_text('trading:\n  symbol: AVAXUSDT\n  price_intervall: "0.05"\n')
    p = _run("--data", str(DATA), "--config", str(config), "--json", "--no-progress")
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.startswith(f"error: {config}: trading.price_intervall: unknown key (allowed here:")
    assert p.stderr.count("\n") == 1


def test_sweep_ranks_and_writes_csv_and_heatmap(tmp_path: Path) -> None:
    p = _run(
        "--data",
        str(DATA),
        *AVAX,
        "--sweep",
        "price_interval=0.03,0.05,0.1",
        "buy_window_size=3,5",
        "--rank-by",
        "realized_pnl",
        "--processes",
        "2",
        "--report",
        str(tmp_path),
        "--no-progress",
    )
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 1 + 6 and "realized_pnl" in lines[0]
    assert (tmp_path / "sweep.csv").read_text().count("\n") == 7
    assert (tmp_path / "sweep_heatmap.png").read_bytes()[:4] == b"\x89PNG"
