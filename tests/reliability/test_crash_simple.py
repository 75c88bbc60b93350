"""The Simple engine under SIGKILL at random moments while it trades at a high fill rate.

The bot runs as a subprocess against a simulator in this process (the exchange outlives every kill).
The test moves the market every 50 ms so orders fill on both sides, kills the bot after a random
0.1-2 s, restarts it and lets it reconcile. After each restart and at the end, against the
simulator's record: no slot ever had two working orders (also sampled while trading), every own fill
is stored exactly once, the store's position equals the exchange's, no own order is untracked, and the
realized PnL recomputed from the venue's trade log equals the store's. (The Durable engine's kills are
in test_durable_crash.py, inside its workflows.)

It runs twice: orders over REST with an HMAC key, and over the WebSocket API with an Ed25519 key
(``exchange.order_transport: websocket``, the key from a 0600 PEM file, ``session.logon``).

The kills are shared between ``RIGS`` independent rigs (simulator, database, bot) run side by side:
a kill cycle mostly waits for a subprocess to start and reconcile, so two rigs halve the wall time
without changing what each kill checks.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_crash_simple_support import ACCESSES, Access, CrashRig, Tally, finish, side_by_side

KILLS = int(os.environ.get("MM_TEST_KILLS", "50"))
RIGS = 2


def _kill_loop(tmp: Path, seed: int, kills: int, access: Access) -> tuple[Tally, int]:
    tmp.mkdir()
    rig = CrashRig(tmp, seed=seed, generous_limits=True, access=access)
    try:
        for n in range(kills):
            rig.kill_cycle(n)
        rig.start()
        rig.check("after the last restart")
        finish(rig, "at the end")
        return rig.tally, len(rig.own_trades())
    finally:
        rig.close()


@pytest.mark.slow
@pytest.mark.parametrize("access", sorted(ACCESSES))
def test_sigkill_at_random_moments_loses_and_doubles_nothing(tmp_path: Path, access: str) -> None:
    shares = [KILLS // RIGS + (i < KILLS % RIGS) for i in range(RIGS)]
    how = ACCESSES[access]
    jobs = [lambda i=i, k=k: _kill_loop(tmp_path / f"rig{i}", 9 + i, k, how) for i, k in enumerate(shares)]
    results = side_by_side(jobs)
    violations = [v for tally, _ in results for v in tally.violations]
    assert violations == [], "\n".join(violations[:20])
    assert sum(tally.kills for tally, _ in results) == KILLS
    for (_, fills), k in zip(results, shares, strict=True):
        assert fills >= k, f"only {fills} fills over {k} kills: not a high fill rate"
