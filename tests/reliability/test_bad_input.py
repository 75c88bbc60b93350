"""Bad input: hostile configs through the CLI, hostile and replayed stream frames into a trading bot,
and a corrupted database file.

- Configs: YAML documents built from the shipped default with values, keys and shapes replaced by
  hostile ones go through ``check-config`` and ``run``: exit 0 (valid) or 2 with one-line ``error:``
  messages, never a traceback.
- Frames: while the Simple-engine bot trades (a subprocess against the simulator), its user-data and
  market streams also carry garbage (not JSON, wrong types, missing fields, huge numbers, NaN, unknown
  event types) and every real user-data frame again, duplicated and in reverse order. No actor dies,
  and every fill is stored exactly once (the invariants of test_crash_simple).
- Hostile values (YAML nested beyond the parser, a 5000-digit number, a NUL or a 100 000-character
  database path, a log directory that cannot be created, a binary replay file): one short line each and
  exit 2 from ``check-config`` and ``run``.
- A corrupted database: the bot refuses to start with one error line and a non-zero exit, and places
  no order (damaged tables and emptied stores: test_store_integrity.py).
- Impossible quotes (negative, zero, beyond maxPrice, crossed, off the tick, far from the trusted price)
  move no order; a run of crossed ones makes the feed stale and the buys are cancelled.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_crash_simple_support import KEY, CrashRig, finish, start_bot, tail

from market_maker.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = yaml.safe_load((ROOT / "config" / "default.yaml").read_text())

hostile = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["NaN", "-inf", "1e999999", "0", "-0.0", "0x10", "", " ", "\x00", "../../etc/passwd"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@st.composite
def configs(draw: st.DrawFn) -> Any:
    """The default config with a few values replaced, keys added or dropped, or sections reshaped."""
    data = json.loads(json.dumps(DEFAULT))
    for _ in range(draw(st.integers(1, 4))):
        section = draw(st.sampled_from([*sorted(data), "junk"]))
        what = draw(st.sampled_from(["value", "add", "drop", "reshape"]))
        body = data.get(section)
        if what == "reshape" or not isinstance(body, dict):
            data[section] = draw(hostile)
        elif what == "drop" and body:
            body.pop(draw(st.sampled_from(sorted(body))))
        elif what == "add":
            body[draw(st.text(min_size=1, max_size=8))] = draw(hostile)
        elif body:
            body[draw(st.sampled_from(sorted(body)))] = draw(hostile)
    return data


_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z (INFO|WARNING) ")  # run's log (e.g. the fee warning)


def _errors_are_one_line_each(err: str) -> None:
    assert "Traceback" not in err, err
    lines = [x for x in err.splitlines() if x.strip() and not _LOG_LINE.match(x)]
    assert lines, "exit 2 without saying why"
    assert all(x.startswith(("error:", "warning:")) for x in lines), err


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=configs())
def test_hostile_configs_exit_0_or_2_with_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: Any
) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    capsys.readouterr()
    code = main(["check-config", str(path)])
    err = capsys.readouterr().err
    assert code in (0, 2), f"check-config exited {code}: {err}"
    if code == 2:
        _errors_are_one_line_each(err)
        assert main(["run", "--config", str(path)]) == 2  # the same refusal before anything starts
        _errors_are_one_line_each(capsys.readouterr().err)


UNPARSABLE = ["trading: [1, 2", "\x00\x01binary", "- a\n- b\n", "trading:\n  symbol: *x\n"]


@pytest.mark.parametrize("text", UNPARSABLE, ids=["unclosed", "binary", "a-list", "bad-alias"])
def test_unparsable_yaml_is_exit_2_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    _errors_are_one_line_each(err)
    assert "broken.yaml" in err


def _hostile_files(tmp: Path) -> dict[str, tuple[str, str]]:
    """name -> (YAML text, a word the one error line must hold)."""
    blocker = tmp / "a-file"
    blocker.write_text("not a directory")
    kline = tmp / "klines.csv"
    kline.write_bytes(b"\x95\xff\x00binary" * 100)
    return {
        "deep-yaml": ("trading: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        "deep-mapping": (
            "junk:\n" + "".join("  " * (i + 1) + "a:\n" for i in range(3500)) + "  " * 3501 + "b: 1\n",
            "nested too deeply",
        ),
        "5000-digit-int": ("trading:\n  price_interval: " + "9" * 5000 + "\n", "trading.price_interval"),
        "nul-in-database": ('engine:\n  database: "' + str(tmp / "a\\0b.sqlite") + '"\n', "NUL"),
        "100000-char-database": ("engine:\n  database: /tmp/" + "x" * 100_000 + "\n", "at most 4096"),
        "uncreatable-log-dir": (f"ops:\n  log_file: {blocker}/logs/bot.log\n", "ops.log_file"),
        "binary-replay-file": (f"sim:\n  replay_file: {kline}\n", str(kline)),
    }


HOSTILE_FILES = [
    "deep-yaml",
    "deep-mapping",
    "5000-digit-int",
    "nul-in-database",
    "100000-char-database",
    "uncreatable-log-dir",
    "binary-replay-file",
]


@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_hostile_values_are_one_short_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    text, word = _hostile_files(tmp_path)[name]
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    capsys.readouterr()
    verbs = [["run", "--config", str(path), "--for", "1"]]
    if name != "binary-replay-file":  # check-config reads no kline file (the simulator does)
        verbs.insert(0, ["check-config", str(path)])
    for verb in verbs:
        code = main(verb)
        err = capsys.readouterr().err
        assert code == 2, f"{verb[0]} exited {code}: {err[-2000:]}"
        _errors_are_one_line_each(err)
        assert word in err and all(len(line) < 400 for line in err.splitlines()), err[:2000]


# --- hostile frames ---------------------------------------------------------------------------------

GARBAGE_EVENTS: list[Any] = [
    {"e": "executionReport"},  # every field missing
    {"e": "executionReport", "s": "BTCUSDT", "c": 12, "S": ["BUY"], "x": None, "X": 7, "i": "x"},
    {
        "e": "executionReport",
        "s": "BTCUSDT",
        "c": "crash_B1_1",
        "S": "BUY",
        "x": "TRADE",
        "X": "FILLED",
        "i": 10**30,
        "l": "NaN",
        "z": "1e400",
        "L": "-inf",
        "n": "NaN",
        "N": "BTC",
        "t": -1,
        "T": "soon",
    },
    {
        "e": "executionReport",
        "s": "BTCUSDT",
        "c": "foreign_order",
        "S": "SELL",
        "x": "TRADE",
        "X": "FILLED",
        "i": 1,
        "l": "1",
        "z": "1",
        "L": "100000",
        "n": "0",
        "N": "USDT",
        "t": 99999999,
        "T": 0,
        "q": "1",
    },
    {"e": "outboundAccountPosition", "B": "not a list"},
    {"e": "balanceUpdate", "a": "USDT", "d": "9" * 400},
    {"e": "someEventNobodyKnows", "x": {"deep": [1, 2, {"deeper": None}]}},
    {"e": None},
    [],
    "string",
    12,
]
GARBAGE_TEXT = [
    "",
    "not json",
    "{",
    "null",
    "[]",
    '{"subscriptionId": "x"}',
    "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    "9" * 5000,
]
GARBAGE_MARKET: list[Any] = [
    {"e": "bookTicker", "s": "BTCUSDT", "b": "NaN", "a": "NaN", "u": 1},
    {"u": 2, "s": "BTCUSDT", "b": "-5", "B": "1", "a": "1e400", "A": "x"},
    {"u": 3, "s": "BTCUSDT", "b": "-5", "B": "1", "a": "1", "A": "1"},  # a negative quote
    {"u": 4, "s": "BTCUSDT", "b": "0", "B": "1", "a": "0", "A": "1"},  # a zero quote
    {"e": "kline", "s": "BTCUSDT", "k": {"t": "x", "o": None, "c": "inf", "x": "yes"}},
    {"e": "trade", "s": "BTCUSDT", "p": "1" * 300, "q": "-1"},
    {"stream": "nope", "data": None},
    {"e": "depthUpdate", "b": [["x"]], "a": 5},
]


class Tap:
    """Records the real user-data frames the simulator sends the bot, and injects hostile ones."""

    def __init__(self, rig: CrashRig) -> None:
        self.control: Any = rig.sim.control
        self.frames: list[str] = []
        self.lock = threading.Lock()
        self.injected = 0

    def _conns(self, kind: str) -> list[Any]:
        return [c for c in self.control._v.hub.conns if c.kind == kind]  # test-only: the sim's sockets

    def record(self) -> None:
        """Wrap the send of the bot's user-data connections (again after a reconnect)."""

        def wrap() -> None:
            for c in self._conns("ws-api"):
                if c.account == KEY and not getattr(c, "_tapped", False):
                    send = c.send

                    def tapped(text: str, send: Any = send) -> None:
                        if '"event"' in text:
                            with self.lock:
                                self.frames.append(text)
                        send(text)

                    c.send, c._tapped = tapped, True

        self.control._run(wrap)

    def inject(self, rng: random.Random) -> None:
        """One burst: garbage on both streams, then recorded frames duplicated and out of order."""
        with self.lock:
            replay = list(self.frames[-20:])
        rng.shuffle(replay)

        def go() -> None:
            for c in self._conns("ws-api"):
                if c.account != KEY or c.sub_id is None:
                    continue
                for ev in GARBAGE_EVENTS:
                    c.send(json.dumps({"subscriptionId": c.sub_id, "event": ev}))
                for text in GARBAGE_TEXT:
                    c.send(text)
                for text in replay + replay[::-1]:  # duplicated and out of order
                    c.send(text)
            for c in self._conns("market"):
                for ev in GARBAGE_MARKET:
                    c.send(json.dumps(ev))
                for text in GARBAGE_TEXT:
                    c.send(text)

        self.control._run(go)
        self.injected += len(GARBAGE_EVENTS) + len(GARBAGE_TEXT) + 2 * len(replay) + len(GARBAGE_MARKET)


