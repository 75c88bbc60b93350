"""Operations on by default: two bots run with no configuration on one machine, each serves /status,
/metrics and /healthz on its own OS-chosen loopback port, and `status` finds each by itself."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from default_run import DefaultRun

AGE = re.compile(r"(LOCKED|PENDING) +(BUY|SELL) .* (\d+(\.\d)?s|\d+m|\d+\.\dh) +\|$")


def test_two_default_runs_serve_ops_on_their_own_ports_and_status_finds_each(tmp_path: Path) -> None:
    with DefaultRun(tmp_path, "paper1") as one, DefaultRun(tmp_path, "paper2") as two:
        for bot in (one, two):
            doc = bot.wait_status(lambda d: d["orders"]["open_own"] > 0 and d["market"]["price"] is not None)
            assert doc["bot"]["id"] == bot.env["MM_BOT__ID"]
        assert one.url() != two.url()  # the OS picked two ports: no collision
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", one.url())
        printed = one.cli("status", "--url")
        assert printed.returncode == 0 and printed.stdout.strip() == one.url()
        metrics = requests.get(
            printed.stdout.strip() + "/metrics", timeout=10
        )  # curl "$(status --url)/metrics"
        assert metrics.status_code == 200 and 'mm_bot_info{bot="paper1"' in metrics.text
        box = one.cli("status")
        assert box.returncode == 0, box.stderr
        lines = box.stdout.splitlines()
        assert "paper1 | BTCUSDT spot | sim" in lines[0]
        assert max(len(line) for line in lines) <= 100
        orders = [line for line in lines if re.search(r"(LOCKED|PENDING) +(BUY|SELL)", line)]
        assert orders and all(AGE.search(line) for line in orders), box.stdout  # every age filled
        _watch_redraws_in_place(one)
        assert one.stop() == 0 and two.stop() == 0
    gone = one.cli("status")  # a clean stop withdraws the address
    assert gone.returncode == 3 and "recorded its ops address" in gone.stderr


def _watch_redraws_in_place(bot: DefaultRun) -> None:
    """`status --watch` on a terminal: frames drawn from the top-left over the last one, never a
    clear-and-scroll; Ctrl-C leaves the alternate screen with the last snapshot on the normal one."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "market_maker", "status", "--watch", "0.3"],
        cwd=bot.dir,
        env={**bot.env, "TERM": "xterm"},
        stdin=slave,
        stdout=slave,
        stderr=slave,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    os.close(slave)
    out = b""
    try:
        deadline = time.monotonic() + 60
        while out.count(b"\x1b[H") < 3:
            assert time.monotonic() < deadline, out[-2000:]
            if select.select([master], [], [], 1)[0]:
                out += os.read(master, 65536)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        while select.select([master], [], [], 0.5)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the pty closes with the process
                break
            if not chunk:
                break
            out += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    text = out.decode(errors="replace")
    assert text.startswith("\x1b[?1049h")  # the alternate screen, like watch(1)
    assert "\x1b[2J" not in text  # never cleared (that scrolls old frames into the terminal's history)
    frames = text.split("\x1b[H")[1:]
    assert all("paper1 | BTCUSDT spot | sim" in f for f in frames[:3])
    assert "\x1b[?1049l" in text and text.rstrip().endswith("+")  # back on the normal screen, last box
