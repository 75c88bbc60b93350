"""WebSocket payloads -> connector events (reference §A.6, §B.6, §C.2-C.4).

User data: spot ``executionReport`` and futures ``ORDER_TRADE_UPDATE`` become :class:`OrderUpdate`
(with a core :class:`Fill` on trades); spot ``outboundAccountPosition`` and futures ``ACCOUNT_UPDATE``
become :class:`BalanceUpdate` / :class:`PositionUpdate`. Events of other symbols are dropped.
Market data: ``bookTicker``, ``aggTrade``/``trade`` become :class:`Quote`, ``kline`` a :class:`CandleUpdate`.
Wrappers (``{"stream","data"}`` and the WS API's ``{"subscriptionId","event"}``) are removed first.

Frames come from outside: a field that is missing, of the wrong type, or not a finite number raises
:class:`MalformedEventError` naming the field and the event (one line, never a traceback); the
stream drops that event and, for user data, asks the bot to reconcile from REST (streams.py).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from market_maker.core.model import Candle, Fill, OrderSnapshot
from market_maker.core.rules import SymbolRules
from market_maker.exchange.errors import ExchangeError, MalformedEventError
from market_maker.exchange.parse import (
    avg_price,
    dec,
    field,
    lattice_digits,
    order_status,
    side,
    to_steps,
    to_ticks,
    units_below,
    units_from_text,
)
from market_maker.exchange.types import (
    Balance,
    BalanceUpdate,
    CandleUpdate,
    MarketEvent,
    OrderUpdate,
    Position,
    PositionUpdate,
    Quote,
    UserEvent,
)

# control events the stream layer acts on itself
CONTROL_EVENTS = frozenset({"serverShutdown", "listenKeyExpired", "eventStreamTerminated"})


def unwrap(msg: Any) -> Any:
    """The payload inside a combined-stream or WS-API subscription wrapper (or ``msg`` itself)."""
    if isinstance(msg, dict):
        if "data" in msg and "stream" in msg:
            return msg["data"]
        if "event" in msg and "subscriptionId" in msg:
            return msg["event"]
    return msg


# A combined-stream spot bookTicker frame as Binance (and the simulator) write it: compact, its fields in
# this order, plain digits. Only text that json.loads reads as exactly these fields matches, so taking the
# symbol, bid and ask straight from the text gives what decoding the JSON would, at a fraction of the
# cost on the tick path's cold code; any other frame (another shape, spacing, escapes) is decoded.
_BOOK_TICKER = re.compile(
    rb'\{"stream":"[a-z0-9]+@bookTicker","data":\{"u":(?:0|[1-9][0-9]*),"s":"([A-Z0-9]+)",'
    rb'"b":"([0-9.]+)","B":"[0-9.]+","a":"([0-9.]+)","A":"[0-9.]+"\}\}'
)


def book_ticker_texts(raw: str | bytes) -> tuple[str, str, str] | None:
    """Symbol, bid and ask of a spot bookTicker frame read from its text (see ``_BOOK_TICKER``); None for
    any other frame."""
    m = _BOOK_TICKER.fullmatch(raw) if type(raw) is bytes else None
    return None if m is None else (m[1].decode(), m[2].decode(), m[3].decode())


def _quick_book_ticker(symbol: str, tick_digits: int | None) -> re.Pattern[bytes] | None:
    """``_BOOK_TICKER`` narrowed to one symbol and to prices of 1 to 18 whole digits with at least the
    tick's decimals, only zeros after them (what :func:`units_from_text` reads digit by digit); None
    when the tick is not a positive power of ten or the symbol is not plain (the general path then)."""
    if tick_digits is None or tick_digits <= 0 or re.fullmatch("[A-Z0-9]+", symbol) is None:
        return None
    price = rb'"([0-9]{1,18})\.([0-9]{%d})0*"' % tick_digits
    return re.compile(
        rb'\{"stream":"[a-z0-9]+@bookTicker","data":\{"u":(?:0|[1-9][0-9]*),"s":"'
        + symbol.encode()
        + rb'","b":'
        + price
        + rb',"B":"[0-9.]+","a":'
        + price
        + rb',"A":"[0-9.]+"\}\}'
    )


def event_type(payload: Any) -> str:
    """The ``e`` field ("" when absent, e.g. spot bookTicker or a request's answer)."""
    return str(payload.get("e", "")) if isinstance(payload, dict) else ""


# --- user data ---------------------------------------------------------------------------------------


def parse_user_event(payload: dict[str, Any], rules: SymbolRules) -> list[UserEvent]:
    """Normalize one (unwrapped) user-data event; [] for events the bot does not use.

    Raises :class:`MalformedEventError` (naming the event, the field and the client id when it was
    read) for an event of a used kind that cannot be read.
    """
    kind = event_type(payload)
    try:
        return _user_event(kind, payload, rules)
    except MalformedEventError:
        raise
    except ExchangeError as exc:  # parse helpers name the field; add which event it was
        text = str(exc) if kind in str(exc) else f"malformed {kind}: {exc}"
        raise MalformedEventError(f"{text}{_which(payload)}", kind=kind, client_id=_cid(payload)) from None
    except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as exc:
        # a shape no helper foresaw (a list where an object belongs, ...): still one line
        raise MalformedEventError(
            f"malformed {kind}: {type(exc).__name__}: {exc!s:.120}{_which(payload)}",
            kind=kind,
            client_id=_cid(payload),
        ) from None


def _cid(payload: dict[str, Any]) -> str:
    inner = payload.get("o")
    o: dict[str, Any] = inner if isinstance(inner, dict) else payload
    c = o.get("C") or o.get("c")
    return c if isinstance(c, str) else ""


def _which(payload: dict[str, Any]) -> str:
    cid = _cid(payload)
    return f" (client id {cid[:40]!r})" if cid else ""


def _int(obj: dict[str, Any], key: str, what: str, default: int | None = None) -> int:
    """An integer field (a JSON integer or a string of digits); ``default`` when absent, if given."""
    v = obj.get(key) if default is not None else field(obj, key, what)
    if v is None and default is not None:
        return default
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, str) and v.isascii() and v.lstrip("-").isdigit() and len(v) < 40:
        return int(v)
    raise ExchangeError(f"malformed {what}: field {key!r} is {v!r:.60}, not an integer")


