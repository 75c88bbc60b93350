"""Paper mode's closing check: every fill the simulator made up to the bot's stop is in the database;
fills after it (orders left open while the simulator still runs) are the next start's, and say so."""

from __future__ import annotations

from market_maker.commands._paper_check import compare_fills
from market_maker.core.model import Market


def _rows(*id_time: tuple[int, int]) -> list[dict[str, object]]:
    return [{"id": i, "time": t, "market": "spot"} for i, t in id_time]


def test_all_fills_stored_passes() -> None:
    check = compare_fills(_rows((1, 100), (2, 200)), [1, 2], Market.SPOT, until_ms=300)
    assert check.ok
    assert check.line() == "paper check: the database holds all 2 fills the simulator reports"


def test_a_fill_before_the_stop_missing_from_the_database_fails() -> None:
    check = compare_fills(_rows((1, 100), (2, 200)), [1], Market.SPOT, until_ms=300)
    assert not check.ok and check.missing == (2,)
    assert "FAILED" in check.line() and "missing [2]" in check.line()


def test_a_fill_after_the_stop_is_left_for_the_next_start() -> None:
    check = compare_fills(_rows((1, 100), (2, 400)), [1], Market.SPOT, until_ms=300)
    assert check.ok and check.later == 1
    assert check.line() == (
        "paper check: the database holds all 1 fills the simulator reports;"
        " 1 more after the bot stopped, for the next start to reconcile"
    )


def test_without_a_stop_time_every_fill_counts() -> None:
    # the stop could not read the venue: nothing is excused
    check = compare_fills(_rows((1, 100), (2, 400)), [1], Market.SPOT, until_ms=None)
    assert not check.ok and check.missing == (2,)


def test_a_stored_fill_the_venue_never_made_fails() -> None:
    check = compare_fills(_rows((1, 100)), [1, 9], Market.SPOT, until_ms=300)
    assert not check.ok and check.extra == (9,)


def test_the_other_market_is_not_counted() -> None:
    rows = [*_rows((1, 100)), {"id": 5, "time": 100, "market": "usdm"}]
    assert compare_fills(rows, [1], Market.SPOT, until_ms=300).ok