@pytest.mark.slow
def test_hostile_duplicated_and_reordered_frames_lose_and_double_nothing(tmp_path: Path) -> None:
    rig = CrashRig(tmp_path, seed=21)
    tap = Tap(rig)
    try:
        rig.start()
        tap.record()

        def during(n: int) -> None:
            if n % 10 == 0:
                tap.record()
            if n % 25 == 24:
                tap.inject(rig.rng)

        rig.trade(8.0, during=during)
        rig.check("after hostile frames", timeout_s=60)
        finish(rig, "trading on after hostile frames")
        text = rig.log.read_text(errors="replace")
    finally:
        rig.close()
    assert rig.tally.violations == [], "\n".join(rig.tally.violations[:20])
    assert tap.injected > 100 and len(tap.frames) > 10, (tap.injected, len(tap.frames))
    assert "actor died" not in text, tail(rig.log, 80)
    # an unreadable user event is one line and a resync, never a traceback or a slow stop
    assert "event dropped, reconciling from REST" in text and "Traceback" not in text, tail(rig.log, 80)
    assert "did not stop within" not in text, tail(rig.log, 80)


# --- a corrupted database -----------------------------------------------------------------------------


def _refused(rig: CrashRig, code: int, orders: list[Any], word: str) -> None:
    """Exit non-zero with exactly one ``error:`` line containing ``word``, no traceback, no order."""
    out = rig.log.read_text(errors="replace")
    errors = [x for x in out.splitlines() if x.startswith("error:")]
    assert code != 0 and len(errors) == 1, out[-2000:]
    assert word in errors[0] and "Traceback" not in out, out[-2000:]
    assert orders == [], "a bot that cannot use its database traded anyway"


