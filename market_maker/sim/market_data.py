"""Market stream payloads: trades, aggregate trades, book tickers, depth (partial and diff), klines and
USD-M mark prices, in spot or USD-M shapes, built once per market print and shared by subscribers.

Spot streams write decimals with 8 places; USD-M streams at the symbol's tick and step, as Binance does.
"""

from __future__ import annotations

from typing import Any

from market_maker.core.rules import SymbolRules
from market_maker.sim import book, funding, wire
from market_maker.sim.candles import INTERVALS_MS, CandleBook, Row
from market_maker.sim.depth_diffs import DepthDiffs
from market_maker.sim.paths import PathPoint
from market_maker.sim.stream_names import diff_speed_ms, mark_price_speed_ms
from market_maker.sim.tape import Print, Tape


def spot_price(r: SymbolRules, ticks: int) -> str:
    """A spot price: 8 decimal places."""
    return wire.f8(r.tick_size * ticks)


def spot_qty(r: SymbolRules, steps: int) -> str:
    """A spot quantity: 8 decimal places."""
    return wire.f8(r.step_size * steps)


def formats(futures: bool) -> tuple[book.Fmt, book.Fmt]:
    """(price, quantity) formatters of one market."""
    return (wire.fp, wire.fq) if futures else (spot_price, spot_qty)


