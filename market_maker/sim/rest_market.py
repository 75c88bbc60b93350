"""Market statistics over REST, spot and USD-M: 24-hour tickers, the 5-minute average price and
aggregate trades, computed from the candles and the tape (see ``tape.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from market_maker.core.rules import SymbolRules
from market_maker.sim import book, wire
from market_maker.sim.engine import SPOT, USDM
from market_maker.sim.market_data import formats
from market_maker.sim.rest import NONE, Params, Route, err, int_param, symbol_rules
from market_maker.sim.rest_spot import symbols_param
from market_maker.sim.venue import Venue

_DAY_MINUTES = 1440
_Q8 = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class DayStats:
    """A symbol's last 24 hours of market time (ticks and steps)."""

    open_ms: int
    close_ms: int
    prev_close: int
    open: int
    high: int
    low: int
    last: int
    last_qty: int
    volume: int
    quote: Decimal
    first_id: int
    last_id: int
    count: int


def day_stats(v: Venue, r: SymbolRules, now_ms: int) -> DayStats:
    """The rolling 24-hour window ending at the latest print."""
    rows = v.candles[r.symbol].klines("1m", None, None, _DAY_MINUTES + 1)
    prev = rows[0][4] if len(rows) > _DAY_MINUTES else None
    rows = rows[-_DAY_MINUTES:]
    last = v.engine.last[r.symbol]
    tape = v.hub.market.tapes[r.symbol]
    close_ms = tape.last.time_ms if tape.last else (rows[-1][0] + 59_999 if rows else now_ms)
    open_ms = close_ms - 86_400_000
    ids = tape.between(open_ms, close_ms)
    if not rows:
        return DayStats(open_ms, close_ms, last, last, last, last, last, 0, 0, Decimal(0), -1, -1, 0)
    return DayStats(
        open_ms=open_ms,
        close_ms=close_ms,
        prev_close=rows[0][1] if prev is None else prev,
        open=rows[0][1],
        high=max(row[2] for row in rows),
        low=min(row[3] for row in rows),
        last=last,
        last_qty=tape.last.qty if tape.last else 0,
        volume=sum(row[5] for row in rows),
        quote=r.tick_size * r.step_size * sum(row[6] for row in rows),
        first_id=ids[0].trade_id if ids else -1,
        last_id=ids[1].trade_id if ids else -1,
        count=sum(row[7] for row in rows),
    )


def ticker_row(v: Venue, r: SymbolRules, now_ms: int, futures: bool, mini: bool = False) -> dict[str, Any]:
    """One symbol's 24-hour ticker in spot (FULL or MINI) or USD-M shape, fields in Binance's order."""
    st = day_stats(v, r, now_ms)
    price, qty = formats(futures)
    money = wire.fd if futures else wire.f8
    last = {"lastPrice": price(r, st.last), "lastQty": qty(r, st.last_qty)}
    ohl = {"openPrice": price(r, st.open), "highPrice": price(r, st.high), "lowPrice": price(r, st.low)}
    tail = {
        "volume": qty(r, st.volume),
        "quoteVolume": money(st.quote),
        "openTime": st.open_ms,
        "closeTime": st.close_ms,
        "firstId": st.first_id,
        "lastId": st.last_id,
        "count": st.count,
    }
    if mini:
        return {"symbol": r.symbol, **ohl, "lastPrice": last["lastPrice"], **tail}
    base = r.step_size * st.volume
    change = r.tick_size * (st.last - st.open)
    pct = (change / (r.tick_size * st.open) * 100).quantize(Decimal("0.001")) if st.open else Decimal(0)
    vwap = (st.quote / base).quantize(_Q8) if base else r.tick_size * st.last
    head = {
        "symbol": r.symbol,
        "priceChange": money(change),
        "priceChangePercent": f"{pct:.3f}",
        "weightedAvgPrice": money(vwap),
    }
    if futures:
        return {**head, **last, **ohl, **tail}
    bid, ask = v.engine.bid_ask(r.symbol)
    touch = {
        "bidPrice": price(r, bid),
        "bidQty": qty(r, book.level_steps(bid)),
        "askPrice": price(r, ask),
        "askQty": qty(r, book.level_steps(ask)),
    }
    return {**head, "prevClosePrice": price(r, st.prev_close), **last, **touch, **ohl, **tail}


