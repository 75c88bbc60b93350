"""Helpers shared by the actor tests: wait for a condition, ask the slot manager for its status."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from actors.messages import Status, StatusQuery


def wait_for(what: str, ok: Callable[[], bool], seconds: float = 60) -> None:
    """Poll ``ok`` until it holds; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not ok():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


def slot_status(slots: Any, timeout_s: float = 30) -> Status:
    """The slot manager's Status (asked from outside the system, with a timeout)."""
    status = slots.ask(StatusQuery(), timeout=timeout_s)
    assert isinstance(status, Status)
    return status
