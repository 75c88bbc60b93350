"""The simulated venue's state as JSON-ready values, and back: accounts, balances, positions, every
order and trade with its id, the id counters, the last prices, the price paths (position and random
state) and the candles.

Decimals travel as their exact strings, sides as Binance spells them, prices and quantities as the
engine's integer ticks and steps. :func:`encode_args` / :func:`decode_args` do the same for the
arguments of one recorded engine call (see ``market_maker.sim.state_file``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import fields
from decimal import Decimal
from operator import attrgetter
from typing import Any

from market_maker.core.model import Side
from market_maker.sim.candles import CandleBook
from market_maker.sim.engine import Account, Engine, Order, Position, Trade
from market_maker.sim.paths import KlineReplay, RandomWalk


class _Rows:
    """A dataclass's instances as lists of JSON-ready values and back, field by field in declaration
    order (so a field added to the class is saved too); decimals as text, sides by name."""

    def __init__(self, cls: type[Any]) -> None:
        names = tuple(f.name for f in fields(cls))
        self._cls = cls
        self._get = attrgetter(*names)
        self._decimals = tuple(i for i, n in enumerate(names) if n in _DECIMAL_FIELDS)
        self._sides = tuple(i for i, n in enumerate(names) if n == "side")

    def out(self, obj: Any) -> list[Any]:
        row = list(self._get(obj))
        for i in self._decimals:
            row[i] = str(row[i])
        return row  # a side is a StrEnum, a str: JSON writes its name (``.value`` costs ~10 us here)

    def into(self, row: list[Any]) -> Any:
        values = list(row)
        for i in self._decimals:
            values[i] = Decimal(values[i])
        for i in self._sides:
            values[i] = Side(values[i])
        return self._cls(*values)


_DECIMAL_FIELDS = frozenset({"quote", "locked", "margin", "fee", "realized"})
_ORDERS = _Rows(Order)
_TRADES = _Rows(Trade)


def _account(a: Account) -> dict[str, Any]:
    return {
        "api_key": a.api_key,
        "api_secret": a.api_secret,
        "spot": {asset: [str(f), str(lk)] for asset, (f, lk) in a.spot.items()},
        "wallet": {asset: str(w) for asset, w in a.wallet.items()},
        "positions": {s: [p.amount, str(p.entry), str(p.realized)] for s, p in a.positions.items()},
        "leverage": dict(a.leverage),
        "margin_type": dict(a.margin_type),
        "trades": [_TRADES.out(t) for t in a.trades],
    }


def _restore_account(d: dict[str, Any]) -> Account:
    return Account(
        d["api_key"],
        d["api_secret"],
        spot={asset: [Decimal(f), Decimal(lk)] for asset, (f, lk) in d["spot"].items()},
        wallet={asset: Decimal(w) for asset, w in d["wallet"].items()},
        positions={s: Position(amt, Decimal(e), Decimal(r)) for s, (amt, e, r) in d["positions"].items()},
        leverage={s: int(x) for s, x in d["leverage"].items()},
        margin_type=dict(d["margin_type"]),
        trades=[_TRADES.into(row) for row in d["trades"]],
    )


def engine_state(e: Engine) -> dict[str, Any]:
    """Everything the engine holds, as JSON-ready values."""
    return {
        "last": dict(e.last),
        "next_order_id": e.next_order_id,
        "next_trade_ids": dict(e.next_trade_ids),
        "force_partial": e.force_partial,
        "accounts": [_account(a) for a in e.accounts.values()],
        "orders": [_ORDERS.out(o) for o in sorted(e.orders.values(), key=lambda o: o.order_id)],
    }


def restore_engine(e: Engine, d: dict[str, Any]) -> None:
    """Put the state :func:`engine_state` saved into ``e`` (built from the same configuration)."""
    e.last.update({s: int(p) for s, p in d["last"].items() if s in e.rules})
    e.next_order_id = int(d["next_order_id"])
    e.next_trade_ids.update({s: int(n) for s, n in d["next_trade_ids"].items() if s in e.rules})
    e.force_partial = bool(d["force_partial"])
    e.accounts = {a["api_key"]: _restore_account(a) for a in d["accounts"]}
    e.orders.clear()
    for row in d["orders"]:  # oldest first: a client id reused later points at its newest order
        e.restore_order(_ORDERS.into(row))


def path_state(path: RandomWalk | KlineReplay) -> dict[str, Any]:
    """Where a price path stands: price, market time, and the walk's regime and random state."""
    if isinstance(path, KlineReplay):
        return {"kind": "replay", "next": path.position, "time_ms": path.time_ms, "price": path.price}
    version, internal, gauss_next = path.rng_state()
    return {
        "kind": "walk",
        "price": path.price,
        "time_ms": path.time_ms,
        "volatile": path.volatile,
        "rng": [version, list(internal), gauss_next],
    }


def restore_path(path: RandomWalk | KlineReplay, d: dict[str, Any]) -> None:
    """Move ``path`` to where :func:`path_state` saw it (a path of the other kind is left alone)."""
    path.price = int(d["price"])
    path.time_ms = int(d["time_ms"])
    if isinstance(path, KlineReplay) and d["kind"] == "replay":
        path.position = int(d["next"])
    elif isinstance(path, RandomWalk) and d["kind"] == "walk":
        path.volatile = bool(d["volatile"])
        version, internal, gauss_next = d["rng"]
        path.set_rng_state((int(version), tuple(int(x) for x in internal), gauss_next))


def candles_state(book: CandleBook) -> dict[str, list[list[int]]]:
    """The candles kept (1 s and 1 m rows)."""
    return {"1s": [list(r) for r in book.rows_1s], "1m": [list(r) for r in book.rows_1m]}


def restore_candles(book: CandleBook, d: dict[str, list[list[int]]]) -> None:
    """Replace ``book``'s candles with the saved ones."""
    book.rows_1s = deque(d["1s"], maxlen=book.rows_1s.maxlen)
    book.rows_1m = deque(d["1m"], maxlen=book.rows_1m.maxlen)


def encode_args(args: Any) -> Any:
    """One engine call's arguments as JSON-ready values: Decimal -> {"$d": text}, Side -> {"$s": name}."""
    t = type(args)
    if t is str or t is int or t is bool or args is None:  # the common case first: this is the hot path
        return args
    if t is tuple or t is list:
        return [encode_args(x) for x in args]
    if isinstance(args, Side):
        return {"$s": args.value}
    if isinstance(args, Decimal):
        return {"$d": str(args)}
    if isinstance(args, dict):
        return {k: encode_args(x) for k, x in args.items()}
    return args


def decode_args(data: Any) -> Any:
    """The inverse of :func:`encode_args` (tuples come back as lists)."""
    if isinstance(data, dict):
        if len(data) == 1 and "$s" in data:
            return Side(data["$s"])
        if len(data) == 1 and "$d" in data:
            return Decimal(data["$d"])
        return {k: decode_args(x) for k, x in data.items()}
    if isinstance(data, list):
        return [decode_args(x) for x in data]
    return data
