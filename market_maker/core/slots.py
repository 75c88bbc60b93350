"""The slot book: one slot per grid level, and the pure transitions of its order life cycle.

States (ARCHITECTURE.md §4): FREE -> PENDING (request about to go out) -> LOCKED (acknowledged,
working) -> FILLED (position held, no working order) -> PENDING (take-profit sell) -> ... -> FREE.

Rules kept here:

- At most one working order per slot; every client id is built from the book-wide generation counter
  (``next_gen``), so no two orders of this book ever share an id, even after a slot was dropped.
- A definite reject sends the slot back (FREE for a buy, FILLED for a sell) with an exponential per-slot
  back-off; an *unknown* outcome leaves it PENDING (flagged ``unknown``) until a query resolves it.
- A refused cancel (rate limited, unknown order, exchange error) backs off the same way: the slot
  records the streak and the time before which the strategy must not ask again; the streak ends
  when the order fills, stops working, or is replaced (see :func:`put`).
- FREE slots without a back-off are not stored: the book holds only levels that have something.
- Quantities are whole steps. Base-asset fees on buys reduce the *sellable* quantity, which is rounded
  down to a whole step; the remainder is kept as ``dust`` (per slot and for the book) so that
  ``position == step_size * sum(held) + dust`` holds exactly.

Every transition returns a new :class:`SlotBook` (and, where something happened, events); nothing is
mutated and nothing does I/O. Fills and exchange snapshots are applied in :mod:`market_maker.core.fills`.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from decimal import Decimal
from typing import Final, NamedTuple

from market_maker.core.actions import Place
from market_maker.core.ids import decode, encode, valid_bot_id
from market_maker.core.model import Side, SlotState, tuple_replace
from market_maker.core.pnl import ZERO, Lots, fifo_cost, money
from market_maker.core.rules import SymbolRules
from market_maker.core.slot_events import OrderRejected

BACKOFF_BASE_MS = 1_000
BACKOFF_MAX_MS = 300_000
# A cancel is how the bot gets out of harm's way (trailing, risk): retry it soon, but never in a loop.
CANCEL_BACKOFF_BASE_MS = 500
CANCEL_BACKOFF_MAX_MS = 30_000
# bot ids checked once (a book is built per order event); Final, like the module's other containers
# read per order event: the compiled build keeps them in C variables (a plain global is a dict lookup)
_VALID_BOT_IDS: Final[set[str]] = set()
TRAIL = 8  # transitions changed_since follows back at most
_WORKING: Final = (SlotState.PENDING, SlotState.LOCKED)
# enum members as module constants: the compiled build reads ``Side.BUY`` through the enum's class
# each time, several times the cost of a constant, on every order event
_BUY: Final = Side.BUY
_FREE: Final = SlotState.FREE
_PENDING: Final = SlotState.PENDING
_LOCKED: Final = SlotState.LOCKED
_FILLED: Final = SlotState.FILLED


class SlotError(ValueError):
    """A transition that the slot's state does not allow (a bug in the caller, never an exchange event)."""


class Slot(NamedTuple):
    """One grid level: its working order (if any) and the position it holds.

    An immutable named tuple rather than a dataclass: transitions copy slots with ``_replace``, which
    is several times cheaper than ``dataclasses.replace`` on the backtester's per-event path.
    """

    level: int  # ticks: the buy price, the slot's key
    state: SlotState = SlotState.FREE
    side: Side | None = None  # side of the current (or last) order
    order_price: int = 0  # ticks
    order_qty: int = 0  # steps
    order_filled: int = 0  # steps filled of the current order
    client_id: str = ""  # current (or last) order's client id
    generation: int = 0
    trip_gen: int = 0  # generation of the buy that opened the current position (round trip)
    unknown: bool = False  # the last request's outcome is unknown: query it by client id
    cancel_requested: bool = False
    bought: int = 0  # steps bought for the current position
    sold: int = 0  # steps sold of the current position
    held: int = 0  # sellable steps now
    lots: Lots = ()  # FIFO lots not yet sold: (steps, price ticks)
    base_fee: Decimal = ZERO  # base-asset fees charged on this position's buys
    base_fee_quote: Decimal = ZERO  # the same, in quote at fill time (already inside ``fees``)
    dust: Decimal = ZERO  # base asset held but not sellable (below one step)
    proceeds: Decimal = ZERO  # quote received from sells of this position
    sold_cost: Decimal = ZERO  # FIFO cost of the steps sold
    fees: Decimal = ZERO  # all fees of this round trip, in quote
    tp_price: int = 0  # take-profit price frozen at the first fill: level + interval then
    rejects: int = 0  # consecutive definite rejects
    backoff_until_ms: int = 0
    cancel_fails: int = 0  # consecutive refused cancels of the current order
    cancel_retry_ms: int = 0  # no new cancel of the current order before this time (0: none pending)
    trade_ids: frozenset[int] = frozenset()

    @property
    def working(self) -> bool:
        """True while an order of this slot is (or may be) on the exchange."""
        return self.state in _WORKING

    @property
    def remaining(self) -> int:
        """Steps of the working order not filled yet (0 when nothing works)."""
        return self.order_qty - self.order_filled if self.state in _WORKING else 0

    def entry_cost(self, rules: SymbolRules) -> Decimal:
        """Cost (quote) of the steps still held, FIFO."""
        return money(rules, fifo_cost(self.lots, self.held))