def _spot_24hr(v: Venue, key: str, p: Params, now: int) -> Any:
    kind = p.get("type") or "FULL"
    if kind not in ("FULL", "MINI"):
        raise err(-1100, "Illegal characters found in parameter 'type'; legal range is 'FULL, MINI'.")
    wanted = symbols_param(v, p)
    rows = [ticker_row(v, v.rules[s], now, False, kind == "MINI") for s in (wanted or list(v.rules))]
    return rows[0] if p.get("symbol") else rows


def _spot_24hr_weight(p: Params) -> int:
    if p.get("symbol"):
        return 2
    n = p.get("symbols", "").count(",") + 1 if p.get("symbols") else 0
    return 80 if n == 0 or n > 100 else 40 if n > 20 else 2


def _futures_24hr(v: Venue, key: str, p: Params, now: int) -> Any:
    if p.get("symbol"):
        return ticker_row(v, symbol_rules(v, p), now, True)
    return [ticker_row(v, r, now, True) for r in v.rules.values()]


def _avg_price(v: Venue, key: str, p: Params, now: int) -> Any:
    r = symbol_rules(v, p)
    rows = v.candles[r.symbol].klines("1m", None, None, 5)
    steps = sum(row[5] for row in rows)
    avg = (
        Decimal(sum(row[6] for row in rows)) / steps * r.tick_size
        if steps
        else r.tick_size * v.engine.last[r.symbol]
    )
    tape = v.hub.market.tapes[r.symbol]
    return {
        "mins": 5,
        "price": wire.f8(avg.quantize(_Q8)),
        "closeTime": tape.last.time_ms if tape.last else now,
    }


def agg_trades(v: Venue, p: Params, futures: bool) -> list[dict[str, Any]]:
    """GET aggTrades: by ``fromId``, by time (at most one hour apart), or the latest ``limit``."""
    r = symbol_rules(v, p)
    limit = int_param(p, "limit") or 500
    if not 1 <= limit <= 1000:
        raise err(-1130, "Invalid data sent for a parameter.")
    start, end = int_param(p, "startTime"), int_param(p, "endTime")
    if start is not None and end is not None and end - start > 3_600_000:
        raise err(-1127, "More than 1 hours between startTime and endTime.")
    prints = v.hub.market.tapes[r.symbol].select(int_param(p, "fromId"), start, end, limit)
    price, qty = formats(futures)
    out = []
    for t in prints:
        row: dict[str, Any] = {
            "a": t.agg_id,
            "p": price(r, t.price),
            "q": qty(r, t.qty),
            "f": t.trade_id,
            "l": t.trade_id,
            "T": t.time_ms,
            "m": t.buyer_maker,
        }
        if not futures:
            row["M"] = True
        out.append(row)
    return out


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/api/v3/ticker/24hr"): Route(SPOT, NONE, _spot_24hr_weight, _spot_24hr),
    ("GET", "/api/v3/avgPrice"): Route(SPOT, NONE, 2, _avg_price),
    ("GET", "/api/v3/aggTrades"): Route(SPOT, NONE, 4, lambda v, k, p, n: agg_trades(v, p, False)),
    ("GET", "/fapi/v1/ticker/24hr"): Route(USDM, NONE, lambda p: 1 if p.get("symbol") else 40, _futures_24hr),
    ("GET", "/fapi/v1/aggTrades"): Route(USDM, NONE, 20, lambda v, k, p, n: agg_trades(v, p, True)),
}