def _obj(obj: dict[str, Any], key: str, what: str) -> dict[str, Any]:
    v = field(obj, key, what)
    if not isinstance(v, dict):
        raise ExchangeError(f"malformed {what}: field {key!r} is {v!r:.60}, not an object")
    return v


def _objects(obj: dict[str, Any], key: str, what: str) -> list[dict[str, Any]]:
    """A list of objects (``[]`` when absent)."""
    v = obj.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
        raise ExchangeError(f"malformed {what}: field {key!r} is {v!r:.60}, not a list of objects")
    return v


def _amount(rules: SymbolRules, obj: dict[str, Any], key: str, what: str, *, steps: bool) -> int:
    """A non-negative price (ticks) or quantity (steps) field."""
    v = field(obj, key, what)
    n = to_steps(rules, v, what) if steps else to_ticks(rules, v, what)
    if n < 0:
        raise ExchangeError(f"malformed {what}: field {key!r} is {v!r:.60}, below zero")
    return n


def _user_event(kind: str, payload: dict[str, Any], rules: SymbolRules) -> list[UserEvent]:
    if kind == "executionReport":
        return [_execution_report(payload, rules)] if payload.get("s") == rules.symbol else []
    if kind == "ORDER_TRADE_UPDATE":
        o = _obj(payload, "o", kind)
        return [_futures_order_update(payload, o, rules)] if o.get("s") == rules.symbol else []
    if kind == "outboundAccountPosition":
        balances = tuple(
            Balance(str(field(b, "a", kind)), dec(b.get("f", "0"), kind), dec(b.get("l", "0"), kind))
            for b in _objects(payload, "B", kind)
        )
        return [BalanceUpdate(balances, _int(payload, "E", kind, 0))]
    if kind == "ACCOUNT_UPDATE":
        return _account_update(payload, rules)
    return []