# transitions copy slots a few times per order event (a backtest: tens of thousands per run)
setattr(Slot, "_replace", tuple_replace(Slot))  # noqa: B010 (NamedTuple forbids defining it in the body)

# Positions of Slot's fields, for the copies made on every order event (a placement, a fill, a
# settle): writing into a list of the slot's values and making the tuple with ``tuple.__new__`` runs
# as C in the compiled build, where ``_replace`` and ``Slot(...)`` (generated Python) cost several
# times more. Checked against ``Slot._fields`` just below, so a reordered field cannot go unnoticed.
F_LEVEL: Final = 0
F_STATE: Final = 1
F_SIDE: Final = 2
F_ORDER_PRICE: Final = 3
F_ORDER_QTY: Final = 4
F_ORDER_FILLED: Final = 5
F_CLIENT_ID: Final = 6
F_GENERATION: Final = 7
F_TRIP_GEN: Final = 8
F_UNKNOWN: Final = 9
F_CANCEL_REQUESTED: Final = 10
F_BOUGHT: Final = 11
F_SOLD: Final = 12
F_HELD: Final = 13
F_LOTS: Final = 14
F_DUST: Final = 17
F_PROCEEDS: Final = 18
F_SOLD_COST: Final = 19
F_FEES: Final = 20
F_TP_PRICE: Final = 21
F_REJECTS: Final = 22
F_BACKOFF_UNTIL_MS: Final = 23
F_TRADE_IDS: Final = 26
_POSITIONS = {
    "level": F_LEVEL,
    "state": F_STATE,
    "side": F_SIDE,
    "order_price": F_ORDER_PRICE,
    "order_qty": F_ORDER_QTY,
    "order_filled": F_ORDER_FILLED,
    "client_id": F_CLIENT_ID,
    "generation": F_GENERATION,
    "trip_gen": F_TRIP_GEN,
    "unknown": F_UNKNOWN,
    "cancel_requested": F_CANCEL_REQUESTED,
    "bought": F_BOUGHT,
    "sold": F_SOLD,
    "held": F_HELD,
    "lots": F_LOTS,
    "dust": F_DUST,
    "proceeds": F_PROCEEDS,
    "sold_cost": F_SOLD_COST,
    "fees": F_FEES,
    "tp_price": F_TP_PRICE,
    "rejects": F_REJECTS,
    "backoff_until_ms": F_BACKOFF_UNTIL_MS,
    "trade_ids": F_TRADE_IDS,
}
if any(Slot._fields[i] != name for name, i in _POSITIONS.items()):
    raise ImportError("slots.py: the F_* field positions no longer match Slot's fields")
_EMPTY_SLOT: Final = Slot(0)
_SLOT: Final = Slot  # the class, for slot_of (read per slot copy)
# ``tuple.__new__`` once: read from ``tuple`` on every call, it is an attribute lookup on the type
_TUPLE_NEW: Final = tuple.__new__


def slot_values(s: Slot) -> list[object]:
    """``s``'s field values, in order, to change some (at the ``F_*`` positions) and pass to
    :func:`slot_of`."""
    return list(s)


def slot_of(values: list[object]) -> Slot:
    """The slot with these field values (as :func:`slot_values` gives them): ``Slot(*values)``
    without running the named tuple's Python ``__new__``."""
    return _TUPLE_NEW(_SLOT, values)


