"""The backtest's fill model: how a candle trades against resting orders.

A candle is replayed as a deterministic path of four waypoints: ``open -> low -> high -> close`` for a
rising or flat candle (close >= open), ``open -> high -> low -> close`` for a falling one: the same
path the simulator's kline replay trades (flat candles included), so the two fill alike. The strategy
sees the price at each waypoint, as a live bot sees trade prints; between waypoints the price jumps.

* A resting limit order fills **at its own price** (maker) when the path trades *through* it: a buy
  when the path goes strictly below its price, a sell when strictly above. With ``fill_on_touch`` the
  path only needs to reach the price. Trading through is the default because a touch does not say the
  queue in front of us was eaten.
* With ``volume_share`` set, one order fills at most ``floor(volume_share * candle volume)`` steps per
  candle (at least one step when the candle had any volume); the rest stays working for the next
  candles. Without it an order fills whole when crossed.
* A post-only order whose price would cross the current path price when placed (a buy at or above it,
  a sell at or below it) is rejected, as Binance rejects LIMIT_MAKER (-2010) / GTX orders; the slot
  goes back to the core's back-off. Without ``post_only`` such an order fills at once as a taker at the
  current price (never worse than its limit).
* Fees are ``rate * notional`` in the quote asset: ``maker_fee`` for resting fills, ``taker_fee`` for
  immediate ones.
* A buy needs free quote (cash minus what working buys reserve, plus the fee): otherwise it is
  rejected ("insufficient balance") as a spot exchange would, and the slot backs off.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from market_maker.core.model import Side

_BUY: Final = Side.BUY  # a constant: the compiled build reads ``Side.BUY`` through the enum's class


@dataclass(frozen=True, slots=True)
class FillModel:
    """Parameters of the fill model (see the module docstring)."""

    maker_fee: Decimal = Decimal("0.001")
    taker_fee: Decimal = Decimal("0.001")
    post_only: bool = True
    volume_share: Decimal | None = None
    fill_on_touch: bool = False

    def __post_init__(self) -> None:
        for name in ("maker_fee", "taker_fee"):
            rate = getattr(self, name)
            if not (Decimal(-1) < rate < Decimal(1)):
                raise ValueError(f"fill model: {name} {rate} must be a rate between -1 and 1")
        if self.volume_share is not None and not (Decimal(0) < self.volume_share <= Decimal(1)):
            raise ValueError(f"fill model: volume_share {self.volume_share} must be in (0, 1]")

    def fee(self, notional: Decimal, is_maker: bool) -> Decimal:
        """Fee in the quote asset for a trade of ``notional`` quote."""
        return notional * (self.maker_fee if is_maker else self.taker_fee)

    def buy_fills_at(self, order_price: int, path_price: int) -> bool:
        """True when a resting buy at ``order_price`` trades once the path is at ``path_price``."""
        return path_price <= order_price if self.fill_on_touch else path_price < order_price

    def sell_fills_at(self, order_price: int, path_price: int) -> bool:
        """True when a resting sell at ``order_price`` trades once the path is at ``path_price``."""
        return path_price >= order_price if self.fill_on_touch else path_price > order_price

    def fills_at(self, side: Side, order_price: int, path_price: int) -> bool:
        """Either of the two above, by side."""
        if side is _BUY:
            return self.buy_fills_at(order_price, path_price)
        return self.sell_fills_at(order_price, path_price)

    def candle_allowance(self, candle_volume: int) -> int | None:
        """Steps one order may fill within one candle of ``candle_volume`` steps (None: no limit)."""
        if self.volume_share is None:
            return None
        if candle_volume <= 0:
            return 0
        return max(int(self.volume_share * candle_volume), 1)


def would_cross(side: Side, price: int, market: int) -> bool:
    """True when a limit order at ``price`` would take liquidity with the market at ``market``."""
    return price >= market if side is _BUY else price <= market


def candle_path(open_: int, high: int, low: int, close: int) -> tuple[int, int, int, int]:
    """The four waypoints the candle is replayed through (see the module docstring)."""
    if close >= open_:
        return (open_, low, high, close)
    return (open_, high, low, close)
