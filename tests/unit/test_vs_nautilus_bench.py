"""``bench/vs_nautilus.py`` keeps working: its arguments, our side of the benchmark on the shipped AVAX
slice (in process and as the CLI process it times), the one-line install hint when NautilusTrader is
missing, and (only where NautilusTrader is installed) its grid on the same slice."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "vs_nautilus.py"
SLICE = ROOT / "tests" / "data" / "AVAXUSDT-1m-2026-06-01_03.csv"
CONFIG = ROOT / "bench" / "configs" / "avax_risk_off.yaml"


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("vs_nautilus", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_arguments_default_to_the_june_month_at_three_grids() -> None:
    args = _bench().parse_args([])
    assert args.data.name == "AVAXUSDT-1m-2026-06.csv"
    assert args.interval_list == [Decimal("0.01"), Decimal("0.05"), Decimal("0.2")]
    assert args.repeat == 3
    args = _bench().parse_args(["--data", str(SLICE), "--intervals", "0.02,0.1", "--repeat", "5"])
    assert (args.data, args.interval_list, args.repeat) == (SLICE, [Decimal("0.02"), Decimal("0.1")], 5)
    assert _bench().parse_args(["--set", "max_inventory=100000"]).set == ["max_inventory=100000"]


@pytest.mark.parametrize(
    "bad", [["--intervals", "cheap"], ["--intervals", "0"], ["--repeat", "0"], ["--set", "max_inventory"]]
)
def test_bad_arguments_are_a_usage_error(bad: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        _bench().parse_args(bad)
    assert exc.value.code == 2


def test_our_side_times_a_cold_run_with_the_cli_s_fills() -> None:
    bench = _bench()
    engine = bench.time_ours(SLICE, CONFIG, Decimal("0.05"))
    process = bench.ours_cli(SLICE, CONFIG, Decimal("0.05"))
    # --set reaches both: a bound of 5 buys held (the slice's grid holds up to 22) trades less
    small = bench.time_ours(SLICE, CONFIG, Decimal("0.05"), ["max_inventory=50"])
    small_process = bench.ours_cli(SLICE, CONFIG, Decimal("0.05"), ["max_inventory=50"])
    assert engine["candles"] == 4320
    assert engine["seconds"] > 0 and engine["cpu_seconds"] > 0
    assert process["seconds"] > 0 and process["cpu_seconds"] > 0
    assert engine["fills"] > 0 and engine["round_trips"] > 0
    # the two ways the script runs our engine trade the same grid
    assert (engine["fills"], engine["round_trips"]) == (process["fills"], process["round_trips"])
    assert small["fills"] == small_process["fills"] != engine["fills"]


def test_a_config_the_nautilus_grid_cannot_model_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "dynamic.yaml"
    config.write_text(CONFIG.read_text().replace("trading:\n", "trading:\n  dynamic_interval: true\n"))
    spec = _bench().grid_spec(CONFIG, Decimal("0.05"))
    assert (spec["price_interval"], spec["order_quantity"], spec["tick_size"]) == ("0.05", "10", "0.001")
    with pytest.raises(ValueError, match="dynamic_interval"):
        _bench().grid_spec(config, Decimal("0.05"))


def test_without_nautilus_it_says_how_to_install_it_and_exits_2() -> None:
    hide = "import sys, runpy; sys.modules['nautilus_trader'] = None; sys.argv = ['vs_nautilus.py']"
    run = f"{hide}; runpy.run_path({str(SCRIPT)!r}, run_name='__main__')"
    proc = subprocess.run([sys.executable, "-c", run], capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "NautilusTrader is not installed: python3 -m pip install -e '.[bench]'"
    ]


@pytest.mark.parametrize("waypoints", [False, True], ids=["bars", "waypoint-ticks"])
def test_the_nautilus_grid_trades_like_ours_on_the_slice(waypoints: bool) -> None:
    pytest.importorskip("nautilus_trader")
    bench = _bench()
    for interval in (Decimal("0.05"), Decimal("0.2")):
        theirs = bench.time_nautilus(SLICE, bench.grid_spec(CONFIG, interval), waypoints)
        ours = bench.time_ours(SLICE, CONFIG, interval)
        assert theirs["ticks" if waypoints else "bars"] == ours["candles"] * (4 if waypoints else 1)
        assert theirs["post_only_rejects"] == 0
        # Same rules, but NautilusTrader fills only the nearest of several orders one price point goes
        # through, and on bars its strategy acts once a candle: on a busy grid close, not equal
        assert theirs["fills"] > 0 and abs(theirs["fills"] - ours["fills"]) <= ours["fills"] * 0.1
        assert abs(theirs["round_trips"] - ours["round_trips"]) <= ours["round_trips"] * 0.1
        if interval == Decimal("0.2"):  # the quiet grid: never two levels at once, the same fills
            assert (theirs["fills"], theirs["round_trips"]) == (ours["fills"], ours["round_trips"])
