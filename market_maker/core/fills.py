"""Applying exchange reports to the slot book: trades (fills), order snapshots, unknown outcomes, adoption.

Rules:

- Quantities accumulate from the order's *cumulative* filled quantity (``Fill.cum_qty``, or a
  snapshot's ``executed_qty``): only the part above what the slot already counted is applied, so a
  duplicate or out-of-order report never double counts. Trade ids make fees idempotent: a trade seen
  before changes nothing; an out-of-order trade whose quantity was already counted (e.g. from a
  snapshot) still has its fee recorded, once.
- A buy that fills completely makes the slot FILLED, with its take-profit frozen at the first fill:
  ``level + interval`` (the interval in force at that moment). A buy that ends (cancelled, expired,
  not found) with nothing filled frees the slot; after a partial fill the slot keeps the partial.
- A sell's fills reduce the held quantity; when nothing is held any more the round trip closes and a
  :class:`RoundTripClosed` event carries its realized PnL (proceeds - FIFO cost - fees).
- Nothing here raises for an exchange event: odd reports become :class:`Ignored` or
  :class:`FeeRejected` events, so a bad message never stops the bot.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Final

from market_maker.core.ids import decode
from market_maker.core.model import Fill, OrderSnapshot, OrderStatus, Side, SlotState
from market_maker.core.pnl import ZERO, ConvertedFee, FeeError, convert_fee, fifo_take, money
from market_maker.core.rules import SymbolRules
from market_maker.core.slot_events import (
    FeeRejected,
    Filled,
    Ignored,
    OrderClosed,
    RoundTripClosed,
    SlotEvent,
)
from market_maker.core.slots import (
    F_BOUGHT,
    F_CANCEL_REQUESTED,
    F_DUST,
    F_FEES,
    F_HELD,
    F_LOTS,
    F_ORDER_FILLED,
    F_ORDER_QTY,
    F_PROCEEDS,
    F_SOLD,
    F_SOLD_COST,
    F_STATE,
    F_TP_PRICE,
    F_TRADE_IDS,
    F_UNKNOWN,
    Slot,
    SlotBook,
    accepted,
    empty_slot,
    is_working,
    put,
    reject,
    restore_generation,
    slot_of,
    slot_values,
)

Result = tuple[SlotBook, tuple[SlotEvent, ...]]
# enum members as module constants: the compiled build reads ``Side.BUY`` through the enum's class
# each time, several times the cost of a constant (see slots.py)
_BUY: Final = Side.BUY
_FILLED: Final = SlotState.FILLED
_CANCELED: Final = OrderStatus.CANCELED.value.lower()  # a cancel reply's ``why`` (see _apply_status)


def _held_dust(bought: int, sold: int, base_fee: Decimal, rules: SymbolRules) -> tuple[int, Decimal]:
    """Sellable ``held`` steps and ``dust`` from bought, sold and base-asset fees."""
    base_total = rules.step_size * bought - base_fee
    sellable = int(base_total // rules.step_size) if base_total > 0 else 0
    held = max(sellable - sold, 0)
    return held, base_total - rules.step_size * (held + sold)


def _rebalance(s: Slot, rules: SymbolRules) -> Slot:
    """Recompute sellable ``held`` and ``dust`` from bought, sold and base-asset fees."""
    held, dust = _held_dust(s.bought, s.sold, s.base_fee, rules)
    return s._replace(held=held, dust=dust)


def _add_qty(
    s: Slot,
    qty: int,
    price: int,
    rules: SymbolRules,
    interval: int,
    trade_ids: frozenset[int] | None = None,
    fees: Decimal | None = None,
) -> Slot:
    """Count ``qty`` more steps of the slot's current order at ``price`` (one copy of the slot);
    ``trade_ids`` and ``fees``, when given, are written in the same copy."""
    v = slot_values(s)  # s._replace(...), in C (see slots.F_STATE): once per fill
    if trade_ids is not None:
        v[F_TRADE_IDS] = trade_ids
    if fees is not None:
        v[F_FEES] = fees
    v[F_ORDER_FILLED] = s.order_filled + qty
    if s.side is _BUY:
        bought = s.bought + qty
        held, dust = _held_dust(bought, s.sold, s.base_fee, rules)
        v[F_BOUGHT] = bought
        v[F_LOTS] = (*s.lots, (qty, price))
        v[F_TP_PRICE] = s.tp_price or s.level + interval
    else:
        lots, cost = fifo_take(s.lots, qty)
        sold = s.sold + qty
        held, dust = _held_dust(s.bought, sold, s.base_fee, rules)
        v[F_SOLD] = sold
        v[F_LOTS] = lots
        v[F_SOLD_COST] = s.sold_cost + money(rules, cost)
        v[F_PROCEEDS] = s.proceeds + money(rules, qty * price)
    v[F_HELD] = held
    v[F_DUST] = dust
    return slot_of(v)


def _store(
    book: SlotBook,
    old: Slot,
    new: Slot,
    rules: SymbolRules,
    time_ms: int,
    ended: bool = False,
    why: str = "",
    extra_dust: Decimal = ZERO,
    extra_dust_cost: Decimal = ZERO,
) -> Result:
    """Store ``new``; when its order is over, settle the slot (FILLED, FREE, or a closed round trip)."""
    events: list[SlotEvent] = []
    # the slot's dust unchanged (the same object: every cancel reply) and none extra: put() is told
    # no change, as it would be by the zero the two Decimal operations give (put() reads only whether
    # it is zero)
    same = new.dust is old.dust and not extra_dust
    dust_delta = ZERO if same else new.dust - old.dust + extra_dust
    dust_cost = extra_dust_cost
    if is_working(new) and (ended or new.order_filled >= new.order_qty):
        if new.order_filled < new.order_qty:
            events.append(OrderClosed(new.level, new.side or Side.BUY, new.client_id, new.order_filled, why))
        if new.held > 0:
            v = slot_values(new)  # new._replace(...), in C (see slots.F_STATE)
            v[F_STATE] = _FILLED
            v[F_ORDER_QTY] = 0
            v[F_ORDER_FILLED] = 0
            v[F_UNKNOWN] = False
            v[F_CANCEL_REQUESTED] = False
            new = slot_of(v)
        else:
            if new.sold or new.bought or new.fees:
                # also when nothing could be sold (a partial buy eaten by its base-asset fee): its
                # fees are realized then, as a round trip of quantity 0
                realized = new.proceeds - new.sold_cost - new.fees
                events.append(
                    RoundTripClosed(
                        new.level, new.sold, new.sold_cost, new.proceeds, new.fees, realized, time_ms
                    )
                )
            # The lots left hold the base-asset fee (already in fees) and the dust, kept at cost.
            if new.bought:
                rest = sum(q * p for q, p in new.lots)
                dust_cost += money(rules, rest) - new.base_fee_quote
            # The slot goes FREE without a back-off and holding nothing: put() does not store such a
            # slot (the level is dropped), so what else it would say (its last side, client id and
            # generation) is kept nowhere, and the level's empty slot (made once) stands for it.
            new = empty_slot(new.level)
    return put(book, new, dust_delta, dust_cost), tuple(events)


def _locate(book: SlotBook, client_id: str) -> tuple[Slot | None, Ignored | None]:
    parts = decode(client_id, book.bot_id)
    if parts is None:
        return None, Ignored(client_id, "foreign client id")
    s = book.slots.get(parts.level)
    if s is None:
        return None, Ignored(client_id, "no slot holds this level any more")
    if parts.generation < s.trip_gen:
        # a report about a round trip already closed: its trade ids are no longer remembered, so
        # counting it again could double count; the store keeps trades idempotently by id anyway
        return None, Ignored(client_id, "report of an earlier round trip at this level")
    return s, None


def apply_fill(
    book: SlotBook,
    fill: Fill,
    rules: SymbolRules,
    interval: int,
    fee_rates: Mapping[str, Decimal] | None = None,
) -> Result:
    """Apply one trade of one of our orders; ``interval`` (ticks) freezes the take-profit on a first fill.

    ``fee_rates`` maps a third fee asset (e.g. ``"BNB"``) to its price in quote at fill time.
    """
    return apply_trade(
        book,
        fill.trade_id,
        fill.client_id,
        fill.side,
        fill.price,
        fill.qty,
        fill.cum_qty,
        fill.fee,
        fill.fee_asset,
        fill.time_ms,
        rules,
        interval,
        fee_rates,
    )


def apply_trade(
    book: SlotBook,
    trade_id: int,
    client_id: str,
    side: Side,
    price: int,
    qty: int,
    cum_qty: int,
    fee: Decimal,
    fee_asset: str,
    time_ms: int,
    rules: SymbolRules,
    interval: int,
    fee_rates: Mapping[str, Decimal] | None = None,
) -> Result:
    """:func:`apply_fill` for a trade given by its fields (a :class:`Fill`'s, same names): for a caller
    that has them at hand (the backtester, once per fill) and would build the value only to pass it."""
    s, ignored = _locate(book, client_id)
    if s is None:
        return book, (ignored,) if ignored else ()
    if trade_id in s.trade_ids:
        return book, ()
    events: list[SlotEvent] = []
    try:
        conv = convert_fee(fee, fee_asset, price, qty, rules, fee_rates)
    except FeeError as e:
        conv = ConvertedFee(ZERO, ZERO)
        events.append(FeeRejected(s.level, trade_id, str(e)))
    trade_ids, fees = s.trade_ids | {trade_id}, s.fees + conv.quote
    extra_dust = extra_dust_cost = ZERO
    if (
        not conv.base
        and client_id == s.client_id
        and is_working(s)
        and side is s.side
        and min(cum_qty, s.order_qty) > s.order_filled
    ):
        # the usual trade of the working order, fee in quote: the steps below, in one copy of the slot
        delta = min(cum_qty, s.order_qty) - s.order_filled
        new = _add_qty(accepted(s), delta, price, rules, interval, trade_ids, fees)
        events.append(Filled(s.level, side, delta, price, trade_id, client_id))
        book, settled = _store(book, s, new, rules, time_ms)
        return book, (*events, *settled)
    new = s._replace(trade_ids=trade_ids, fees=fees)
    if conv.base and side is Side.BUY:
        new = _rebalance(
            new._replace(base_fee=new.base_fee + conv.base, base_fee_quote=new.base_fee_quote + conv.quote),
            rules,
        )
    elif conv.base:
        # a base fee on a sell lowers the position outside any slot; its value is charged as a fee,
        # so it leaves the dust's cost too (else the loss would count twice)
        extra_dust, extra_dust_cost = -conv.base, -conv.quote
    if client_id == s.client_id and is_working(s) and side is s.side:
        new = accepted(new)
        delta = min(cum_qty, s.order_qty) - s.order_filled
        if delta > 0:
            new = _add_qty(new, delta, price, rules, interval)
            events.append(Filled(s.level, side, delta, price, trade_id, client_id))
    elif client_id != s.client_id:
        events.append(Ignored(client_id, "trade of an earlier order: fee recorded, quantity not applied"))
    book, settled = _store(
        book, s, new, rules, time_ms, extra_dust=extra_dust, extra_dust_cost=extra_dust_cost
    )
    return book, (*events, *settled)


def apply_snapshot(
    book: SlotBook, snap: OrderSnapshot, rules: SymbolRules, interval: int, now_ms: int
) -> Result:
    """Apply an order's reported status and cumulative quantity (query result, open orders, user stream).

    NEW / PARTIALLY_FILLED acknowledge the order; FILLED completes it; CANCELED / EXPIRED end it
    (keeping any partial position); REJECTED is a definite reject with back-off. Quantity learnt here
    is priced at the order's price; the trades' fees arrive later through :func:`apply_fill`.
    """
    s = book.find(snap.client_id)
    if s is None or not is_working(s):
        return book, (Ignored(snap.client_id, f"{snap.status} report for an order not working"),)
    if snap.status is OrderStatus.REJECTED:
        return reject(book, snap.client_id, now_ms, "rejected by the exchange")
    status = snap.status
    return _apply_status(
        book,
        s,
        snap.executed_qty,
        snap.price,
        snap.side,
        rules,
        interval,
        now_ms,
        not status.is_open,
        status.value.lower(),
    )


def _apply_status(
    book: SlotBook,
    s: Slot,
    executed_qty: int,
    price: int,
    side: Side,
    rules: SymbolRules,
    interval: int,
    now_ms: int,
    ended: bool,
    why: str,
) -> Result:
    """:func:`apply_snapshot` for the working slot ``s`` of the snapshot's order, status not REJECTED:
    ``ended`` when the status is not open, ``why`` the status in lower case (a cancel reply passes
    them as constants: reading an enum's property costs a Python call per cancel)."""
    new = accepted(s)
    delta = min(executed_qty, s.order_qty) - s.order_filled
    if delta <= 0:  # nothing more filled (a plain cancel): only what settling the slot says
        return _store(book, s, new, rules, now_ms, ended=ended, why=why)
    new = _add_qty(new, delta, price, rules, interval)
    filled = Filled(s.level, s.side or side, delta, price, 0, s.client_id)
    book, settled = _store(book, s, new, rules, now_ms, ended=ended, why=why)
    return book, (filled, *settled)


def cancelled(
    book: SlotBook,
    client_id: str,
    executed_qty: int,
    rules: SymbolRules,
    interval: int,
    now_ms: int,
    slot: Slot | None = None,
) -> Result:
    """The order ``client_id`` was cancelled after ``executed_qty`` steps filled (the cancel reply).

    The same as :func:`apply_snapshot` with a CANCELED snapshot of the order at its own price.
    ``slot``: what ``book.find(client_id)`` gives, when the caller has just read it from ``book``
    (the backtester, once per cancel: the id is then not parsed and looked up again).
    """
    s = book.find(client_id) if slot is None else slot
    if s is None or not is_working(s):
        return book, (Ignored(client_id, "cancel of an order not working"),)
    side = s.side or _BUY
    return _apply_status(book, s, executed_qty, s.order_price, side, rules, interval, now_ms, True, _CANCELED)


def resolve_unknown(
    book: SlotBook,
    client_id: str,
    snap: OrderSnapshot | None,
    rules: SymbolRules,
    interval: int,
    now_ms: int,
) -> Result:
    """Settle a PENDING order whose outcome was unknown, from a query by client id.

    ``snap`` is what the exchange returned, or None when it says the order does not exist: then the
    request never took effect and the slot goes back (FREE, or FILLED for a sell) without back-off.
    """
    if snap is not None:
        return apply_snapshot(book, snap, rules, interval, now_ms)
    s = book.find(client_id)
    if s is None or s.state is not SlotState.PENDING:
        return book, (Ignored(client_id, "not-found for an order that is not pending: query its status"),)
    return _store(book, s, s, rules, now_ms, ended=True, why="not found")


def adopt_order(book: SlotBook, snap: OrderSnapshot, rules: SymbolRules, interval: int) -> Result:
    """Rebuild a slot from one of our open orders found on the exchange (reconciliation).

    The level and generation come from the client id. An adopted sell's cost basis is unknown and is
    taken to be its level (the price it was bought at by construction). Foreign ids, closed orders and
    levels already busy with another order are reported as :class:`Ignored`, never touched.
    """
    parts = decode(snap.client_id, book.bot_id)
    if parts is None:
        return book, (Ignored(snap.client_id, "foreign client id"),)
    if not snap.status.is_open:
        return book, (Ignored(snap.client_id, f"{snap.status} order is not open: nothing to adopt"),)
    book = restore_generation(book, parts.generation)
    level = parts.level
    have = book.slots.get(level)
    if have is not None and have.client_id == snap.client_id:
        return apply_snapshot(book, snap, rules, interval, snap.time_ms)
    if have is not None and (is_working(have) or have.held):
        return book, (Ignored(snap.client_id, f"level {level} already has order {have.client_id}"),)
    s = Slot(
        level=level,
        state=SlotState.LOCKED,
        side=parts.side,
        order_price=snap.price,
        order_qty=snap.orig_qty,
        client_id=snap.client_id,
        generation=parts.generation,
        trip_gen=parts.generation,
    )
    if parts.side is Side.SELL:
        s = s._replace(bought=snap.orig_qty, lots=((snap.orig_qty, level),), tp_price=snap.price)
    s = _rebalance(s, rules)
    book = put(book, s)
    return apply_snapshot(book, snap, rules, interval, snap.time_ms)
