"""The Simple engine under SIGKILL at random moments while it trades at a high fill rate.

The bot runs as a subprocess against a simulator in this process (the exchange outlives every kill).
The test moves the market every 50 ms so orders fill on both sides, kills the bot after a random
0.1-2 s, restarts it and lets it reconcile. After each restart and at the end, against the
simulator's record: no slot ever had two working orders (also sampled while trading), every own fill
is stored exactly once, the store's position equals the exchange's, no own order is untracked, and the
realized PnL recomputed from the venue's trade log equals the store's. (The Durable engine's kills are
in test_durable_crash.py, inside its workflows.)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_crash_simple_support import CrashRig, finish

KILLS = int(os.environ.get("MM_TEST_KILLS", "50"))


@pytest.mark.slow
@pytest.mark.parametrize("market", ["spot"])
def test_sigkill_at_random_moments_loses_and_doubles_nothing(tmp_path: Path, market: str) -> None:
    rig = CrashRig(tmp_path, market=market, seed=9, generous_limits=True)
    try:
        for n in range(KILLS):
            rig.kill_cycle(n)
        rig.start()
        rig.check("after the last restart")
        finish(rig, "at the end")
        fills = len(rig.own_trades())
    finally:
        rig.close()
    assert rig.tally.violations == [], "\n".join(rig.tally.violations[:20])
    assert rig.tally.kills == KILLS
    assert fills >= KILLS, f"only {fills} fills over {KILLS} kills: not a high fill rate"