def _execution_report(p: dict[str, Any], rules: SymbolRules) -> OrderUpdate:
    what = "executionReport"
    execution = str(field(p, "x", what))
    # On a cancel, "c" is the cancel request's id and "C" the order's own (reference §C.4).
    own_id = p.get("C") if execution == "CANCELED" and p.get("C") else field(p, "c", what)
    order, fill = _order_and_fill(p, str(own_id), execution, rules, what)
    reason = expiry_reason(p, "eR")
    return OrderUpdate(rules.symbol, execution, order, fill, _int(p, "E", what, 0), expiry_reason=reason)


def expiry_reason(o: dict[str, Any], key: str) -> str:
    """Why an order expired: Binance's reason (spot ``eR``, USD-M ``er``: INSUFFICIENT_LIQUIDITY,
    EXECUTION_RULE_PRICE_RANGE_EXCEEDED, ...), or ``STP`` when self-trade prevention expired it (status
    EXPIRED_IN_MATCH); "" when the order did not expire or no reason was given."""
    if o.get("X") == "EXPIRED_IN_MATCH":
        return "STP"
    raw = o.get(key)
    if o.get("X") != "EXPIRED" or not raw or raw == "NONE":
        return ""
    return str(raw)[:40]


def _futures_order_update(p: dict[str, Any], o: dict[str, Any], rules: SymbolRules) -> OrderUpdate:
    what = "ORDER_TRADE_UPDATE"
    execution = str(field(o, "x", what))
    order, fill = _order_and_fill(o, str(field(o, "c", what)), execution, rules, what)
    return OrderUpdate(
        rules.symbol,
        execution,
        order,
        fill,
        _int(p, "E", what, 0),
        reduce_only=bool(o.get("R", False)),
        realized_pnl=dec(o.get("rp", "0"), what),
        expiry_reason=expiry_reason(o, "er"),
    )


def _order_and_fill(
    o: dict[str, Any], client_id: str, execution: str, rules: SymbolRules, what: str
) -> tuple[OrderSnapshot, Fill | None]:
    """Spot executionReport and the futures ``o`` object share these one-letter fields."""
    order = OrderSnapshot(
        client_id=client_id,
        order_id=_int(o, "i", what),
        side=side(field(o, "S", what)),
        price=to_ticks(rules, o.get("p", "0"), what),
        orig_qty=to_steps(rules, o.get("q", "0"), what),
        executed_qty=to_steps(rules, o.get("z", "0"), what),
        status=order_status(field(o, "X", what)),
        time_ms=_int(o, "T", what, 0),
        avg_price=avg_price(o, "ap", "Z", "z", what),  # futures "ap", spot "Z" (cumulative quote)
    )
    if min(order.price, order.orig_qty, order.executed_qty) < 0:
        raise ExchangeError(f"malformed {what}: a negative price or quantity (p, q, z)")
    if execution != "TRADE":
        return order, None
    qty = _amount(rules, o, "l", what, steps=True)
    trade_id = _int(o, "t", what)
    if qty == 0 or trade_id < 0:
        raise ExchangeError(f"malformed {what}: a trade needs a quantity 'l' > 0 and a trade id 't' >= 0")
    fill = Fill(
        trade_id=trade_id,
        client_id=client_id,
        side=order.side,
        price=_amount(rules, o, "L", what, steps=False),
        qty=qty,
        cum_qty=order.executed_qty,
        fee=dec(o.get("n") or "0", what),  # futures omit "n" when there is no commission
        fee_asset=str(o.get("N") or ""),
        time_ms=order.time_ms,
        is_maker=bool(o.get("m", False)),
        order_id=order.order_id,
    )
    return order, fill


