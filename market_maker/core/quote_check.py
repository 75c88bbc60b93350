"""Is a market price believable? The last line of defence between a stream frame and the grid.

The stream's parser already drops what no market could show (a crossed or one-sided book, a price off
the tick lattice or outside the symbol's price filter, a candle whose high is below its low). What is
left can still be absurd *for this market now*: one frame at 1 % of the price, or at a hundred times
it. The rule:

- The first believable price becomes the *trusted* price; every accepted price replaces it.
- A price further than ``max_jump_bps`` (basis points, of the trusted price) from it is dropped.
- A real gap is not refused for ever: once ``confirm_quotes`` dropped prices in a row agree with one
  another (each within ``max_jump_bps`` of the first of them), that level is believed and trusted.
- ``stale_after`` dropped prices in a row make the feed *stale*: the shell tells the risk monitor,
  whose stale-data rule cancels working buys until a believable price arrives again.
- A closed candle is believed when its close is within ``max_jump_bps`` of the trusted price (or none
  is trusted yet); it never moves the trusted price (candles lag the quotes).

Prices are integer ticks; ``max_jump_bps`` 0 turns the distance rule off. Pure and single-threaded:
the shell serialises calls.
"""

from __future__ import annotations

from dataclasses import dataclass

from market_maker.core.model import Candle

BPS = 10_000


@dataclass(frozen=True, slots=True)
class QuoteLimits:
    """How far a price may move between two trusted ones, and what a run of dropped ones means."""

    max_jump_bps: int = 500  # 5 %; 0: no distance rule
    confirm_quotes: int = 20  # dropped prices in a row that agree: a real gap, believed
    stale_after: int = 5  # dropped prices in a row: the feed counts as stale

    def __post_init__(self) -> None:
        if self.max_jump_bps < 0 or self.confirm_quotes < 1 or self.stale_after < 1:
            raise ValueError(f"impossible quote limits {self}")


def _far(price: int, reference: int, bps: int) -> bool:
    """True when ``price`` is more than ``bps`` basis points of ``reference`` away from it."""
    return abs(price - reference) * BPS > bps * reference


class QuoteCheck:
    """The trusted price and the run of dropped ones (see the module doc)."""

    def __init__(self, limits: QuoteLimits | None = None) -> None:
        self.limits = limits or QuoteLimits()
        self.trusted: int | None = None
        self.dropped_run = 0  # prices dropped in a row
        self._candidate = 0  # the level a run of far prices agrees on (0: none)
        self._agreeing = 0

    @property
    def stale(self) -> bool:
        """True while the last ``stale_after`` prices were all dropped."""
        return self.dropped_run >= self.limits.stale_after

    def price(self, price: int) -> str:
        """ "" when ``price`` (ticks, > 0) is believable, and it becomes the trusted price; otherwise why
        it was dropped (counted in :attr:`dropped_run`)."""
        bps = self.limits.max_jump_bps
        if price <= 0:
            return self.drop(f"price {price} ticks is not positive")
        trusted = self.trusted
        if bps and trusted is not None and _far(price, trusted, bps):
            if self._candidate and not _far(price, self._candidate, bps):
                self._agreeing += 1
            else:
                self._candidate, self._agreeing = price, 1
            if self._agreeing < self.limits.confirm_quotes:
                return self.drop(
                    f"price {price} ticks is more than {bps / 100:g}% from the trusted {trusted} ticks"
                )
        self.trusted = price
        self.dropped_run = self._candidate = self._agreeing = 0
        return ""

    def candle(self, candle: Candle) -> str:
        """ "" when a closed candle is believable; otherwise why it was dropped (it counts in the run)."""
        bps = self.limits.max_jump_bps
        trusted = self.trusted
        if bps and trusted is not None and _far(candle.close, trusted, bps):
            return self.drop(
                f"candle close {candle.close} ticks is more than {bps / 100:g}% from the trusted"
                f" {trusted} ticks"
            )
        return ""

    def drop(self, reason: str) -> str:
        """Count one dropped price (the parser's refusals too) and return ``reason``."""
        self.dropped_run += 1
        return reason
