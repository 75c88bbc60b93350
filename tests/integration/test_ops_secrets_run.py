"""A real run (`python -m market_maker run`) against the simulator, reached as venue binance over
loopback with a known API key and secret: neither appears in any log line (stream and rotating file,
JSON and text), in the process output, or in any row of the database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from market_maker.sim.server import SimServer

ROOT = Path(__file__).resolve().parents[2]
KEY = "runKeyA1b2C3d4E5f6G7h8I9j0KkLlMmNnOoPp"
SECRET = "runSecretZ9y8X7w6V5u4T3s2R1q0PpOoNnMmLl"
TOKEN = "runOpsToken-0a1b2c3d4e5f"


@pytest.fixture
def sim() -> Iterator[SimServer]:
    with SimServer() as s:
        s.create_account(KEY, SECRET, {"USDT": "10000", "BTC": "0"})
        yield s


def every_db_row(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert tables, "the run created no tables"
        return "\n".join(repr(row) for t in tables for row in con.execute(f'SELECT * FROM "{t}"'))
    finally:
        con.close()


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_no_secret_in_logs_output_or_database(tmp_path: Path, sim: SimServer, fmt: str) -> None:
    config = tmp_path / "bot.yaml"
    config.write_text(
        "trading:\n  symbol: BTCUSDT\n  price_interval: 10\n  order_quantity: 0.001\n"
        "bot:\n  id: sec1\n"
        f"exchange:\n  venue: binance\n  market: spot\n  rest_url: {sim.rest_url}\n"
        f"  ws_url: {sim.ws_url}\n  ws_api_url: {sim.ws_url}\n"
        f"engine:\n  database: {tmp_path / 'bot.sqlite'}\n"
        f"ops:\n  log_format: {fmt}\n  log_level: DEBUG\n  log_file: {tmp_path / 'logs' / 'bot.log'}\n"
        "  log_max_bytes: 20000\n  log_backups: 3\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MM_")}
    env.update(MM_API_KEY=KEY, MM_API_SECRET=SECRET, MM_OPS_TOKEN=TOKEN)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "market_maker",
            "run",
            "--config",
            str(config),
            "--for",
            "12",
            "--heartbeat",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=ROOT,
    )
    logs = "\n".join(p.read_text() for p in sorted((tmp_path / "logs").iterdir()))
    assert run.returncode == 0, run.stderr[-3000:]
    assert "heartbeat" in logs and "placing BUY" in logs  # it really traded and logged at DEBUG
    assert sim.control.trades(KEY, "BTCUSDT") or sim.control.open_orders(KEY, "BTCUSDT")
    rows = every_db_row(tmp_path / "bot.sqlite")
    for where, text in (
        ("stdout", run.stdout),
        ("stderr", run.stderr),
        ("log files", logs),
        ("database", rows),
    ):
        for secret in (KEY, SECRET, TOKEN):
            assert secret not in text, f"a secret leaked into the {where}"