def _account_update(p: dict[str, Any], rules: SymbolRules) -> list[UserEvent]:
    what = "ACCOUNT_UPDATE"
    a = _obj(p, "a", what)
    when = _int(p, "E", what, 0)
    out: list[UserEvent] = []
    balances = []
    for b in _objects(a, "B", what):
        wallet = dec(b.get("wb", "0"), what)
        cross = dec(b.get("cw", wallet), what)
        balances.append(Balance(str(field(b, "a", what)), cross, wallet - cross))
    if balances:
        out.append(BalanceUpdate(tuple(balances), when, str(a.get("m", ""))))
    mine = [pos for pos in _objects(a, "P", what) if pos.get("s") == rules.symbol]
    if mine:
        qty = sum((dec(pos.get("pa", "0"), what) for pos in mine), Decimal(0))
        main = next((pos for pos in mine if dec(pos.get("pa", "0"), what) != 0), mine[0])
        position = Position(
            symbol=rules.symbol,
            qty=qty,
            entry_price=dec(main.get("ep", "0"), what),
            unrealized_pnl=sum((dec(pos.get("up", "0"), what) for pos in mine), Decimal(0)),
            margin_type=str(main.get("mt", "")).lower(),
        )
        out.append(PositionUpdate(position, when))
    return out


# --- market data ---------------------------------------------------------------------------------------


