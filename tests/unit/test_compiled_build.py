"""The mypyc-compiled build and the pure-Python sources are one rule book: the same backtest, fill for
fill, either way; and a compiled build older than its sources is never used (see market_maker/_compiled)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import market_maker
from market_maker import _compiled

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"

# One busy run per build: a fast drop and fast spikes with a 0.2 % grid, dynamic interval, skew and the
# default risk rules, so every part of the compiled code (core and replay loop) is exercised.
_RUN = """
import json, sys
from pathlib import Path
import market_maker
from market_maker.backtest.candles import concat
from market_maker.backtest.engine import run_backtest
from market_maker.backtest.loaders import load_klines
from market_maker.backtest.metrics import summarize
from market_maker.backtest.settings import BacktestSettings
from market_maker.config import load_config
import market_maker.core.strategy as strategy
data = Path(sys.argv[1])
s = BacktestSettings(load_config(data / "avax-backtest.yaml", {})).with_overrides(
    {"price_interval": "0.018", "dynamic_interval": "true", "inventory_skew_factor": "0.3",
     "max_inventory": "8", "buy_window_size": "3", "sell_window_size": "2",
     "max_open_orders": "6"})
files = ["AVAXUSDT-1m-2026-06-06_fast-drop.csv", "AVAXUSDT-1m-2026-06-20_fast-spikes.csv"]
out = []
for f in files:
    r = run_backtest(load_klines(data / f, "0.001", "1"), s)
    summary = summarize(r)
    summary.pop("params")
    out.append({"fills": [[x.time_ms, x.side.value, x.price, x.qty, str(x.fee), x.level, x.client_id]
                          for x in r.fills], "summary": summary})
print(json.dumps({"compiled": market_maker.COMPILED, "module": strategy.__file__, "runs": out}))
"""


def _run(pure: bool) -> dict:
    env = {**os.environ, "MARKET_MAKER_PURE": "1" if pure else "0", "MARKET_MAKER_CANDLE_CACHE": "0"}
    p = subprocess.run(
        [sys.executable, "-c", _RUN, str(DATA)], capture_output=True, text=True, env=env, timeout=600
    )
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.mark.skipif(_compiled._group_library() is None, reason="installed without the compiled build")
def test_compiled_and_pure_backtests_are_identical_fill_for_fill() -> None:
    compiled, pure = _run(pure=False), _run(pure=True)
    assert compiled["compiled"] is True, f"the compiled build is not used: {_compiled.why_source()}"
    assert compiled["module"].endswith(".so") and pure["module"].endswith(".py")
    assert pure["compiled"] is False
    assert all(run["fills"] for run in compiled["runs"])  # busy runs, not idle ones
    assert compiled["runs"] == pure["runs"]


def test_the_readme_install_runs_the_compiled_build() -> None:
    if os.environ.get("MARKET_MAKER_COMPILE") == "0" or os.environ.get("MARKET_MAKER_PURE") not in (
        None,
        "",
        "0",
    ):
        pytest.skip("the pure build was asked for")
    if _compiled._group_library() is None and not (ROOT / "market_maker" / "core" / "__init__.py").samefile(
        Path(market_maker.__file__).parent / "core" / "__init__.py"
    ):
        pytest.skip("a source tree without a build of its own (PYTHONPATH)")
    assert market_maker.COMPILED, f"the compiled core is not in use: {_compiled.why_source() or 'not built'}"


def test_a_source_newer_than_the_build_runs_from_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = tmp_path / "market_maker_core__mypyc.so"
    src = tmp_path / "strategy.py"
    src.write_text("")
    lib.write_bytes(b"")
    old = time.time() - 100
    os.utime(src, (old, old))
    monkeypatch.setattr(_compiled, "_group_library", lambda: lib)
    monkeypatch.setattr(_compiled, "SOURCES", {"market_maker.core.strategy": src})
    monkeypatch.delenv("MARKET_MAKER_PURE", raising=False)
    assert _compiled.why_source() == ""  # the build is newer: use it
    monkeypatch.setenv("MARKET_MAKER_PURE", "1")
    assert _compiled.why_source() == "MARKET_MAKER_PURE is set"
    monkeypatch.delenv("MARKET_MAKER_PURE")
    os.utime(lib, (old - 10, old - 10))  # edited after the build
    assert "changed since it was compiled" in _compiled.why_source()
