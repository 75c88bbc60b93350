"""The simulator's matching engine: pure, no sockets, no clocks (time is passed in).

Users' orders trade against the market price path, never against each other:

* the synthetic book around the last path price ``L`` is bid ``L`` / ask ``L + 1 tick`` with unlimited
  size, so an order that crosses it on arrival is a *taker* and fills at once at the bid or ask;
* a resting order is a *maker*: a buy at ``P`` fills at ``P`` when the path trades strictly below
  ``P`` (a sell: strictly above), up to the volume the path traded at that point, so a large order
  fills in several parts; ``force_partial`` makes a first fill take only half of an order;
* post-only orders that would cross are rejected (-2010 spot, -5022 futures).

Spot accounts lock the quote (buy) or base (sell) of every resting order; fees are charged in the
asset received. USD-M accounts have one-way positions per symbol, leverage, an initial-margin check on
orders that add exposure, reduce-only orders, realized PnL and fees in the margin asset.
Every state change returns events in Binance's order: order event(s) first, then the balance event.

The engine is deterministic: the same calls with the same arguments give the same state. A persistent
venue (``market_maker.sim.state_file``) relies on it: a ``recorder`` set on the engine hears every call
a client makes (:data:`RECORDED`), after it ran and before its answer can leave, and replaying those
calls on the state last saved rebuilds the state exactly.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_UP, Decimal
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar

from market_maker.core.model import Side
from market_maker.core.rules import SymbolRules

Recorder = Callable[[str, tuple[Any, ...], dict[str, Any]], None]
P = ParamSpec("P")
R = TypeVar("R")
# The client-facing calls that change the engine's state, in the order a recorder hears them.
RECORDED = ("add_account", "place", "cancel", "cancel_all", "set_leverage", "set_margin_type")

SPOT = "spot"
USDM = "usdm"
_FEE_Q = Decimal("0.00000001")
ZERO = Decimal(0)
UNLIMITED = 1 << 62


def _recorded(method: Callable[Concatenate[Engine, P], R]) -> Callable[Concatenate[Engine, P], R]:
    """Tell the engine's recorder about a client call once it ran (raised or not: a refused order
    still uses up an order id), and only the outermost one (``cancel_all`` cancels one by one)."""
    name = method.__name__

    @wraps(method)
    def call(self: Engine, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if self.recorder is None or self._recording:
            return method(self, *args, **kwargs)
        self._recording = True
        try:
            return method(self, *args, **kwargs)
        finally:
            self._recording = False
            self.recorder(name, args, kwargs)

    return call


# Binance's answers for filter failures: spot uses -1013 with the filter's name, futures own codes.
_FUTURES_FILTER_ERRORS = {
    "PRICE_FILTER": (-4014, "Price not increased by tick size."),
    "PRICE_MIN": (-4013, "Price less than min price."),
    "PRICE_MAX": (-4016, "Price more than max price."),
    "LOT_SIZE": (-4023, "Qty not increased by step size."),
    "QTY_ZERO": (-4003, "Quantity less than or equal to zero."),
    "QTY_MIN": (-4004, "Quantity less than min quantity."),
    "QTY_MAX": (-4005, "Quantity greater than max quantity."),
}


class BinanceError(Exception):
    """A request the exchange refuses: Binance error code, message and HTTP status."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status


@dataclass(slots=True, eq=False)
class Order:
    """One order; mutable while open, never after."""

    venue: str
    symbol: str
    order_id: int
    client_id: str
    account: str
    side: Side
    type: str
    tif: str
    price: int  # ticks; 0 for MARKET
    qty: int  # steps
    time_ms: int
    update_ms: int
    reduce_only: bool = False
    filled: int = 0
    quote: Decimal = ZERO  # cumulative quote quantity
    status: str = "NEW"
    locked: Decimal = ZERO  # spot: amount still reserved in the locked asset
    margin: Decimal = ZERO  # futures: initial margin still reserved
    working: bool = False  # rested on the book

    @property
    def is_open(self) -> bool:
        """True while the order can still trade."""
        return self.status in ("NEW", "PARTIALLY_FILLED")