def new_slot_values(level: int) -> list[object]:
    """The values of ``Slot(level)`` (a FREE slot that never had an order), as :func:`slot_values`."""
    values: list[object] = list(_EMPTY_SLOT)
    values[0] = level
    return values


class BookIndex(NamedTuple):
    """Derived views of a book's slots that let the strategy skip the slots that cannot act.

    Never persisted and never compared: rebuilt from ``slots`` whenever a book is made from a
    mapping it was not built for (the store's load, ``book.replace(slots=...)``).
    """

    of: Mapping[int, Slot]  # the mapping this index describes (identity, checked on construction)
    # frozen containers; a set, a list and a set in an owned book (see :func:`owned`)
    working: AbstractSet[int]  # levels with a PENDING or LOCKED order
    filled: Sequence[tuple[int, int]]  # (tp_price, level) of FILLED slots holding steps, ascending
    backoff: AbstractSet[int]  # levels whose slot carries a reject or cancel back-off (expired or not)
    # The mappings of the last TRAIL books this one was made from by put(), newest first, each with the
    # level written after it: lets the store's writer find what changed since the book it saved without
    # comparing every level (changed_since). Bounded, so a book keeps at most TRAIL ancestor mappings
    # alive (never whole books); empty for a mapping put() did not make.
    trail: tuple[tuple[Mapping[int, Slot], int], ...] = ()
    # The slots of ``working``, by level ascending, kept by the transitions of an owned book (the
    # strategy walks the working orders by level on every pass: sorting the set and looking every
    # level up each time cost more than the walk). None in any other book: see :func:`working_slots`.
    ordered: list[Slot] | None = None


def _filled_key(s: Slot | None) -> tuple[int, int] | None:
    return (s.tp_price, s.level) if s is not None and _holds_filled(s) else None


def _holds_filled(s: Slot | None) -> bool:
    """True when ``s`` is FILLED and holds steps: it has a key in the index's ``filled``."""
    return s is not None and s.state is _FILLED and s.held > 0


def is_working(s: Slot | None) -> bool:
    """True when ``s`` is stored and PENDING or LOCKED (``Slot.working``, as two identity checks)."""
    if s is None:
        return False
    state = s.state
    return state is _PENDING or state is _LOCKED


def build_index(slots: Mapping[int, Slot]) -> BookIndex:
    """The index of ``slots``, from scratch (O(n log n)); transitions update it in O(changed)."""
    return BookIndex(
        slots,
        frozenset(lv for lv, s in slots.items() if s.state in _WORKING),
        tuple(sorted(k for s in slots.values() if (k := _filled_key(s)) is not None)),
        frozenset(lv for lv, s in slots.items() if s.backoff_until_ms or s.cancel_retry_ms),
    )


def _update_index(
    book: SlotBook, slots: Mapping[int, Slot], lv: int, old: Slot | None, new: Slot | None
) -> BookIndex:
    """``book``'s index after the slot at level ``lv`` went from ``old`` to ``new`` (None: not stored)."""
    ix = book.ix
    working = ix.working
    was, now = is_working(old), is_working(new)
    if was != now:
        working = working | {lv} if now else working - {lv}
    filled = ix.filled
    # most transitions touch no FILLED slot: their keys (both None) are not built to be compared
    ok = nk = None
    if _holds_filled(old) or _holds_filled(new):
        ok, nk = _filled_key(old), _filled_key(new)
    if ok != nk:
        lst = list(filled)
        if ok is not None:
            del lst[bisect_left(lst, ok)]
        if nk is not None:
            insort(lst, nk)
        filled = tuple(lst)
    backoff = ix.backoff
    was = old is not None and (old.backoff_until_ms != 0 or old.cancel_retry_ms != 0)
    now = new is not None and (new.backoff_until_ms != 0 or new.cancel_retry_ms != 0)
    if was != now:
        backoff = backoff | {lv} if now else backoff - {lv}
    return BookIndex(slots, working, filled, backoff, ((book.slots, lv), *ix.trail[: TRAIL - 1]))


