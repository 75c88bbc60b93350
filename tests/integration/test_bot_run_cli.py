"""``python -m market_maker run``: the done-when demo, refusals, and the lock between two bots."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import jsonschema
import pytest
import requests
import yaml
from invariants import bot_run

from actors.system import StartError, TradingSystem
from market_maker.cli import main
from market_maker.exchange.factory import make_exchange
from market_maker.store import open_store

REPO = Path(__file__).resolve().parents[2]
ROUND_TRIP = re.compile(r"heartbeat .*realized_pnl=(-?\d+\.\d+) round_trips=([1-9]\d*)")


def _reader(proc: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.put(line)


def test_run_with_no_arguments_trades_until_sigterm_and_stores_every_fill(tmp_path: Path) -> None:
    db = tmp_path / "paper.sqlite"
    env = {**os.environ, "MM_ENGINE__DATABASE": str(db), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "market_maker", "run", "--heartbeat", "1"],
        cwd=tmp_path,  # any working directory: config/default.yaml is found from the package
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(proc, lines), daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + 120  # the issue asks for well under 60 s; generous for a busy box
    try:
        while not any(ROUND_TRIP.search(x) for x in seen):
            assert time.monotonic() < deadline, "no closed round trip in the heartbeat:\n" + "".join(
                seen[-30:]
            )
            assert proc.poll() is None, "run exited early:\n" + "".join(seen[-30:])
            with contextlib.suppress(queue.Empty):
                seen.append(lines.get(timeout=1))
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0)  # let the reader drain
    while not lines.empty():
        seen.append(lines.get())
    text = "".join(seen)
    assert code == 0, text[-3000:]
    for what in ("placing BUY", "filled BUY", "placing SELL", "filled SELL", "round trip closed"):
        assert what in text, f"no {what!r} line"
    m = re.search(r"paper check: the database holds all (\d+) fills the simulator reports", text)
    assert m, text[-3000:]
    store = open_store(str(db), "paper1", "BTCUSDT")
    try:
        fills = store.fills()
        assert len(fills) == int(m.group(1)) >= 2
        assert len({f.trade_id for f in fills}) == len(fills)
        assert store.lock_holder() is None  # released on the way out
    finally:
        store.close()


def _write(tmp_path: Path, data: dict[str, object]) -> str:
    path = tmp_path / "bot.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_run_stops_by_itself_after_for_seconds(tmp_path: Path) -> None:
    cfg = _write(tmp_path, {"engine": {"database": str(tmp_path / "db.sqlite")}, "sim": {"seed": 3}})
    assert main(["run", "--config", cfg, "--for", "1"]) == 0


def test_run_refuses_an_account_that_cannot_fund_the_grid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _write(
        tmp_path,
        {
            "engine": {"database": str(tmp_path / "db.sqlite")},
            "sim": {"balances": {"USDT": "100", "BTC": "0"}},
        },
    )
    assert main(["run", "--config", cfg]) == 4
    errors = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error:")]
    assert len(errors) == 1 and "does not cover the worst-case grid notional" in errors[0]


def test_run_with_a_bad_config_exits_2(tmp_path: Path) -> None:
    cfg = _write(tmp_path, {"trading": {"price_interval": "-1"}})
    assert main(["run", "--config", cfg]) == 2


def test_run_with_a_cpu_it_cannot_use_exits_2_naming_bot_cpu(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _write(tmp_path, {"bot": {"id": "pin1", "cpu": 4096}})
    assert main(["run", "--config", cfg, "--for", "1"]) == 2
    errors = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error:")]
    allowed = sorted(os.sched_getaffinity(0))
    assert errors == [f"error: bot.cpu: CPU 4096 is not available to this process (allowed: {allowed})"]


def test_a_second_bot_on_the_same_database_refuses_to_start(tmp_path: Path) -> None:
    with bot_run(tmp_path) as run:
        run.price("100000")
        other = TradingSystem(
            run.config,
            make_exchange("spot", run.sim.rest_url, run.sim.ws_url, run.key, run.secret, symbol="BTCUSDT"),
        )
        try:
            with pytest.raises(StartError, match="lock") as err:
                other.start()
        finally:
            other.stop()
        assert err.value.code == 1
        assert len(run.own_open()) == 3  # the running bot is untouched


def test_run_serves_status_metrics_and_health_while_trading(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = _write(
        tmp_path,
        {"engine": {"database": str(tmp_path / "db.sqlite")}, "ops": {"port": port}, "sim": {"seed": 5}},
    )
    got: dict[str, object] = {}

    def probe() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "status" not in got:
            with contextlib.suppress(requests.RequestException, ValueError):
                doc = requests.get(f"http://127.0.0.1:{port}/status", timeout=2).json()
                if doc.get("market", {}).get("price") and doc.get("orders", {}).get("open_own"):
                    got["status"] = doc
                    got["metrics"] = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
                    got["health"] = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code
            time.sleep(0.2)

    t = threading.Thread(target=probe)
    t.start()
    assert main(["run", "--config", cfg, "--for", "8"]) == 0
    t.join()
    assert "status" in got, "no /status document with a price and open orders while running"
    jsonschema.validate(got["status"], json.loads((REPO / "docs" / "status.schema.json").read_text()))
    assert got["health"] == 200
    assert "mm_orders_placed_total" in str(got["metrics"])
