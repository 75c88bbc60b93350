"""`python -m market_maker cancel-all` against the simulator: own orders go, a foreign one stays."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from market_maker.core.ids import encode
from market_maker.core.model import Side
from market_maker.exchange.factory import make_exchange
from market_maker.sim.config import SimConfig
from market_maker.sim.server import SimServer

ROOT = Path(__file__).resolve().parents[2]
KEY, SECRET = "cancelKey0123456789", "cancelSecret0123456789abcdef"


@pytest.fixture
def sim() -> Iterator[SimServer]:
    with SimServer(SimConfig(step_mode=True)) as s:  # the price stays put: nothing fills meanwhile
        s.create_account(KEY, SECRET, {"USDT": "100000", "BTC": "1"})
        yield s


def cancel_all(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MM_")}
    env.update(MM_API_KEY=KEY, MM_API_SECRET=SECRET)
    return subprocess.run(
        [sys.executable, "-m", "market_maker", "cancel-all", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )


def open_ids(sim: SimServer) -> set[str]:
    return {o["clientOrderId"] for o in sim.control.open_orders(KEY, "BTCUSDT")}


def test_cancels_own_orders_only(tmp_path: Path, sim: SimServer) -> None:
    ex = make_exchange("spot", sim.rest_url, sim.ws_url, KEY, SECRET, symbol="BTCUSDT")
    ex.start()
    rules = ex.symbol_rules()
    price = rules.price_to_ticks("90000")
    own = [encode("bot7", price - i * 1000, Side.BUY, i) for i in range(3)]
    others = ["manual_order_1", encode("bot8", price, Side.BUY, 1)]  # a person's order, another bot's
    for i, cid in enumerate(own + others):
        ex.place(Side.BUY, price - i * 1000, rules.qty_to_steps("0.001"), cid)
    ex.close()
    assert open_ids(sim) == set(own + others)
    config = tmp_path / "bot.yaml"
    config.write_text(
        f"bot:\n  id: bot7\nexchange:\n  venue: sim\n  rest_url: {sim.rest_url}\n  ws_url: {sim.ws_url}\n"
    )

    dry = cancel_all(config, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would cancel 3 order(s) of bot bot7" in dry.stdout and open_ids(sim) == set(own + others)

    r = cancel_all(config)
    assert r.returncode == 0, r.stderr
    assert open_ids(sim) == set(others)
    assert "cancelled 3 order(s) of bot bot7 on BTCUSDT; left 2 foreign order(s) untouched" in r.stdout
    assert all(f"cancelled {cid} BUY 0.00100 @ " in r.stdout for cid in own)

    again = cancel_all(config)
    assert again.returncode == 0 and "cancelled 0 order(s)" in again.stdout


def test_refuses_the_in_process_simulator_and_missing_keys(tmp_path: Path) -> None:
    r = cancel_all(ROOT / "config" / "default.yaml")
    assert r.returncode == 2 and "simulator runs inside the bot" in r.stderr
