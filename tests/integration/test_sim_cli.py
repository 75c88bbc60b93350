"""``python -m market_maker sim-exchange`` prints its URLs, serves, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import requests


def _terminal_sigint() -> None:
    """In the child: Ctrl-C as in a terminal. A test run launched in the background (as CI may launch
    it) ignores SIGINT, and an ignored signal is inherited across exec: the child would never stop."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_sim_exchange_starts_prints_urls_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    cfg = tmp_path / "sim.yaml"
    cfg.write_text(
        textwrap.dedent("""\
        step_mode: true
        accounts:
          - api_key: cli-key
            api_secret: cli-secret
            balances: {USDT: "1000"}
    """)
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "market_maker", "sim-exchange", "--config", str(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_terminal_sigint,
    )
    try:
        assert proc.stdout is not None
        rest = proc.stdout.readline().split()[1]
        ws = proc.stdout.readline().split()[1]
        assert rest.startswith("http://127.0.0.1:") and ws.startswith("ws://127.0.0.1:")
        assert requests.get(rest + "/api/v3/ping", timeout=5).json() == {}
        key = requests.post(rest + "/fapi/v1/listenKey", headers={"X-MBX-APIKEY": "cli-key"}, timeout=5)
        assert key.status_code == 200  # the configured account exists
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)  # a loaded CI box may take a while to close every socket
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "simulator stopped" in out and "Traceback" not in err


def test_bad_config_is_a_usage_error(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("speed: 2\nwarp_drive: true\n")
    done = subprocess.run(
        [sys.executable, "-m", "market_maker", "sim-exchange", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "unknown key(s) warp_drive" in done.stderr and str(cfg) in done.stderr


def test_sim_exchange_with_no_config_serves_its_documented_paper_account() -> None:
    from market_maker.sim.config import PAPER_API_KEY, PAPER_API_SECRET

    proc = subprocess.Popen(
        [sys.executable, "-m", "market_maker", "sim-exchange", "--step-mode"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_terminal_sigint,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        rest = lines[0].split()[1]
        assert lines[3].split() == [
            "Account", "PAPER", "key", PAPER_API_KEY, "secret", PAPER_API_SECRET,
            "balances", "USDT", "100000,", "BTC", "1",
        ]  # fmt: skip
        assert (PAPER_API_KEY, PAPER_API_SECRET) == ("paper-account-key", "paper-account-secret")  # docs
        key = requests.post(rest + "/fapi/v1/listenKey", headers={"X-MBX-APIKEY": PAPER_API_KEY}, timeout=5)
        assert key.status_code == 200  # the paper account exists
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
