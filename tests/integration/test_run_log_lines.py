"""Readable output of the default run at INFO: one line per event that matters (order placed, filled,
cancelled, round trip, risk change) plus the heartbeat and a fixed handful of start and stop lines;
prices and quantities in the symbol's units, never ticks; times UTC ISO, never epoch milliseconds; and
a clean stop (Ctrl-C) warns of nothing."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from default_run import DefaultRun

LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\w+) +([\w.]+): (.*)$")
EVENTS = {  # what a line is about, by how it starts
    "placed": re.compile(r"placing (BUY|SELL) \d+\.\d+ @ \d+\.\d+ \(\w+\)$"),
    "filled": re.compile(r"filled (BUY|SELL) \d+\.\d+ @ \d+\.\d+ \(\w+\) trade \d+$"),
    "cancelled": re.compile(r"cancelling (BUY|SELL) \d+\.\d+ @ \d+\.\d+ \(\w+\): "),
    "round trip": re.compile(r"round trip closed at level \d+\.\d+: "),
    "risk": re.compile(r"(risk clear|risk triggered|circuit breaker|interval \d+\.\d+ -> )"),
    "heartbeat": re.compile(r"heartbeat price="),
}
START_STOP_MAX = 15  # simulator, ops endpoint, warm-up, account, streams, reconcile, trading, stop, check


def test_default_run_logs_one_readable_line_per_event_and_stops_without_a_warning(tmp_path: Path) -> None:
    # the default paper run (5 market minutes a second) until it has shown every kind of order event;
    # what is counted per event does not grow with the length of the run
    with DefaultRun(tmp_path, args=("--heartbeat", "5")) as bot:
        bot.wait_status(lambda d: d["pnl"]["round_trips"] >= 1 and d["orders"]["cancelled"] >= 1)
        code = bot.stop()  # Ctrl-C
    text = bot.log()
    assert code == 0, text[-3000:]
    kinds: Counter[str] = Counter()
    others = []
    for line in text.splitlines():
        m = LINE.match(line)
        assert m, f"not a UTC ISO-stamped log line: {line!r}"
        level, message = m.group(2), m.group(4)
        assert level == "INFO", f"{level} at INFO in a clean run: {line}"
        assert not re.search(r"\bticks?\b", message), f"ticks in a log line: {line}"
        assert not re.search(r"\b1\d{12}\b", message), f"epoch milliseconds in a log line: {line}"
        assert not re.search(r"\d[eE][+-]?\d", message), f"exponent notation: {line}"
        kind = next((k for k, rx in EVENTS.items() if rx.match(message)), None)
        if kind is None:
            others.append(message)
        else:
            kinds[kind] += 1
    assert kinds["placed"] and kinds["filled"] and kinds["round trip"] and kinds["cancelled"], kinds
    assert kinds["heartbeat"] >= 1 and kinds["risk"] >= 1, kinds
    # one line per fill: as many as the trades the paper check counted
    trades = re.search(r"paper check: the database holds all (\d+) fills", text)
    assert trades and kinds["filled"] == int(trades.group(1)), (kinds, trades)
    assert len(others) <= START_STOP_MAX, "\n".join(others)  # no per-order detail lines (accepted...)


def test_run_warns_once_when_the_interval_cannot_beat_the_fees(tmp_path: Path) -> None:
    with DefaultRun(tmp_path, args=("--for", "3"), env={"MM_TRADING__PRICE_INTERVAL": "50"}) as bot:
        assert bot.wait() == 0
    warned = [line for line in bot.log().splitlines() if "cannot beat the round-trip fees" in line]
    assert len(warned) == 1, warned
    assert " WARNING " in warned[0] and "the break-even interval is 200.21 USDT" in warned[0]
