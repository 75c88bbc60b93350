"""A deliberately plain grid, written from the docs alone, to check the backtester against.

Read it beside the docs; each rule names where it comes from:

- [bt] docs/backtesting.md: "The fill model" (four waypoints, trade-through fills at the order's
  price, post-only rejects, fees, free quote), "Risk and the interval" (ATR on closed candles, the
  interval changes at the close of the candle that closes it; missing candles that leave the market
  silent for longer than ``stale_price_seconds`` fire the stale-data trigger inside the gap),
  "Settings" (dynamic bounds half and four times ``price_interval`` when not given).
- [card] the design card's section 4 (shared/design/ARCHITECTURE.md): center with inventory skew,
  windows, take-profit ``max(level + I_at_fill, C + I)`` held while above the sell window, the
  trailing rule as corrected in 2026-12 (also the module docstring of market_maker/core/strategy.py),
  and risk *triggered*: working buys cancelled, no new buys, sells continue.
- [arch] docs/architecture.md, "Departures from the design card": center rounded half up, one level
  of trailing slack, no order that would cross the price is sent, the generation counter is book-wide.
- Where the docs leave a number open, the core's docstrings give it: [atr] market_maker/core/atr.py
  (Wilder in fixed point, a millionth of a tick, half up), [interval] market_maker/core/interval.py
  (20 % hysteresis, bounds), [slots] market_maker/core/slots.py (reject back-off 1 s, doubling to
  5 min; the streak ends when an order is accepted), [ids] market_maker/core/ids.py (client id layout).

Nothing is skipped: every waypoint of every candle and every close is decided in full, with no
quiet band and no memo. Nothing is shared with the engine but the core's rounding helper
(``round_half_up``). Not modelled (the test turns them off or keeps them out of reach): the ATR and
volume spike triggers, the circuit breaker, partial fills (``volume_share``), ``fill_on_touch``,
``post_only=false``, risk candles longer than the data's, the open-order cap and the stale-order
cleanup.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from market_maker.core.interval import round_half_up

SCALE = 1_000_000  # [atr] ATR units per tick
HYSTERESIS = Fraction(1, 5)  # [interval] the interval moves only when it changes by more than 20 %
BACKOFF_FIRST_MS = 1_000  # [slots] back-off after the first reject in a row, doubling after each
BACKOFF_MAX_MS = 300_000
MAX_ROUNDS = 64  # decide -> act rounds at one price before we call it a loop


class NoFixedPoint(RuntimeError):
    """The rules keep asking for orders at one price (the reference's own loop guard)."""


@dataclass(frozen=True)
class Candle:
    """One 1-minute candle, prices in ticks."""

    open_time_ms: int
    open: int
    high: int
    low: int
    close: int


def read_candles(path: str | Path, tick_size: Decimal) -> list[Candle]:
    """Binance's public kline CSV (with its header row), prices turned into ticks exactly."""

    def ticks(text: str) -> int:
        q = Decimal(text) / tick_size
        assert q == q.to_integral_value(), f"{path}: price {text} is off tick {tick_size}"
        return int(q)

    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r and r[0].isdigit()]
    return [Candle(int(r[0]), ticks(r[1]), ticks(r[2]), ticks(r[3]), ticks(r[4])) for r in rows]


@dataclass(frozen=True)
class Settings:
    """What the reference needs, in ticks (prices), steps (quantities) and exact decimals."""

    tick_size: Decimal
    step_size: Decimal
    interval: int  # price_interval, ticks
    order_qty: int  # steps
    buy_window: int
    sell_window: int
    max_inventory: int  # steps
    target_inventory: int = 0  # steps
    skew: Fraction = Fraction(0)
    min_qty: int = 0  # steps
    min_notional: Decimal = Decimal(0)
    capital: Decimal = Decimal(10_000)
    maker_fee: Decimal = Decimal("0.001")
    taker_fee: Decimal = Decimal("0.001")
    bot_id: str = "bt"
    # dynamic interval [bt]: None = static
    dynamic: bool = False
    volatility_scale: Fraction = Fraction(1)
    atr_period: int = 14
    baseline_window: int = 240  # rolling baseline, when baseline_ticks is None
    baseline_ticks: int | None = None  # a fixed baseline ATR, ticks
    min_interval: int | None = None  # ticks; None = half of price_interval [bt]
    max_interval: int | None = None  # ticks; None = four times price_interval [bt]
    stale_price_ms: int = 30_000  # no market data for longer than this: no buys [bt, card]
    candle_ms: int = 60_000


