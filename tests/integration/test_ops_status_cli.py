"""`python -m market_maker status` against a live ops endpoint over loopback, and with none running."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import jsonschema

from market_maker.ops.health import Health
from market_maker.ops.http import OpsServer
from market_maker.ops.status_doc import StatusInput, status_document

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "status.schema.json").read_text())
TOKEN = "tok-9f8e7d6c5b4a"


def _terminal_sigint() -> None:
    """In the child: Ctrl-C as in a terminal. A test run launched in the background (as CI may launch
    it) ignores SIGINT, and an ignored signal is inherited across exec: the child would never stop."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def status_cli(config: Path, *args: str, token: str | None = TOKEN) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MM_")}
    if token:
        env["MM_OPS_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "market_maker", "status", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )


def write_config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "bot.yaml"
    path.write_text(f"bot:\n  id: paper1\nops:\n  port: {port}\n")
    return path


def doc() -> dict[str, object]:
    return status_document(
        StatusInput(
            "paper1",
            "BTCUSDT",
            "spot",
            "sim",
            1_700_000_000_000,
            price=Decimal("100000.01"),
            slots={"LOCKED": 4, "FILLED": 1},
            position=Decimal("0.001"),
            fees=Decimal("0.1"),
        )
    )


def test_status_prints_box_and_schema_valid_json(tmp_path: Path) -> None:
    with OpsServer(lambda: b"", lambda: Health(True), doc, token=TOKEN) as server:
        config = write_config(tmp_path, server.port)
        box = status_cli(config)
        assert box.returncode == 0, box.stderr
        assert "paper1 | BTCUSDT spot | sim" in box.stdout and "LOCKED 4" in box.stdout
        as_json = status_cli(config, "--json")
        assert as_json.returncode == 0, as_json.stderr
        jsonschema.validate(json.loads(as_json.stdout), SCHEMA, cls=jsonschema.Draft202012Validator)
        refused = status_cli(config, token="wrong")
        assert refused.returncode == 3 and "401" in refused.stderr and "wrong" not in refused.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_status_exits_3_when_no_bot_answers(tmp_path: Path) -> None:
    result = status_cli(write_config(tmp_path, free_port()))
    assert result.returncode == 3
    assert result.stderr.startswith("not running: no bot answers at http://127.0.0.1:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_status_with_endpoint_off_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "bot.yaml"
    path.write_text("bot:\n  id: paper1\nops:\n  enabled: false\n")
    result = status_cli(path)
    assert result.returncode == 2 and "ops.enabled is false" in result.stderr


def test_status_with_no_recorded_address_is_not_running_and_creates_no_database(tmp_path: Path) -> None:
    path = tmp_path / "bot.yaml"
    path.write_text(f"bot:\n  id: paper1\nengine:\n  database: {tmp_path / 'bot.sqlite'}\n")
    result = status_cli(path)
    assert result.returncode == 3
    assert result.stderr.startswith("not running: no running bot paper1 on BTCUSDT recorded its ops address")
    assert not (tmp_path / "bot.sqlite").exists()


def test_watch_refreshes_until_interrupted(tmp_path: Path) -> None:
    served = []

    def counting_doc() -> dict[str, object]:
        served.append(1)
        return doc()

    with OpsServer(lambda: b"", lambda: Health(True), counting_doc, token=TOKEN) as server:
        config = write_config(tmp_path, server.port)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MM_")}
        env["MM_OPS_TOKEN"] = TOKEN
        proc = subprocess.Popen(
            [sys.executable, "-m", "market_maker", "status", "--config", str(config), "--watch", "0.2"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
            preexec_fn=_terminal_sigint,
        )
        deadline = time.monotonic() + 60
        while len(served) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert len(served) >= 3 and out.count("paper1 | BTCUSDT spot | sim") >= 2
