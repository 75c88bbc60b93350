"""A restart after the exchange's request budget was spent (or during a ban) waits, then trades.

Both long runs stopped here: a fresh process found the weight minute spent by the one just killed and
exited 1 ("waiting would take longer than allowed") or 4 (account check failed on the same cause).
Now start-up waits out the window or the ban with one log line saying how long, sends nothing during a
418, stops at once with exit 0 on SIGTERM while waiting, and then reconciles and trades as usual.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
import requests
from durable_support import start_bot, tail
from test_crash_simple_support import CrashRig, finish, own_bans

WAITS = "start-up waits"


def _spend_weight(rig: CrashRig, share: float) -> int:
    """Another client on the bot's IP spends ``share`` of this minute's weight (never past the limit)."""
    limit = int(rig.sim.config.spot_weight_limit)
    used = 0
    with requests.Session() as s:
        while used < limit * share:
            r = s.get(f"{rig.sim.rest_url}/api/v3/exchangeInfo", timeout=10)
            assert r.status_code == 200, r.text
            used = int(r.headers["X-MBX-USED-WEIGHT-1M"])
    return used


def _log_has(rig: CrashRig, text: str) -> bool:
    return rig.log.exists() and text in rig.log.read_text(errors="replace")


@pytest.mark.slow
def test_a_restart_on_a_spent_weight_minute_waits_for_the_next_and_then_trades(tmp_path: Path) -> None:
    rig = CrashRig(tmp_path, seed=5)
    try:
        rig.start()
        rig.trade(1.0)
        rig.kill()
        # the wait must be longer than an actor may block (10 s), or this would pass without the fix
        if 60 - time.time() % 60 < 15:
            time.sleep(60 - time.time() % 60 + 0.5)
        _spend_weight(rig, 0.95)  # above the bot's 90 % safety margin, below the exchange's limit
        fills = len(rig.own_trades())
        rig.start(timeout_s=120)  # reconciles only after the minute rolled over
        assert _log_has(rig, WAITS) and "weight window" in rig.log.read_text(errors="replace"), tail(rig.log)
        rig.check("after the patient restart")
        rig.trade(3.0)
        finish(rig, "trading after the wait")
        assert len(rig.own_trades()) > fills, "the bot did not trade after its wait"
        assert own_bans(rig) == 0, "the bot walked into a ban of its own"
    finally:
        rig.close()
    assert rig.tally.violations == [], "\n".join(rig.tally.violations[:20])


@pytest.mark.slow
def test_during_a_ban_start_up_waits_stops_on_sigterm_and_trades_once_it_ends(tmp_path: Path) -> None:
    rig = CrashRig(tmp_path, seed=6)
    try:
        rig.sim.control.ban(600)
        proc = start_bot(rig.config, rig.log)
        deadline = time.monotonic() + 60
        while not _log_has(rig, WAITS):
            assert proc.poll() is None, f"bot exited ({proc.returncode}) instead of waiting:\n{tail(rig.log)}"
            assert time.monotonic() < deadline, f"no wait line:\n{tail(rig.log)}"
            time.sleep(0.1)
        assert "418" in rig.log.read_text(errors="replace")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, tail(rig.log)
        assert not rig.own_open()  # nothing was placed while it waited
        # a shorter ban, still longer than a loaded box takes to start the bot: it waits, then goes on
        rig.sim.control.ban(15)
        rig.start(timeout_s=90)
        assert rig.log.read_text(errors="replace").count(WAITS) >= 2
        rig.check("after the ban")
        rig.trade(3.0)
        finish(rig, "trading after the ban")
        assert rig.own_trades(), "nothing traded after the ban"
    finally:
        rig.close()
    assert rig.tally.violations == [], "\n".join(rig.tally.violations[:20])