@dataclass
class Slot:
    """One grid level. ``state``: "free" (kept only while in back-off), "buying", "held", "selling"."""

    level: int
    state: str = "free"
    order_price: int = 0
    order_qty: int = 0
    client_id: str = ""
    generation: int = 0
    tp: int = 0  # take-profit frozen at the buy's fill: level + I_at_fill [card]
    held: int = 0  # steps
    cost: Decimal = Decimal(0)  # quote paid for the held steps
    buy_fee: Decimal = Decimal(0)
    rejects: int = 0  # rejects in a row
    backoff_until: int = 0  # ms


@dataclass(frozen=True)
class Fill:
    time_ms: int
    side: str  # "BUY" | "SELL"
    price: int
    qty: int
    fee: Decimal
    level: int
    client_id: str


@dataclass(frozen=True)
class Cancelled:
    time_ms: int
    side: str
    price: int
    level: int
    client_id: str


@dataclass(frozen=True)
class Order:
    """An order the rules ask for."""

    side: str
    level: int
    price: int
    qty: int


@dataclass
class Outcome:
    """What the reference did over the whole run."""

    fills: list[Fill] = field(default_factory=list)
    cancels: list[Cancelled] = field(default_factory=list)
    orders_placed: int = 0  # every order sent, accepted or not
    post_only_rejects: int = 0
    balance_rejects: int = 0
    realized: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    cash: Decimal = Decimal(0)
    interval_at_close: list[int] = field(default_factory=list)
    position_at_close: list[int] = field(default_factory=list)


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = digits[n % 36]
    while n >= 36:
        n //= 36
        out = digits[n % 36] + out
    return out


