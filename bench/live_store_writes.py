"""Where the tick-to-order time goes: the cost of the slot manager's store writes (SQLite, prepared
sqlite3 statements since the store left peewee's query building) against the number of slots in the
book, one thread, no actors. ``intent_commit_as_slot_manager_us`` is the commit before an order as the
slot manager makes it now (intent row + the changed slot against the book it saved last).

Every decision that places or cancels commits the changed slot through ``Store.save_book`` before the
request goes out (the intent row too for a placement), and every exchange answer and user-stream
event commits again; the profile of the live benchmarks (py-spy) puts most of the slot manager's time
here. This prints the median cost of each write for books of 10, 300 and 1 000 slots.

    python bench/live_store_writes.py
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from live_support import RESULTS, command_line, machine  # noqa: E402

from market_maker.core.ids import encode  # noqa: E402
from market_maker.core.model import OrderSnapshot, OrderStatus, Side  # noqa: E402
from market_maker.core.slots import Slot, SlotBook  # noqa: E402
from market_maker.store import Store, open_store  # noqa: E402

REPEAT = 300


def _median_us(fn: Callable[[int], object], repeat: int = REPEAT) -> float:
    times = []
    for i in range(repeat):
        t = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t)
    return round(1e6 * statistics.median(times), 1)


def measure(store: Store, n: int) -> dict[str, float]:
    """Median microseconds of each write with ``n`` slots stored."""
    book = SlotBook("bench", {lv: Slot(lv) for lv in range(1000, 1000 + n)})
    store.save_book(book)

    def intent(i: int) -> None:
        level = 1000 + i % n
        with store.atomic():
            store.record_intent(encode("bench", level, Side.BUY, i), level, Side.BUY, level, 100, i)
            store.save_book(book, [1000 + i % n])

    def ack(i: int) -> None:
        cid = encode("bench", 1000 + i % n, Side.BUY, i)
        snap = OrderSnapshot(cid, i + 1, Side.BUY, 1000 + i % n, 100, 0, OrderStatus.NEW, i)
        with store.atomic():
            store.record_order(snap, i)
            store.save_book(book, [1000 + i % n])

    # What the slot manager does now: the intent and only the slot that changed against the book it
    # saved last (save_book_diff), built before timing (a transition replaces one slot object).
    books = [book]
    for i in range(REPEAT):
        lv = 1000 + i % n
        books.append(SlotBook("bench", {**books[-1].slots, lv: Slot(lv)}, next_gen=i + 1))

    def intent_diff(i: int) -> None:
        level = 1000 + i % n
        with store.atomic():
            store.record_intent(encode("bench", level, Side.BUY, 10_000 + i), level, Side.BUY, level, 100, i)
            store.save_book_diff(books[i], books[i + 1])

    return {
        "intent_commit_as_slot_manager_us": _median_us(intent_diff),
        "save_book_one_slot_us": _median_us(lambda i: store.save_book(book, [1000 + i % n])),
        "intent_commit_us": _median_us(intent),
        "ack_commit_us": _median_us(ack),
        "empty_transaction_us": _median_us(lambda i: _empty(store)),
    }


def _empty(store: Store) -> None:
    with store.atomic():
        pass


def main() -> int:
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (10, 300, 1000):
            store = open_store(str(Path(tmp) / f"s{n}.sqlite"), "bench", "BTCUSDT")
            try:
                rows[n] = measure(store, n)
            finally:
                store.close()
            print(f"{n:5d} slots: " + ", ".join(f"{k} {v:.0f}" for k, v in rows[n].items()), flush=True)
    doc = {
        "benchmark": "slot manager store writes (SQLite WAL, prepared sqlite3 statements) by book size, us",
        "command": command_line(),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "by_slots": rows,
        "machine": machine(),
    }
    (RESULTS / "live_store_writes.json").write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