def _update_owned_index(ix: BookIndex, lv: int, old: Slot | None, new: Slot | None) -> None:
    """:func:`_update_index` for an owned book: the same changes, made in its index's own containers."""
    was, now = is_working(old), is_working(new)
    if was != now:
        _set_member(ix.working, lv, now)
    if was or now:  # the list holds the slot itself: a working slot's every new version goes in
        ordered = ix.ordered
        assert ordered is not None
        _set_ordered(ordered, lv, new if now else None)
    ok = nk = None  # see _update_index
    if _holds_filled(old) or _holds_filled(new):
        ok, nk = _filled_key(old), _filled_key(new)
    if ok != nk:
        filled = ix.filled
        assert isinstance(filled, list)
        if ok is not None:
            del filled[_bisect_pair(filled, ok)]
        if nk is not None:
            filled.insert(_bisect_pair(filled, nk), nk)
    was = old is not None and (old.backoff_until_ms != 0 or old.cancel_retry_ms != 0)
    now = new is not None and (new.backoff_until_ms != 0 or new.cancel_retry_ms != 0)
    if was != now:
        _set_member(ix.backoff, lv, now)


def _bisect_pair(pairs: list[tuple[int, int]], key: tuple[int, int]) -> int:
    """``bisect_left(pairs, key)`` for ascending pairs of integers, comparing them as native integers
    (the generic call compares tuples as objects; an owned index updates its list on every fill)."""
    k0, k1 = key
    lo, hi = 0, len(pairs)
    while lo < hi:
        mid = (lo + hi) // 2
        p0, p1 = pairs[mid]
        if p0 < k0 or (p0 == k0 and p1 < k1):
            lo = mid + 1
        else:
            hi = mid
    return lo


def _set_ordered(ordered: list[Slot], lv: int, new: Slot | None) -> None:
    """Put ``new`` (the slot at level ``lv`` now) into an owned index's working slots, ascending by
    level: in place of the slot at ``lv`` when there is one, else inserted; None takes it out.

    A native binary search for the first slot above ``lv`` (an order event writes anywhere in the list:
    a grid re-placed after an interval change cancels and places at every level of it).
    """
    i, hi = 0, len(ordered)
    while i < hi:
        mid = (i + hi) // 2
        if ordered[mid].level <= lv:
            i = mid + 1
        else:
            hi = mid
    if i > 0 and ordered[i - 1].level == lv:
        if new is None:
            del ordered[i - 1]
        else:
            ordered[i - 1] = new
    elif new is not None:
        ordered.insert(i, new)


def working_slots(book: SlotBook) -> list[Slot]:
    """The slots of ``book``'s working orders, ascending by level: an owned book's own list (read it
    before the next transition, never change it), else made from the index's set."""
    ordered = book.ix.ordered
    if ordered is not None:
        return ordered
    slots = book.slots
    return [slots[lv] for lv in sorted(book.ix.working)]


def _set_member(members: AbstractSet[int], lv: int, member: bool) -> None:
    """Add ``lv`` to (or take it out of) an owned index's set."""
    assert isinstance(members, set)
    if member:
        members.add(lv)
    else:
        members.discard(lv)


def changed_since(old: SlotBook, new: SlotBook) -> list[int] | None:
    """The levels (ascending) whose slot differs between ``old`` and ``new`` (not the same object, None
    counting as absent), when ``new`` was made from ``old`` by at most :data:`TRAIL` transitions; None
    when that is not known (the caller then compares every level). O(transitions), not O(book)."""
    levels: set[int] = set()
    if new.owned or old.owned:
        return None  # an owned book's earlier versions share its storage: they cannot be compared
    if new.slots is not old.slots:  # not old itself, nor a copy of it with other counters (replace)
        for mapping, lv in new.ix.trail:
            levels.add(lv)
            if mapping is old.slots:
                break
        else:
            return None
    before, after = old.slots.get, new.slots.get
    return sorted(lv for lv in levels if before(lv) is not after(lv))