CORRUPT = [b"SQLite format 3\x00" + b"\xff" * 4000, b"this is not a database\n" * 50]


@pytest.mark.parametrize("content", CORRUPT, ids=["sqlite-header-then-garbage", "text-file"])
def test_a_corrupted_database_is_a_one_line_refusal_and_no_order(tmp_path: Path, content: bytes) -> None:
    rig = CrashRig(tmp_path)
    try:
        rig.database.write_bytes(content)
        proc = start_bot(rig.config, rig.log)
        code = proc.wait(timeout=120)
        orders = rig.sim.control.open_orders(KEY)
    finally:
        rig.close()
    _refused(rig, code, orders, "bot.sqlite")


@pytest.mark.slow
def test_a_database_locked_by_another_process_is_a_one_line_refusal_and_no_order(tmp_path: Path) -> None:
    rig = CrashRig(tmp_path)
    holder = sqlite3.connect(rig.database, isolation_level=None)
    try:
        holder.execute("CREATE TABLE other (x)")
        holder.execute("BEGIN EXCLUSIVE")  # another program holds the file (not a bot's lock row)
        proc = start_bot(rig.config, rig.log)
        code = proc.wait(timeout=180)
        orders = rig.sim.control.open_orders(KEY)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        rig.close()
    _refused(rig, code, orders, "locked")


