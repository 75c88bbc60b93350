"""Paper trading survives restarts (issue 17): the README's ``python3 -m market_maker run``, stopped by
Ctrl-C or killed with SIGKILL, then run again, continues the same paper account and exits 0 with the
paper check passing; the same on the Durable engine's shipped configuration. A database that belongs
to another venue state is refused with one line; ``paper reset`` starts over.

Every wait is on a log line of the bot (no sleeps); the timeouts are only there to fail a stuck run.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from market_maker.cli import main
from market_maker.sim.config import PAPER_API_KEY, PAPER_API_SECRET, AccountSpec, SimConfig
from market_maker.sim.server import SimServer
from market_maker.store import open_store

REPO = Path(__file__).resolve().parents[2]
PAPER_OK = re.compile(r"paper check: the database holds all (\d+) fills the simulator reports")
FILLED = re.compile(r"filled (BUY|SELL) .* trade (\d+)")
CONTINUED = re.compile(r"paper venue .* continued: (\d+) journal lines replayed; .* moved on (\d+) steps")
TROUBLE = ("insufficient balance", "reported again", "HALTED", "paper check FAILED", "Traceback")


class Bot:
    """``python -m market_maker run ...`` in ``cwd``, its output read line by line."""

    def __init__(self, cwd: Path, *args: str, env: dict[str, str] | None = None) -> None:
        full = {k: v for k, v in os.environ.items() if not k.startswith("MM_")}
        full.update(PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1", **(env or {}))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "market_maker", "run", *args],
            cwd=cwd,
            env=full,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._q: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._q.put(line)
        self._q.put(None)

    def wait_for(self, pattern: re.Pattern[str], timeout: float = 120) -> re.Match[str]:
        """The first line (seen or coming) that matches; fails if the bot exits or takes too long."""
        for line in self.lines:
            if m := pattern.search(line):
                return m
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._q.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            self.lines.append(line)
            if m := pattern.search(line):
                return m
        raise AssertionError(f"no line matching {pattern.pattern!r}:\n" + "".join(self.lines[-40:]))

    def stop(self, sig: signal.Signals) -> int:
        """Send ``sig``, wait for the exit, read the rest of the output; the exit code."""
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        while (line := self._q.get(timeout=30)) is not None:
            self.lines.append(line)
        return code

    @property
    def text(self) -> str:
        return "".join(self.lines)


@pytest.fixture
def bots() -> Iterator[list[Bot]]:
    """Every bot a test starts; any still running when it ends (a failed wait) is killed."""
    started: list[Bot] = []
    yield started
    for bot in started:
        if bot.proc.poll() is None:
            bot.proc.kill()
            bot.proc.wait(timeout=30)


def _start(bots: list[Bot], cwd: Path, *args: str, env: dict[str, str] | None = None) -> Bot:
    bots.append(Bot(cwd, *args, env=env))
    return bots[-1]


def _clean_stop(bot: Bot) -> int:
    """Ctrl-C; exit 0 and the paper check passed, without the storm of issue 17; the fills checked."""
    code = bot.stop(signal.SIGINT)
    assert code == 0, bot.text[-4000:]
    m = PAPER_OK.search(bot.text)
    assert m, bot.text[-4000:]
    for trouble in TROUBLE:
        assert trouble not in bot.text, f"{trouble!r} in:\n{bot.text[-4000:]}"
    return int(m.group(1))


def _stored_trade_ids(database: str, bot_id: str, symbol: str) -> set[int]:
    store = open_store(database, bot_id, symbol)
    try:
        return {f.trade_id for f in store.fills()}
    finally:
        store.close()


def test_the_readme_run_stopped_by_ctrl_c_continues_when_run_again(tmp_path: Path, bots: list[Bot]) -> None:
    first = _start(bots, tmp_path)  # the README's command, in a fresh directory: config/default.yaml
    first.wait_for(FILLED)
    fills_before = _clean_stop(first)
    db = str(tmp_path / "var" / "paper1.sqlite")
    kept = _stored_trade_ids(db, "paper1", "BTCUSDT")
    assert len(kept) == fills_before >= 1

    second = _start(bots, tmp_path)
    replayed, steps = map(int, second.wait_for(CONTINUED).groups())
    assert replayed == 0 and steps > 0  # a clean stop left a snapshot; the market moved on meanwhile
    second.wait_for(FILLED)
    fills_after = _clean_stop(second)
    assert fills_after > fills_before  # one account: the venue still reports the first run's fills
    assert kept < _stored_trade_ids(db, "paper1", "BTCUSDT")
    assert "the paper account kept there" in second.text and "a new paper account" not in second.text


def test_the_readme_run_killed_with_sigkill_continues_when_run_again(tmp_path: Path, bots: list[Bot]) -> None:
    first = _start(bots, tmp_path)
    first.wait_for(FILLED)
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    db = str(tmp_path / "var" / "paper1.sqlite")
    stored_at_kill = _stored_trade_ids(db, "paper1", "BTCUSDT")  # a batch may not have committed yet

    second = _start(bots, tmp_path)
    replayed, steps = map(int, second.wait_for(CONTINUED).groups())
    assert replayed > 0 and steps > 0  # the kill left a journal to replay; the market moved on meanwhile
    second.wait_for(FILLED)
    fills = _clean_stop(second)
    assert fills >= len(stored_at_kill)
    assert stored_at_kill <= _stored_trade_ids(db, "paper1", "BTCUSDT")  # nothing the venue had was lost


def test_the_durable_configuration_continues_after_ctrl_c_and_after_sigkill(
    tmp_path: Path,
    pg_url: str,
    bots: list[Bot],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """config/durable-btcusdt.yaml as shipped (its own simulator, PostgreSQL), on a fresh database;
    then ``paper reset`` removes the venue file and only this bot's rows from the shared database."""
    args = ("--config", str(REPO / "config" / "durable-btcusdt.yaml"))
    env = {"MM_ENGINE__DATABASE": pg_url}
    first = _start(bots, tmp_path, *args, env=env)
    first.wait_for(FILLED)
    _clean_stop(first)

    second = _start(bots, tmp_path, *args, env=env)
    second.wait_for(re.compile(r"paper venue .* continued"))
    second.wait_for(FILLED)
    assert second.stop(signal.SIGKILL) == -signal.SIGKILL

    third = _start(bots, tmp_path, *args, env=env)
    third.wait_for(re.compile(r"paper venue .* continued"))
    third.wait_for(FILLED)
    fills = _clean_stop(third)
    assert fills == len(_stored_trade_ids(pg_url, "btc1", "BTCUSDT"))
    venue_file = tmp_path / "var" / "btc1-BTCUSDT.venue.jsonl"
    assert venue_file.exists()

    other = open_store(pg_url, "eth1", "ETHUSDT")  # the twin bot's rows in the shared database
    other.set_control("pause", "1")
    other.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MM_ENGINE__DATABASE", pg_url)
    capsys.readouterr()
    assert main(["paper", "reset", *args]) == 0
    said = capsys.readouterr().out
    assert "removing var/btc1-BTCUSDT.venue.jsonl" in said and "removing bot btc1's rows on BTCUSDT" in said
    assert not venue_file.exists() and not _stored_trade_ids(pg_url, "btc1", "BTCUSDT")
    other = open_store(pg_url, "eth1", "ETHUSDT")
    assert other.get_control("pause") == "1"  # another bot's rows are left alone
    other.close()