@dataclass(frozen=True, slots=True)
class Trade:
    """One fill of one user order."""

    venue: str
    symbol: str
    trade_id: int
    order_id: int
    account: str
    side: Side
    price: int  # ticks
    qty: int  # steps
    quote: Decimal
    fee: Decimal
    fee_asset: str
    is_maker: bool
    time_ms: int
    realized: Decimal = ZERO  # futures realized PnL of this trade (before fees)


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """An order changed: NEW, TRADE, CANCELED or EXPIRED, with the order's state at that moment."""

    account: str
    venue: str
    order: Order
    exec_type: str
    status: str
    filled: int
    quote: Decimal
    time_ms: int
    trade: Trade | None = None
    cancel_client_id: str = ""


@dataclass(frozen=True, slots=True)
class PositionView:
    """A futures position at one moment."""

    symbol: str
    amount: int  # signed steps
    entry: Decimal
    realized: Decimal
    unrealized: Decimal
    margin_type: str


@dataclass(frozen=True, slots=True)
class BalanceEvent:
    """Balances changed. Spot: (asset, free, locked); futures: (asset, wallet, change) and positions."""

    account: str
    venue: str
    time_ms: int
    assets: tuple[tuple[str, Decimal, Decimal], ...]
    positions: tuple[PositionView, ...] = ()
    reason: str = "ORDER"


Event = OrderEvent | BalanceEvent


@dataclass(slots=True)
class Position:
    """A one-way futures position."""

    amount: int = 0  # signed steps
    entry: Decimal = ZERO
    realized: Decimal = ZERO


@dataclass
class Account:
    """One user: spot balances (free, locked), futures wallet, positions and settings."""

    api_key: str
    api_secret: str = field(repr=False)
    spot: dict[str, list[Decimal]] = field(default_factory=dict)
    wallet: dict[str, Decimal] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    leverage: dict[str, int] = field(default_factory=dict)
    margin_type: dict[str, str] = field(default_factory=dict)  # "CROSSED" | "ISOLATED"
    trades: list[Trade] = field(default_factory=list)

    def free(self, asset: str) -> Decimal:
        """Spot free balance."""
        return self.spot.get(asset, [ZERO, ZERO])[0]


@dataclass(frozen=True, slots=True)
class Fees:
    """Maker and taker fee rates of one venue."""

    maker: Decimal
    taker: Decimal


class _Book:
    """Resting orders of one venue and symbol, in fill priority (buys high first, sells low first)."""

    __slots__ = ("buy_keys", "buys", "sell_keys", "sells")

    def __init__(self) -> None:
        self.buy_keys: list[tuple[int, int]] = []
        self.buys: list[Order] = []
        self.sell_keys: list[tuple[int, int]] = []
        self.sells: list[Order] = []

    def add(self, o: Order) -> None:
        if o.side is Side.BUY:
            key = (-o.price, o.order_id)
            i = bisect.bisect(self.buy_keys, key)
            self.buy_keys.insert(i, key)
            self.buys.insert(i, o)
        else:
            key = (o.price, o.order_id)
            i = bisect.bisect(self.sell_keys, key)
            self.sell_keys.insert(i, key)
            self.sells.insert(i, o)

    def remove(self, o: Order) -> None:
        keys, orders = (self.buy_keys, self.buys) if o.side is Side.BUY else (self.sell_keys, self.sells)
        key = (-o.price, o.order_id) if o.side is Side.BUY else (o.price, o.order_id)
        i = bisect.bisect_left(keys, key)
        if i < len(keys) and keys[i] == key:
            del keys[i]
            del orders[i]


