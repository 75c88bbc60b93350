"""The cleanup's choice of orders to cancel: stale outside the window, then the open-order cap."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from market_maker.core.actions import Place
from market_maker.core.grid import GridParams, grid_window
from market_maker.core.model import Side
from market_maker.core.slots import SlotBook, ack, submit
from market_maker.runtime.cleanup_rules import cleanup_cancels

PARAMS = GridParams(buy_window=3, sell_window=3, order_qty=100, max_inventory=10_000)
WIN = grid_window(10_000_000, 1000, 0, PARAMS)  # center 100000.00, buys 99970..99990


def _book(levels: list[int]) -> tuple[SlotBook, dict[str, int]]:
    book = SlotBook("t1")
    sent = {}
    for i, level in enumerate(levels):
        book, cid = submit(book, Place(level, Side.BUY, level, 100))
        book = ack(book, cid)
        sent[cid] = i * 1000  # placed one second apart
    return book, sent


def test_old_orders_outside_the_window_go_and_old_ones_inside_stay() -> None:
    book, sent = _book([9_996_000, 9_997_000, 9_998_000, 9_999_000])  # 99960 is one level below
    out = cleanup_cancels(book, WIN, sent, now_ms=60_000, stale_after_ms=10_000, max_open_orders=50)
    assert [(book.find(cid).level, why.split(":")[0]) for cid, why in out] == [(9_996_000, "stale")]  # type: ignore[union-attr]
    assert cleanup_cancels(book, WIN, sent, now_ms=5_000, stale_after_ms=10_000, max_open_orders=50) == []


@given(
    st.lists(st.integers(9_980_000 // 1000, 9_999_000 // 1000), min_size=1, max_size=20, unique=True),
    st.integers(2, 10),
)
def test_the_cap_cancels_the_buys_farthest_from_the_center(levels: list[int], cap: int) -> None:
    book, sent = _book([lv * 1000 for lv in levels])
    out = cleanup_cancels(book, WIN, sent, now_ms=0, stale_after_ms=10_000, max_open_orders=cap)
    cancelled = {book.find(cid).level for cid, _ in out}  # type: ignore[union-attr]
    kept = {s.level for s in book} - cancelled
    assert len(kept) == min(cap, len(levels))
    if cancelled and kept:
        assert min(kept) > max(cancelled)  # the farthest below the center went first
    assert len(out) == max(len(levels) - cap, 0)