class SlotBook:
    """All slots of one bot on one symbol, keyed by level, plus book-wide counters.

    ``held_total`` and ``buy_working_total`` are kept up to date by every transition so the strategy
    reads them in O(1), and ``index`` (derived, see :class:`BookIndex`) so it reads only the slots
    that can act. Treat ``slots`` as read-only.

    Immutable (its fields are ``Final``: read-only once built) and compared by value, ``index``
    excepted, like a frozen dataclass; written out because a transition builds one per order event
    and the compiled build makes a plain class with explicit fields many times cheaper to build than
    a dataclass (whose generated ``__init__`` runs as Python). :meth:`replace` copies it.
    """

    __slots__ = (
        "bot_id",
        "buy_working_total",
        "dust",
        "dust_cost",
        "held_total",
        "index",
        "next_gen",
        "owned",
        "slots",
    )

    def __init__(
        self,
        bot_id: str,
        slots: Mapping[int, Slot] | None = None,
        next_gen: int = 0,  # generation of the next order: unique per book, never reused
        dust: Decimal = ZERO,  # base asset: position - step_size * held_total
        dust_cost: Decimal = ZERO,  # quote cost of dust left behind by closed round trips
        held_total: int = 0,  # steps, sum of slot.held
        buy_working_total: int = 0,  # steps, sum of the unfilled quantity of working buys
        index: BookIndex | None = None,  # derived, never compared nor stored
        owned: bool = False,  # see :func:`owned`; never compared
    ) -> None:
        if bot_id not in _VALID_BOT_IDS:
            if not valid_bot_id(bot_id):
                raise SlotError(f"bot id {bot_id!r} must be 1-12 letters or digits")
            _VALID_BOT_IDS.add(bot_id)
        if slots is None:
            slots = {}
        if index is None or index.of is not slots:
            index = build_index(slots)
            if owned:
                index = _owned_index(index)
        self.bot_id: Final = bot_id
        self.slots: Final = slots
        self.next_gen: Final = next_gen
        self.dust: Final = dust
        self.dust_cost: Final = dust_cost
        self.held_total: Final = held_total
        self.buy_working_total: Final = buy_working_total
        self.index: Final[BookIndex | None] = index
        self.owned: Final = owned

    def _key(self) -> tuple[object, ...]:
        return (
            self.bot_id,
            self.slots,
            self.next_gen,
            self.dust,
            self.dust_cost,
            self.held_total,
            self.buy_working_total,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SlotBook):
            return NotImplemented
        return self._key() == other._key()

    def __ne__(self, other: object) -> bool:
        if not isinstance(other, SlotBook):
            return NotImplemented
        return self._key() != other._key()

    __hash__ = None  # type: ignore[assignment]  # compared by value, and its slots are a dict

    def __repr__(self) -> str:
        return (
            f"SlotBook(bot_id={self.bot_id!r}, slots={self.slots!r}, next_gen={self.next_gen!r}, "
            f"dust={self.dust!r}, dust_cost={self.dust_cost!r}, held_total={self.held_total!r}, "
            f"buy_working_total={self.buy_working_total!r})"
        )

    def replace(
        self,
        *,
        slots: Mapping[int, Slot] | None = None,
        next_gen: int | None = None,
        dust: Decimal | None = None,
        dust_cost: Decimal | None = None,
        held_total: int | None = None,
        buy_working_total: int | None = None,
    ) -> SlotBook:
        """A copy with the named fields changed (the index is rebuilt when ``slots`` is another mapping;
        a copy of an owned book is owned, sharing its storage, unless ``slots`` is another mapping)."""
        return SlotBook(
            self.bot_id,
            self.slots if slots is None else slots,
            self.next_gen if next_gen is None else next_gen,
            self.dust if dust is None else dust,
            self.dust_cost if dust_cost is None else dust_cost,
            self.held_total if held_total is None else held_total,
            self.buy_working_total if buy_working_total is None else buy_working_total,
            self.index,
            self.owned and (slots is None or slots is self.slots),
        )

    @property
    def ix(self) -> BookIndex:
        """The derived index (always set after construction)."""
        assert self.index is not None
        return self.index

    def __iter__(self) -> Iterator[Slot]:
        return iter(self.slots.values())

    def slot(self, level: int) -> Slot | None:
        """The slot at ``level``, or None when the level holds nothing."""
        return self.slots.get(level)

    def find(self, client_id: str) -> Slot | None:
        """The slot whose current (or last) order has ``client_id``; None for foreign or unknown ids."""
        parts = decode(client_id, self.bot_id)
        if parts is None:
            return None
        s = self.slots.get(parts.level)
        return s if s is not None and s.client_id == client_id else None

    def position(self, rules: SymbolRules) -> Decimal:
        """Base-asset position from our own trades: held steps plus dust, exact."""
        return rules.step_size * self.held_total + self.dust

    def unrealized_pnl(self, mark_ticks: int, rules: SymbolRules) -> Decimal:
        """Unrealized PnL (quote) at ``mark_ticks``: everything held, dust included, against its cost.

        A slot's held steps and dust are valued at the mark against the cost of its unsold lots minus
        the base-asset fee part of them (that part is a fee, charged to the round trip); dust left by
        closed round trips is valued against ``dust_cost``. So realized + open round trips' running
        result + this = equity change, exactly (a property test checks the identity).
        """
        mark = rules.tick_size * mark_ticks
        total = (self.dust - sum((s.dust for s in self.slots.values()), ZERO)) * mark - self.dust_cost
        for s in self.slots.values():
            if s.lots or s.held or s.dust:
                lots_cost = money(rules, sum(q * p for q, p in s.lots))
                total += (rules.step_size * s.held + s.dust) * mark - (lots_cost - s.base_fee_quote)
        return total

    def open_result(self) -> Decimal:
        """Running result (quote) of the round trips still open: proceeds - cost of sold steps - fees."""
        return sum((s.proceeds - s.sold_cost - s.fees for s in self.slots.values()), ZERO)


