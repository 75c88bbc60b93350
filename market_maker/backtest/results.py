"""What one backtest run produces: fills, round trips and the per-candle position and cash.

Money is exact (``Decimal``) in the records; the per-candle ``cash`` series is float because it only
feeds statistics and plots (equity curve, drawdown, Sharpe), never a reported money figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from market_maker.backtest.candles import Candles
from market_maker.core.model import Side


# The two records are named tuples, not frozen dataclasses: a run builds one per fill and per round
# trip, and a frozen dataclass's __init__ (a Python setattr per field) costs three times as much.
class FillRecord(NamedTuple):
    """One fill of one of the grid's orders."""

    time_ms: int
    candle: int  # index into the run's candles
    side: Side
    price: int  # ticks
    qty: int  # steps
    fee: Decimal  # quote asset
    is_maker: bool
    level: int  # the slot's level, ticks
    client_id: str


class RoundTripRecord(NamedTuple):
    """One closed buy -> sell round trip, as the core's PnL reported it."""

    time_ms: int
    level: int  # ticks
    qty: int  # steps
    pnl: Decimal  # realized, after fees, quote asset
    fees: Decimal  # quote asset


@dataclass
class Counters:
    """How often each kind of thing happened (for the summary and for profiling)."""

    orders_placed: int = 0
    post_only_rejects: int = 0
    balance_rejects: int = 0  # buys refused for want of free quote (cash minus working buys)
    filter_skips: int = 0
    cancels: int = 0
    core_calls: int = 0  # calculate_actions evaluations
    interval_changes: int = 0
    risk_triggered_candles: int = 0
    halted_candles: int = 0
    cap_cancels: int = 0  # buys the open-order cap cancelled (room for a take-profit, or excess)
    stale_cancels: int = 0  # orders the stale-order cleanup cancelled
    tp_at_target: int = 0  # take-profits that closed at level + the interval frozen at the buy's fill
    tp_above_target: int = 0  # take-profits that closed above it (placed at C + I after a rise)
    tp_held: int = 0  # slots still holding a position after the last candle
    # take-profits cancelled, then placed again higher: after the center passed them (the price rose
    # past them unfilled, or skew moved the window), or after the price fell away from them
    tp_moved_up_passed: int = 0
    tp_moved_up_away: int = 0


@dataclass
class RunResult:
    """Everything a report needs from one run."""

    candles: Candles
    initial_capital: Decimal  # quote asset
    fills: list[FillRecord]
    round_trips: list[RoundTripRecord]
    position: npt.NDArray[np.int64]  # steps held at each candle's close
    cash: npt.NDArray[np.float64]  # quote cash at each candle's close (statistics only)
    final_cash: Decimal  # exact quote cash after the last candle
    realized_pnl: Decimal
    unrealized_pnl: Decimal  # at the last close
    fees: Decimal
    interval: npt.NDArray[np.int64]  # effective grid interval (ticks) at each candle's close
    counters: Counters = field(default_factory=Counters)
    params: dict[str, str] = field(default_factory=dict)

    @property
    def final_position(self) -> int:
        """Steps held after the last candle."""
        return int(self.position[-1]) if len(self.position) else 0

    def equity(self) -> npt.NDArray[np.float64]:
        """Quote equity at each candle's close: cash + position marked at the close (float, for stats)."""
        unit = float(self.candles.tick_size * self.candles.step_size)
        return self.cash + self.position.astype(np.float64) * self.candles.close.astype(np.float64) * unit

    def final_equity(self) -> Decimal:
        """Exact quote equity after the last candle, marked at the last close."""
        if not len(self.candles):
            return self.final_cash
        last = int(self.candles.close[-1])
        return self.final_cash + self.candles.tick_size * self.candles.step_size * last * self.final_position
