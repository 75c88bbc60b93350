"""Grid geometry: the skewed center and the buy and sell windows, in integer ticks.

Rules (ARCHITECTURE.md §4):

- ``inventory_ratio = clamp((position - target_inventory) / max_inventory, -1, 1)`` (steps, exact).
- ``P_skewed = P * (1 - skew_factor * inventory_ratio)``: holding more than the target lowers the center,
  so the grid buys less eagerly and sells sooner.
- ``C = round(P_skewed / I) * I`` where *round* is **half up** (ties toward +infinity), computed exactly
  with ``Fraction``; Python's ``round`` (banker's) is deliberately not used.
- Buy window: levels ``C - buy_window*I .. C - I``; sell window: ``C + I .. C + sell_window*I``.

Levels are multiples of the interval ``I`` (itself whole ticks), so a level belongs to the current buy
window only when it lies on the current lattice; sell prices (take-profits frozen at fill time) may lie
anywhere inside the sell range.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Final

from market_maker.core.values import Value


@dataclass(frozen=True, slots=True)
class GridParams:
    """Grid settings in core units: windows in levels, quantities in steps."""

    buy_window: int
    sell_window: int
    order_qty: int  # steps per buy order
    max_inventory: int  # steps: cap on held + working buys, and the skew's scale
    skew_factor: Decimal = Decimal(0)  # 0..1
    target_inventory: int = 0  # steps
    max_open_orders: int = 0  # the open-order cap (see strategy.py); 0: no cap

    def __post_init__(self) -> None:
        if self.buy_window < 1 or self.sell_window < 1:
            raise ValueError(f"windows must be >= 1, got buy {self.buy_window}, sell {self.sell_window}")
        if self.order_qty < 1:
            raise ValueError(f"order_qty must be >= 1 step, got {self.order_qty}")
        if self.max_inventory < 1:
            raise ValueError(f"max_inventory must be >= 1 step, got {self.max_inventory}")
        if not 0 <= self.skew_factor <= 1:
            raise ValueError(f"skew_factor must be within 0..1, got {self.skew_factor}")
        if self.target_inventory < 0:
            raise ValueError(f"target_inventory must be >= 0 steps, got {self.target_inventory}")
        if self.max_open_orders < 0:
            raise ValueError(f"max_open_orders must be >= 0 (0: no cap), got {self.max_open_orders}")


class GridWindow(Value):
    """Where the grid stands for one price: center and inclusive window bounds, all ticks.

    Immutable (``Final`` fields) and compared by value (:class:`~market_maker.core.values.Value`): the
    backtester builds one per strategy pass, and a plain class builds cheapest in the compiled core.
    """

    __slots__ = ("buy_hi", "buy_lo", "center", "interval", "sell_hi", "sell_lo")
    FIELDS = ("center", "interval", "buy_lo", "buy_hi", "sell_lo", "sell_hi")

    def __init__(
        self,
        center: int,
        interval: int,
        buy_lo: int,
        buy_hi: int,
        sell_lo: int,
        sell_hi: int,
    ) -> None:
        self.center: Final = center
        self.interval: Final = interval
        self.buy_lo: Final = buy_lo
        self.buy_hi: Final = buy_hi
        self.sell_lo: Final = sell_lo
        self.sell_hi: Final = sell_hi

    def _key(self) -> tuple[object, ...]:
        return (self.center, self.interval, self.buy_lo, self.buy_hi, self.sell_lo, self.sell_hi)

    def buy_levels(self) -> range:
        """Buy-window levels, nearest to the center first."""
        return range(self.buy_hi, self.buy_lo - 1, -self.interval)

    def in_buy_window(self, level: int) -> bool:
        """True when ``level`` is one of the current buy-window levels (on the current lattice)."""
        return self.buy_lo <= level <= self.buy_hi and level % self.interval == 0

    def in_sell_window(self, price: int) -> bool:
        """True when a sell at ``price`` lies inside the current sell range."""
        return self.sell_lo <= price <= self.sell_hi


def inventory_ratio(position: int, params: GridParams) -> Fraction:
    """``clamp((position - target) / max_inventory, -1, 1)`` with position in steps."""
    ratio = Fraction(position - params.target_inventory, params.max_inventory)
    return min(max(ratio, Fraction(-1)), Fraction(1))


@lru_cache(maxsize=1024)  # pure; a strategy pass and each quiet-band bound read it (exact Fractions)
def skew_multiplier(position: int, params: GridParams) -> Fraction:
    """``1 - skew_factor * inventory_ratio``: the factor that turns P into P_skewed."""
    return 1 - Fraction(params.skew_factor) * inventory_ratio(position, params)


def center(price: int, interval: int, position: int, params: GridParams) -> int:
    """The grid center (ticks) for a price (ticks), an interval (ticks) and a position (steps)."""
    if interval <= 0:
        raise ValueError(f"interval must be > 0 ticks, got {interval}")
    if not params.skew_factor or position == params.target_inventory:
        return (2 * price + interval) // (2 * interval) * interval  # half up, integers only
    k = skew_multiplier(position, params)
    # round_half_up(price * k / interval) in integers: the same value without building Fractions
    num, den = price * k.numerator, k.denominator * interval
    return (2 * num + den) // (2 * den) * interval


def window_for_center(c: int, interval: int, params: GridParams) -> GridWindow:
    """The windows around an already computed center."""
    return GridWindow(
        c,  # center
        interval,
        c - params.buy_window * interval,  # buy_lo
        c - interval,  # buy_hi
        c + interval,  # sell_lo
        c + params.sell_window * interval,  # sell_hi
    )


def grid_window(price: int, interval: int, position: int, params: GridParams) -> GridWindow:
    """Center and windows for a price (ticks), interval (ticks) and position (steps)."""
    return window_for_center(center(price, interval, position, params), interval, params)