def put(
    book: SlotBook,
    new: Slot,
    dust_delta: Decimal = ZERO,
    dust_cost_delta: Decimal = ZERO,
    next_gen: int | None = None,
) -> SlotBook:
    """The book with ``new`` stored at its level (dropped when it is FREE with no back-off).

    Keeps the cached totals and the index right; ``dust_delta`` / ``dust_cost_delta`` adjust the
    book-level dust; ``next_gen`` (when given) replaces the generation counter. A cancel back-off
    ends here, for every transition at once, when its order filled, stopped working or was replaced.
    """
    shared = book.slots
    # an owned book's storage is updated in place (see owned()); any other book's is copied (typed as
    # a dict, the reads and writes below are the dict's own, not the generic Mapping protocol's)
    slots: dict[int, Slot] = shared if book.owned and isinstance(shared, dict) else dict(shared)
    old = slots.get(new.level)
    if new.cancel_retry_ms and (
        old is None
        or not is_working(new)
        or new.client_id != old.client_id
        or new.order_filled != old.order_filled
    ):
        new = new._replace(cancel_fails=0, cancel_retry_ms=0)
    stored: Slot | None = new
    if new.state is _FREE and new.backoff_until_ms == 0 and new.held == 0:
        slots.pop(new.level, None)
        stored = None
    else:
        slots[new.level] = new
    held = book.held_total + new.held
    buys = book.buy_working_total + _buy_left(new)
    if old is not None:
        held -= old.held
        buys -= _buy_left(old)
    if slots is shared:
        _update_owned_index(book.ix, new.level, old, stored)
        index = book.ix
    else:
        index = _update_index(book, slots, new.level, old, stored)
    return SlotBook(
        book.bot_id,
        slots,
        book.next_gen if next_gen is None else next_gen,
        book.dust + dust_delta if dust_delta else book.dust,
        book.dust_cost + dust_cost_delta if dust_cost_delta else book.dust_cost,
        held,
        buys,
        index,
        book.owned,
    )


def owned(book: SlotBook) -> SlotBook:
    """A copy of ``book`` that owns its storage: its transitions update that storage in place.

    Every transition still returns a new book (a new identity, as caches keyed by the book expect),
    with the same rules and the same result as for any book; what it does not do is copy the slots
    and the index, O(book) per order event. The price: a transition leaves the book it was given
    out of date, so only the newest book of an owned line may be read, and it is never compared
    with its ancestors (:func:`changed_since` says it does not know). For a caller that keeps only
    the newest book and shares it with nobody: the backtester's replay.
    """
    slots = dict(book.slots)
    return SlotBook(
        book.bot_id,
        slots,
        book.next_gen,
        book.dust,
        book.dust_cost,
        book.held_total,
        book.buy_working_total,
        _owned_index(build_index(slots)),
        True,
    )


def _owned_index(ix: BookIndex) -> BookIndex:
    """``ix`` with containers an owned book updates in place."""
    slots = ix.of
    ordered = [slots[lv] for lv in sorted(ix.working)]
    return BookIndex(ix.of, set(ix.working), list(ix.filled), set(ix.backoff), (), ordered)


def _buy_left(s: Slot) -> int:
    # Slot.remaining spelled out for buys: put() asks twice per transition
    return s.order_qty - s.order_filled if s.side is _BUY and is_working(s) else 0