class ReferenceGrid:
    """The grid, one candle at a time (see the module docstring)."""

    def __init__(self, s: Settings) -> None:
        self.s = s
        self.unit = s.tick_size * s.step_size  # quote value of one tick x one step
        self.interval = s.interval
        self.slots: dict[int, Slot] = {}
        self.next_gen = 0  # [arch] one counter for the whole book
        self.stale = False  # the stale-data trigger: no market data for longer than the limit
        self.out = Outcome(cash=s.capital)
        # dynamic interval state [atr]
        self.prev_close: int | None = None
        self.atr = _Wilder(s.atr_period)
        self.baseline = _Wilder(s.baseline_window)

    # --- the run ------------------------------------------------------------------------------------

    def run(self, candles: list[Candle]) -> Outcome:
        """Replay ``candles``: four waypoints each, then its close [bt]."""
        prev: Candle | None = None
        for c in candles:
            if prev is not None:
                self.gap(prev, c)
            prev = c
            quarter = self.s.candle_ms // 4
            rising = c.close >= c.open
            path = [c.open, c.low, c.high, c.close] if rising else [c.open, c.high, c.low, c.close]
            for k, price in enumerate(path):
                now = c.open_time_ms + k * quarter
                self.stale = False  # market data again
                self.fill_crossed(price, now)
                self.act(price, now)
            now = c.open_time_ms + self.s.candle_ms - 1
            if self.s.dynamic:
                self.interval = self.next_interval(c)
            self.act(c.close, now)
            self.out.interval_at_close.append(self.interval)
            self.out.position_at_close.append(self.position())
        return self.out

    def gap(self, prev: Candle, c: Candle) -> None:
        """[bt] Candles missing between ``prev`` and ``c``: if the market is silent for longer than the
        stale-data limit, the trigger fires inside the gap, at the last price the market showed."""
        last_data = prev.open_time_ms + self.s.candle_ms - 1  # prev's close time
        silent = c.open_time_ms - (prev.open_time_ms + self.s.candle_ms)
        if silent > self.s.stale_price_ms:
            self.stale = True
            self.act(prev.close, last_data + self.s.stale_price_ms + 1)

    # --- the fill model [bt] ------------------------------------------------------------------------

    def fill_crossed(self, price: int, now: int) -> None:
        """Working orders the price went through fill whole at their own price, as makers."""
        crossed = [
            s
            for s in self.slots.values()
            if (s.state == "buying" and price < s.order_price)
            or (s.state == "selling" and price > s.order_price)
        ]
        # best price first, then the older order [bt]
        crossed.sort(key=lambda s: (-s.order_price if s.state == "buying" else s.order_price, s.generation))
        for s in crossed:
            self.fill(s, now)

    def fill(self, s: Slot, now: int) -> None:
        """One whole fill at the order's price; the fee is the maker rate times the notional, in quote."""
        notional = self.unit * s.order_price * s.order_qty
        fee = notional * self.s.maker_fee
        side = "BUY" if s.state == "buying" else "SELL"
        self.out.fills.append(Fill(now, side, s.order_price, s.order_qty, fee, s.level, s.client_id))
        self.out.fees += fee
        if side == "BUY":
            self.out.cash -= notional + fee
            s.state, s.held, s.cost, s.buy_fee = "held", s.order_qty, notional, fee
            s.tp = s.level + self.interval
        else:
            self.out.cash += notional - fee
            # a round trip closes: proceeds - cost - both fees
            self.out.realized += notional - s.cost - s.buy_fee - fee
            del self.slots[s.level]

    def place(self, o: Order, price: int, now: int) -> None:
        """Send one order: refused for want of free quote, rejected if post-only would cross, else working."""
        gen = self.next_gen
        self.next_gen += 1
        self.out.orders_placed += 1
        s = self.slots.setdefault(o.level, Slot(o.level))
        s.client_id = f"{self.s.bot_id}_{o.side[0]}{_b36(o.level)}_{_b36(gen)}"  # [ids]
        s.generation = gen
        if o.side == "BUY":
            reserved = sum(w.order_price * w.order_qty for w in self.slots.values() if w.state == "buying")
            free = self.out.cash - self.unit * reserved
            # "plus its fee": the rate is not known when the order goes out (maker if it rests, taker
            # if it takes), so the larger one is kept free
            need = self.unit * o.price * o.qty * (1 + max(self.s.maker_fee, self.s.taker_fee))
            if free < need:
                self.out.balance_rejects += 1
                self.reject(s, now)
                return
        crosses = o.price >= price if o.side == "BUY" else o.price <= price
        if crosses:  # post-only
            self.out.post_only_rejects += 1
            self.reject(s, now)
            return
        s.state = "buying" if o.side == "BUY" else "selling"
        s.order_price, s.order_qty = o.price, o.qty
        s.rejects = 0
        s.backoff_until = 0

    def reject(self, s: Slot, now: int) -> None:
        """[slots] back to where it was, waiting 1 s, 2 s, 4 s, ... (at most 5 min) before the next try."""
        s.rejects += 1
        s.backoff_until = now + min(BACKOFF_FIRST_MS * 2 ** (s.rejects - 1), BACKOFF_MAX_MS)
        s.state = "held" if s.held else "free"

    def cancel(self, s: Slot, now: int) -> None:
        """A cancel is answered at once: a buy frees its slot, a take-profit leaves the position held."""
        side = "BUY" if s.state == "buying" else "SELL"
        self.out.cancels.append(Cancelled(now, side, s.order_price, s.level, s.client_id))
        if s.state == "buying":
            del self.slots[s.level]
        else:
            s.state = "held"

    # --- the rules ----------------------------------------------------------------------------------

    def position(self) -> int:
        """Steps held, summed over the slots (a take-profit's steps are held until it fills)."""
        return sum(s.held for s in self.slots.values())

    def center(self, price: int) -> int:
        """[card] C = round(P_skewed / I) * I, P_skewed = P * (1 - skew * ratio); [arch] half up."""
        s = self.s
        ratio = Fraction(self.position() - s.target_inventory, s.max_inventory)
        ratio = max(Fraction(-1), min(Fraction(1), ratio))
        skewed = price * (1 - s.skew * ratio)
        return round_half_up(skewed / self.interval) * self.interval

    def passes_filters(self, price: int, qty: int) -> bool:
        return price > 0 and qty >= self.s.min_qty and self.unit * price * qty >= self.s.min_notional

    def act(self, price: int, now: int) -> None:
        """Decide at ``price``, carry out the cancels, then the orders; again until nothing is asked [bt]."""
        for _ in range(MAX_ROUNDS):
            cancels, orders = self.decide(price, now)
            if not cancels and not orders:
                return
            for s in cancels:
                self.cancel(s, now)
            for o in orders:
                self.place(o, price, now)
        raise NoFixedPoint(f"the rules still ask for orders after {MAX_ROUNDS} rounds at price {price}")

    def decide(self, price: int, now: int) -> tuple[list[Slot], list[Order]]:
        """What the rules ask for at ``price``, from the book as it is: cancels, then sells, then buys."""
        s, iv = self.s, self.interval
        c = self.center(price)
        buy_lo, buy_hi = c - s.buy_window * iv, c - iv  # [card] windows
        sell_lo, sell_hi = c + iv, c + s.sell_window * iv
        slots = [self.slots[level] for level in sorted(self.slots)]

        # Trailing [card, corrected 2026-12; arch: one level of slack]
        cancels = []
        for slot in slots:
            if slot.state == "buying" and self.stale:
                cancels.append(slot)  # [card] risk triggered: working buys are cancelled
            elif slot.state == "buying":
                off_lattice = slot.level % iv != 0
                if off_lattice or slot.level < buy_lo - iv or slot.level > c:
                    cancels.append(slot)
            elif slot.state == "selling" and (slot.order_price < c or slot.order_price > sell_hi + iv):
                cancels.append(slot)

        working_buys = [w.order_price for w in slots if w.state == "buying"]
        working_sells = [w.order_price for w in slots if w.state == "selling"]
        orders = []

        # Take-profits [card]: max(tp, C + I) while inside the sell window; otherwise hold
        for slot in slots:
            if slot.state != "held":
                continue
            target = max(slot.tp, sell_lo)
            if target > sell_hi:
                continue  # HODL until profitable
            if slot.backoff_until > now:
                continue
            if target <= price:
                continue  # [arch] would cross: not sent
            if any(b >= target for b in working_buys):
                continue  # buys stay strictly below sells
            if not self.passes_filters(target, slot.held):
                continue
            orders.append(Order("SELL", slot.level, target, slot.held))
            working_sells.append(target)

        if self.stale:
            return cancels, orders  # [card] risk triggered: no new buys
        # Buys [card]: the free levels of the buy window, nearest the center first
        budget = s.max_inventory - self.position() - sum(w.order_qty for w in slots if w.state == "buying")
        for level in range(buy_hi, buy_lo - 1, -iv):
            slot = self.slots.get(level)
            if slot is not None and slot.state != "free":
                continue  # a level holds one order or one position at a time
            if slot is not None and slot.backoff_until > now:
                continue
            if level >= price:
                continue  # [arch] would cross: not sent
            if any(level >= p for p in working_sells):
                continue  # buys stay strictly below sells
            if s.order_qty > budget:
                continue  # max_inventory: held + working buys
            if not self.passes_filters(level, s.order_qty):
                continue
            orders.append(Order("BUY", level, level, s.order_qty))
            budget -= s.order_qty
        return cancels, orders

    # --- the dynamic interval [bt, atr, interval] -----------------------------------------------------

    def next_interval(self, c: Candle) -> int:
        """The interval after candle ``c`` closed."""
        s = self.s
        prev = self.prev_close
        true_range = c.high - c.low if prev is None else max(c.high, prev) - min(c.low, prev)
        self.prev_close = c.close
        self.atr.add(true_range)
        self.baseline.add(true_range)
        if self.atr.count < s.atr_period:
            return self.interval  # the ATR has no full period yet
        lo = s.min_interval if s.min_interval is not None else s.interval // 2
        hi = s.max_interval if s.max_interval is not None else s.interval * 4
        current = self.interval
        if current < lo or current > hi:
            return max(lo, min(hi, current))
        if s.baseline_ticks is not None:
            baseline = s.baseline_ticks * SCALE
        else:
            baseline = self.baseline.value if self.baseline.count >= s.baseline_window else 0
        if baseline == 0:
            target = s.interval
        else:
            target = round_half_up(s.interval * s.volatility_scale * Fraction(self.atr.value, baseline))
        target = max(lo, min(hi, target))
        if target == current:
            return current
        if target in (lo, hi) or abs(target - current) > HYSTERESIS * current:
            return target
        return current


class _Wilder:
    """[atr] Wilder's average in millionths of a tick, rounded half up at every step."""

    def __init__(self, period: int) -> None:
        self.period = period
        self.count = 0
        self.total = 0
        self.value = 0

    def add(self, x: int) -> None:
        self.count += 1
        if self.count <= self.period:  # plain mean of the first ``period`` samples
            self.total += x
            self.value = round_half_up(Fraction(self.total * SCALE, self.count))
        else:
            self.value = round_half_up(Fraction(self.value * (self.period - 1) + x * SCALE, self.period))