class MarketData:
    """Per-symbol market state the streams need beyond the engine: the tape, the diff-depth cursors,
    the last kline sent and when mark prices went out."""

    def __init__(
        self, rules: dict[str, SymbolRules], candles: dict[str, CandleBook], kline_push_ms: int
    ) -> None:
        self.rules = rules
        self.candles = candles
        self.kline_push_ms = kline_push_ms  # see SimConfig.kline_push_ms
        self.tapes = {s: Tape() for s in rules}
        self.diffs = DepthDiffs()
        self.update_id = 0  # one per market print, shared with REST depth's lastUpdateId
        self._last_kline: dict[tuple[str, str], Row] = {}
        self._kline_pushed: dict[tuple[str, str, bool], int] = {}  # market time of the last open update
        self._mark_pushed: dict[tuple[str, int], int] = {}

    def record(self, symbol: str, p: PathPoint, trade_id: int, bid: int) -> Print:
        """Account for one market print: the next update id and a tape entry."""
        self.update_id += 1
        return self.tapes[symbol].add(trade_id, p.price, p.volume, p.time_ms, p.price <= bid)

    def start_diff(self, symbol: str, kind: str, futures: bool, touch: tuple[int, int]) -> None:
        """A client subscribed to ``kind`` of ``symbol``: start its diff stream at the current book."""
        speed = diff_speed_ms(kind, futures)
        if speed is not None and symbol in self.rules:
            self.diffs.start(symbol, speed, touch, self.update_id)

    def payload(
        self, symbol: str, kind: str, fut: bool, p: PathPoint, pr: Print, bid: int, ask: int, now: int
    ) -> Any:
        """The message of stream ``<symbol>@<kind>`` for this print, or None when it has none now."""
        r = self.rules[symbol]
        price, qty = formats(fut)
        if kind == "trade":
            return {
                "e": "trade",
                "E": now,
                "s": symbol,
                "t": pr.trade_id,
                "p": price(r, pr.price),
                "q": qty(r, pr.qty),
                "T": pr.time_ms,
                "m": pr.buyer_maker,
                "M": True,
            }
        if kind == "aggTrade":
            out = {
                "e": "aggTrade",
                "E": now,
                "s": symbol,
                "a": pr.agg_id,
                "p": price(r, pr.price),
                "q": qty(r, pr.qty),
                "f": pr.trade_id,
                "l": pr.trade_id,
                "T": pr.time_ms,
                "m": pr.buyer_maker,
            }
            if fut:
                out["nq"] = out["q"]
            else:
                out["M"] = True
            return out
        if kind == "bookTicker":
            out = {
                "u": self.update_id,
                "s": symbol,
                "b": price(r, bid),
                "B": qty(r, book.level_steps(bid)),
                "a": price(r, ask),
                "A": qty(r, book.level_steps(ask)),
            }
            return {"e": "bookTicker", **out, "E": now, "T": p.time_ms} if fut else out
        if kind.startswith("depth"):
            return self._depth(symbol, r, kind, fut, p, bid, ask, now)
        if kind.startswith("kline_"):
            return self._kline(symbol, kind[6:], r, now, fut)
        speed = mark_price_speed_ms(kind)
        if speed is not None and fut:
            return self._mark(symbol, r, speed, p, now)
        return None

    def _depth(
        self, symbol: str, r: SymbolRules, kind: str, fut: bool, p: PathPoint, bid: int, ask: int, now: int
    ) -> Any:
        price, qty = formats(fut)
        speed = diff_speed_ms(kind, fut)
        if speed is not None:
            step = self.diffs.step(symbol, speed, (bid, ask), self.update_id, p.time_ms)
            if step is None:
                return None
            bids, asks = book.diff(r, step.before, step.after, price, qty)
            out = {"e": "depthUpdate", "E": now, "s": symbol, "U": step.first, "u": step.last}
            if fut:
                out.update(T=p.time_ms, pu=step.prev_last)
            return {**out, "b": bids, "a": asks}
        levels = int(kind[5:].split("@")[0])
        bids, asks = book.snapshot(r, bid, ask, levels, price, qty)
        if fut:
            return {
                "e": "depthUpdate",
                "E": now,
                "T": p.time_ms,
                "s": symbol,
                "U": self.update_id,
                "u": self.update_id,
                "pu": self.update_id - 1,
                "b": bids,
                "a": asks,
            }
        return {"lastUpdateId": self.update_id, "bids": bids, "asks": asks}

    def _mark(self, symbol: str, r: SymbolRules, speed: int, p: PathPoint, now: int) -> Any:
        pushed = self._mark_pushed.get((symbol, speed))
        if pushed is not None and p.time_ms - pushed < speed:
            return None
        self._mark_pushed[(symbol, speed)] = p.time_ms
        mark = wire.f8(r.tick_size * p.price)
        return {
            "e": "markPriceUpdate",
            "E": now,
            "s": symbol,
            "p": mark,
            "ap": mark,
            "P": mark,
            "i": mark,
            "r": wire.f8(funding.RATE),
            "T": funding.next_time_ms(p.time_ms),
        }

    def _kline(self, symbol: str, interval: str, r: SymbolRules, now: int, fut: bool) -> Any:
        if interval not in INTERVALS_MS:
            return None
        row = self.candles[symbol].current(interval)
        if row is None:
            return None
        iv = INTERVALS_MS[interval]
        prev = self._last_kline.get((symbol, interval))
        self._last_kline[(symbol, interval)] = row
        closed = prev is not None and prev[0] != row[0]
        if closed and prev is not None:  # the previous candle closed: send it final (x=true) first
            row = prev
        elif self.kline_push_ms:  # an open candle's update, at most one per kline_push_ms of market time
            pushed = self._kline_pushed.get((symbol, interval, fut))
            if pushed is not None and 0 < now - pushed < self.kline_push_ms:
                return None
            self._kline_pushed[(symbol, interval, fut)] = now
        k = wire.kline_row(row, iv, r, fut)
        ids = self.tapes[symbol].between(row[0], row[0] + iv - 1)
        return {
            "e": "kline",
            "E": now,
            "s": symbol,
            "k": {
                "t": k[0],
                "T": k[6],
                "s": symbol,
                "i": interval,
                "f": ids[0].trade_id if ids else -1,
                "L": ids[1].trade_id if ids else -1,
                "o": k[1],
                "c": k[4],
                "h": k[2],
                "l": k[3],
                "v": k[5],
                "n": k[8],
                "x": closed,
                "q": k[7],
                "V": k[9],
                "Q": k[10],
                "B": "0",
            },
        }
