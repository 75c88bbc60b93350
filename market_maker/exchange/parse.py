"""Binance REST payloads -> core types (reference §A.5, §B.2-B.4).

Prices and quantities become ticks and steps through the symbol's :class:`SymbolRules`. An amount
that is off the lattice (an order placed before a tick-size change) is rounded to the nearest unit
rather than failing a whole open-orders list. A payload missing a field it must have raises
:class:`ExchangeError` naming the field.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation, localcontext
from fractions import Fraction
from typing import Any

from market_maker.core.model import Candle, Fill, OrderSnapshot, OrderStatus, Side
from market_maker.core.rules import RuleError, SymbolRules
from market_maker.exchange.errors import ConfigError, ExchangeError
from market_maker.exchange.types import Balance, Position

# Binance amounts fit a signed 64-bit integer at 8 decimals (< 1e11); anything near 1e20 is garbage
MAX_EXPONENT = 20

_STATUS = {
    "NEW": OrderStatus.NEW,
    "PENDING_NEW": OrderStatus.NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "PENDING_CANCEL": OrderStatus.PARTIALLY_FILLED,  # unused by Binance; still able to trade
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
    "REJECTED": OrderStatus.REJECTED,
}


def field(obj: dict[str, Any], key: str, what: str) -> Any:
    """``obj[key]`` or a clear error naming the field and the payload kind."""
    try:
        return obj[key]
    except (KeyError, TypeError):
        raise ExchangeError(f"malformed {what}: field {key!r} missing") from None


def dec(value: Any, what: str) -> Decimal:
    """A Binance decimal string (or number) as Decimal; NaN and infinities are not numbers here."""
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        d = Decimal("NaN")
    if not d.is_finite() or isinstance(value, bool):
        raise ExchangeError(f"malformed {what}: {value!r:.80} is not a number")
    if d and d.adjusted() > MAX_EXPONENT:
        raise ExchangeError(f"malformed {what}: {value!r:.80} is out of range")
    return d


def to_ticks(rules: SymbolRules, price: Any, what: str = "price") -> int:
    """Price -> ticks, exact when on tick, else nearest (see module doc)."""
    p = dec(price, what)
    try:
        return rules.price_to_ticks(p)
    except RuleError:
        return int((p / rules.tick_size).to_integral_value(rounding=ROUND_HALF_EVEN))


def to_steps(rules: SymbolRules, qty: Any, what: str = "quantity") -> int:
    """Quantity -> steps, exact when on step, else nearest (see module doc)."""
    q = dec(qty, what)
    try:
        return rules.qty_to_steps(q)
    except RuleError:
        return int((q / rules.step_size).to_integral_value(rounding=ROUND_HALF_EVEN))


def lattice_digits(unit: Decimal) -> int | None:
    """The decimals of a lattice unit that is a power of ten (0.01 -> 2, 1 -> 0); None for any other unit
    (0.5, 10): amounts on such a lattice cannot be read digit by digit."""
    _, digits, exponent = unit.normalize().as_tuple()
    return -exponent if digits == (1,) and isinstance(exponent, int) and exponent <= 0 else None


def units_from_text(value: Any, digits: int) -> int | None:
    """A plain decimal string (Binance's ``"100000.01000000"``) as whole units of ``10**-digits``, exact,
    without building a Decimal; None for anything else (off the lattice, a sign, an exponent, not a
    string, very large), which the caller reads the slow, fully checked way (:func:`dec`)."""
    if type(value) is not str:
        return None
    whole, _, frac = value.partition(".")
    short = digits - len(frac)
    if short < 0:
        if frac[digits:].strip("0"):
            return None  # off the lattice, or not digits
        text = whole + frac[:digits]
    else:
        text = whole + frac + "0" * short if short else whole + frac
    if 0 < len(whole) <= 18 and text.isdigit() and text.isascii():
        return int(text)
    return None


def units_below(bound: Decimal, unit: Decimal) -> int:
    """The largest whole number of ``unit`` that does not exceed ``bound`` (both positive), exact."""
    return int(Fraction(bound) // Fraction(unit))


def order_status(raw: Any) -> OrderStatus:
    """Binance's order status -> :class:`OrderStatus` (PENDING_NEW is NEW, EXPIRED_IN_MATCH EXPIRED)."""
    try:
        return _STATUS[str(raw)]
    except KeyError:
        raise ExchangeError(f"unknown order status {raw!r}") from None


def side(raw: Any) -> Side:
    """BUY / SELL."""
    try:
        return Side(str(raw))
    except ValueError:
        raise ExchangeError(f"unknown order side {raw!r}") from None


# --- exchangeInfo --------------------------------------------------------------------------------------


def symbol_info(info: dict[str, Any], symbol: str) -> dict[str, Any]:
    """The symbol's entry of an exchangeInfo answer; :class:`ConfigError` when it is not listed."""
    for item in info.get("symbols", []):
        if item.get("symbol") == symbol:
            return dict(item)
    raise ConfigError(f"symbol {symbol} is not listed in exchangeInfo", code=-1121)


def rules_from_exchange_info(info: dict[str, Any], symbol: str) -> SymbolRules:
    """The symbol's filters as :class:`SymbolRules`, from a spot or a USD-M exchangeInfo answer.

    Spot minimum notional lives in ``NOTIONAL.minNotional`` (or legacy ``MIN_NOTIONAL.minNotional``);
    futures spell it ``MIN_NOTIONAL.notional`` (reference §B.2).
    """
    item = symbol_info(info, symbol)
    filters = {f.get("filterType"): f for f in item.get("filters", [])}
    what = f"exchangeInfo filters of {symbol}"
    price_f = filters.get("PRICE_FILTER")
    lot_f = filters.get("LOT_SIZE")
    if price_f is None or lot_f is None:
        raise ExchangeError(f"malformed {what}: PRICE_FILTER and LOT_SIZE are required")
    min_notional = Decimal(0)
    max_notional = Decimal(0)
    if "NOTIONAL" in filters:
        min_notional = dec(filters["NOTIONAL"].get("minNotional", "0"), what)
        max_notional = dec(filters["NOTIONAL"].get("maxNotional", "0"), what)
    elif "MIN_NOTIONAL" in filters:
        f = filters["MIN_NOTIONAL"]
        min_notional = dec(f.get("notional", f.get("minNotional", "0")), what)
    try:
        return SymbolRules(
            symbol=symbol,
            base_asset=str(field(item, "baseAsset", what)),
            quote_asset=str(field(item, "quoteAsset", what)),
            tick_size=dec(field(price_f, "tickSize", what), what),
            step_size=dec(field(lot_f, "stepSize", what), what),
            min_price=dec(price_f.get("minPrice", "0"), what),
            max_price=dec(price_f.get("maxPrice", "0"), what),
            min_qty=dec(lot_f.get("minQty", "0"), what),
            max_qty=dec(lot_f.get("maxQty", "0"), what),
            min_notional=min_notional,
            max_notional=max_notional,
        )
    except RuleError as exc:
        raise ExchangeError(f"malformed {what}: {exc}") from None


# --- orders and trades ---------------------------------------------------------------------------------


def average_price(quote: Decimal, qty: Decimal) -> Decimal:
    """The average price of ``qty`` base bought or sold for ``quote``: exact whenever the quotient has at
    most 34 digits (always, for fills on a tick lattice at one price), 0 when nothing executed."""
    if qty == 0:
        return Decimal(0)
    with localcontext(Context(prec=34)):  # normalize() rounds to the context's precision too
        avg = quote / qty
        return avg.quantize(Decimal(1)) if avg == avg.to_integral_value() else avg.normalize()


def avg_price(o: dict[str, Any], avg_key: str, quote_key: str, qty_key: str, what: str) -> Decimal | None:
    """An order's average execution price: USD-M states it (``avg_key``), spot gives the cumulative quote
    quantity (``quote_key``) to divide by the executed quantity; None when the payload has neither."""
    if avg_key in o:
        avg = dec(o[avg_key], what)
    elif quote_key in o:
        avg = average_price(dec(o[quote_key], what), dec(o.get(qty_key, "0"), what))
    else:
        return None
    if avg < 0:
        raise ExchangeError(f"malformed {what}: a negative average price ({avg_key} or {quote_key})")
    return avg


def order_from_rest(o: dict[str, Any], rules: SymbolRules) -> OrderSnapshot:
    """An order object (place/query/open-orders/cancel answers of either market) as a snapshot.

    On a spot cancel answer ``clientOrderId`` is the *cancel's* id and ``origClientOrderId`` the
    order's own; the snapshot always carries the order's own id.
    """
    what = "order"
    client_id = o.get("origClientOrderId") or field(o, "clientOrderId", what)
    time_ms = o.get("updateTime") or o.get("transactTime") or o.get("time") or 0
    return OrderSnapshot(
        client_id=str(client_id),
        order_id=int(field(o, "orderId", what)),
        side=side(field(o, "side", what)),
        price=to_ticks(rules, o.get("price", "0")),
        orig_qty=to_steps(rules, o.get("origQty", "0")),
        executed_qty=to_steps(rules, o.get("executedQty", "0")),
        status=order_status(o.get("status", "NEW")),
        time_ms=int(time_ms),
        avg_price=avg_price(o, "avgPrice", "cummulativeQuoteQty", "executedQty", what),
    )


def fills_from_rest_trades(
    trades: list[dict[str, Any]], rules: SymbolRules, client_ids: dict[int, str]
) -> list[Fill]:
    """myTrades / userTrades rows -> fills, sorted by trade id.

    ``cum_qty`` is the running total per order over ``trades``, so pass *all* of an order's trades
    (the connector fetches them by orderId). ``client_ids`` maps orderId -> client order id, which
    the trade rows do not carry.
    """
    out: list[Fill] = []
    cum: dict[int, int] = {}
    for t in sorted(trades, key=lambda t: int(field(t, "id", "trade"))):
        order_id = int(field(t, "orderId", "trade"))
        qty = to_steps(rules, field(t, "qty", "trade"))
        cum[order_id] = cum.get(order_id, 0) + qty
        if "isBuyer" in t:
            trade_side = Side.BUY if t["isBuyer"] else Side.SELL
        else:
            trade_side = side(t.get("side") or ("BUY" if t.get("buyer") else "SELL"))
        is_maker = t["isMaker"] if "isMaker" in t else t.get("maker", False)
        out.append(
            Fill(
                trade_id=int(t["id"]),
                client_id=client_ids.get(order_id, ""),
                side=trade_side,
                price=to_ticks(rules, field(t, "price", "trade")),
                qty=qty,
                cum_qty=cum[order_id],
                fee=dec(t.get("commission", "0"), "trade commission"),
                fee_asset=str(t.get("commissionAsset") or ""),
                time_ms=int(t.get("time", 0)),
                is_maker=bool(is_maker),
                order_id=order_id,
            )
        )
    return out


def candle_from_kline(row: list[Any], rules: SymbolRules, now_ms: int) -> Candle:
    """A REST kline row (12-element array) as a candle; closed once its close time has passed."""
    if not isinstance(row, list) or len(row) < 7:
        raise ExchangeError(f"malformed kline row {row!r}")
    close_time = int(row[6])
    return Candle(
        open_time_ms=int(row[0]),
        open=to_ticks(rules, row[1]),
        high=to_ticks(rules, row[2]),
        low=to_ticks(rules, row[3]),
        close=to_ticks(rules, row[4]),
        volume=to_steps(rules, row[5]),
        close_time_ms=close_time,
        closed=close_time < now_ms,
    )


# --- account -------------------------------------------------------------------------------------------


def balances_from_spot_account(acct: dict[str, Any]) -> dict[str, Balance]:
    """GET /api/v3/account -> {asset: Balance}."""
    out: dict[str, Balance] = {}
    for b in field(acct, "balances", "account"):
        asset = str(field(b, "asset", "balance"))
        out[asset] = Balance(asset, dec(b.get("free", "0"), "balance"), dec(b.get("locked", "0"), "balance"))
    return out


def balances_from_futures(rows: list[dict[str, Any]]) -> dict[str, Balance]:
    """GET /fapi/v2/balance -> {asset: Balance}: free = availableBalance, locked = the rest of the wallet."""
    out: dict[str, Balance] = {}
    for r in rows:
        asset = str(field(r, "asset", "futures balance"))
        wallet = dec(r.get("balance", "0"), "futures balance")
        free = dec(r.get("availableBalance", wallet), "futures balance")
        out[asset] = Balance(asset, free, wallet - free)
    return out


def position_from_futures(rows: list[dict[str, Any]], symbol: str) -> Position:
    """GET /fapi/v2/positionRisk -> the symbol's net position (LONG and SHORT rows summed in hedge mode)."""
    mine = [r for r in rows if r.get("symbol") == symbol]
    if not mine:
        return Position(symbol, Decimal(0))
    qty = sum((dec(r.get("positionAmt", "0"), "position") for r in mine), Decimal(0))
    upnl = sum((dec(r.get("unRealizedProfit", "0"), "position") for r in mine), Decimal(0))
    main = next((r for r in mine if dec(r.get("positionAmt", "0"), "position") != 0), mine[0])
    leverage = main.get("leverage", 0)
    return Position(
        symbol=symbol,
        qty=qty,
        entry_price=dec(main.get("entryPrice", "0"), "position"),
        unrealized_pnl=upnl,
        leverage=int(leverage) if str(leverage).isdigit() else 0,
        margin_type=str(main.get("marginType", "")).lower(),
    )