class MarketParser:
    """Market-stream messages of one symbol -> events (see :func:`parse_market_event`).

    Built once per stream: on a power-of-ten tick (and step) a price is read from its text straight into
    integer ticks, exactly, with no Decimal; anything else (off the lattice, odd text) takes the fully
    checked Decimal path, so the result and the errors are the same either way.
    """

    def __init__(self, rules: SymbolRules) -> None:
        self.rules = rules
        self._tick_digits = lattice_digits(rules.tick_size)
        self._step_digits = lattice_digits(rules.step_size)
        # a price above maxPrice is impossible: ticks * tick > max  <=>  ticks > floor(max / tick)
        self._max_ticks = units_below(rules.max_price, rules.tick_size) if rules.max_price > 0 else None
        # and one below minPrice (or zero: Binance's empty side of the book) is no price to trade at
        self._min_ticks = max(1, -units_below(-rules.min_price, rules.tick_size))
        self._quick = _quick_book_ticker(rules.symbol, self._tick_digits)

    def quick_quote(self, raw: str | bytes, received_ns: int = 0) -> Quote | None:
        """The quote of a spot bookTicker frame of this symbol in Binance's exact shape whose prices are
        plain, on the tick lattice and pass every check, read from the text straight into ticks by one
        match; None for any other frame, which :func:`book_ticker_texts` and :meth:`book_ticker` (or
        the JSON path) read as before, so the quotes, drops and reasons are the same either way."""
        quick = self._quick
        m = quick.fullmatch(raw) if quick is not None and type(raw) is bytes else None
        if m is None:
            return None
        # the pattern took every digit of the whole part and exactly the tick's decimals (only zeros
        # follow): the concatenation is the price in ticks, as units_from_text reads it
        bid, ask = int(m[1] + m[2]), int(m[3] + m[4])
        if bid < self._min_ticks or bid >= ask or (self._max_ticks is not None and ask > self._max_ticks):
            return None  # refused: the checked path says why
        return Quote(self.rules.symbol, bid, ask, 0, received_ns)

    def price(self, value: Any, what: str) -> int:
        """A market price in ticks; ExchangeError for one no trade could happen at.

        One corrupt frame must not become the bot's price: a negative or zero bid (zero is Binance's
        empty side of the book), one off the tick lattice, or one outside the symbol's PRICE_FILTER
        would cancel every working buy or send the strategy to impossible levels.
        """
        ticks = None if self._tick_digits is None else units_from_text(value, self._tick_digits)
        if ticks is None:
            exact = to_ticks(self.rules, value, what)
            if Decimal(exact) * self.rules.tick_size != dec(value, what):
                raise ExchangeError(
                    f"{what} {_cut(value)} for {self.rules.symbol} is off the tick {self.rules.tick_size}"
                )
            ticks = exact
        if ticks < self._min_ticks or (self._max_ticks is not None and ticks > self._max_ticks):
            raise ExchangeError(
                f"impossible {what} {_cut(value)} for {self.rules.symbol} (outside its price filter)"
            )
        return ticks

    def volume(self, value: Any, what: str) -> int:
        """A traded quantity in steps."""
        steps = None if self._step_digits is None else units_from_text(value, self._step_digits)
        return to_steps(self.rules, value, what) if steps is None else steps

    def parse(self, payload: Any, received_ns: int = 0) -> MarketEvent | None:
        """Normalize one (unwrapped) market-stream message; None for anything else. A quote carries
        ``received_ns``, when its frame came off the socket (tick-to-order latency starts there).

        Raises :class:`ExchangeError` (one line naming the field) for a frame that cannot be read or
        carries an impossible price: the stream drops it.
        """
        if not isinstance(payload, dict) or payload.get("s") not in (self.rules.symbol, None):
            return None
        kind = event_type(payload)
        try:
            return self._event(kind, payload, received_ns)
        except ExchangeError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as exc:
            what = kind or "market"
            raise ExchangeError(f"malformed {what} frame: {type(exc).__name__}: {exc!s:.120}") from None

    def book_ticker(self, symbol: str, bid: str, ask: str, received_ns: int = 0) -> Quote | None:
        """A spot bookTicker's quote from its fields' texts (:func:`book_ticker_texts`): what :meth:`parse`
        gives for the same frame, raising the same errors; None for another symbol."""
        if symbol != self.rules.symbol:
            return None
        try:
            b, a = self._bid_ask(bid, ask)
        except ExchangeError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as exc:
            raise ExchangeError(f"malformed market frame: {type(exc).__name__}: {exc!s:.120}") from None
        return Quote(symbol, b, a, 0, received_ns)

    def _bid_ask(self, bid: Any, ask: Any) -> tuple[int, int]:
        b, a = self.price(bid, "bid"), self.price(ask, "ask")
        if b >= a:  # a crossed (or locked) book would have traded: the frame is wrong
            raise ExchangeError(
                f"crossed bookTicker for {self.rules.symbol}: bid {_cut(bid)} >= ask {_cut(ask)}"
            )
        return b, a

    def _event(self, kind: str, payload: dict[str, Any], received_ns: int) -> MarketEvent | None:
        symbol = self.rules.symbol
        if kind == "bookTicker" or (not kind and "b" in payload and "a" in payload and "u" in payload):
            # spot bookTicker has no "e" and no "E" (reference §C.2); futures has both (§C.3)
            bid, ask = self._bid_ask(payload["b"], payload["a"])
            return Quote(symbol, bid, ask, _int(payload, "E", kind or "bookTicker", 0), received_ns)
        if kind in ("aggTrade", "trade"):
            price = self.price(field(payload, "p", kind), f"{kind} price")
            when = _int(payload, "T", kind, 0) or _int(payload, "E", kind, 0)
            return Quote(symbol, price, price, when, received_ns)
        if kind == "kline":
            k = _obj(payload, "k", kind)
            candle = Candle(
                open_time_ms=_int(k, "t", kind),
                open=self.price(field(k, "o", kind), "kline open"),
                high=self.price(field(k, "h", kind), "kline high"),
                low=self.price(field(k, "l", kind), "kline low"),
                close=self.price(field(k, "c", kind), "kline close"),
                volume=self.volume(k.get("v", "0"), kind),
                close_time_ms=_int(k, "T", kind, 0),
                closed=bool(k.get("x", False)),
            )
            lo, hi = sorted((candle.open, candle.close))
            if not candle.low <= lo <= hi <= candle.high:
                raise ExchangeError(
                    f"inconsistent kline for {symbol}: open {_cut(k['o'])} high {_cut(k['h'])}"
                    f" low {_cut(k['l'])} close {_cut(k['c'])}"
                )
            return CandleUpdate(symbol, str(k.get("i", "")), candle)
        return None


def _cut(value: Any) -> str:
    """A value from a frame for a log line: its repr, at most 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_market_event(payload: dict[str, Any], rules: SymbolRules) -> MarketEvent | None:
    """Normalize one (unwrapped) market-stream message; None for anything else.

    Raises :class:`ExchangeError` (one line naming the field) for a frame that cannot be read or
    carries an impossible price: the stream drops it. (A stream keeps one :class:`MarketParser`.)
    """
    return MarketParser(rules).parse(payload)
