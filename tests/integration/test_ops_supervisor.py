"""The shipped supervisor program section runs the bot under a real supervisord (from PyPI), and
`supervisorctl stop` ends it gracefully: SIGTERM, the bot's own clean stop, exit status 0, no SIGKILL."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config" / "supervisor" / "market_maker.conf"
PROGRAM = "program:market_maker_paper1"


def shipped() -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(inline_comment_prefixes=None)
    parser.read_string(SHIPPED.read_text())
    return parser


def test_shipped_section_has_the_graceful_stop_settings() -> None:
    section = shipped()[PROGRAM]
    assert section["stopsignal"] == "TERM"
    assert section["autorestart"] == "unexpected" and section["exitcodes"] == "0"
    # above the bot's worst-case graceful stop: actors one after another, up to 5 s each, plus cancels
    assert int(section["stopwaitsecs"]) >= 45
    assert "market_maker run --config" in section["command"]
    assert section["stdout_logfile"] and section["redirect_stderr"] == "true"
    assert "MM_API" not in section["environment"] and "TOKEN" not in section["environment"]


def wait_until(what: str, check: Callable[[], bool], timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    # A unix socket path must stay under ~100 characters; pytest's tmp_path can be longer.
    path = Path(tempfile.mkdtemp(prefix="mmsv", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_bot_under_supervisord_stops_gracefully(short_dir: Path) -> None:
    program = shipped()[PROGRAM]
    conf = configparser.RawConfigParser()
    conf["unix_http_server"] = {"file": str(short_dir / "s.sock")}
    conf["supervisord"] = {
        "logfile": str(short_dir / "supervisord.log"),
        "pidfile": str(short_dir / "supervisord.pid"),
        "childlogdir": str(short_dir),
        "nodaemon": "true",
    }
    conf["rpcinterface:supervisor"] = {
        "supervisor.rpcinterface_factory": "supervisor.rpcinterface:make_main_rpcinterface"
    }
    conf["supervisorctl"] = {"serverurl": f"unix://{short_dir / 's.sock'}"}
    section = dict(program)
    section.pop("user")  # the test runs as whoever runs it
    # Only the paths change; every stop/restart setting is the shipped one.
    section["command"] = (
        section["command"]
        .replace("/opt/market_maker/venv/bin/python", sys.executable)
        .replace("/etc/market_maker/paper1.yaml", str(ROOT / "config" / "default.yaml"))
    )
    section["directory"] = str(ROOT)
    section["stdout_logfile"] = str(short_dir / "bot.log")
    section["environment"] += f',MM_ENGINE__DATABASE="{short_dir / "bot.sqlite"}"'
    conf[PROGRAM] = section
    path = short_dir / "supervisord.conf"
    with path.open("w") as f:
        conf.write(f)

    def ctl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "supervisor.supervisorctl", "-c", str(path), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    supervisord = subprocess.Popen(
        [sys.executable, "-m", "supervisor.supervisord", "-c", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bot_log = short_dir / "bot.log"
    try:
        wait_until("the bot trading", lambda: bot_log.exists() and "heartbeat" in bot_log.read_text())
        # RUNNING once it has stayed up for the shipped startsecs
        wait_until("RUNNING", lambda: "RUNNING" in ctl("status", "market_maker_paper1").stdout)

        stopped = ctl("stop", "market_maker_paper1")
        assert stopped.returncode == 0 and "stopped" in stopped.stdout, stopped.stdout + stopped.stderr
        sv_log = (short_dir / "supervisord.log").read_text()
        # on a failure, the bot's own last lines say why it exited as it did
        why = sv_log + "\nbot log tail:\n" + "\n".join(bot_log.read_text().splitlines()[-15:])
        assert "stopped: market_maker_paper1 (exit status 0)" in sv_log, why
        assert "SIGKILL" not in sv_log
        text = bot_log.read_text()
        assert '"msg": "stopped"' in text  # the actor system's own graceful stop ran to its end
        assert "STOPPED" in ctl("status", "market_maker_paper1").stdout
    finally:
        ctl("shutdown")
        try:
            supervisord.wait(timeout=60)
        except subprocess.TimeoutExpired:
            supervisord.kill()
            supervisord.wait()