def _three_buys(rig: CrashRig) -> bool:
    """Quote the market at 100 000 (again until the market stream is up); True once the grid's three
    buys work."""
    rig.sim.control.set_price("BTCUSDT", "100000")
    return len(rig.own_open()) == 3


def _logged_placing(rig: CrashRig, client_ids: list[str]) -> bool:
    """True once the bot's log holds the ``placing`` line of each of ``client_ids`` (its last INFO line
    about an order that rests: the acknowledgement is logged at DEBUG)."""
    placing = [x for x in rig.log.read_text(errors="replace").splitlines() if "placing" in x]
    return all(any(f"({c})" in x for x in placing) for c in client_ids)


def _send_market(rig: CrashRig, frames: list[Any]) -> None:
    """Send ``frames`` on every market-stream socket of the simulator, as they are."""
    control: Any = rig.sim.control
    texts = [json.dumps(f) for f in frames]
    control._run(lambda: [c.send(t) for c in control._v.hub.conns if c.kind == "market" for t in texts])


@pytest.mark.slow
@pytest.mark.parametrize(
    "quote",
    [
        {"u": 5, "s": "BTCUSDT", "b": "-5", "B": "1", "a": "1", "A": "1"},
        {"u": 6, "s": "BTCUSDT", "b": "0", "B": "1", "a": "0", "A": "1"},
        {"u": 7, "s": "BTCUSDT", "b": "1e12", "B": "1", "a": "1e12", "A": "1"},
        {"u": 8, "s": "BTCUSDT", "b": "200040", "B": "1", "a": "1", "A": "1"},  # crossed, mid +20
        {"u": 9, "s": "BTCUSDT", "b": "100000.001", "B": "1", "a": "100000.02", "A": "1"},
        {"u": 10, "s": "BTCUSDT", "b": "150000", "B": "1", "a": "150000.01", "A": "1"},  # +50 %
    ],
    ids=["negative", "zero", "beyond-max-price", "crossed", "off-tick", "far-from-trusted"],
)
def test_an_impossible_quote_moves_no_order(tmp_path: Path, quote: dict[str, Any]) -> None:
    rig = CrashRig(tmp_path, seed=3)
    try:
        rig.start()
        rig.wait(lambda: _three_buys(rig), 60, "three buys")
        before = sorted(o["clientOrderId"] for o in rig.own_open())
        # the log is written by its own thread, behind the orders: mark it once it caught up with them
        rig.wait(lambda: _logged_placing(rig, before), 60, "the three buys logged")
        mark = len(rig.log.read_text(errors="replace"))
        _send_market(rig, [quote])
        time.sleep(2.0)  # nothing may happen: there is nothing to wait for
        after = sorted(o["clientOrderId"] for o in rig.own_open())
        later = rig.log.read_text(errors="replace")[mark:]
        finish(rig, "after the impossible quote")
    finally:
        rig.close()
    assert after == before, f"an impossible quote {quote} moved orders:\n{later[-2000:]}"
    assert "cancelling" not in later and "placing" not in later, later[-2000:]
    assert "market data dropped" in later, later[-2000:]


@pytest.mark.slow
def test_a_run_of_crossed_quotes_makes_the_feed_stale_and_cancels_the_buys(tmp_path: Path) -> None:
    rig = CrashRig(tmp_path, seed=4)
    crossed = {"u": 11, "s": "BTCUSDT", "b": "200000", "B": "1", "a": "1", "A": "1"}
    try:
        rig.start()
        rig.wait(lambda: _three_buys(rig), 60, "three buys")
        _send_market(rig, [crossed] * 5)  # risk.stale_after_dropped_quotes
        rig.wait(lambda: not any(o["side"] == "BUY" for o in rig.own_open()), 60, "the buys cancelled")
        rig.wait(lambda: _three_buys(rig), 60, "three buys again once believable quotes return")
        text = rig.log.read_text(errors="replace")
        finish(rig, "after the crossed quotes")
    finally:
        rig.close()
    assert "market data stale: 5 frames dropped in a row" in text, text[-2000:]
