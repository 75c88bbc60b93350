"""The fault matrix: the Simple-engine bot (a subprocess) trades at a high fill rate while the simulator
injects one kind of fault after another; after each, the invariants of test_crash_simple hold against
the simulator's record and the bot never earned a 418 ban by ignoring a 429's Retry-After.

Each fault has its own rig (simulator, database, bot). The rigs run ``AT_ONCE`` at a time, side by
side (they mostly wait on the bots), once per module; each fault's test then judges its own rig.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from test_crash_simple_support import ACCESSES, FAULTS, CrashRig, Tally, finish, run_fault, side_by_side

AT_ONCE = 3


def _one_fault(tmp: Path, name: str, access: str) -> tuple[Tally, int]:
    tmp.mkdir()
    rig = CrashRig(tmp, seed=len(name), access=ACCESSES[access])
    try:
        rig.start()
        rig.check("before the fault")
        run_fault(rig, FAULTS[name], seconds=6.0)
        # a 429 holds the bot until its weight minute ends, which on a loaded box can outlast the fault's
        # trading window: trade on until something filled (the condition, not a longer window)
        deadline = time.monotonic() + 120
        while not rig.own_trades() and time.monotonic() < deadline:
            rig.trade(1.0)
        finish(rig, "trading after the fault")
        return rig.tally, len(rig.own_trades())
    finally:
        rig.close()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Any]:
    """Every fault's (tally, fills), or the exception that stopped its rig: one access's faults are run
    side by side when the first of its tests asks (so selecting one access runs only its rigs)."""
    base = tmp_path_factory.mktemp("faults")
    done: dict[str, dict[str, Any]] = {}

    def job(name: str, access: str) -> Any:
        try:
            return _one_fault(base / f"{name}-{access}", name, access)
        except AssertionError as exc:  # reported by that fault's test, not by its neighbours'
            return exc

    def outcome(name: str, access: str) -> Any:
        if access not in done:
            names = sorted(FAULTS)
            runs = side_by_side([partial(job, n, access) for n in names], AT_ONCE)
            done[access] = dict(zip(names, runs, strict=True))
        return done[access][name]

    return outcome


@pytest.mark.slow
@pytest.mark.parametrize("access", sorted(ACCESSES))
@pytest.mark.parametrize("name", sorted(FAULTS))
def test_invariants_hold_under_each_fault(
    outcomes: Callable[[str, str], Any], name: str, access: str
) -> None:
    out = outcomes(name, access)
    if isinstance(out, AssertionError):
        raise out
    tally, fills = out
    assert tally.violations == [], "\n".join(tally.violations[:20])
    assert sum(tally.faults.values()) > 0, f"{name} was never injected"
    assert fills > 0, "nothing traded"
