"""One backtest run's mutable state and what happens at one event: fills, the core's actions, closes.

The engine (:mod:`.engine`) decides *when* to call this; this module carries out *what* happens then,
always through the core: fills via ``apply_fill``, orders via ``submit``/``ack``/``reject``, cancels via
``cancelled``, risk via ``on_round_trip``/``on_equity``/``on_clock``. The core's state objects are
immutable; :class:`Replay` holds the latest of each.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from typing import Final

import numpy as np

from market_maker.backtest.candles import Candles
from market_maker.backtest.errors import BacktestError
from market_maker.backtest.fill_model import FillModel, candle_path, would_cross
from market_maker.backtest.market_series import MarketSeries
from market_maker.backtest.results import Counters, FillRecord, RoundTripRecord
from market_maker.backtest.settings import BacktestSettings
from market_maker.core.actions import Cancel, Place, Skip
from market_maker.core.cleanup import stale_cancels
from market_maker.core.fills import apply_trade, cancelled
from market_maker.core.grid import grid_window
from market_maker.core.model import Side
from market_maker.core.params import TradingParams
from market_maker.core.quiet import CellMemo, Evaluation, QuietBand, evaluate, widen
from market_maker.core.risk import RiskState, on_clock, on_equity, on_market_data, on_round_trip, start_risk
from market_maker.core.slot_events import RoundTripClosed, SlotEvent
from market_maker.core.slots import Slot, SlotBook, owned, reject, submit, submit_acked, working_slots
from market_maker.core.strategy import SELL_BELOW_CENTER

_MAX_ROUNDS: Final = 16  # act -> re-evaluate rounds at one price; more means the core keeps asking (a bug)
_DD_MARGIN: Final = 1e-9  # relative float margin when screening candles for the drawdown breaker
# enum members as module constants: the compiled build reads ``Side.BUY`` through the enum's class
# each time, several times the cost of a constant, several times per order event
_BUY: Final = Side.BUY
_SELL: Final = Side.SELL


def _cells(column: np.ndarray, dtype: type) -> Sequence[int]:
    """``column``'s values by index as Python ints (bools for a bool column), without copying it.

    A memoryview of the array: indexing it gives the value itself, several times cheaper than numpy's
    scalar and its ``int()`` (the replay reads a few values per candle it plays). ``dtype`` makes it
    native and contiguous first (a no-op for the loaders' columns).
    """
    return np.ascontiguousarray(column, dtype=dtype).data


class ReservedQuote:
    """What a book's working buys reserve (ticks x steps: price x unfilled quantity, summed), kept
    across the placements of one act instead of summed over every working order for each buy.

    :meth:`of` sums when asked about another book than the one it last answered for. :meth:`placed`
    says that ``after`` is ``before`` with one more working buy of ``qty`` steps at ``price`` and
    nothing else (an accepted placement: ``submit_acked`` changes only that slot, which held no
    working order); :meth:`same`, that ``after`` reserves what ``before`` did (an accepted sell). Both
    carry the sum over only when it was for ``before``. Books are compared by identity: every
    transition that changes a book returns a new one (an owned book's too), and this object holds the
    book it answered for, so that identity is not reused.
    """

    __slots__ = ("_book", "_reserved")

    def __init__(self) -> None:
        self._book: SlotBook | None = None
        self._reserved = 0

    def of(self, book: SlotBook) -> int:
        """Ticks x steps that the working buys of ``book`` (the newest of its line) reserve."""
        if book is not self._book:
            reserved = 0
            for s in working_slots(book):
                if s.side is _BUY:  # Slot.remaining spelled out: every slot read here is working
                    reserved += s.order_price * (s.order_qty - s.order_filled)
            self._reserved = reserved
            self._book = book
        return self._reserved

    def placed(self, before: SlotBook, after: SlotBook, price: int, qty: int) -> None:
        """``after`` is ``before`` plus a working buy of ``qty`` steps at ``price``."""
        if before is self._book:
            self._book = after
            self._reserved += price * qty

    def same(self, before: SlotBook, after: SlotBook) -> None:
        """``after`` reserves what ``before`` did."""
        if before is self._book:
            self._book = after


class Replay:
    """Mutable state of one run (the core's state objects are immutable; this holds the latest)."""

    def __init__(
        self,
        candles: Candles,
        settings: BacktestSettings,
        cp: TradingParams,
        ms: MarketSeries,
        exhaustive: bool,
    ) -> None:
        self.exhaustive = exhaustive
        self.c = candles
        self.s = settings
        self.cp = cp
        self.ms = ms
        # per-candle reads (see _cells): open time, open, close, volume; the market series' columns
        self.times = _cells(candles.open_time_ms, np.int64)
        self.opens = _cells(candles.open, np.int64)
        self.closes = _cells(candles.close, np.int64)
        self.volumes = _cells(candles.volume, np.int64)
        self.lows, self.highs = candles.low_high_lists  # made once per data set (the engine's too)
        self.candle_ms = candles.interval_ms
        self.atr_spikes = _cells(ms.atr_spike, np.bool_)
        self.volume_spikes = _cells(ms.volume_spike, np.bool_)
        self.intervals = _cells(ms.interval, np.int64)
        self.fm: FillModel = settings.fill_model()
        self.rules = cp.rules
        self.unit = cp.rules.tick_size * cp.rules.step_size
        # what a buy must have free per quote of its notional: itself plus the higher fee
        self.buy_rate = 1 + max(self.fm.maker_fee, self.fm.taker_fee, Decimal(0))
        # price -> what a buy of need_qty steps at that price must have free (see _need)
        self.needs: dict[int, Decimal] = {}
        self.need_qty = 0
        # owned: transitions update its storage in place; this object keeps only the newest book
        self.book = owned(SlotBook(settings.bot_id))
        self.reserved = ReservedQuote()  # what the working buys reserve, for the balance check
        self.risk: RiskState = start_risk(cp.risk)
        self.interval = cp.interval
        self.pos = 0  # steps, from our fills
        self.cash = settings.initial_capital
        self.realized = Decimal(0)
        self.fees = Decimal(0)
        self.fills: list[FillRecord] = []
        self.trips: list[RoundTripRecord] = []
        self.counters = Counters()
        # the counts made on every order event or core call, kept here as native integers (a Counters
        # field is a Python attribute: a read and a write per count); counted() writes them into it
        self.orders_placed = 0
        self.cancels = 0
        self.core_calls = 0
        self.trade_id = 0
        self.candle_fills: dict[str, tuple[int, int]] = {}  # client id -> (candle, steps filled in it)
        self.band: QuietBand = QuietBand(0, 0, None)
        self.memo = CellMemo()  # quiet-cell proofs, reused while the book and state stay the same
        self.band_key: tuple[object, ...] = ()  # what the band was made for (see _widen)
        self.price = 0
        self.now = 0
        # per-candle marks: (candle index, position, cash) after each processed candle
        self.mark_idx: list[int] = []
        self.mark_pos: list[int] = []
        self.mark_cash: list[float] = []
        self.mark_halted: list[bool] = []
        self.flags = (False, False)
        self.sent: dict[str, int] = {}  # client id -> send time, for the stale-order cleanup
        self.cleanup_every = int(settings.config.cleanup.interval_seconds * 1000)
        self.stale_after = cp.stale_order_age_ms
        self.next_cleanup = int(candles.open_time_ms[0]) + self.cleanup_every if len(candles) else 0
        # level -> (price, the center had passed it) of the take-profit cancelled last at that level
        self.sell_cancelled: dict[int, tuple[int, bool]] = {}

    def counted(self) -> Counters:
        """The run's counters, with the counts kept on this object written in."""
        c = self.counters
        c.orders_placed = self.orders_placed
        c.cancels = self.cancels
        c.core_calls = self.core_calls
        return c

    # --- core plumbing --------------------------------------------------------------------------

    def _events(self, events: tuple[SlotEvent, ...]) -> None:  # a tuple: iterated natively
        for ev in events:
            if isinstance(ev, RoundTripClosed):
                self.realized += ev.realized
                self.trips.append(RoundTripRecord(ev.time_ms, ev.level, ev.qty, ev.realized, ev.fees))
                self.risk = on_round_trip(self.risk, ev.realized, ev.time_ms, self.cp.risk)

    def _fill(
        self, slot: Slot, client_id: str, side: Side, price: int, qty: int, cum: int, maker: bool, candle: int
    ) -> None:
        """A trade of ``slot``'s working order ``client_id`` (``slot`` as the book holds it now)."""
        if qty + slot.order_filled == slot.order_qty:  # the order is done: the cleanup forgets it
            if client_id in self.sent:  # two native dict operations (pop(k, None) is a method call)
                del self.sent[client_id]
            if side is _SELL:  # the take-profit closes
                if slot.order_price == slot.tp_price:
                    self.counters.tp_at_target += 1
                else:
                    self.counters.tp_above_target += 1
        self.trade_id += 1
        notional = self.unit * price * qty
        fee = self.fm.fee(notional, maker)
        self.book, events = apply_trade(
            self.book,
            self.trade_id,
            client_id,
            side,
            price,
            qty,
            cum,
            fee,
            self.rules.quote_asset,
            self.now,
            self.rules,
            self.interval,
        )
        self.fees += fee
        if side is _BUY:
            self.pos += qty
            self.cash -= notional + fee
        else:
            self.pos -= qty
            self.cash += notional - fee
        self.fills.append(FillRecord(self.now, candle, side, price, qty, fee, maker, slot.level, client_id))
        self._events(events)

    def _fill_crossed(self, candle: int) -> None:
        """Fill every resting order the path crossed at ``self.price`` (best price first)."""
        p = self.price
        fm = self.fm
        if self.band.lo < p < self.band.hi:
            return  # the band lies between the highest working buy and the lowest working sell
        crossed: list[Slot] = []
        for s in working_slots(self.book):  # only working slots can fill
            side = s.side
            if side is not None and fm.fills_at(side, s.order_price, p):
                crossed.append(s)
        # price-time priority, as on the exchange: best price first, then the older order
        if len(crossed) > 1:
            crossed.sort(key=lambda s: (-s.order_price if s.side is _BUY else s.order_price, s.generation))
        allowance = None if fm.volume_share is None else fm.candle_allowance(self.volumes[candle])
        for s in crossed:
            qty = s.order_qty - s.order_filled
            if allowance is not None:
                done_c, done_q = self.candle_fills.get(s.client_id, (-1, 0))
                already = done_q if done_c == candle else 0
                qty = min(qty, allowance - already)
                if qty <= 0:
                    continue
                self.candle_fills[s.client_id] = (candle, already + qty)
            assert s.side is not None
            # the slot as the book holds it now: an earlier fill of this pass changed only its own slot
            self._fill(s, s.client_id, s.side, s.order_price, qty, s.order_filled + qty, True, candle)

    def _free_quote(self) -> Decimal:
        """Cash not reserved by working buys (what a spot account could still spend)."""
        return self.cash - self.unit * self.reserved.of(self.book)

    def _need(self, price: int, qty: int) -> Decimal:
        """What a buy of ``qty`` steps at ``price`` must have free: its notional plus the higher fee.

        The same Decimal expression as ever, kept per price (the grid's buys are placed at the same
        few levels again and again, with the same quantity): three Decimal products per buy placed
        were several percent of a run that re-places its grid often.
        """
        if qty != self.need_qty:
            self.need_qty = qty
            self.needs.clear()
        need = self.needs.get(price)
        if need is None:
            if len(self.needs) >= 4096:
                self.needs.clear()  # bounded; what is forgotten is computed again
            need = self.needs[price] = self.unit * price * qty * self.buy_rate
        return need

    def _place(self, a: Place, candle: int) -> None:
        self.orders_placed += 1
        if a.side is _SELL:
            before = self.sell_cancelled.pop(a.level, None)
            if before is not None and a.price > before[0]:
                if before[1]:
                    self.counters.tp_moved_up_passed += 1
                else:
                    self.counters.tp_moved_up_away += 1
        # The exchange answers at once, so the order's PENDING book is never read: an accepted order
        # is submitted and acknowledged in one transition (core: ``submit_acked`` == ack(submit())).
        # The free quote is read before the order is in the book, which leaves it out as it should.
        if a.side is _BUY and self._free_quote() < self._need(a.price, a.qty):
            self.book, cid = submit(self.book, a)
            self.book, events = reject(self.book, cid, self.now, "insufficient balance")
            self.counters.balance_rejects += 1
            self._events(events)
            return
        if would_cross(a.side, a.price, self.price):
            if self.fm.post_only:
                self.book, cid = submit(self.book, a)
                self.book, events = reject(self.book, cid, self.now, "post-only order would cross")
                self.counters.post_only_rejects += 1
                self._events(events)
                return
            self.book, cid = submit_acked(self.book, a)
            fill_price = min(a.price, self.price) if a.side is _BUY else max(a.price, self.price)
            self._fill(self.book.slots[a.level], cid, a.side, fill_price, a.qty, a.qty, False, candle)
            return
        prior = self.book
        self.book, cid = submit_acked(prior, a)
        self.sent[cid] = self.now
        if a.side is _BUY:
            self.reserved.placed(prior, self.book, a.price, a.qty)
        else:
            self.reserved.same(prior, self.book)

    def _cancel(self, a: Cancel) -> None:
        slot = self.book.slots[a.level]  # the strategy cancels the order its slot holds
        assert slot.client_id == a.client_id
        if a.client_id in self.sent:  # see _fill
            del self.sent[a.client_id]
        if a.reason.startswith("open-order cap"):
            self.counters.cap_cancels += 1
        elif a.reason.startswith("stale"):
            self.counters.stale_cancels += 1
        if slot.side is _SELL:
            self.sell_cancelled[slot.level] = (slot.order_price, a.reason == SELL_BELOW_CENTER)
        # The cancel is answered at once: the book with the cancel marked as sent (``request_cancel``)
        # would never be read, and the reply settles the slot the same without it (a unit test checks).
        # The slot read above is the one the core would find for the id (checked, not only asserted).
        mine = slot if slot.client_id == a.client_id else None
        self.book, events = cancelled(
            self.book, a.client_id, slot.order_filled, self.rules, self.interval, self.now, mine
        )
        self.cancels += 1
        self._events(events)

    def act(self, candle: int) -> None:
        """Let the core act at the current price until it asks for no Place and no Cancel.

        One core evaluation gives the actions and the band after them (:func:`evaluate`); the book
        changes only when an order action is carried out, so only then is it evaluated again. The
        band of a settled book may hold no price at all (the price sits exactly on a resting order,
        which trades only when the path goes through it): then the next waypoint is simply played.
        """
        ev = self._evaluate()
        for _ in range(_MAX_ROUNDS):
            self.core_calls += 1
            changed = False
            for a in ev.actions:
                if isinstance(a, Cancel):
                    self._cancel(a)
                    changed = True
            for a in ev.actions:
                if isinstance(a, Place):
                    self._place(a, candle)
                    changed = True
                elif isinstance(a, Skip):
                    self.counters.filter_skips += 1
            if not changed:
                self.band = ev.band
                self.band_key = (self.book, self.interval, self.risk.halted, self.risk.buys_blocked)
                return
            ev = self._evaluate()
        raise BacktestError(
            f"the core still asks for actions after {_MAX_ROUNDS} rounds at price {self.price}"
        )

    def _evaluate(self) -> Evaluation:
        # extend=0: neighbouring cells are proven quiet only when the price reaches them (widen_to)
        return evaluate(
            self.price,
            self.interval,
            self.book,
            self.risk,
            self.cp.grid,
            self.rules,
            self.now,
            self.memo,
            0,
        )

    def widen_to(self, j: int) -> bool:
        """Grow the quiet band over the cells candle ``j`` reaches, where the core proves them quiet.

        True when candle ``j`` is then quiet. The engine asks only for candles before the band's
        expiry, with nothing done since the band was made.
        """
        return self._widen(self.lows[j], self.highs[j], self.now)

    def _widen(self, lo: int, hi: int, now: int) -> bool:
        """Grow the band (core: :func:`widen`) so ``lo..hi`` lies inside it; True when it does.

        Only while the book, interval and risk flags are those the band was made for and the clock
        is before its expiry: then the core's proofs at ``now`` are the ones it would have made then.
        """
        b = self.band
        if lo <= b.floor or hi >= b.ceiling:
            # Out of reach: the band never grows past its floor and ceiling (a resting order, or a
            # skip that only the price ends), so the core would prove cells only to answer no. (Any
            # False is safe: the candle is then played in full; a quiet verdict at a waypoint is
            # proven on its own, whatever the band grew to before.)
            return False
        if not self._band_holds(now):
            return False
        b = widen(self.band, lo, hi, self.book, self.risk, self.cp.grid, self.rules, now, self.memo)
        self.band = b
        return b.lo < lo and hi < b.hi

    def _band_holds(self, now: int) -> bool:
        """True when the band's proofs hold now: the book, interval and risk flags are those it was
        made for, and the clock is before its expiry and the breaker's cooldown end."""
        b = self.band
        if (b.until_ms is not None and now >= b.until_ms) or (
            self.risk.halted_until_ms and now >= self.risk.halted_until_ms
        ):
            return False
        key = self.band_key
        risk = self.risk
        return (
            len(key) == 4
            and key[0] is self.book
            and key[1] == self.interval
            and key[2] == risk.halted
            and key[3] == risk.buys_blocked
        )

    def quiet(self, price: int, now: int) -> bool:
        """:meth:`quiet_at`, after growing the band over ``price``'s cell when the core proves it quiet."""
        return self.quiet_at(price, now) or self._widen(price, price, now)

    # --- one candle ------------------------------------------------------------------------------

    def quiet_at(self, price: int, now: int) -> bool:
        """True when nothing can happen at ``price`` at ``now`` (inside the band, before any expiry)."""
        b = self.band
        if self.risk.halted_until_ms and now >= self.risk.halted_until_ms:
            return False  # the circuit breaker's cooldown is over
        return b.lo < price < b.hi and (b.until_ms is None or now < b.until_ms)

    def clock(self, now: int, last_data: int) -> None:
        """Advance the core's clock: market data last seen at ``last_data``, time now ``now``."""
        self.now = now
        self.risk = on_clock(on_market_data(self.risk, last_data), now, self.cp.risk)

    def waypoint(self, candle: int, price: int, now: int) -> None:
        """One point of the intra-candle path."""
        self.now = now
        if self.risk.stale or self.risk.halted_until_ms:  # only then can the clock change the risk state
            self.clock(now, now)
        self.price = price
        self._fill_crossed(candle)
        self.act(candle)

    def candle(self, j: int, stale_gap: bool) -> None:
        """Play candle ``j`` in full: gap check, four waypoints, close."""
        t0 = self.times[j]
        candle_ms = self.candle_ms
        q = candle_ms // 4
        if stale_gap and j > 0 and self.cp.risk.stale_price_ms > 0:
            # No data for longer than the watchdog allows: the live bot would see stale data in the gap.
            last_data = self.times[j - 1] + candle_ms - 1  # the previous candle's close
            self.clock(last_data + self.cp.risk.stale_price_ms + 1, last_data)
            # the last price the market showed is the previous close (not the price of the core's last
            # evaluation, which the fast path may have left several quiet candles behind)
            self.price = self.closes[j - 1]
            self.act(j)
        path = candle_path(self.opens[j], self.highs[j], self.lows[j], self.closes[j])
        for k, p in enumerate(path):
            t = t0 + k * q
            if self.exhaustive or self.risk.stale or not self.quiet(p, t):
                self.waypoint(j, p, t)
        self.close(j, t0 + candle_ms - 1)

    def close(self, j: int, now: int) -> None:
        """Candle ``j`` closed: triggers / interval from the market series, equity for the breaker."""
        self.now = now
        changed = False
        flags = (bool(self.atr_spikes[j]), bool(self.volume_spikes[j]))
        if flags != self.flags:
            self.flags = flags
            self.risk = dataclasses.replace(self.risk, atr_spike=flags[0], volume_spike=flags[1])
            changed = True
        interval = self.intervals[j]
        if interval != self.interval:
            self.interval = interval
            self.counters.interval_changes += 1
            changed = True
        close = self.closes[j]
        halted = self.risk.halted
        if self.cp.risk.max_drawdown_pct > 0:  # the only rule that reads equity
            self.risk = on_equity(self.risk, self.cash + self.unit * close * self.pos, now, self.cp.risk)
        if self.risk.halted_until_ms or self.risk.stale:  # only then can the clock change anything
            self.clock(now, now)  # trades run through the candle up to its close
        if self.exhaustive or changed or self.risk.halted != halted or not self.quiet(close, now):
            self.price = close
            self.act(j)
        if now >= self.next_cleanup and self.cleanup(close, now):  # after the strategy, as live
            self.price = close
            self.act(j)
        self.mark(j)

    def cleanup(self, price: int, now: int) -> bool:
        """The periodic stale-order cleanup (core: :func:`stale_cancels`), due at ``now``; True when it
        cancelled something.

        It runs at the first processed candle close at or after each due time, after the strategy has
        acted there. The candles the engine skips need none: the quiet band proved that the strategy
        cancels nothing there, and an order the cleanup would cancel is one the strategy cancels
        itself (the trailing rule, at any age).
        """
        while self.next_cleanup <= now:
            self.next_cleanup += self.cleanup_every
        # It cancels only orders sent more than the stale age ago: none, nothing to ask (the usual case).
        # The oldest send time is the first: the clock never goes back and every order has a new id,
        # so the dict holds its send times in insertion order, ascending (no min() over all of them).
        if not self.sent or now - next(iter(self.sent.values())) <= self.stale_after:
            return False
        if self.band.lo < price < self.band.hi and self._band_holds(now):
            # The band proves the strategy cancels nothing at this price now, and the cleanup cancels
            # only orders the strategy's trailing cancels (same window, same bounds, the same orders
            # left alone: cancel in flight or in back-off): it would find nothing. A property test
            # checks this rule (tests/unit/test_core_cleanup.py).
            return False
        win = grid_window(price, self.interval, self.book.held_total, self.cp.grid)
        stale = stale_cancels(self.book, win, self.sent, now, self.stale_after, self.risk.halted)
        for a in stale:
            self._cancel(a)
        return bool(stale)

    def mark(self, j: int) -> None:
        """Record position and cash after candle ``j``."""
        self.mark_idx.append(j)
        self.mark_pos.append(self.pos)
        self.mark_cash.append(float(self.cash))
        self.mark_halted.append(self.risk.halted)

    def skip_quiet(self, a: int, b: int) -> int:
        """Candles ``a..b-1`` need nothing from the core but the drawdown breaker's equity at their closes.

        Returns the first of them whose close might trip the breaker (``b`` if none), so that the
        engine plays it in full; the core's breaker gets the highest close equity of the candles before
        it (exact), as if it had seen every close. The screen runs in float with a safety margin; the
        decision stays with the core's ``on_equity``.
        """
        dd = self.cp.risk.max_drawdown_pct
        if self.pos == 0 or b <= a or dd <= 0:
            return b
        closes = self.c.close[a:b]
        if b - a <= 64:  # short spans: plain Python beats two numpy reductions' fixed cost
            seq = closes.tolist()
            top, bottom = max(seq), min(seq)
        else:
            top, bottom = int(closes.max()), int(closes.min())
        best, worst = (top, bottom) if self.pos > 0 else (bottom, top)
        if not self.risk.halted:
            # One comparison usually proves that no close of the span can trip: the worst equity of
            # the span stays above the limit of the highest peak it could reach.
            unit = float(self.unit) * self.pos
            cash = float(self.cash)
            peak = cash + best * unit
            if self.risk.equity_peak is not None:
                peak = max(peak, float(self.risk.equity_peak))
            if cash + worst * unit <= peak * (1.0 - float(dd) / 100.0) * (1.0 + _DD_MARGIN):
                b = self.drawdown_candidate(a, b)
                if b <= a:
                    return b
                closes = closes[: b - a]
                best = int(closes.max()) if self.pos > 0 else int(closes.min())
        self.risk = on_equity(
            self.risk, self.cash + self.unit * best * self.pos, self.times[b - 1], self.cp.risk
        )
        return b

    def drawdown_candidate(self, a: int, b: int) -> int:
        """First candle in ``a..b-1`` whose close might trip the drawdown breaker (``b`` if none)."""
        dd = self.cp.risk.max_drawdown_pct
        if dd <= 0 or self.pos == 0 or b <= a or self.risk.halted:
            return b
        unit = float(self.unit)
        equity = float(self.cash) + self.c.close[a:b].astype(np.float64) * (unit * self.pos)
        start_peak = float(self.risk.equity_peak) if self.risk.equity_peak is not None else -np.inf
        peak = np.maximum.accumulate(np.maximum(equity, start_peak))
        limit = peak * (1.0 - float(dd) / 100.0) * (1.0 + _DD_MARGIN)
        hit = np.flatnonzero(equity <= limit)
        return a + int(hit[0]) if len(hit) else b
