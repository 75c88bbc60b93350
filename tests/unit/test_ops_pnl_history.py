"""The PnL series behind the dashboard's chart: sampled at most every few seconds, bounded, exact."""

from __future__ import annotations

from decimal import Decimal

from market_maker.ops.pnl_history import PnlHistory


def test_samples_are_spaced_bounded_and_exact() -> None:
    now = [1000.0]
    h = PnlHistory(every_s=5.0, keep=3, clock=lambda: now[0])
    for i in range(12):  # one call a second for 12 s: samples at 0, 5 and 10 s
        h.add(Decimal("0.1") * i, Decimal("-0.05"), Decimal("0.01"))
        now[0] += 1
    pnl = h.document()["pnl"]
    assert [p["time_ms"] for p in pnl] == [1_000_000, 1_005_000, 1_010_000]
    assert pnl[1] == {"time_ms": 1_005_000, "realized": "0.5", "unrealized": "-0.05", "net": "0.44"}
    for i in range(12, 40):
        h.add(Decimal(i), Decimal(0), Decimal(0))
        now[0] += 1
    assert len(h.document()["pnl"]) == 3  # only the newest are kept
