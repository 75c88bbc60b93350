"""Cleanup on the simulator: stale orders outside the window are cancelled, those inside stay."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from invariants import bot_run


def _buys(run) -> list[Decimal]:  # type: ignore[no-untyped-def]
    return sorted(Decimal(o["price"]) for o in run.own_open() if o["side"] == "BUY")


def test_a_stale_order_outside_the_window_is_cancelled_while_inside_ones_stay(tmp_path: Path) -> None:
    with bot_run(tmp_path, cleanup={"interval_seconds": 0.2, "stale_order_age_seconds": 0.5}) as run:
        run.price("100000")
        run.price("100015")  # center 100020: window 99990..100010; 99980 is kept by the trailing slack
        assert Decimal("99980") in _buys(run)
        # once older than the stale age, the order outside the window goes; the window's orders stay
        run.wait_for(lambda st: all(s.level != run.rules.price_to_ticks("99980") for s in st.book), "cleanup")
        run.settle()
        assert _buys(run) == [Decimal("99990"), Decimal("100000"), Decimal("100010")]
        assert any(
            o.status == "CANCELED" and o.level == run.rules.price_to_ticks("99980")
            for o in run.store_orders()
        )
