"""A crash hook for the reliability tests: SIGKILL this process at a named point of an order workflow.

Inactive unless ``MM_CRASH_POINT`` is set. Points: ``before_call`` (intent stored, workflow started,
exchange not called yet) and ``after_call`` (exchange answered, the step's result not recorded yet);
several may be given, comma-separated. ``MM_CRASH_COUNTDOWN=N`` kills at the N-th time any listed
point is reached (default 1); ``MM_CRASH_PROBABILITY=p`` instead kills at each point with chance p.
"""

from __future__ import annotations

import os
import random
import signal
import threading
from collections.abc import Mapping
from dataclasses import dataclass

POINTS = ("before_call", "after_call")
ENV_POINT = "MM_CRASH_POINT"
ENV_COUNTDOWN = "MM_CRASH_COUNTDOWN"
ENV_PROBABILITY = "MM_CRASH_PROBABILITY"


@dataclass
class CrashPlan:
    """Which points kill the process, and when."""

    points: frozenset[str]
    countdown: int = 1
    probability: float | None = None

    def due(self, point: str, rng: random.Random) -> bool:
        """True when reaching ``point`` now must kill the process (counts down)."""
        if point not in self.points:
            return False
        if self.probability is not None:
            return rng.random() < self.probability
        self.countdown -= 1
        return self.countdown <= 0


def plan_from_env(env: Mapping[str, str]) -> CrashPlan | None:
    """The plan the environment asks for (None when ``MM_CRASH_POINT`` is unset).

    Raises ValueError naming a bad value.
    """
    raw = env.get(ENV_POINT, "").strip()
    if not raw:
        return None
    points = frozenset(p.strip() for p in raw.split(",") if p.strip())
    bad = sorted(points - set(POINTS))
    if bad or not points:
        raise ValueError(f"{ENV_POINT}={raw!r}: points must be among {', '.join(POINTS)}")
    plan = CrashPlan(points)
    if env.get(ENV_PROBABILITY):
        try:
            p = float(env[ENV_PROBABILITY])
        except ValueError:
            p = -1.0
        if not 0 < p <= 1:
            raise ValueError(f"{ENV_PROBABILITY}={env[ENV_PROBABILITY]!r}: must be a number in (0, 1]")
        plan.probability = p
    elif env.get(ENV_COUNTDOWN):
        try:
            plan.countdown = int(env[ENV_COUNTDOWN])
        except ValueError:
            plan.countdown = 0
        if plan.countdown < 1:
            raise ValueError(f"{ENV_COUNTDOWN}={env[ENV_COUNTDOWN]!r}: must be a whole number >= 1")
    return plan


_lock = threading.Lock()
_rng = random.Random()
_plan: CrashPlan | None = None


def arm(env: Mapping[str, str] | None = None) -> CrashPlan | None:
    """Read the plan from the environment (engine start); raises ValueError for bad values."""
    global _plan
    with _lock:
        _plan = plan_from_env(os.environ if env is None else env)
        return _plan


def crash_point(point: str) -> None:
    """Kill this process with SIGKILL when the armed plan says so (no effect when none is armed)."""
    with _lock:
        kill = _plan is not None and _plan.due(point, _rng)
    if kill:
        os.kill(os.getpid(), signal.SIGKILL)
