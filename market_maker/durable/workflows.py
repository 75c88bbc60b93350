"""The DBOS workflows of the Durable engine: one per placement, one per cancellation.

Each workflow has two steps: the exchange call, then writing its outcome to the store. DBOS
checkpoints each finished step; after a crash the interrupted step runs again, so the exchange step
is idempotent: it first asks the exchange for the client id and only places when no such order
exists (a cancel of an order already cancelled answers "not found", which is definite too).

Steps call the connector registered for the bot and symbol (:func:`register`), never an actor:
recovered workflows run while ``DBOS.launch()`` returns, before any actor exists. One lock per bot
serializes the connector between the recovery threads and the exchange actor's thread.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from dbos import DBOS

from market_maker.core.model import OrderStatus, Side
from market_maker.durable.faults import crash_point
from market_maker.durable.outcomes import (
    CancelOutcome,
    PlaceOutcome,
    cancel_order,
    place_error,
    why,
)
from market_maker.exchange.base import Exchange
from market_maker.exchange.errors import DuplicateOrderError
from market_maker.store import Store
from market_maker.store.records import UNKNOWN

log = logging.getLogger("market_maker.durable")

PLACE_WORKFLOW = "mm.place_order"
CANCEL_WORKFLOW = "mm.cancel_order"


@dataclass
class StepContext:
    """What the steps of one bot on one symbol use: its connector and its store."""

    exchange: Exchange
    store: Store
    lock: threading.Lock = field(default_factory=threading.Lock)


_contexts: dict[tuple[str, str], StepContext] = {}
_contexts_lock = threading.Lock()


def register(bot_id: str, symbol: str, exchange: Exchange, store: Store) -> None:
    """Make ``exchange`` and ``store`` the ones the workflows of ``bot_id`` on ``symbol`` use."""
    with _contexts_lock:
        _contexts[(bot_id, symbol)] = StepContext(exchange, store)


def unregister(bot_id: str, symbol: str) -> None:
    """Forget the bot's connector and store (after DBOS stopped)."""
    with _contexts_lock:
        _contexts.pop((bot_id, symbol), None)


def _context(bot_id: str, symbol: str) -> StepContext:
    with _contexts_lock:
        ctx = _contexts.get((bot_id, symbol))
    if ctx is None:
        raise RuntimeError(f"no connector registered for bot {bot_id} on {symbol}: cannot run its workflow")
    return ctx


def _now_ms() -> int:
    return int(time.time() * 1000)


# --- placement ---------------------------------------------------------------------------------------


@DBOS.step(name="mm.place_call")
def place_step(
    bot_id: str, symbol: str, side: str, price: int, qty: int, client_id: str, reduce_only: bool
) -> PlaceOutcome:
    """Place the order unless the exchange already has this client id (then report that order)."""
    ctx = _context(bot_id, symbol)
    ex = ctx.exchange
    with ctx.lock:
        try:
            existing = ex.get_order(client_id)
        except Exception as exc:  # nothing sent by this attempt; an earlier one may have placed it
            return PlaceOutcome(client_id, "unknown", reason=f"query before placing failed: {why(exc)}")
        if existing is not None:
            log.info(
                "order %s already on the exchange (%s): not placed again", client_id, existing.status.value
            )
            return PlaceOutcome(client_id, "accepted", existing)
        crash_point("before_call")
        try:
            order = ex.place(Side(side), price, qty, client_id, post_only=True, reduce_only=reduce_only)
        except DuplicateOrderError:  # placed meanwhile (the query raced an earlier attempt): report it
            try:
                found = ex.get_order(client_id)
            except Exception as exc:
                return PlaceOutcome(client_id, "unknown", reason=f"duplicate, then query failed: {why(exc)}")
            if found is None:
                return PlaceOutcome(client_id, "unknown", reason="duplicate client id, yet not found")
            return PlaceOutcome(client_id, "accepted", found)
        except Exception as exc:
            out = place_error(client_id, exc)
        else:
            out = PlaceOutcome(client_id, "accepted", order)
        crash_point("after_call")
        return out


@DBOS.step(name="mm.place_record", retries_allowed=True, max_attempts=3, interval_seconds=0.2)
def record_place_step(bot_id: str, symbol: str, out: PlaceOutcome) -> None:
    """Write the placement's outcome to the order row (the intent row was written before the workflow)."""
    store = _context(bot_id, symbol).store
    if out.order is not None:
        store.record_order(out.order, _now_ms())
    elif store.order(out.client_id) is not None:
        status = "REJECTED" if out.status == "rejected" else UNKNOWN
        store.update_order(out.client_id, status, now_ms=_now_ms())


@DBOS.workflow(name=PLACE_WORKFLOW)
def place_workflow(
    bot_id: str, symbol: str, side: str, price: int, qty: int, client_id: str, reduce_only: bool
) -> PlaceOutcome:
    """Place one post-only order exactly once and record the outcome."""
    out = place_step(bot_id, symbol, side, price, qty, client_id, reduce_only)
    try:
        record_place_step(bot_id, symbol, out)
    except Exception as exc:  # the slot manager records the outcome from the reply as well
        log.error("recording the outcome of %s failed: %s", client_id, why(exc))
    return out


# --- cancellation ------------------------------------------------------------------------------------


@DBOS.step(name="mm.cancel_call")
def cancel_step(bot_id: str, symbol: str, client_id: str) -> CancelOutcome:
    """Cancel by client id (re-running it after a crash answers "not found" for a cancelled order)."""
    ctx = _context(bot_id, symbol)
    with ctx.lock:
        crash_point("before_call")
        out = cancel_order(ctx.exchange, client_id)
        crash_point("after_call")
        if out.status != "not_found":
            return out
        try:  # a re-run after a crash finds the order already cancelled: report it as it is
            found = ctx.exchange.get_order(client_id)
        except Exception:
            return out
        if found is not None and found.status is OrderStatus.CANCELED:
            return CancelOutcome(client_id, "cancelled", found)
        return CancelOutcome(client_id, "not_found", found, out.reason)


@DBOS.step(name="mm.cancel_record", retries_allowed=True, max_attempts=3, interval_seconds=0.2)
def record_cancel_step(bot_id: str, symbol: str, out: CancelOutcome) -> None:
    """Write a cancelled order's final state to its row (orphans without a row are left alone)."""
    store = _context(bot_id, symbol).store
    if out.order is not None and store.order(out.client_id) is not None:
        store.record_order(out.order, _now_ms())


@DBOS.workflow(name=CANCEL_WORKFLOW)
def cancel_workflow(bot_id: str, symbol: str, client_id: str) -> CancelOutcome:
    """Cancel one order and record the outcome."""
    out = cancel_step(bot_id, symbol, client_id)
    try:
        record_cancel_step(bot_id, symbol, out)
    except Exception as exc:
        log.error("recording the cancel of %s failed: %s", client_id, why(exc))
    return out
