"""The fault matrix: the Simple-engine bot (a subprocess) trades at a high fill rate while the simulator
injects one kind of fault after another; after each, the invariants of test_crash_simple hold against
the simulator's record and the bot never earned a 418 ban by ignoring a 429's Retry-After.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_crash_simple_support import FAULTS, CrashRig, finish, run_fault


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAULTS))
def test_invariants_hold_under_each_fault(tmp_path: Path, name: str) -> None:
    rig = CrashRig(tmp_path, seed=len(name))
    try:
        rig.start()
        rig.check("before the fault")
        run_fault(rig, FAULTS[name], seconds=6.0)
        finish(rig, "trading after the fault")
        fills = len(rig.own_trades())
    finally:
        rig.close()
    assert rig.tally.violations == [], "\n".join(rig.tally.violations[:20])
    assert sum(rig.tally.faults.values()) > 0, f"{name} was never injected"
    assert fills > 0, "nothing traded"