def _working(book: SlotBook, client_id: str, what: str) -> Slot:
    s = book.find(client_id)
    if s is None or not is_working(s):
        raise SlotError(f"{what}: no working order {client_id!r} in the book")
    return s


# --- requests ---------------------------------------------------------------------------------------


def submit(book: SlotBook, place: Place) -> tuple[SlotBook, str]:
    """Record the intent to send ``place``: the slot goes PENDING; returns the book and the client id.

    A buy needs a FREE (or absent) slot; a sell needs a FILLED slot holding at least its quantity, at
    a price above the level. Anything else is a caller bug and raises :class:`SlotError`.
    """
    new = _submitted(book, place)
    return put(book, new, next_gen=new.generation + 1), new.client_id


def submit_acked(book: SlotBook, place: Place) -> tuple[SlotBook, str]:
    """``ack(submit(book, place))`` as one transition: for an exchange that accepts at once (the
    backtester), so no PENDING book is built only to be replaced. Same checks, same resulting book."""
    new = _submitted(book, place, acked=True)
    return put(book, new, next_gen=new.generation + 1), new.client_id


def _submitted(book: SlotBook, place: Place, acked: bool = False) -> Slot:
    """The slot of ``place`` gone PENDING with its new client id (see :func:`submit` for the checks);
    ``acked``: gone on to LOCKED at once, as :func:`accepted` makes it, in one copy of the slot."""
    got = book.slots.get(place.level)
    # a level that holds nothing: Slot(level), whose fields other than the level are _EMPTY_SLOT's (the
    # level is written into the copy below; no per-level lookup of empty_slot's cache)
    s = _EMPTY_SLOT if got is None else got
    if place.qty <= 0 or place.price <= 0:
        raise SlotError(
            f"level {place.level}: order needs qty and price > 0, got {place.qty} @ {place.price}"
        )
    if place.side is _BUY:
        if s.state is not _FREE:
            raise SlotError(f"level {place.level}: buy requested while the slot is {s.state}")
    elif s.state is not _FILLED or place.qty > s.held or place.price <= s.level:
        raise SlotError(
            f"level {place.level}: sell {place.qty} @ {place.price} not allowed "
            f"(state {s.state}, held {s.held})"
        )
    gen = book.next_gen
    v = slot_values(s)  # s._replace(...), in C (see F_STATE)
    v[F_LEVEL] = place.level  # the key of every slot, written for the empty slot
    v[F_STATE] = _LOCKED if acked else _PENDING
    v[F_SIDE] = place.side
    v[F_ORDER_PRICE] = place.price
    v[F_ORDER_QTY] = place.qty
    v[F_ORDER_FILLED] = 0
    v[F_CLIENT_ID] = encode(book.bot_id, place.level, place.side, gen)
    v[F_GENERATION] = gen
    v[F_UNKNOWN] = False
    v[F_CANCEL_REQUESTED] = False
    if place.side is _BUY:
        v[F_TRIP_GEN] = gen
    if acked:  # acknowledged at once: its reject streak ends, as ``accepted`` ends it
        v[F_REJECTS] = 0
        v[F_BACKOFF_UNTIL_MS] = 0
    return slot_of(v)


# Slot(level) per level, made once: a buy at a level that holds nothing starts from it (slots are
# immutable, so one may be shared); bounded like the client-id cache
_EMPTIES: Final[dict[int, Slot]] = {}
_EMPTIES_MAX: Final = 4096


def empty_slot(level: int) -> Slot:
    """``Slot(level)``: a FREE slot that never had an order (one object per level, shared)."""
    s = _EMPTIES.get(level)
    if s is None:
        if len(_EMPTIES) >= _EMPTIES_MAX:
            _EMPTIES.clear()
        s = _EMPTIES[level] = slot_of(new_slot_values(level))
    return s


def accepted(s: Slot) -> Slot:
    """``s`` after the exchange accepted its PENDING order: LOCKED, and its reject streak ends."""
    if s.state is _PENDING:
        v = slot_values(s)  # s._replace(...), in C (see F_STATE)
        v[F_STATE] = _LOCKED
        v[F_UNKNOWN] = False
        v[F_REJECTS] = 0
        v[F_BACKOFF_UNTIL_MS] = 0
        return slot_of(v)
    return s


