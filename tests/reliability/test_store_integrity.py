"""A damaged or emptied store is refused before the first order (issue 19 item 2).

The bot trades against the simulator (a subprocess, venue binance at loopback), is SIGKILLed, and its
SQLite file is then damaged the ways an outside harness found it trusted: random bytes in the middle of
the file, a dropped table, a slot in a state no code knows, book totals that do not add up, and a file
emptied to 0 bytes while the venue still holds the bot's orders. Each start is refused with exit 4 and
exactly one ``error:`` line naming the problem and the fix, no traceback, and no order moves; an emptied
store starts with ``run --adopt`` and takes the orders over.
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from test_crash_simple_support import CrashRig, start_bot, tail

from market_maker.exit_codes import EXIT_UNSAFE


def _trading_then_killed(tmp_path: Path) -> tuple[CrashRig, list[str]]:
    """A rig whose bot placed its three buys and was then SIGKILLed; the buys' client ids."""
    rig = CrashRig(tmp_path, seed=5)
    rig.start()

    def three_buys() -> bool:
        rig.sim.control.set_price("BTCUSDT", "100000")  # again until the market stream is up
        return len(rig.own_open()) == 3

    def stored_locked() -> int:
        db = sqlite3.connect(f"file:{rig.database}?mode=ro", uri=True)
        try:
            return int(db.execute("SELECT count(*) FROM slot WHERE doc LIKE '%\"LOCKED\"%'").fetchone()[0])
        finally:
            db.close()

    rig.wait(three_buys, 60, "three buys")
    # the venue has them before the bot has stored their acks: kill only once the store says LOCKED too
    # (the damage below rewrites LOCKED slots; on a busy box a store still saying PENDING had none)
    rig.wait(lambda: stored_locked() == 3, 60, "the three buys stored as LOCKED")
    rig.kill()
    return rig, sorted(o["clientOrderId"] for o in rig.own_open())


def _sql(database: Path, *statements: str) -> None:
    db = sqlite3.connect(database, isolation_level=None)
    try:
        for statement in statements:
            db.execute(statement)
    finally:
        db.close()


def _random_page(database: Path) -> None:
    """4 KiB of random bytes over a page in the middle of the file (its WAL folded in first)."""
    _sql(database, "PRAGMA wal_checkpoint(TRUNCATE)")
    size = database.stat().st_size
    page = 4096
    with database.open("r+b") as f:
        f.seek((size // page // 2) * page)
        f.write(random.Random(7).randbytes(page))


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "random-bytes": (_random_page, "is damaged"),
    "dropped-table": (lambda db: _sql(db, "DROP TABLE fill"), "table fill missing"),
    "unknown-slot-state": (
        lambda db: _sql(db, "UPDATE slot SET doc = replace(doc, '\"LOCKED\"', '\"HOVERING\"')"),
        "slot",
    ),
    "book-totals": (
        lambda db: _sql(db, "UPDATE book SET buy_working_total = buy_working_total + 7"),
        "book totals",
    ),
}


def _refused_once(rig: CrashRig, before: list[str], word: str, args: tuple[str, ...] = ()) -> str:
    """Start the bot on the damaged store: exit 4, one ``error:`` line with ``word`` and the fix, no
    traceback, the venue's orders as they were. The error line."""
    mark = len(rig.log.read_text(errors="replace"))
    proc = start_bot(rig.config, rig.log, args=args)
    try:
        code = proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()  # a bot that did not refuse must not outlive the test
        proc.wait()
        raise
    out = rig.log.read_text(errors="replace")[mark:]
    errors = [x for x in out.splitlines() if x.startswith("error:")]
    assert code == EXIT_UNSAFE and len(errors) == 1, f"exit {code}:\n{out[-3000:]}"
    assert word in errors[0] and "Traceback" not in out, out[-3000:]
    assert sorted(o["clientOrderId"] for o in rig.own_open()) == before, "a refused start moved orders"
    assert "placing" not in out, out[-3000:]
    return errors[0]


@pytest.mark.slow
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_store_is_refused_with_exit_4_naming_the_problem_and_the_fix(
    tmp_path: Path, damage: str
) -> None:
    rig, before = _trading_then_killed(tmp_path)
    try:
        hurt, word = DAMAGE[damage]
        hurt(rig.database)
        line = _refused_once(rig, before, word)
    finally:
        rig.close()
    assert "restore the database" in line, line


@pytest.mark.slow
def test_an_emptied_store_facing_own_orders_is_refused_unless_adopted(tmp_path: Path) -> None:
    rig, before = _trading_then_killed(tmp_path)
    try:
        for p in tmp_path.glob("bot.sqlite*"):
            p.write_bytes(b"")  # a 0-byte file: a new, empty store
        line = _refused_once(rig, before, "3 open order(s) of bot crash")
        assert "--adopt" in line, line
        rig.proc = start_bot(rig.config, rig.log, args=("--adopt",))
        rig.wait(lambda: "adopted" in rig.log.read_text(errors="replace"), 90, "the orders adopted")
        rig.check("after adopting", timeout_s=60)
        code = rig.stop()
    finally:
        rig.close()
    assert code == 0, tail(rig.log)
    assert rig.tally.violations == [], "\n".join(rig.tally.violations[:20])
