"""The trading lock: one process per bot and symbol; stale locks are taken over, loudly."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from market_maker.store import Store, StoreError, StoreLockedError, open_store

MIN = 60_000


def _open(tmp_path: Path, symbol: str = "BTCUSDT") -> Store:
    return open_store(str(tmp_path / "bot.db"), "mm1", symbol)


def test_a_second_store_on_the_same_file_refuses_naming_the_holder(tmp_path: Path) -> None:
    first, second = _open(tmp_path), _open(tmp_path)
    first.acquire_lock("alpha", now_ms=1_000)
    with pytest.raises(StoreLockedError) as e:
        second.acquire_lock("beta", now_ms=2_000, stale_after_ms=MIN)
    msg = str(e.value)
    assert f"alpha (pid {os.getpid()} on {socket.gethostname()})" in msg
    assert "since 1970-01-01 00:00:01 UTC" in msg and str(tmp_path / "bot.db") in msg
    assert (e.value.owner, e.value.pid, e.value.since_ms) == ("alpha", os.getpid(), 1_000)
    holder = second.lock_holder()
    assert holder is not None and holder.owner == "alpha"


def test_taking_our_own_lock_again_refreshes_it(tmp_path: Path) -> None:
    store = _open(tmp_path)
    store.acquire_lock("alpha", now_ms=1_000)
    store.acquire_lock("alpha", now_ms=5_000)
    holder = store.lock_holder()
    assert holder is not None and (holder.since_ms, holder.heartbeat_ms) == (1_000, 5_000)


def test_a_stale_lock_is_taken_over_and_the_old_holder_learns_it(tmp_path: Path) -> None:
    old, new = _open(tmp_path), _open(tmp_path)
    old.acquire_lock("alpha", now_ms=1_000)
    old.heartbeat_lock(now_ms=30_000)
    with pytest.raises(StoreLockedError):  # heartbeat 59 s old: still alive
        new.acquire_lock("beta", now_ms=89_000, stale_after_ms=MIN)
    new.acquire_lock("beta", now_ms=91_000, stale_after_ms=MIN)
    with pytest.raises(StoreLockedError, match="locked by beta"):
        old.heartbeat_lock(now_ms=92_000)
    old.release_lock()  # not ours any more: must not remove beta's lock
    holder = new.lock_holder()
    assert holder is not None and holder.owner == "beta"


def test_without_a_stale_limit_a_live_holder_keeps_the_lock_forever(tmp_path: Path) -> None:
    old, new = _open(tmp_path), _open(tmp_path)
    old.acquire_lock("alpha", now_ms=1_000)
    with pytest.raises(StoreLockedError):
        new.acquire_lock("beta", now_ms=10**12)


def test_released_lock_can_be_taken_and_symbols_lock_apart(tmp_path: Path) -> None:
    a, b, eth = _open(tmp_path), _open(tmp_path), _open(tmp_path, "ETHUSDT")
    a.acquire_lock("alpha", now_ms=1_000)
    eth.acquire_lock("gamma", now_ms=1_000)
    a.release_lock()
    b.acquire_lock("beta", now_ms=2_000)
    holder = eth.lock_holder()
    assert holder is not None and holder.owner == "gamma"


def test_heartbeat_without_a_lock_or_a_nameless_owner_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="heartbeat without a lock"):
        _open(tmp_path).heartbeat_lock(1)
    with pytest.raises(StoreError, match="lock owner must not be empty"):
        _open(tmp_path).acquire_lock(" ", 1)


def test_the_lock_of_a_crashed_process_on_this_host_is_taken_over(tmp_path: Path) -> None:
    code = (
        "import os, sys\n"
        "from market_maker.store import open_store\n"
        "open_store(sys.argv[1], 'mm1', 'BTCUSDT').acquire_lock('crashed', 1_000)\n"
        "os._exit(0)  # dies holding the lock, like a killed bot\n"
    )
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo), *sys.path])}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "bot.db")], check=True, env=env, timeout=60)
    store = _open(tmp_path)
    holder = store.lock_holder()
    assert holder is not None and holder.owner == "crashed" and holder.pid != os.getpid()
    store.acquire_lock("restarted", now_ms=2_000)  # no stale limit needed: its process is gone
    holder = store.lock_holder()
    assert holder is not None and holder.owner == "restarted"
