"""`python -m market_maker doctor` on real configs: the in-process simulator, an external one, bad cases."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from market_maker.sim.server import SimServer
from market_maker.store import open_store

ROOT = Path(__file__).resolve().parents[2]
KEY, SECRET = "doctorKey0123456789", "doctorSecret0123456789abcdef"


def doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MM_")}
    return subprocess.run(
        [sys.executable, "-m", "market_maker", "doctor", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, **(env or {})},
        cwd=ROOT,
    )


def lines(out: str) -> dict[str, str]:
    """check name -> its line."""
    found = {}
    for line in out.splitlines():
        _, _, rest = line.partition(" ")
        found[rest.strip().split(":", 1)[0]] = line
    return found


def test_default_config_on_the_in_process_simulator_is_ok(tmp_path: Path) -> None:
    r = doctor("--config", "config/default.yaml", env={"MM_ENGINE__DATABASE": str(tmp_path / "bot.sqlite")})
    assert r.returncode == 0, r.stdout + r.stderr
    checks = lines(r.stdout)
    for name in ("config ok", "database", "lock", "exchange", "clock skew", "API key", "balance"):
        assert checks[name].startswith("ok "), checks
    # 5 buys of 0.001 BTC near 100000 (the seeded path moves a little while the doctor runs)
    assert re.search(r"10000 USDT free vs worst-case grid (49\d|50\d)(\.\d+)? USDT", checks["balance"])


def test_balance_below_the_worst_case_grid_is_unsafe(tmp_path: Path) -> None:
    env = {"MM_ENGINE__DATABASE": str(tmp_path / "bot.sqlite"), "MM_SIM__BALANCES__USDT": "100"}
    r = doctor("--config", "config/default.yaml", env=env)
    assert r.returncode == 4
    assert re.match(
        r"FAIL  balance: 100 USDT free vs worst-case grid (49\d|50\d)", lines(r.stdout)["balance"]
    )
    assert r.stdout.rstrip().endswith("unsafe to trade: 1 check(s) failed")


def test_bad_config_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("trading:\n  price_interval: -10\n")
    r = doctor("--config", str(bad))
    assert r.returncode == 2 and "trading.price_interval" in r.stderr and "FAIL  config" in r.stdout


def test_unwritable_database_is_unsafe(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    r = doctor("--config", "config/default.yaml", env={"MM_ENGINE__DATABASE": str(blocker / "db.sqlite")})
    assert r.returncode == 4 and lines(r.stdout)["database"].startswith("FAIL  database:")


def test_a_damaged_store_is_unsafe_naming_the_problem(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite"
    open_store(str(database), "paper1", "BTCUSDT").close()
    db = sqlite3.connect(database, isolation_level=None)
    db.execute("DROP TABLE fill")
    db.close()
    r = doctor("--config", "config/default.yaml", env={"MM_ENGINE__DATABASE": str(database)})
    line = lines(r.stdout)["store integrity"]
    assert r.returncode == 4 and line.startswith("FAIL  store integrity:"), r.stdout
    assert "table fill missing" in line and "restore the database" in line, line


def test_lock_left_by_a_dead_bot_is_reported(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite"
    # A "bot" that takes the lock and dies without releasing it (as a crash would).
    code = (
        "import os,time; from market_maker.store import open_store;"
        f"s=open_store({str(db)!r},'paper1','BTCUSDT'); s.acquire_lock('crashed',int(time.time()*1000));"
        "os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)
    r = doctor("--config", "config/default.yaml", env={"MM_ENGINE__DATABASE": str(db)})
    assert "WARN  lock: stale: held by crashed" in r.stdout and "no longer runs" in r.stdout
    assert r.returncode == 0  # the next start takes a dead process's lock over by itself
    store = open_store(str(db), "paper1", "BTCUSDT")
    try:
        assert store.get_control("doctor_probe") is None  # the write probe was rolled back
    finally:
        store.close()


@pytest.fixture
def sim() -> Iterator[SimServer]:
    with SimServer() as s:
        s.create_account(KEY, SECRET, {"USDT": "10000", "BTC": "0"})
        yield s


def external(tmp_path: Path, sim: SimServer) -> tuple[Path, dict[str, str]]:
    config = tmp_path / "bot.yaml"
    config.write_text(
        f"bot:\n  id: ext1\nexchange:\n  venue: sim\n  rest_url: {sim.rest_url}\n  ws_url: {sim.ws_url}\n"
        f"engine:\n  database: {tmp_path / 'bot.sqlite'}\n"
    )
    return config, {"MM_API_KEY": KEY, "MM_API_SECRET": SECRET}


def test_external_simulator_with_a_skewed_clock_is_unsafe(tmp_path: Path, sim: SimServer) -> None:
    config, env = external(tmp_path, sim)
    ok = doctor("--config", str(config), env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    sim.control.skew_clock(8000)
    r = doctor("--config", str(config), env=env)
    assert r.returncode == 4
    line = lines(r.stdout)["clock skew"]
    assert line.startswith("FAIL  clock skew: local clock is "), line
    # the offset is measured over a real request, so it is 8000 ms give or take the round trip
    offset = int(re.search(r"is ([+-]\d+) ms off", line).group(1))  # type: ignore[union-attr]
    assert 7500 <= offset <= 8500, line
    assert KEY not in r.stdout + r.stderr and SECRET not in r.stdout + r.stderr


def test_wrong_key_fails_the_exchange_check(tmp_path: Path, sim: SimServer) -> None:
    config, env = external(tmp_path, sim)
    r = doctor("--config", str(config), env={**env, "MM_API_SECRET": "wrong-secret-0000"})
    assert r.returncode == 4
    assert "FAIL  API key:" in r.stdout and "wrong-secret-0000" not in r.stdout + r.stderr


def test_futures_leverage_above_the_risk_limit_is_unsafe(tmp_path: Path) -> None:
    env = {"MM_ENGINE__DATABASE": str(tmp_path / "bot.sqlite"), "MM_EXCHANGE__MARKET": "usdm"}
    r = doctor("--config", "config/default.yaml", env=env)
    # the simulator's futures account starts at leverage 20; risk.max_leverage defaults to 1
    assert r.returncode == 4
    assert lines(r.stdout)["futures"] == (
        "FAIL  futures: BTCUSDT leverage is 20, above risk.max_leverage 1: set exchange.leverage"
    )
    fixed = doctor("--config", "config/default.yaml", env={**env, "MM_EXCHANGE__LEVERAGE": "1"})
    assert fixed.returncode == 0, fixed.stdout
    assert lines(fixed.stdout)["futures"] == "ok    futures: one-way mode; leverage 20 now, 1 set at start"
    assert "x leverage 1" in lines(fixed.stdout)["balance"]


def test_binance_venue_interval_below_the_fees_warns_at_todays_price(tmp_path: Path, sim: SimServer) -> None:
    # the simulator posing as Binance: doctor reads the price, the filters and the maker rate from it
    config = tmp_path / "bot.yaml"
    config.write_text(
        f"bot:\n  id: fee1\nexchange:\n  venue: binance\n  rest_url: {sim.rest_url}\n  ws_url: {sim.ws_url}\n"
        f"trading:\n  symbol: BTCUSDT\n  price_interval: 50\n  order_quantity: 0.001\n"
        f"engine:\n  database: {tmp_path / 'bot.sqlite'}\n"
    )
    r = doctor("--config", str(config), env={"MM_API_KEY": KEY, "MM_API_SECRET": SECRET})
    assert r.returncode == 0, r.stdout + r.stderr  # a warning, not unsafe
    line = lines(r.stdout)["fees and minimums"]
    assert line.startswith(
        "WARN  fees and minimums: trading.price_interval 50 cannot beat the round-trip fees"
    )
    assert re.search(r"the break-even interval is 2\d\d\.\d\d USDT", line), line
