"""Profit and loss: fees converted to quote at fill time, FIFO cost of lots, realized and unrealized PnL.

Rules (field-notes "Money"):

- Realized PnL of a round trip = sell proceeds - FIFO cost of the quantity sold - fees. Fees are kept
  separate from the gross result, never netted into prices, and never counted as income.
- A fee is converted to the quote asset *at fill time*: quote fees as is, base-asset fees at the fill
  price, any other asset (e.g. BNB) at a rate the caller supplies (quote per unit of that asset).
- A fee whose sign or size makes no sense (negative, larger than the trade's notional, or in an asset
  without a rate) is rejected with :class:`FeeError`; the caller records the trade and reports the fee.
- Cost is exact: a lot's cost is ``steps * price_ticks`` in "tick-step" units (``tick_size *
  step_size`` quote each), converted to ``Decimal`` only when reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from market_maker.core.rules import SymbolRules
from market_maker.core.values import Value

Lots = tuple[tuple[int, int], ...]  # FIFO lots: (steps, price ticks), oldest first

ZERO: Final = Decimal(0)


class FeeError(ValueError):
    """A trade fee that cannot be right (negative, above notional, or unconvertible)."""


class ConvertedFee(Value):
    """One trade's fee in quote, plus the part charged in the base asset (which reduces the position)."""

    __slots__ = ("base", "quote")
    FIELDS = ("quote", "base")

    def __init__(
        self,
        quote: Decimal,
        base: Decimal,  # base-asset amount charged (0 unless the fee asset is the base asset)
    ) -> None:
        self.quote: Final = quote
        self.base: Final = base

    def _key(self) -> tuple[object, ...]:
        return (self.quote, self.base)


def convert_fee(
    fee: Decimal,
    fee_asset: str,
    price_ticks: int,
    qty_steps: int,
    rules: SymbolRules,
    rates: Mapping[str, Decimal] | None = None,
) -> ConvertedFee:
    """Convert one trade's fee to the quote asset at fill time; raise :class:`FeeError` when it is absurd."""
    if fee < 0:
        raise FeeError(f"negative fee {fee} {fee_asset} on a {rules.symbol} trade")
    base = ZERO
    if fee == 0:
        return ConvertedFee(ZERO, ZERO)
    if fee_asset == rules.quote_asset:
        quote = fee
    elif fee_asset == rules.base_asset:
        quote = fee * rules.tick_size * price_ticks
        base = fee
    else:
        rate = (rates or {}).get(fee_asset)
        if rate is None or rate <= 0:
            raise FeeError(f"no {fee_asset}->{rules.quote_asset} rate to convert fee {fee} {fee_asset}")
        quote = fee * rate
    notional = rules.notional(price_ticks, qty_steps)
    if quote > notional:
        raise FeeError(
            f"fee {fee} {fee_asset} (= {quote} {rules.quote_asset}) exceeds the trade notional {notional}"
        )
    return ConvertedFee(quote, base)


def fifo_take(lots: Lots, qty: int) -> tuple[Lots, int]:
    """Remove ``qty`` steps from the oldest lots; returns the remaining lots and the cost taken (tick-steps).

    Taking more than the lots hold takes everything there is (the caller checks quantities).
    """
    cost = 0
    rest = list(lots)
    while qty > 0 and rest:
        steps, price = rest[0]
        take = min(steps, qty)
        cost += take * price
        qty -= take
        if take == steps:
            rest.pop(0)
        else:
            rest[0] = (steps - take, price)
    return tuple(rest), cost


def fifo_cost(lots: Lots, qty: int) -> int:
    """Cost (tick-steps) of the oldest ``qty`` steps of ``lots`` without removing them."""
    return fifo_take(lots, qty)[1]


def money(rules: SymbolRules, tick_steps: int) -> Decimal:
    """A tick-step amount (price ticks x quantity steps) in the quote asset."""
    return rules.tick_size * rules.step_size * tick_steps


def unrealized(held: int, lots: Lots, mark_ticks: int, rules: SymbolRules) -> Decimal:
    """Unrealized PnL of ``held`` steps valued at ``mark_ticks`` against their FIFO cost (fees excluded)."""
    return money(rules, held * mark_ticks - fifo_cost(lots, held))


@dataclass(frozen=True, slots=True)
class PnlLedger:
    """Running totals over closed round trips: realized PnL, gross and fees kept apart."""

    realized: Decimal = ZERO  # gross - fees
    gross: Decimal = ZERO  # proceeds - cost
    fees: Decimal = ZERO  # quote-converted fees of closed round trips
    round_trips: int = 0
    wins: int = 0
    losses: int = 0

    def add(self, proceeds: Decimal, cost: Decimal, fees: Decimal) -> PnlLedger:
        """The ledger after one more closed round trip."""
        gross = proceeds - cost
        realized = gross - fees
        return PnlLedger(
            realized=self.realized + realized,
            gross=self.gross + gross,
            fees=self.fees + fees,
            round_trips=self.round_trips + 1,
            wins=self.wins + (realized > 0),
            losses=self.losses + (realized < 0),
        )