class Engine:
    """All accounts, orders and positions of the simulated venue."""

    def __init__(
        self,
        markets: dict[str, SymbolRules],
        prices: dict[str, int],
        spot_fees: Fees,
        futures_fees: Fees,
        default_leverage: int = 20,
        max_open_orders: int = 200,
    ) -> None:
        self.rules = markets
        self.last: dict[str, int] = dict(prices)  # last traded price (ticks) per symbol
        self.fees = {SPOT: spot_fees, USDM: futures_fees}
        self.default_leverage = default_leverage
        self.max_open_orders = max_open_orders
        self.accounts: dict[str, Account] = {}
        self.orders: dict[tuple[str, int], Order] = {}
        self._by_client: dict[tuple[str, str, str, str], Order] = {}  # (venue, account, symbol, cid)
        self._open: dict[tuple[str, str, str], dict[int, Order]] = {}  # (venue, account, symbol)
        self._books: dict[tuple[str, str], _Book] = {}
        self.next_order_id = 1
        self.next_trade_ids: dict[str, int] = dict.fromkeys(markets, 1)
        self._force_partial = False
        # symbol -> status; anything but TRADING refuses new orders and stops fills, cancels still work
        self.symbol_status: dict[str, str] = {}
        self.recorder: Recorder | None = None  # hears every client call (see the module docstring)
        self._recording = False

    @property
    def force_partial(self) -> bool:
        """While True, a resting order's first fill takes only half of it (a fault to inject)."""
        return self._force_partial

    @force_partial.setter
    def force_partial(self, on: bool) -> None:
        self._force_partial = on
        if self.recorder is not None:
            self.recorder("force_partial", (on,), {})

    # --- accounts ----------------------------------------------------------------------------------

    @_recorded
    def add_account(self, api_key: str, api_secret: str, balances: dict[str, Decimal]) -> Account:
        """Create (or replace) an account with the same starting balances in spot and futures."""
        acct = Account(api_key, api_secret)
        for asset, amount in balances.items():
            acct.spot[asset] = [Decimal(amount), ZERO]
            acct.wallet[asset] = Decimal(amount)
        self.accounts[api_key] = acct
        return acct

    def account(self, api_key: str) -> Account:
        """The account of ``api_key`` (KeyError when unknown)."""
        return self.accounts[api_key]

    def next_trade_id(self, symbol: str) -> int:
        """A fresh trade id of ``symbol`` (market prints and user fills share the sequence)."""
        tid = self.next_trade_ids[symbol]
        self.next_trade_ids[symbol] = tid + 1
        return tid

    def bid_ask(self, symbol: str) -> tuple[int, int]:
        """The synthetic best bid and ask in ticks."""
        last = self.last[symbol]
        return last, last + 1

    # --- queries -----------------------------------------------------------------------------------

    def open_orders(self, venue: str, api_key: str, symbol: str | None = None) -> list[Order]:
        """Open orders of an account, oldest first."""
        out: list[Order] = []
        for (v, a, s), orders in self._open.items():
            if v == venue and a == api_key and (symbol is None or s == symbol):
                out.extend(orders.values())
        out.sort(key=lambda o: o.order_id)
        return out

    def find(
        self, venue: str, api_key: str, symbol: str, order_id: int | None, client_id: str | None
    ) -> Order:
        """An order by id or client id (the id wins; both given must agree); -2013 when unknown."""
        o: Order | None = None
        if order_id is not None:
            o = self.orders.get((venue, order_id))
            if o is not None and (o.account != api_key or o.symbol != symbol):
                o = None
            if o is not None and client_id is not None and o.client_id != client_id:
                o = None
        elif client_id is not None:
            o = self._by_client.get((venue, api_key, symbol, client_id))
        if o is None:
            raise BinanceError(-2013, "Order does not exist.")
        return o

    def position(self, api_key: str, symbol: str) -> Position:
        """The futures position (created flat on first use)."""
        return self.accounts[api_key].positions.setdefault(symbol, Position())

    def unrealized(self, pos: Position, symbol: str) -> Decimal:
        """Unrealized PnL of a position at the last price, in the quote asset."""
        if pos.amount == 0:
            return ZERO
        r = self.rules[symbol]
        return (r.tick_size * self.last[symbol] - pos.entry) * r.step_size * pos.amount

    def available_margin(self, api_key: str, asset: str) -> Decimal:
        """Futures wallet + unrealized PnL - position margin - open-order margin, in ``asset``."""
        acct = self.accounts[api_key]
        total = acct.wallet.get(asset, ZERO)
        for sym, pos in acct.positions.items():
            r = self.rules[sym]
            if r.quote_asset != asset or pos.amount == 0:
                continue
            total += self.unrealized(pos, sym)
            total -= abs(pos.amount) * r.step_size * pos.entry / self._leverage(acct, sym)
        for (v, a, s), orders in self._open.items():
            if v == USDM and a == api_key and self.rules[s].quote_asset == asset:
                total -= sum((o.margin for o in orders.values()), ZERO)
        return total

    def _leverage(self, acct: Account, symbol: str) -> int:
        return acct.leverage.get(symbol, self.default_leverage)

    # --- placing -----------------------------------------------------------------------------------

    @_recorded
    def place(
        self,
        venue: str,
        api_key: str,
        symbol: str,
        side: Side,
        type_: str,
        tif: str,
        price: int,
        qty: int,
        client_id: str,
        now_ms: int,
        reduce_only: bool = False,
        quote_qty: Decimal | None = None,
    ) -> tuple[Order, list[Event]]:
        """Validate and accept an order; it trades at once if it crosses. Raises :class:`BinanceError`."""
        rules = self.rules.get(symbol)
        if rules is None:
            raise BinanceError(-1121, "Invalid symbol.")
        if self.symbol_status.get(symbol, "TRADING") != "TRADING":
            if venue == SPOT:
                raise BinanceError(-2010, "Market is closed.")
            raise BinanceError(-1122, "Invalid symbol status.")
        acct = self.accounts[api_key]
        bid, ask = self.bid_ask(symbol)
        is_market = type_ == "MARKET"
        if is_market and quote_qty is not None:  # spot MARKET by quote amount: whole steps at the ask
            qty = int(quote_qty / (rules.tick_size * (ask if side is Side.BUY else bid) * rules.step_size))
        ref_price = price if not is_market else (ask if side is Side.BUY else bid)
        self._check_filters(venue, rules, ref_price, qty, is_market, reduce_only)
        key = (venue, api_key, symbol)
        open_here = self._open.get(key, {})
        if len(open_here) >= self.max_open_orders and not is_market:
            if venue == SPOT:
                raise BinanceError(-1013, "Filter failure: MAX_NUM_ORDERS")
            raise BinanceError(-2025, "Reach max open order limit.")
        if (venue, api_key, symbol, client_id) in self._by_client and self._by_client[
            (venue, api_key, symbol, client_id)
        ].is_open:
            if venue == SPOT:
                raise BinanceError(-2010, "Duplicate order sent.")
            raise BinanceError(-4116, "ClientOrderId is duplicated.")
        crosses = is_market or (price >= ask if side is Side.BUY else price <= bid)
        if crosses and (type_ == "LIMIT_MAKER" or tif == "GTX"):
            if venue == SPOT:
                raise BinanceError(-2010, "Order would immediately match and take.")
            raise BinanceError(
                -5022,
                "Due to the order could not be executed as maker, the Post Only order will be rejected.",
            )
        order = Order(
            venue,
            symbol,
            self._new_order_id(),
            client_id,
            api_key,
            side,
            type_,
            tif,
            price,
            qty,
            now_ms,
            now_ms,
            reduce_only,
        )
        if venue == SPOT:
            self._reserve_spot(acct, rules, order, ask if side is Side.BUY else bid)
        else:
            self._reserve_futures(acct, rules, order, ref_price)
        self.orders[(venue, order.order_id)] = order
        self._by_client[(venue, api_key, symbol, client_id)] = order
        events: list[Event] = [self._order_event(order, "NEW", now_ms)]
        if crosses:
            fill_price = ask if side is Side.BUY else bid
            events.append(self._fill(order, fill_price, qty, False, now_ms))
        elif tif in ("IOC", "FOK"):
            order.status = "EXPIRED"
            self._release(acct, order)
            events.append(self._order_event(order, "EXPIRED", now_ms))
        else:
            order.working = True
            self._open.setdefault(key, {})[order.order_id] = order
            self._books.setdefault((venue, symbol), _Book()).add(order)
        if venue == SPOT or crosses:  # futures push ACCOUNT_UPDATE only when a fill moved money
            events.append(self._balance_event(acct, venue, symbol, now_ms))
        if venue == USDM and crosses:
            events.extend(self._expire_stale_reduce_only(api_key, symbol, now_ms))
        return order, events

    def restore_order(self, o: Order) -> None:
        """Put back an order saved earlier (oldest first): indexed by id and client id, and on the
        book while it was resting."""
        self.orders[(o.venue, o.order_id)] = o
        self._by_client[(o.venue, o.account, o.symbol, o.client_id)] = o
        if o.working:
            self._open.setdefault((o.venue, o.account, o.symbol), {})[o.order_id] = o
            self._books.setdefault((o.venue, o.symbol), _Book()).add(o)

    def _new_order_id(self) -> int:
        oid = self.next_order_id
        self.next_order_id = oid + 1
        return oid

    def _check_filters(
        self, venue: str, r: SymbolRules, price: int, qty: int, is_market: bool, reduce_only: bool
    ) -> None:
        if venue == SPOT:
            failed = r.check(price, qty)  # MARKET orders: checked at the reference price
            if failed:
                raise BinanceError(-1013, f"Filter failure: {failed}")
            return
        p, q = r.tick_size * price, r.step_size * qty
        name = None
        if qty <= 0:
            name = "QTY_ZERO"
        elif r.min_qty > 0 and q < r.min_qty:
            name = "QTY_MIN"
        elif r.max_qty > 0 and q > r.max_qty:
            name = "QTY_MAX"
        elif not is_market and r.min_price > 0 and p < r.min_price:
            name = "PRICE_MIN"
        elif not is_market and r.max_price > 0 and p > r.max_price:
            name = "PRICE_MAX"
        if name:
            code, msg = _FUTURES_FILTER_ERRORS[name]
            raise BinanceError(code, msg)
        if not reduce_only and r.min_notional > 0 and p * q < r.min_notional:
            raise BinanceError(
                -4164,
                f"Order's notional must be no smaller than {r.min_notional.normalize()} "
                "(unless you choose reduce only).",
            )

    def _reserve_spot(self, acct: Account, r: SymbolRules, o: Order, fill_price: int) -> None:
        if o.side is Side.BUY:
            # a LIMIT reserves its own price (a crossing one gets the difference back on the fill),
            # a MARKET reserves the ask it is about to pay
            asset, amount = r.quote_asset, r.notional(o.price or fill_price, o.qty)
        else:
            asset, amount = r.base_asset, r.step_size * o.qty
        bal = acct.spot.setdefault(asset, [ZERO, ZERO])
        if bal[0] < amount:
            raise BinanceError(-2010, "Account has insufficient balance for requested action.")
        bal[0] -= amount
        bal[1] += amount
        o.locked = amount

    def _reserve_futures(self, acct: Account, r: SymbolRules, o: Order, ref_price: int) -> None:
        pos = acct.positions.get(o.symbol) or Position()
        sign = 1 if o.side is Side.BUY else -1
        if o.reduce_only:
            pending = sum(
                (
                    x.qty - x.filled
                    for x in self._open.get((USDM, acct.api_key, o.symbol), {}).values()
                    if x.reduce_only and x.side is o.side
                ),
                0,
            )
            if pos.amount * sign >= 0 or o.qty + pending > abs(pos.amount):
                raise BinanceError(-2022, "ReduceOnly Order is rejected.")
            return
        adding = o.qty if pos.amount * sign >= 0 else max(0, o.qty - abs(pos.amount))
        need = r.notional(ref_price, adding) / self._leverage(acct, o.symbol)
        if need > 0 and need > self.available_margin(acct.api_key, r.quote_asset):
            raise BinanceError(-2019, "Margin is insufficient.")
        o.margin = need

    # --- cancelling --------------------------------------------------------------------------------

    @_recorded
    def cancel(
        self,
        venue: str,
        api_key: str,
        symbol: str,
        order_id: int | None,
        client_id: str | None,
        now_ms: int,
        cancel_client_id: str = "",
    ) -> tuple[Order, list[Event]]:
        """Cancel one open order; -2011 "Unknown order sent." when it is unknown or already closed."""
        if symbol not in self.rules:
            raise BinanceError(-1121, "Invalid symbol.")
        try:
            o = self.find(venue, api_key, symbol, order_id, client_id)
        except BinanceError:
            raise BinanceError(-2011, "Unknown order sent.") from None
        if not o.is_open:
            raise BinanceError(-2011, "Unknown order sent.")
        acct = self.accounts[api_key]
        o.status = "CANCELED"
        o.update_ms = now_ms
        self._unrest(o)
        self._release(acct, o)
        events: list[Event] = [self._order_event(o, "CANCELED", now_ms, cancel_client_id=cancel_client_id)]
        if venue == SPOT:
            events.append(self._balance_event(acct, venue, symbol, now_ms))
        return o, events

    @_recorded
    def cancel_all(
        self, venue: str, api_key: str, symbol: str, now_ms: int
    ) -> tuple[list[Order], list[Event]]:
        """Cancel every open order of an account on one symbol."""
        if symbol not in self.rules:
            raise BinanceError(-1121, "Invalid symbol.")
        done: list[Order] = []
        events: list[Event] = []
        for o in self.open_orders(venue, api_key, symbol):
            _, ev = self.cancel(venue, api_key, symbol, o.order_id, None, now_ms)
            done.append(o)
            events.extend(ev)
        return done, events

    def _unrest(self, o: Order) -> None:
        if o.working:
            o.working = False
            self._open[(o.venue, o.account, o.symbol)].pop(o.order_id, None)
            self._books[(o.venue, o.symbol)].remove(o)

    def _release(self, acct: Account, o: Order) -> None:
        if o.venue == SPOT and o.locked:
            r = self.rules[o.symbol]
            bal = acct.spot[r.quote_asset if o.side is Side.BUY else r.base_asset]
            bal[0] += o.locked
            bal[1] -= o.locked
            o.locked = ZERO
        o.margin = ZERO

    # --- the market --------------------------------------------------------------------------------

    def on_trade(self, symbol: str, price: int, volume: int, now_ms: int) -> list[Event]:
        """The market traded ``volume`` steps at ``price``: fill the resting orders it went through."""
        self.last[symbol] = price
        events: list[Event] = []
        if self.symbol_status.get(symbol, "TRADING") != "TRADING":
            return events  # not trading: nothing matches
        for venue in (SPOT, USDM):
            book = self._books.get((venue, symbol))
            if book is None:
                continue
            for orders, through in ((book.buys, lambda p: p > price), (book.sells, lambda p: p < price)):
                avail = volume
                hit = []
                for o in orders:
                    if avail <= 0 or not through(o.price):
                        break
                    rem = o.qty - o.filled
                    take = min(rem, avail)
                    if self._force_partial and o.filled == 0 and rem > 1:
                        take = min(take, rem // 2)
                    avail -= take
                    hit.append((o, take))
                for o, take in hit:
                    if not o.is_open:  # expired by an earlier fill of this same print
                        continue
                    if o.reduce_only:  # the position may have shrunk since: never let it flip
                        take = min(take, self._reducible(o))
                        if take <= 0:
                            events.append(self._expire(o, now_ms))
                            continue
                    events.append(self._fill(o, o.price, take, True, now_ms))
                    events.append(self._balance_event(self.accounts[o.account], venue, symbol, now_ms))
                    if venue == USDM:
                        events.extend(self._expire_stale_reduce_only(o.account, symbol, now_ms))
        return events

    def _reducible(self, o: Order) -> int:
        """How much of a reduce-only order can still fill without increasing or flipping the position."""
        pos = self.accounts[o.account].positions.get(o.symbol) or Position()
        opposite = pos.amount < 0 if o.side is Side.BUY else pos.amount > 0
        return abs(pos.amount) if opposite else 0

    def _expire_stale_reduce_only(self, api_key: str, symbol: str, now_ms: int) -> list[Event]:
        """Expire the account's reduce-only orders that have nothing left to reduce."""
        return [
            self._expire(o, now_ms)
            for o in list(self._open.get((USDM, api_key, symbol), {}).values())
            if o.reduce_only and self._reducible(o) == 0
        ]

    def _expire(self, o: Order, now_ms: int) -> OrderEvent:
        """A reduce-only order with nothing left to reduce expires, as on Binance."""
        o.status = "EXPIRED"
        o.update_ms = now_ms
        self._unrest(o)
        self._release(self.accounts[o.account], o)
        return self._order_event(o, "EXPIRED", now_ms)

    def _fill(self, o: Order, price: int, qty: int, maker: bool, now_ms: int) -> OrderEvent:
        acct = self.accounts[o.account]
        r = self.rules[o.symbol]
        fees = self.fees[o.venue]
        rate = fees.maker if maker else fees.taker
        quote = r.notional(price, qty)
        base = r.step_size * qty
        realized = ZERO
        if o.venue == SPOT:
            if o.side is Side.BUY:
                fee_asset, fee = r.base_asset, (base * rate).quantize(_FEE_Q, ROUND_UP)
                reserved = r.notional(o.price, qty) if o.price else quote
                q = acct.spot.setdefault(r.quote_asset, [ZERO, ZERO])
                q[1] -= reserved
                q[0] += reserved - quote  # a taker that paid less than its limit gets the rest back
                o.locked -= reserved
                b = acct.spot.setdefault(r.base_asset, [ZERO, ZERO])
                b[0] += base - fee
            else:
                fee_asset, fee = r.quote_asset, (quote * rate).quantize(_FEE_Q, ROUND_UP)
                b = acct.spot.setdefault(r.base_asset, [ZERO, ZERO])
                b[1] -= base
                o.locked -= base
                q = acct.spot.setdefault(r.quote_asset, [ZERO, ZERO])
                q[0] += quote - fee
        else:
            fee_asset, fee = r.quote_asset, (quote * rate).quantize(_FEE_Q, ROUND_UP)
            realized = self._apply_position(acct, o.symbol, r, o.side, price, qty)
            acct.wallet[fee_asset] = acct.wallet.get(fee_asset, ZERO) + realized - fee
            rem = o.qty - o.filled
            if o.margin:
                o.margin -= o.margin * qty / rem
        o.filled += qty
        o.quote += quote
        o.update_ms = now_ms
        o.status = "FILLED" if o.filled >= o.qty else "PARTIALLY_FILLED"
        trade = Trade(
            o.venue,
            o.symbol,
            self.next_trade_id(o.symbol),
            o.order_id,
            o.account,
            o.side,
            price,
            qty,
            quote,
            fee,
            fee_asset,
            maker,
            now_ms,
            realized,
        )
        acct.trades.append(trade)
        if o.status == "FILLED":
            self._unrest(o)
            self._release(acct, o)
        return self._order_event(o, "TRADE", now_ms, trade)

    def _apply_position(
        self, acct: Account, symbol: str, r: SymbolRules, side: Side, price: int, qty: int
    ) -> Decimal:
        pos = acct.positions.setdefault(symbol, Position())
        signed = qty if side is Side.BUY else -qty
        fill_px = r.tick_size * price
        realized = ZERO
        if pos.amount == 0 or (pos.amount > 0) == (signed > 0):
            total = abs(pos.amount) + qty
            pos.entry = ((pos.entry * abs(pos.amount) + fill_px * qty) / total).quantize(_FEE_Q)
            pos.amount += signed
            return realized
        closing = min(qty, abs(pos.amount))
        direction = 1 if pos.amount > 0 else -1
        realized = (fill_px - pos.entry) * r.step_size * closing * direction
        pos.realized += realized
        pos.amount += signed
        if pos.amount == 0:
            pos.entry = ZERO
        elif (pos.amount > 0) != (direction > 0):  # flipped: the rest opened at the fill price
            pos.entry = fill_px
        return realized

    # --- futures settings --------------------------------------------------------------------------

    @_recorded
    def set_leverage(self, api_key: str, symbol: str, leverage: int) -> None:
        """Change a symbol's leverage (1..125); -4028 otherwise."""
        if symbol not in self.rules:
            raise BinanceError(-1121, "Invalid symbol.")
        if not 1 <= leverage <= 125:
            raise BinanceError(-4028, f"Leverage {leverage} is not valid")
        self.accounts[api_key].leverage[symbol] = leverage

    def leverage_of(self, api_key: str, symbol: str) -> int:
        """The account's leverage on ``symbol``."""
        return self._leverage(self.accounts[api_key], symbol)

    @_recorded
    def set_margin_type(self, api_key: str, symbol: str, margin_type: str) -> None:
        """CROSSED or ISOLATED; -4046 when unchanged, -4047/-4048 with open orders or a position."""
        if symbol not in self.rules:
            raise BinanceError(-1121, "Invalid symbol.")
        if margin_type not in ("CROSSED", "ISOLATED"):
            raise BinanceError(
                -1102, "Mandatory parameter 'marginType' was not sent, was empty/null, or malformed."
            )
        acct = self.accounts[api_key]
        if acct.margin_type.get(symbol, "CROSSED") == margin_type:
            raise BinanceError(-4046, "No need to change margin type.")
        if self.open_orders(USDM, api_key, symbol):
            raise BinanceError(-4047, "Margin type cannot be changed if there exists open orders.")
        if acct.positions.get(symbol, Position()).amount:
            raise BinanceError(-4048, "Margin type cannot be changed if there exists position.")
        acct.margin_type[symbol] = margin_type

    # --- events ------------------------------------------------------------------------------------

    @staticmethod
    def _order_event(
        o: Order, exec_type: str, now_ms: int, trade: Trade | None = None, cancel_client_id: str = ""
    ) -> OrderEvent:
        return OrderEvent(
            o.account, o.venue, o, exec_type, o.status, o.filled, o.quote, now_ms, trade, cancel_client_id
        )

    def _balance_event(self, acct: Account, venue: str, symbol: str, now_ms: int) -> BalanceEvent:
        r = self.rules[symbol]
        if venue == SPOT:
            assets = []
            for a in (r.base_asset, r.quote_asset):
                free, locked = acct.spot.get(a, [ZERO, ZERO])
                assets.append((a, free, locked))
            return BalanceEvent(acct.api_key, venue, now_ms, tuple(assets))
        pos = acct.positions.get(symbol, Position())
        view = PositionView(
            symbol,
            pos.amount,
            pos.entry,
            pos.realized,
            self.unrealized(pos, symbol),
            acct.margin_type.get(symbol, "CROSSED"),
        )
        wallet = acct.wallet.get(r.quote_asset, ZERO)
        return BalanceEvent(acct.api_key, venue, now_ms, ((r.quote_asset, wallet, wallet),), (view,))