def ack(book: SlotBook, client_id: str) -> SlotBook:
    """The exchange accepted the order: PENDING -> LOCKED; the slot's reject streak ends.

    An ack for an order that is not PENDING (duplicate, late) changes nothing.
    """
    s = book.find(client_id)
    if s is None or s.state is not SlotState.PENDING:
        return book
    return put(book, accepted(s))


def backoff_ms(rejects: int, base_ms: int = BACKOFF_BASE_MS, max_ms: int = BACKOFF_MAX_MS) -> int:
    """Back-off after the ``rejects``-th consecutive reject: base, 2x base, 4x base, ... capped."""
    return min(base_ms << min(max(rejects - 1, 0), 30), max_ms)


def reject(
    book: SlotBook,
    client_id: str,
    now_ms: int,
    reason: str,
    base_ms: int = BACKOFF_BASE_MS,
    max_ms: int = BACKOFF_MAX_MS,
) -> tuple[SlotBook, tuple[OrderRejected, ...]]:
    """A definite reject (post-only would cross, filter failure): back to FREE (buy) or FILLED (sell).

    The slot waits ``backoff_ms(rejects)`` before the strategy tries it again. Only a PENDING order can
    be rejected; anything else is ignored (a stale reply).
    """
    s = book.find(client_id)
    if s is None or s.state is not SlotState.PENDING or s.order_filled:
        return book, ()
    rejects = s.rejects + 1
    until = now_ms + backoff_ms(rejects, base_ms, max_ms)
    back = SlotState.FILLED if s.held > 0 else SlotState.FREE
    new = s._replace(
        state=back, order_qty=0, order_filled=0, unknown=False, rejects=rejects, backoff_until_ms=until
    )
    side = s.side or Side.BUY
    return put(book, new), (OrderRejected(s.level, side, client_id, reason, until),)


def mark_unknown(book: SlotBook, client_id: str) -> SlotBook:
    """The request timed out or got a 5xx: the order may or may not exist. It stays PENDING, flagged."""
    s = book.find(client_id)
    if s is None or s.state is not SlotState.PENDING:
        return book
    return put(book, s._replace(unknown=True))


def request_cancel(book: SlotBook, client_id: str) -> SlotBook:
    """Record that a cancel was sent, so the strategy does not ask for it again on every price tick."""
    s = _working(book, client_id, "cancel")
    return put(book, s._replace(cancel_requested=True))


def cancel_backoff_ms(
    fails: int, base_ms: int = CANCEL_BACKOFF_BASE_MS, max_ms: int = CANCEL_BACKOFF_MAX_MS
) -> int:
    """Wait after the ``fails``-th consecutive refused cancel: base, 2x base, 4x base, ... capped."""
    return backoff_ms(fails, base_ms, max_ms)


def cancel_failed(
    book: SlotBook,
    client_id: str,
    now_ms: int,
    base_ms: int = CANCEL_BACKOFF_BASE_MS,
    max_ms: int = CANCEL_BACKOFF_MAX_MS,
) -> SlotBook:
    """The cancel did not go through (rate limited, unknown order, exchange error): ask again later.

    The strategy may ask again only after ``cancel_backoff_ms(fails)``, so a cancel the exchange (or
    our own limiter) keeps refusing is retried at a falling rate instead of on every price tick.
    A reply for an order that has no cancel in flight (stale, duplicate) changes nothing.
    """
    s = book.find(client_id)
    if s is None or not s.cancel_requested:
        return book
    fails = s.cancel_fails + 1
    until = now_ms + cancel_backoff_ms(fails, base_ms, max_ms)
    return put(book, s._replace(cancel_requested=False, cancel_fails=fails, cancel_retry_ms=until))


def prune(book: SlotBook, now_ms: int) -> SlotBook:
    """Drop FREE slots whose back-off has expired (they hold nothing); keeps the book small."""
    stale = [s for s in book.slots.values() if s.state is SlotState.FREE and s.backoff_until_ms <= now_ms]
    for s in stale:
        book = put(book, s._replace(backoff_until_ms=0, rejects=0))
    return book


def restore_generation(book: SlotBook, generation: int) -> SlotBook:
    """Make sure future client ids use generations above ``generation`` (after a restart or adoption)."""
    return book if generation < book.next_gen else book.replace(next_gen=generation + 1)
