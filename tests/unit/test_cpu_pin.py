"""``bot.cpu``: the whole process, threads already running and threads started later, runs on one CPU."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from market_maker.config import ConfigError, config_from_mapping
from market_maker.ops.cpu_pin import PinError, pin_process

CHILD = textwrap.dedent(
    """
    import os, sys, threading
    from market_maker.ops.cpu_pin import pin_process

    cpu = int(sys.argv[1])
    go, done = threading.Event(), threading.Event()
    early = threading.Thread(target=lambda: (go.wait(), done.wait()))
    early.start()  # running before the pin, like the log writer
    pin_process(cpu)
    late = threading.Thread(target=done.wait)
    late.start()  # started after it, like the actors
    seen = [os.sched_getaffinity(t.native_id) for t in (early, late)] + [os.sched_getaffinity(0)]
    go.set(); done.set(); early.join(); late.join()
    print(sorted({c for s in seen for c in s}), all(s == {cpu} for s in seen))
    """
)


def test_pinning_moves_threads_already_running_and_those_started_later() -> None:
    cpu = max(os.sched_getaffinity(0))
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(cpu)], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == f"[{cpu}] True"


def test_a_cpu_the_process_may_not_use_is_refused_naming_the_key() -> None:
    with pytest.raises(PinError, match=r"^bot\.cpu: CPU 4096 is not available to this process"):
        pin_process(4096)


def test_a_negative_cpu_is_a_config_error_naming_bot_cpu() -> None:
    with pytest.raises(ConfigError, match=r"bot\.cpu"):
        config_from_mapping({"bot": {"cpu": -1}}, {})
    assert config_from_mapping({"bot": {"cpu": 0}}, {}).bot.cpu == 0
    assert config_from_mapping({}, {}).bot.cpu is None
