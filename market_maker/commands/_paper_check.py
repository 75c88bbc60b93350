"""Paper mode's closing check: the database holds every fill the simulator reports for the account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from market_maker.core.model import Market


@dataclass(frozen=True, slots=True)
class PaperCheck:
    """Trade ids the simulator reports for the account vs. those stored."""

    venue_trades: int
    stored_fills: int
    missing: tuple[int, ...]  # on the venue, not in the store
    extra: tuple[int, ...]  # in the store, not on the venue

    @property
    def ok(self) -> bool:
        """True when both sides hold exactly the same trades."""
        return not self.missing and not self.extra

    def line(self) -> str:
        """One readable line for the log."""
        if self.ok:
            return f"paper check: the database holds all {self.venue_trades} fills the simulator reports"
        return (
            f"paper check FAILED: simulator {self.venue_trades} fills, database {self.stored_fills}; "
            f"missing {list(self.missing)[:10]}, extra {list(self.extra)[:10]}"
        )


def compare_fills(
    venue_rows: list[dict[str, Any]], stored_trade_ids: list[int], market: Market
) -> PaperCheck:
    """Compare the simulator's trade log rows (control ``trades`` view) with the stored trade ids."""
    venue = sorted(int(r["id"]) for r in venue_rows if r.get("market", market.value) == market.value)
    stored = sorted(stored_trade_ids)
    vs, ss = set(venue), set(stored)
    return PaperCheck(len(venue), len(stored), tuple(sorted(vs - ss)), tuple(sorted(ss - vs)))
