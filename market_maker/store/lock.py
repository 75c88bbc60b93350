"""The trading lock: one row per (bot_id, symbol) so two processes never trade the same bot and symbol.

A lock is *ours* when owner, pid and host all match this process. A lock held by someone else is taken
over only when it is stale: its heartbeat is older than ``stale_after_ms`` (when that is > 0), or its
process is on this host and no longer exists (a crashed bot must not block its own restart forever).
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from market_maker.store.errors import StoreLockedError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds a lock row."""

    owner: str
    pid: int
    host: str
    since_ms: int
    heartbeat_ms: int


def this_process() -> tuple[int, str]:
    """(pid, host name) of the running process."""
    return os.getpid(), socket.gethostname()


def process_gone(pid: int, host: str) -> bool:
    """True only when ``pid`` is on this host and certainly does not exist any more."""
    my_pid, my_host = this_process()
    if host != my_host or pid == my_pid or pid <= 0 or os.name != "posix":
        return False
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return True
    except OSError:  # e.g. EPERM: it exists, owned by someone else
        return False
    return False


def _ms_to_text(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def holder_of(row: Any) -> LockHolder:
    """The holder described by a lock row."""
    return LockHolder(row.owner, row.pid, row.host, row.since_ms, row.heartbeat_ms)


def locked_error(where: str, scope: str, h: LockHolder, now_ms: int) -> StoreLockedError:
    """The one-line refusal naming the holder."""
    age = max(now_ms - h.heartbeat_ms, 0) / 1000 if now_ms else None
    beat = f"; last heartbeat {age:.1f}s ago" if age is not None else ""
    return StoreLockedError(
        f"store {where}: {scope} is locked by {h.owner} (pid {h.pid} on {h.host}) "
        f"since {_ms_to_text(h.since_ms)}{beat}; stop that bot first",
        h.owner,
        h.pid,
        h.host,
        h.since_ms,
    )


def is_ours(h: LockHolder, owner: str) -> bool:
    """True when the lock was taken by this process under ``owner``."""
    pid, host = this_process()
    return (h.owner, h.pid, h.host) == (owner, pid, host)


def is_stale(h: LockHolder, now_ms: int, stale_after_ms: int) -> bool:
    """True when the holder may be presumed dead and its lock taken over."""
    if stale_after_ms > 0 and now_ms - h.heartbeat_ms > stale_after_ms:
        return True
    return process_gone(h.pid, h.host)


def log_takeover(where: str, scope: str, h: LockHolder, owner: str) -> None:
    """Say loudly that a stale lock was taken over."""
    log.warning(
        "store %s: taking over stale lock of %s from %s (pid %d on %s, last heartbeat %s) as %s",
        where,
        scope,
        h.owner,
        h.pid,
        h.host,
        _ms_to_text(h.heartbeat_ms),
        owner,
    )
