"""Helpers shared by the actor tests: wait for a condition, ask the slot manager for its status, start one."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from actors import wiring as w
from actors.dispatch import Dispatcher
from actors.messages import ExchangeSnapshot, RiskUpdate, Status, StatusQuery
from actors.slot_manager import SlotManagerActor, SlotSettings
from market_maker.core.model import Market


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


def start_reconciled(
    wiring: Any,
    store: Any,
    params: Any,
    book: Any,
    risk: Any,
    open_now: tuple[Any, ...],
    position: Decimal = Decimal(0),
    dispatcher: Dispatcher | None = None,
) -> Any:
    """A spot slot manager on ``book`` and ``dispatcher`` (default: one of its own), wired as SLOTS,
    told the risk actor's word, and reconciled with these open orders and this position (waited for)."""
    slots = SlotManagerActor.start_on(
        dispatcher or Dispatcher("decisions"),
        wiring,
        store,
        params,
        SlotSettings(Market.SPOT, 3600, 3600),
        book,
        params.interval,
    )
    wiring.set(w.SLOTS, slots)
    slots.tell(RiskUpdate(risk, params.interval, 0))
    slots.tell(ExchangeSnapshot(open_now, (), position, 0, cash=Decimal(1_000_000)))
    wait_for("reconciliation", lambda: slot_status(slots).reconciled)
    return slots
