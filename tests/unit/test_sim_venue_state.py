"""The persistent paper venue without sockets: a venue "killed" at any moment (its file left as the
last write left it) comes back exactly as it was, random state included; the market makes up for the
downtime; the file is private and refuses another simulator or another symbol."""

from __future__ import annotations

import dataclasses
import json
import stat
from decimal import Decimal
from pathlib import Path

import pytest

from market_maker.core.model import Side
from market_maker.sim.config import SimConfig, SymbolSpec
from market_maker.sim.engine import SPOT, USDM, BinanceError
from market_maker.sim.state_file import VenueBusyError, VenueStateError
from market_maker.sim.venue import Venue

KEY = "k" * 16
STEP_CFG = SimConfig(step_mode=True, speed=300)  # step mode: no catch-up, so states compare exactly


def _kill(v: Venue) -> None:
    """What SIGKILL leaves: the file as written so far, no last snapshot (only the lock goes)."""
    assert v._state is not None
    v._state.close()
    v._state = None
    v.engine.recorder = None


def _state(v: Venue) -> str:
    return json.dumps(v.snapshot(), sort_keys=True)


def _trade_a_while(v: Venue) -> None:
    """Orders placed, refused, partly filled, cancelled, on spot and futures, and the market moving."""
    e = v.engine
    v.create_account(KEY, "secret", {"USDT": "100000", "BTC": "1"})
    last = e.last["BTCUSDT"]
    now = v.now_ms()
    for i in range(6):
        e.place(SPOT, KEY, "BTCUSDT", Side.BUY, "LIMIT", "GTC", last - 5_000 * (i + 1), 2_000, f"b{i}", now)
        e.place(SPOT, KEY, "BTCUSDT", Side.SELL, "LIMIT", "GTC", last + 5_000 * (i + 1), 2_000, f"s{i}", now)
    with pytest.raises(BinanceError):  # refused, but it used up an order id: replay must agree
        e.place(SPOT, KEY, "BTCUSDT", Side.BUY, "LIMIT_MAKER", "GTC", last + 10, 2_000, "cross", now)
    e.set_leverage(KEY, "BTCUSDT", 5)
    e.place(USDM, KEY, "BTCUSDT", Side.BUY, "LIMIT", "GTC", last - 7_000, 3_000, "f1", now)
    e.place(USDM, KEY, "BTCUSDT", Side.SELL, "LIMIT", "GTX", last + 7_000, 3_000, "f2", now)
    with pytest.raises(BinanceError):  # nothing to reduce yet
        e.place(
            USDM, KEY, "BTCUSDT", Side.SELL, "LIMIT", "GTC", last + 9_000, 1_000, "r1", now, reduce_only=True
        )
    e.place(SPOT, KEY, "BTCUSDT", Side.BUY, "MARKET", "GTC", 0, 0, "m1", now, quote_qty=Decimal("150"))
    v.dual_side[KEY] = False
    e.force_partial = True
    v.step(40)
    v.set_price("BTCUSDT", str(v.rules["BTCUSDT"].ticks_to_price(last - 13_000)), "0.01")
    e.cancel(SPOT, KEY, "BTCUSDT", None, "b5", v.now_ms())
    e.cancel_all(USDM, KEY, "BTCUSDT", v.now_ms())
    v.step(40)
    v.set_meta("paper_account", KEY)


def test_a_killed_venue_comes_back_exactly_and_its_market_goes_on_the_same_way(tmp_path: Path) -> None:
    path = tmp_path / "v.venue.jsonl"
    first = Venue(STEP_CFG, history_minutes=5)
    assert first.open_state(path) is False
    _trade_a_while(first)
    trades = first.engine.accounts[KEY].trades
    assert trades and any(0 < o.filled < o.qty for o in first.engine.orders.values())
    before = _state(first)
    _kill(first)

    second = Venue(STEP_CFG, history_minutes=5)
    assert second.open_state(path) is True
    assert _state(second) == before
    assert second.venue_id is not None
    # the same future: the price path's random state came back too
    first.step(25)
    second.step(25)
    assert second.snapshot()["paths"] == first.snapshot()["paths"]
    assert second.engine.last == first.engine.last
    _kill(second)


def test_a_clean_stop_leaves_a_snapshot_and_nothing_to_replay(tmp_path: Path) -> None:
    path = tmp_path / "v.venue.jsonl"
    v = Venue(STEP_CFG, history_minutes=5)
    v.open_state(path)
    _trade_a_while(v)
    before = _state(v)
    v.close_state()
    assert len(path.read_text().splitlines()) == 2  # header + snapshot
    again = Venue(STEP_CFG, history_minutes=5)
    again.open_state(path)
    assert _state(again) == before
    again.close_state()


def test_a_last_line_cut_short_by_the_kill_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "v.venue.jsonl"
    v = Venue(STEP_CFG, history_minutes=5)
    v.open_state(path)
    _trade_a_while(v)
    before = _state(v)
    _kill(v)
    with path.open("a") as f:
        f.write('["call","place",["spot"')  # a write the kill interrupted: never acknowledged
    again = Venue(STEP_CFG, history_minutes=5)
    again.open_state(path)
    assert _state(again) == before
    again.close_state()


def test_the_market_makes_up_for_the_downtime_on_its_usual_clock(tmp_path: Path) -> None:
    path = tmp_path / "v.venue.jsonl"
    cfg = dataclasses.replace(STEP_CFG, step_mode=False, tick_interval_ms=100)
    v = Venue(cfg, history_minutes=5)
    v.open_state(path)
    v.advance(100)
    market_ms, clock_ms = v.paths["BTCUSDT"].time_ms, v.clock_ms
    _kill(v)
    # pretend the bot was down for 30 s: the saved clock is 30 s older than now
    lines = path.read_text().splitlines()
    snap = json.loads(lines[1])
    snap["clock_ms"] = clock_ms - 30_000
    adv = json.loads(lines[2])
    adv[2] = clock_ms - 30_000
    path.write_text("\n".join([lines[0], json.dumps(snap), json.dumps(adv)]) + "\n")

    again = Venue(cfg, history_minutes=5)
    again.open_state(path)
    moved = again.paths["BTCUSDT"].time_ms - market_ms
    assert moved >= 300 * 100 * 299  # ~300 ticks of 100 ms at speed 300 (a few more: now moved on)
    assert again.clock_ms >= clock_ms - 100
    again.close_state()


def test_the_file_is_private_and_one_simulator_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "v.venue.jsonl"
    v = Venue(STEP_CFG, history_minutes=5)
    v.open_state(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(VenueBusyError, match="in use"):
        Venue(STEP_CFG, history_minutes=5).open_state(path)
    v.close_state()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_venue_of_another_symbol_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "v.venue.jsonl"
    v = Venue(STEP_CFG, history_minutes=5)
    v.open_state(path)
    v.close_state()
    eth = dataclasses.replace(
        STEP_CFG, symbols=(SymbolSpec(symbol="ETHUSDT", base_asset="ETH", start_price="3000"),)
    )
    with pytest.raises(VenueStateError, match="lists BTCUSDT, this configuration trades ETHUSDT"):
        Venue(eth, history_minutes=5).open_state(path)
