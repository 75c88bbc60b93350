"""``python -m market_maker workflows``: a durable bot's recent and pending order workflows."""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import pytest
import yaml
from durable_support import KEY, SECRET, bot_config, start_bot, tail

from market_maker.cli import main
from market_maker.sim.server import SimConfig, SimServer


def test_lists_the_workflow_a_kill_left_pending_then_its_recovery(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "bot.log"
    with SimServer(SimConfig()) as sim:  # clock-driven: the bot places its grid as soon as it runs
        sim.create_account(KEY, SECRET, {"USDT": "10000", "BTC": "0"})
        config = bot_config(
            tmp_path / "bot.yaml",
            sim,
            bot_id="wf1",
            symbol="BTCUSDT",
            database=str(tmp_path / "bot.sqlite"),
            interval="10",
            qty="0.001",
        )
        proc = start_bot(config, log, {"MM_CRASH_POINT": "before_call", "MM_CRASH_COUNTDOWN": "2"})
        try:
            assert proc.wait(timeout=120) == -signal.SIGKILL, tail(log)  # killed placing its second order
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

        assert main(["workflows", "--config", str(config)]) == 0
        out = capsys.readouterr().out
        pending = out.split("recent:")[0]
        assert "pending: 1" in pending
        (wid,) = re.findall(r"place-BTCUSDT-wf1_\w+", pending)
        assert re.search(rf"{wid}\s+PENDING\s+\d+s\s+wf1-BTCUSDT", pending)
        recent = out.split("recent:")[1]
        assert re.search(r"place-BTCUSDT-wf1_\w+\s+SUCCESS", recent)  # the first order went through

        proc = start_bot(config, log)  # recovers it, then trades
        try:
            deadline = time.monotonic() + 60
            while "pending: 0" not in out and time.monotonic() < deadline:
                time.sleep(0.2)
                assert main(["workflows", "--config", str(config), "--limit", "1"]) == 0
                out = capsys.readouterr().out
            assert "pending: 0" in out, tail(log)
            assert len(re.findall(r"SUCCESS", out)) == 1  # --limit 1
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                assert proc.wait(timeout=60) == 0, tail(log)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()


def test_refuses_a_simple_engine_config_and_reports_a_missing_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    simple = tmp_path / "simple.yaml"
    simple.write_text(yaml.safe_dump({"engine": {"type": "simple", "database": str(tmp_path / "s.sqlite")}}))
    assert main(["workflows", "--config", str(simple)]) == 2
    assert "only the durable engine runs workflows" in capsys.readouterr().err
    durable = tmp_path / "durable.yaml"
    durable.write_text(
        yaml.safe_dump({"engine": {"type": "durable", "database": str(tmp_path / "d.sqlite")}})
    )
    assert main(["workflows", "--config", str(durable)]) == 1
    err = capsys.readouterr().err
    assert "d.dbos.sqlite does not exist" in err and len(err.strip().splitlines()) == 1
    assert main(["workflows", "--config", str(durable), "--limit", "0"]) == 2


def test_lists_the_workflows_of_a_postgresql_database(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "pg.yaml"
    config.write_text(yaml.safe_dump({"engine": {"type": "durable", "database": pg_url}}))
    assert main(["workflows", "--config", str(config)]) == 1  # no bot has created DBOS's tables yet
    assert "cannot read workflows" in capsys.readouterr().err
