"""How much slower the same small piece of work is when it runs after the thread slept, as a tick does.

At 25 ticks/s the bot sleeps ~40 ms between decisions, so every piece of the tick-to-order path runs
"cold": its code and data are no longer in the CPU's caches, and the first system call after the sleep
is slow. This measures that factor on the box for a few pieces the path is made of, each run right after
a sleep of ``gap`` (median of ``--n`` tries), pinned to one CPU as the bot is (``bot.cpu``):

- one system call (``getppid``): the first after the sleep, and the one after it;
- pure Python (``sum(range(200))``, no allocation, no system call);
- a 130-byte market-data frame through ``json.loads``;
- one SQLite write outside a transaction on a WAL database with the store's pragmas (the slot row a
  cancel writes), and one empty ``BEGIN IMMEDIATE`` / ``COMMIT`` through ``Store.atomic`` (peewee) and
  through the ``sqlite3`` connection itself.

    python bench/cold_path.py            # gaps 0 (warm) and 40 ms, 300 tries each
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1])]

from market_maker.store import open_store  # noqa: E402
from market_maker.store.sqlite_writes import SLOT_UPSERT  # noqa: E402

FRAME = b'{"u":400900217,"s":"BTCUSDT","b":"100000.00","B":"31.21","a":"100000.01","A":"40.66"}'


def timed(work: Callable[[], object], gap_s: float, n: int) -> float:
    """Median microseconds of ``work`` run right after sleeping ``gap_s`` (0: back to back)."""
    out = []
    for _ in range(n):
        if gap_s:
            time.sleep(gap_s)
        t0 = time.perf_counter_ns()
        work()
        out.append((time.perf_counter_ns() - t0) / 1000)
    return statistics.median(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=300, help="tries per piece and gap")
    ap.add_argument("--gap-ms", type=float, default=40.0, help="the sleep before each cold try")
    ap.add_argument("--cpu", type=int, default=0, help="pin to this CPU; -1: not pinned")
    args = ap.parse_args()
    if args.cpu >= 0:
        os.sched_setaffinity(0, {args.cpu})
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "cold.sqlite"), "cold", "BTCUSDT")
        conn = store.db.connection()
        ids = iter(range(10**9))

        def second_syscall() -> float:
            os.getppid()
            t0 = time.perf_counter_ns()
            os.getppid()
            return (time.perf_counter_ns() - t0) / 1000

        def empty_atomic() -> None:
            with store.atomic():
                pass

        def raw_tx() -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("COMMIT")

        pieces: list[tuple[str, Callable[[], object]]] = [
            ("first system call (getppid)", os.getppid),
            ("pure Python: sum(range(200))", lambda: sum(range(200))),
            ("json.loads of a bookTicker frame", lambda: json.loads(FRAME)),
            (
                "SQLite: one slot-row upsert, autocommit (a cancel's write)",
                lambda: conn.execute(SLOT_UPSERT, ("cold", "BTCUSDT", next(ids) % 8, "LOCKED", "c", "{}")),
            ),
            ("SQLite: empty transaction through Store.atomic (peewee)", empty_atomic),
            ("SQLite: empty BEGIN IMMEDIATE / COMMIT on the connection", raw_tx),
        ]
        print(f"median of {args.n} tries, us: warm (back to back) | after a {args.gap_ms:g} ms sleep")
        gap = args.gap_ms / 1000
        for name, work in pieces:
            warm, cold = timed(work, 0, args.n), timed(work, gap, args.n)
            print(f"  {name:60s} {warm:7.1f} | {cold:7.1f}  ({cold / warm:4.1f}x)", flush=True)
        seconds = []
        for _ in range(args.n):
            time.sleep(gap)
            seconds.append(second_syscall())
        print(
            f"  {'second system call right after the first, after the sleep':60s}         | "
            f"{statistics.median(seconds):7.1f}"
        )
        store.close()
    print(f"load average {[round(x, 2) for x in os.getloadavg()]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
