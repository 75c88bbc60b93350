"""The heartbeat log line and readable order-event lines (exact decimals, one line each)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from market_maker.core.model import Side, SlotState
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook


@dataclass(frozen=True, slots=True)
class Totals:
    """Closed round trips so far (this database, all runs)."""

    realized: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    round_trips: int = 0
    wins: int = 0

    def add(self, realized: Decimal, fees: Decimal) -> Totals:
        """The totals after one more round trip."""
        return Totals(
            self.realized + realized, self.fees + fees, self.round_trips + 1, self.wins + (realized > 0)
        )


def slot_counts(book: SlotBook) -> dict[str, int]:
    """Slots by state, working orders split by side (e.g. ``LOCKED_BUY``)."""
    c: Counter[str] = Counter()
    for s in book:
        key = s.state.value
        if s.working and s.side is not None:
            key += "_" + s.side.value
        c[key] += 1
    return dict(sorted(c.items()))


def open_fees(book: SlotBook) -> Decimal:
    """Fees already paid by positions still open (not yet in a closed round trip)."""
    return sum((s.fees for s in book if s.held or s.state is not SlotState.FREE), Decimal(0))


def heartbeat_line(
    book: SlotBook,
    rules: SymbolRules,
    price: int,
    center: int,
    interval: int,
    totals: Totals,
    extra: str = "",
) -> str:
    """One line: price, center, interval, slots by state, position, realized PnL, fees, open orders."""
    working = sum(1 for s in book if s.working)
    counts = " ".join(f"{k}={v}" for k, v in slot_counts(book).items()) or "none"
    fees = totals.fees + open_fees(book)
    upnl = book.unrealized_pnl(price, rules) if price else Decimal(0)
    return (
        f"heartbeat price={_p(rules, price)} center={_p(rules, center)} interval={_p(rules, interval)} "
        f"slots[{counts}] position={book.position(rules).normalize():f} "
        f"realized_pnl={totals.realized:.8f} round_trips={totals.round_trips} fees={fees:.8f} "
        f"unrealized_pnl={upnl:.8f} open_orders={working}{extra}"
    )


def _p(rules: SymbolRules, ticks: int) -> str:
    return f"{rules.ticks_to_price(ticks)}" if ticks else "-"


def order_line(what: str, side: Side | None, qty: int, price: int, client_id: str, rules: SymbolRules) -> str:
    """``placed BUY 0.00100 @ 99990.00 (mm1_B..)``."""
    s = side.value if side is not None else "?"
    return f"{what} {s} {rules.steps_to_qty(qty)} @ {rules.ticks_to_price(price)} ({client_id})"
