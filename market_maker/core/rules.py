"""Exchange trading rules: tick, step, min/max quantity and notional.

The edges (exchange clients, config, the simulator) convert ``Decimal`` strings to integer ticks and
steps here, and back. Rounding is always on the *safe* side: a buy price rounds down and a sell price
rounds up (never a worse price than asked), a quantity rounds down (never more than asked). Nothing is
quantized to zero silently: :meth:`SymbolRules.check` says why an order cannot be sent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from fractions import Fraction
from typing import Final

from market_maker.core.model import Side


class RuleError(ValueError):
    """A value that is not representable under the symbol's rules (off tick, off step, ...)."""


@dataclass(frozen=True, slots=True)
class SymbolRules:
    """One symbol's filters, as Binance's exchangeInfo describes them (0 disables a bound)."""

    symbol: str
    base_asset: str
    quote_asset: str
    tick_size: Decimal
    step_size: Decimal
    min_price: Decimal = Decimal(0)
    max_price: Decimal = Decimal(0)
    min_qty: Decimal = Decimal(0)
    max_qty: Decimal = Decimal(0)
    min_notional: Decimal = Decimal(0)
    max_notional: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if self.tick_size <= 0 or self.step_size <= 0:
            raise RuleError(f"{self.symbol}: tick_size and step_size must be positive")

    # --- conversions -------------------------------------------------------------------------------

    def price_to_ticks(self, price: Decimal | str) -> int:
        """Exact conversion; raises :class:`RuleError` when the price is off tick."""
        q = Decimal(price) / self.tick_size
        if q != q.to_integral_value():
            raise RuleError(f"{self.symbol}: price {price} is not a multiple of tick {self.tick_size}")
        return int(q)

    def qty_to_steps(self, qty: Decimal | str) -> int:
        """Exact conversion; raises :class:`RuleError` when the quantity is off step."""
        q = Decimal(qty) / self.step_size
        if q != q.to_integral_value():
            raise RuleError(f"{self.symbol}: quantity {qty} is not a multiple of step {self.step_size}")
        return int(q)

    def ticks_to_price(self, ticks: int) -> Decimal:
        """Price as a Decimal with the tick's exponent (what goes on the wire)."""
        return (self.tick_size * ticks).quantize(self.tick_size.normalize()) if ticks else Decimal(0)

    def steps_to_qty(self, steps: int) -> Decimal:
        """Quantity as a Decimal with the step's exponent (what goes on the wire)."""
        return (self.step_size * steps).quantize(self.step_size.normalize()) if steps else Decimal(0)

    def round_price(self, price: Decimal | str, side: Side) -> int:
        """Nearest tick on the safe side: down for a buy, up for a sell."""
        q = Decimal(price) / self.tick_size
        return int(q.to_integral_value(rounding=ROUND_FLOOR if side is Side.BUY else ROUND_CEILING))

    def round_qty(self, qty: Decimal | str) -> int:
        """Whole steps, rounded down (never more than asked)."""
        return int((Decimal(qty) / self.step_size).to_integral_value(rounding=ROUND_FLOOR))

    def notional(self, price_ticks: int, qty_steps: int) -> Decimal:
        """price x qty in the quote asset, exact."""
        return self.tick_size * self.step_size * price_ticks * qty_steps

    def min_steps_for(self, price_ticks: int) -> int:
        """Smallest quantity (steps) that passes minQty and minNotional at this price; 0 if none needed."""
        need = 0
        if self.min_qty > 0:
            need = int((self.min_qty / self.step_size).to_integral_value(rounding=ROUND_CEILING))
        if self.min_notional > 0 and price_ticks > 0:
            unit = self.tick_size * self.step_size * price_ticks
            need = max(need, int((self.min_notional / unit).to_integral_value(rounding=ROUND_CEILING)))
        return need

    # --- validation --------------------------------------------------------------------------------

    def check(self, price_ticks: int, qty_steps: int) -> str | None:
        """None when the order passes every filter, else the Binance filter name that fails it.

        The same comparisons as on the Decimal price, quantity and notional, made on integers: the
        bounds are converted once per rules object into ticks, steps and ticks x steps, exactly
        (:func:`_int_bounds`). The strategy asks once per order it may place.
        """
        if price_ticks <= 0:
            return "PRICE_FILTER"
        min_p, max_p, min_q, max_q, min_n, max_n = _int_bounds(self)
        if price_ticks < min_p or (max_p >= 0 and price_ticks > max_p):
            return "PRICE_FILTER"
        if qty_steps <= 0:
            return "LOT_SIZE"
        if qty_steps < min_q or (max_q >= 0 and qty_steps > max_q):
            return "LOT_SIZE"
        notional = price_ticks * qty_steps
        if notional < min_n:
            return "NOTIONAL"
        if max_n >= 0 and notional > max_n:
            return "NOTIONAL"
        return None


# rules object id -> (the object, its filters as integer bounds): see _int_bounds; Final: the compiled
# build keeps it in a C variable (a plain global is a dict lookup by name at every check)
_BOUNDS: Final[dict[int, tuple[SymbolRules, tuple[int, int, int, int, int, int]]]] = {}


def _int_bounds(r: SymbolRules) -> tuple[int, int, int, int, int, int]:
    """``r``'s filters as integer bounds: (min, max) price in ticks, quantity in steps, notional in
    ticks x steps; a min of 0 and a max of -1 where the filter is off (0).

    Exact: for an integer n and a rational bound b, ``n < b`` iff ``n < ceil(b)`` and ``n > b`` iff
    ``n > floor(b)``; the bounds are divided as fractions, never rounded. Kept per object (by identity,
    the object held so its id is not reused), since hashing a frozen dataclass costs more than this.
    """
    got = _BOUNDS.get(id(r))
    if got is not None and got[0] is r:
        return got[1]
    tick, step = Fraction(r.tick_size), Fraction(r.step_size)
    unit = tick * step
    bounds = (
        _at_least(r.min_price, tick),
        _at_most(r.max_price, tick),
        _at_least(r.min_qty, step),
        _at_most(r.max_qty, step),
        _at_least(r.min_notional, unit),
        _at_most(r.max_notional, unit),
    )
    if len(_BOUNDS) >= 64:
        _BOUNDS.clear()
    _BOUNDS[id(r)] = (r, bounds)
    return bounds


def _at_least(bound: Decimal, unit: Fraction) -> int:
    """The smallest count of ``unit`` that is not below ``bound`` (0 when the bound is off)."""
    return math.ceil(Fraction(bound) / unit) if bound > 0 else 0


def _at_most(bound: Decimal, unit: Fraction) -> int:
    """The largest count of ``unit`` that is not above ``bound`` (-1 when the bound is off)."""
    return math.floor(Fraction(bound) / unit) if bound > 0 else -1