def _config(tmp_path: Path) -> str:
    path = tmp_path / "bot.yaml"
    data = yaml.safe_load((REPO / "config" / "default.yaml").read_text())
    data["engine"]["database"] = str(tmp_path / "var" / "bot.sqlite")
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_a_database_of_another_venue_is_refused_until_paper_reset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _config(tmp_path)
    assert main(["run", "--config", cfg, "--for", "2"]) == 0  # orders placed: the database has state
    venue_file = tmp_path / "var" / "bot.venue.jsonl"
    assert venue_file.exists()
    venue_file.unlink()  # e.g. deleted by hand, or a database from before venues were kept
    capsys.readouterr()

    assert main(["run", "--config", cfg, "--for", "2"]) == 4
    errors = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error:")]
    assert len(errors) == 1, errors
    assert f"paper reset --config {cfg}" in errors[0] and "bot.sqlite" in errors[0]

    assert main(["doctor", "--config", cfg]) == 4
    out = capsys.readouterr().out
    assert any(x.startswith("FAIL  paper venue:") and "paper reset" in x for x in out.splitlines()), out

    assert main(["paper", "reset", "--config", cfg]) == 0
    said = capsys.readouterr().out
    assert f"removing {tmp_path / 'var' / 'bot.sqlite'}" in said and "bot.venue.jsonl" in said
    assert not (tmp_path / "var" / "bot.sqlite").exists()
    assert main(["run", "--config", cfg, "--for", "2"]) == 0
    assert main(["doctor", "--config", cfg]) == 0
    assert "ok    paper venue:" in capsys.readouterr().out


def test_a_damaged_venue_state_is_refused_with_how_to_start_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _config(tmp_path)
    venue_file = tmp_path / "var" / "bot.venue.jsonl"
    venue_file.parent.mkdir()
    venue_file.write_text("not json\n")
    assert main(["run", "--config", cfg, "--for", "2"]) == 4
    errors = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error:")]
    assert len(errors) == 1 and str(venue_file) in errors[0] and "paper reset" in errors[0], errors


def test_run_fresh_starts_over_with_a_new_paper_account(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    assert main(["run", "--config", cfg, "--for", "2"]) == 0
    first_id = (tmp_path / "var" / "bot.venue.jsonl").read_text().split("\n", 1)[0]
    assert main(["run", "--config", cfg, "--for", "2", "--fresh"]) == 0
    assert (tmp_path / "var" / "bot.venue.jsonl").read_text().split("\n", 1)[0] != first_id


def test_venue_sim_with_urls_trades_that_simulator_with_its_paper_account(tmp_path: Path) -> None:
    """sim-exchange's documented paper account, no key configured: run trades there, not on its own."""
    account = AccountSpec(PAPER_API_KEY, PAPER_API_SECRET, {"USDT": "10000", "BTC": "0"})
    with SimServer(SimConfig(accounts=(account,), speed=300)) as sim:
        path = tmp_path / "ext.yaml"
        data = yaml.safe_load((REPO / "config" / "default.yaml").read_text())
        data["exchange"].update(rest_url=sim.rest_url, ws_url=sim.ws_url)
        data["engine"]["database"] = str(tmp_path / "ext.sqlite")
        del data["sim"]
        path.write_text(yaml.safe_dump(data))
        assert main(["run", "--config", str(path), "--for", "5"]) == 0
        placed = sim.control.open_orders(PAPER_API_KEY, "BTCUSDT") + sim.control.trades(PAPER_API_KEY)
        assert placed and all(o["clientOrderId"].startswith("paper1_") for o in placed)
        assert not list(tmp_path.rglob("*.venue.jsonl"))  # no venue of its own
