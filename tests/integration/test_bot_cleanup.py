"""Cleanup on the simulator: an order the trailing rule keeps is never cancelled for its age.

The stale-order cleanup is a backstop (``market_maker/core/cleanup.py``): it cancels only old orders the
trailing rule would cancel too. A buy one level below the buy window sits in the trailing rule's slack
band on purpose (the price is about to come back to it); the cleanup used to cancel it once it was
older than the stale age, just before it could fill. Which orders it does cancel is proven against the
strategy in tests/unit/test_core_cleanup.py.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

from invariants import bot_run

STALE_S, EVERY_S = 0.5, 0.2


def _buys(run) -> list[Decimal]:  # type: ignore[no-untyped-def]
    return sorted(Decimal(o["price"]) for o in run.own_open() if o["side"] == "BUY")


def test_an_old_order_in_the_trailing_slack_band_is_not_cancelled_for_its_age(tmp_path: Path) -> None:
    with bot_run(tmp_path, cleanup={"interval_seconds": EVERY_S, "stale_order_age_seconds": STALE_S}) as run:
        run.price("100000")
        run.price("100015")  # center 100020: window 99990..100010; 99980 is kept by the trailing slack
        assert Decimal("99980") in _buys(run)
        # A negative: let the order grow several times older than the stale age, through several
        # cleanup rounds (a busy box only runs fewer of them, which cannot make this pass wrongly:
        # the old rule cancelled it in the first round after the stale age).
        until = time.monotonic() + STALE_S + 6 * EVERY_S
        run.wait_for(lambda st: time.monotonic() > until, "several cleanup rounds")
        st = run.settle()
        assert _buys(run) == [Decimal("99980"), Decimal("99990"), Decimal("100000"), Decimal("100010")]
        level = run.rules.price_to_ticks("99980")
        assert any(s.level == level and s.working for s in st.book)
        assert not any(o.status == "CANCELED" and o.level == level for o in run.store_orders())
