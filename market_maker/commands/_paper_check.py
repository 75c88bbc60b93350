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
    later: int = 0  # on the venue after the bot's last look at it (orders left open): the next start's

    @property
    def ok(self) -> bool:
        """True when both sides hold exactly the same trades."""
        return not self.missing and not self.extra

    def line(self) -> str:
        """One readable line for the log."""
        after = f"; {self.later} more after the bot stopped, for the next start to reconcile"
        after = after if self.later else ""
        if self.ok:
            held = self.venue_trades - self.later
            return f"paper check: the database holds all {held} fills the simulator reports{after}"
        return (
            f"paper check FAILED: simulator {self.venue_trades} fills, database {self.stored_fills}; "
            f"missing {list(self.missing)[:10]}, extra {list(self.extra)[:10]}{after}"
        )


def compare_fills(
    venue_rows: list[dict[str, Any]],
    stored_trade_ids: list[int],
    market: Market,
    until_ms: int | None = None,
) -> PaperCheck:
    """Compare the simulator's trade log rows (control ``trades`` view) with the stored trade ids.

    ``until_ms``: the venue time of the stop's last read of the account's trades. A trade after it (an
    order left open goes on filling while the simulator still runs) is not yet the database's to hold.
    """
    mine = [r for r in venue_rows if r.get("market", market.value) == market.value]
    venue = sorted(int(r["id"]) for r in mine)
    stored = sorted(stored_trade_ids)
    vs, ss = set(venue), set(stored)
    later = {int(r["id"]) for r in mine if until_ms is not None and int(r["time"]) > until_ms} - ss
    missing = vs - ss - later
    return PaperCheck(len(venue), len(stored), tuple(sorted(missing)), tuple(sorted(ss - vs)), len(later))
