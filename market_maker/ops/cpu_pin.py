"""Pin the bot's process to one CPU (config ``bot.cpu``).

CPython runs one thread at a time (the GIL), so spreading the bot's threads over several cores buys no
parallelism; it only makes every hand-off between them (stream thread -> decisions thread -> order
lane) a cross-core wake-up, and the woken thread then waits for the GIL the other core still holds.
On one core the hand-off is a context switch. Measured on the 2-core benchmark box (bench/live_latency.py,
quick runs): tick-to-order p50 about 500 us spread over both cores, about 260-320 us pinned.
"""

from __future__ import annotations

import os
from pathlib import Path


class PinError(ValueError):
    """``bot.cpu`` names a CPU this process may not run on."""


def allowed_cpus() -> set[int]:
    """The CPUs this process may run on."""
    return set(os.sched_getaffinity(0))


def pin_process(cpu: int) -> int:
    """Pin every thread of this process, and every thread it starts later, to ``cpu``; returns how many
    threads were pinned. Raises :class:`PinError` naming ``bot.cpu`` when ``cpu`` is not allowed."""
    allowed = allowed_cpus()
    if cpu not in allowed:
        raise PinError(f"bot.cpu: CPU {cpu} is not available to this process (allowed: {sorted(allowed)})")
    # sched_setaffinity(0) pins only the calling thread (new threads inherit it from their creator):
    # threads already running (log writer, simulator) are pinned one by one
    tids = (
        [int(p.name) for p in Path("/proc/self/task").iterdir()] if Path("/proc/self/task").is_dir() else [0]
    )
    pinned = 0
    for tid in tids:
        try:
            os.sched_setaffinity(tid, {cpu})
            pinned += 1
        except ProcessLookupError:  # the thread ended meanwhile
            continue
    os.sched_setaffinity(0, {cpu})
    return pinned
