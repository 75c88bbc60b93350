"""A real run (`python -m market_maker run`) against the simulator, reached as venue binance over
loopback with a known API key, secret, ops token and alerts webhook: none of them appears in any log
line (stream and rotating file, JSON and text), the process output, the /metrics, /status and /healthz
pages, the `status` verb's box and JSON, or any row of the database."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from test_ops_bot_support import KEY, SECRET, TOKEN, OpsBot, every_db_row, running_receiver, wait_until

from market_maker.sim.server import SimConfig, SimServer


@pytest.fixture
def sim() -> Iterator[SimServer]:
    with SimServer(SimConfig(step_mode=True)) as s:
        s.create_account(KEY, SECRET, {"USDT": "10000", "BTC": "0"})
        yield s


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_no_secret_in_logs_output_pages_status_or_database(tmp_path: Path, sim: SimServer, fmt: str) -> None:
    pages: dict[str, str] = {}
    # the alerts webhook (its path is a secret too) gets the start and stop alerts
    with running_receiver() as hook:
        bot = OpsBot(sim, tmp_path, env={"MM_OPS_WEBHOOK_URL": hook.url}, ops={"log_format": fmt})
        with bot:
            wait_until("buys on the venue", lambda: len(sim.control.open_orders(KEY, "BTCUSDT")) >= 3)
            top_buy = max(Decimal(o["price"]) for o in sim.control.open_orders(KEY, "BTCUSDT"))
            sim.control.set_price("BTCUSDT", str(top_buy - Decimal("0.01")))  # a fill: trades and fees rows
            wait_until("a fill", lambda: sim.control.trades(KEY, "BTCUSDT") != [])
            wait_until("a heartbeat in the log", lambda: "heartbeat" in bot.logs())
            for path in ("/metrics", "/status", "/healthz"):
                pages[path] = bot.get(path).text
            for args in ((), ("--json",)):
                shown = bot.status_cli(*args)
                assert shown.returncode == 0, shown.stderr
                pages["status " + " ".join(args)] = shown.stdout + shown.stderr
            result = bot.stop()
            hook.wait_for(2)
    assert result.returncode == 0, result.stderr[-3000:]
    logs = bot.logs()
    assert "heartbeat" in logs and "placing BUY" in logs  # it really traded and logged at DEBUG
    if fmt == "json":  # every line is JSON; heartbeat and order events carry their values as keys
        lines = [json.loads(line) for line in logs.splitlines() if line.strip()]
        beat = next(line for line in lines if line.get("event") == "heartbeat")
        assert {"price", "center", "interval", "slots", "position", "fees"} <= set(beat)
        assert beat["msg"].startswith("heartbeat price=")
        placed = next(line for line in lines if line.get("event") == "order_placed" and line["side"] == "BUY")
        assert placed["client_id"].startswith("ops1_B") and placed["msg"].startswith("placing BUY")
        assert Decimal(placed["qty"]) == Decimal("0.001") and Decimal(placed["price"]) > 0
        assert any(line.get("event") == "order_filled" and line["trade_id"] for line in lines)
    else:  # the readable text form
        heartbeat = r"INFO    market_maker\.slots: heartbeat price=\S+ center=\S+ interval=\S+ slots\["
        assert re.search(heartbeat, logs)
        assert re.search(r"market_maker\.slots: placing BUY 0\.00100 @ \d+\.\d+ \(ops1_B\w+\)", logs)
    assert "mm_fills_total" in pages["/metrics"] and '"position"' in pages["/status"]
    for where, text in (
        ("stdout", result.stdout),
        ("stderr", result.stderr),
        ("log files", logs),
        ("database", every_db_row(tmp_path / "bot.sqlite")),
        *pages.items(),
    ):
        for secret in (KEY, SECRET, TOKEN, "SECRETPATH"):
            assert secret not in text, f"a secret leaked into {where}"
    assert [b["kind"] for b in hook.bodies] == ["start", "stop"]


def test_paper_run_masks_the_generated_simulator_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging
    import secrets as stdlib_secrets

    from market_maker.cli import main

    made: list[str] = []

    def token_hex(n: int) -> str:  # the real generator, remembered so the test knows the key
        made.append(stdlib_secrets.token_bytes(n).hex())
        return made[-1]

    monkeypatch.setattr("market_maker.sim.server.secrets.token_hex", token_hex)  # the paper account's key
    monkeypatch.delenv("MM_API_KEY", raising=False)
    config = tmp_path / "paper.yaml"
    config.write_text(f"bot:\n  id: paper9\nengine:\n  database: {tmp_path / 'paper.sqlite'}\n")
    assert main(["run", "--config", str(config), "--for", "3"]) == 0
    key, secret = made[:2]
    logging.getLogger("market_maker.test").error("leak attempt: key=%s secret=%s", key, secret)
    err = capsys.readouterr().err
    assert "leak attempt: key=********** secret=**********" in err
    assert key not in err and secret not in err
