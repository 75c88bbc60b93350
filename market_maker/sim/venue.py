"""The simulated venue's state, owned by the server's event-loop thread: engine, paths, candles,
limits, faults, streams. Everything here runs on that one thread, so nothing needs a lock.

With a state file (:meth:`Venue.open_state`) the venue persists: accounts, orders, trades, the market
clock and the paths' random state survive a restart (``market_maker.sim.state_file`` says how). Across
the time it was down the market moves on as if it had kept running: at start the paths are advanced on
the usual clock, tick by tick, from the last saved moment to now (at most :data:`MAX_CATCH_UP_MS` of
wall time, the rest of a longer gap is skipped), so resting orders fill "while it was down" and a
client finds those fills by asking (open orders, trades), as after a disconnect from Binance.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from market_maker.sim import snapshot
from market_maker.sim.candles import CandleBook
from market_maker.sim.config import SYMBOL_STATUSES, SimConfig
from market_maker.sim.engine import RECORDED, UNLIMITED, Engine, Fees
from market_maker.sim.hub import Hub
from market_maker.sim.limits import FixedWindowCounter, OrderCounter, WeightLimiter
from market_maker.sim.paths import KlineReplay, PathPoint, RandomWalk, load_klines
from market_maker.sim.state_file import (
    COMPACT_AFTER,
    Loaded,
    StateFile,
    VenueStateError,
    acquire_lock,
    load,
    new_header,
)

log = logging.getLogger(__name__)

MAX_CATCH_UP_MS = 3_600_000  # wall time of a downtime the market makes up for at start


@dataclass
class Faults:
    """Injected faults (see :class:`market_maker.sim.control.Control`)."""

    latency_ms: float = 0.0
    fail_next: int = 0
    fail_status: int = 503
    timeout_next: int = 0
    timeout_hold_s: float = 10.0
    reject_next: int = 0
    skew_ms: int = 0
    error_rate: float = 0.0


class _DualSide(dict[str, bool]):
    """Hedge-mode flags per account; a change is journaled like any other input."""

    def __init__(self, venue: Venue) -> None:
        super().__init__()
        self._venue = venue

    def __setitem__(self, key: str, on: bool) -> None:
        super().__setitem__(key, on)
        self._venue.note(["dual", key, on])


class Venue:
    """All mutable simulator state."""

    def __init__(self, cfg: SimConfig, history_minutes: int = 240) -> None:
        self.cfg = cfg
        self.rules = {s.symbol: s.rules() for s in cfg.symbols}
        wall = int(time.time() * 1000)
        starts = {s.symbol: self.rules[s.symbol].price_to_ticks(s.start_price) for s in cfg.symbols}
        self.candles = {s: CandleBook() for s in self.rules}
        self.paths: dict[str, RandomWalk | KlineReplay] = {}
        replay_sym = (cfg.replay_symbol or cfg.symbols[0].symbol) if cfg.replay_file else None
        for i, spec in enumerate(cfg.symbols):
            if spec.symbol == replay_sym:
                assert cfg.replay_file is not None
                replay = KlineReplay(load_klines(cfg.replay_file, self.rules[spec.symbol]))
                self.paths[spec.symbol] = replay
                starts[spec.symbol] = replay.price
                continue
            vol_ms = float(Decimal(cfg.volume_per_second) / self.rules[spec.symbol].step_size) / 1000
            self.paths[spec.symbol] = RandomWalk(
                starts[spec.symbol],
                wall,
                cfg.seed + i,
                cfg.volatility,
                cfg.volatile_multiplier,
                cfg.regime_switch_per_hour,
                cfg.jumps_per_day,
                cfg.jump_size,
                vol_ms,
            )
            self._history(spec.symbol, wall, history_minutes)
        self.engine = Engine(
            self.rules,
            starts,
            Fees(Decimal(cfg.spot_maker_fee), Decimal(cfg.spot_taker_fee)),
            Fees(Decimal(cfg.futures_maker_fee), Decimal(cfg.futures_taker_fee)),
            cfg.default_leverage,
            cfg.max_open_orders,
        )
        self.hub = Hub(self.rules, self.candles, cfg.kline_push_ms)
        self.faults = Faults(
            timeout_hold_s=cfg.timeout_hold_s,
            latency_ms=cfg.latency_ms,
            skew_ms=cfg.clock_skew_ms,
            error_rate=cfg.error_rate,
        )
        self.engine.force_partial = cfg.force_partial_fills
        self.engine.symbol_status.update({s.symbol: s.status for s in cfg.symbols})
        self.fault_rng = random.Random(cfg.seed ^ 0x5EED)
        self.spot_limiter = WeightLimiter(cfg.spot_weight_limit, cfg.ban_seconds)
        self.futures_limiter = WeightLimiter(cfg.futures_weight_limit, cfg.ban_seconds)
        self.spot_orders = OrderCounter(cfg.spot_order_limit_10s)
        self.futures_orders = OrderCounter(cfg.futures_order_limit_10s)
        self.spot_orders_1d = FixedWindowCounter(cfg.spot_order_limit_1d, 86_400)
        self.futures_orders_1m = FixedWindowCounter(cfg.futures_order_limit_1m, 60)
        self.dual_side: dict[str, bool] = _DualSide(self)
        self.clock_ms = wall  # server time of the last move of the market clock
        self.meta: dict[str, str] = {}  # what a client of the venue keeps with it (its paper account)
        self._state: StateFile | None = None
        self.spot_info = ""  # exchangeInfo bodies, built once by the REST layer
        self.futures_info = ""
        # While not None, the account events of market prints wait here (see hold_user_events).
        self.held_events: list[tuple[list[Any], int]] | None = None
        for acct in cfg.accounts:
            self.create_account(acct.api_key, acct.api_secret, acct.balances)

    def _history(self, symbol: str, wall_ms: int, minutes: int) -> None:
        """Candles for the hours before start, so klines (ATR and friends) work at once. The walk is run
        on a throw-away copy and shifted so that it ends exactly at the configured start price."""
        if minutes <= 0:
            return
        live = self.paths[symbol]
        assert isinstance(live, RandomWalk)
        start = live.price
        walk = RandomWalk(
            start,
            wall_ms - minutes * 60_000,
            self.cfg.seed + 7919,
            self.cfg.volatility,
            self.cfg.volatile_multiplier,
            self.cfg.regime_switch_per_hour,
            self.cfg.jumps_per_day,
            self.cfg.jump_size,
            live._volume_per_ms,
        )
        points = [walk.step(1_000) for _ in range(minutes * 60)]
        shift = start - points[-1].price
        for p in points:
            self.candles[symbol].add(PathPoint(p.time_ms - 1_000, max(1, p.price + shift), p.volume))

    # --- clocks ------------------------------------------------------------------------------------

    def now_ms(self) -> int:
        """Server time: wall clock plus any injected skew."""
        return int(time.time() * 1000) + self.faults.skew_ms

    # --- accounts ----------------------------------------------------------------------------------

    def create_account(self, api_key: str, api_secret: str, balances: dict[str, str]) -> None:
        """Create an account with the same balances in its spot and futures wallets."""
        if not api_key or not api_secret:
            raise ValueError("create_account: api_key and api_secret must not be empty")
        self.engine.add_account(api_key, api_secret, {a: Decimal(str(v)) for a, v in balances.items()})

    # --- the market --------------------------------------------------------------------------------

    def advance(self, wall_dt_ms: int) -> None:
        """Clock-driven mode: move every path on by ``wall_dt_ms`` x speed of market time."""
        market_dt = max(1, round(wall_dt_ms * self.cfg.speed))
        now = self.now_ms()
        self._advance(market_dt, now)
        self.note(["adv", market_dt, now])

    def _advance(self, market_dt: int, now: int) -> None:
        for symbol, path in self.paths.items():
            for p in path.advance(market_dt):
                self.apply_point(symbol, p, now=now)
        self.clock_ms = now

    def step(self, n: int = 1) -> None:
        """Step mode: ``n`` path points per symbol."""
        now = self.now_ms()
        self._step(n, now)
        self.note(["step", n, now])

    def _step(self, n: int, now: int) -> None:
        for _ in range(n):
            for symbol, path in self.paths.items():
                p = path.step(self.cfg.step_ms)
                if p is not None:
                    self.apply_point(symbol, p, now=now)
        self.clock_ms = now

    def set_price(self, symbol: str, price: str, volume: str | None = None) -> None:
        """The market trades at ``price`` now: ``volume`` (base asset) there, or by default enough to fill
        every order it goes through."""
        now = self.now_ms()
        self._set_price(symbol, price, volume, now)
        self.note(["price", symbol, price, volume, now])

    def _set_price(self, symbol: str, price: str, volume: str | None, now: int) -> None:
        r = self.rules.get(symbol)
        if r is None:
            raise ValueError(f"set_price: unknown symbol {symbol!r}")
        ticks = r.price_to_ticks(price)
        path = self.paths[symbol]
        path.price = ticks
        if volume is not None:
            vol = r.qty_to_steps(volume)
            self.apply_point(symbol, PathPoint(path.time_ms, ticks, vol), now=now)
            return
        vol = max(1, int(Decimal(self.cfg.volume_per_second) / r.step_size))
        self.apply_point(symbol, PathPoint(path.time_ms, ticks, vol), engine_volume=UNLIMITED, now=now)

    def apply_point(
        self, symbol: str, p: PathPoint, engine_volume: int | None = None, now: int | None = None
    ) -> None:
        """One market print: candles, resting-order fills, market and user streams."""
        self.candles[symbol].add(p)
        if now is None:
            now = self.now_ms()
        events = self.engine.on_trade(
            symbol, p.price, p.volume if engine_volume is None else engine_volume, now
        )
        tid = self.engine.next_trade_id(symbol)
        bid, ask = self.engine.bid_ask(symbol)
        self.hub.market_point(symbol, p, tid, bid, ask, now)
        if self.held_events is not None:
            self.held_events.append((events, now))
        else:
            self.hub.user_events(events, now)

    def hold_user_events(self, on: bool) -> int:
        """While on, the fills that market prints cause are matched at once but not pushed to the user
        streams (REST still shows them); turning it off pushes the held ones, in order. Returns how
        many prints' events were released."""
        if on:
            if self.held_events is None:
                self.held_events = []
            return 0
        held, self.held_events = self.held_events or [], None
        for events, at_ms in held:
            self.hub.user_events(events, at_ms)
        return len(held)

    def set_symbol_status(self, symbol: str, status: str) -> None:
        """Change a symbol's status (exchangeInfo shows it; see SymbolSpec.status)."""
        if symbol not in self.rules:
            raise ValueError(f"set_symbol_status: unknown symbol {symbol!r}")
        if status not in SYMBOL_STATUSES:
            raise ValueError(f"set_symbol_status: status must be one of {', '.join(SYMBOL_STATUSES)}")
        self.engine.symbol_status[symbol] = status
        self.spot_info = self.futures_info = ""  # rebuild the exchangeInfo bodies

    # --- persistence -------------------------------------------------------------------------------

    def note(self, record: list[Any]) -> None:
        """Journal one input that changed the venue (nothing without a state file)."""
        state = self._state
        if state is None:
            return
        state.append(record)
        # a snapshot costs in proportion to the history it holds: rewriting only after as many journal
        # lines keeps its share of each input constant however long the venue lives
        if state.lines >= COMPACT_AFTER and state.lines >= 2 * len(self.engine.orders):
            state.write_snapshot(self.snapshot())

    def _record_call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.note(["call", name, snapshot.encode_args(args), snapshot.encode_args(kwargs)])

    def set_meta(self, key: str, value: str) -> None:
        """Keep ``value`` with the venue's state (e.g. which account is the bot's paper account)."""
        self.meta[key] = value
        self.note(["meta", key, value])

    @property
    def venue_id(self) -> str | None:
        """The id of the persistent venue (None without a state file)."""
        return self._state.header.venue_id if self._state is not None else None

    def open_state(self, path: Path) -> bool:
        """Persist this venue in ``path``: continue the state saved there (True), or start it (False).
        Raises :class:`VenueStateError` when the file cannot be used."""
        lock = acquire_lock(path)
        try:
            loaded = self._load(path)
            header = new_header(tuple(self.rules)) if loaded is None else loaded.header
            self._state = StateFile(path, header, lock)
        except BaseException:
            os.close(lock)
            raise
        self._state.write_snapshot(self.snapshot())
        self.engine.recorder = self._record_call
        return loaded is not None

    def _load(self, path: Path) -> Loaded | None:
        loaded = load(path)
        if loaded is None:
            return None
        symbols = tuple(self.rules)
        if set(loaded.header.symbols) != set(symbols):
            raise VenueStateError(
                f"paper venue state {path} lists {', '.join(loaded.header.symbols)}, "
                f"this configuration trades {', '.join(symbols)}"
            )
        try:
            self._restore(loaded.snapshot)
            for record in loaded.journal:
                self._replay(record)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise VenueStateError(f"paper venue state {path}: damaged ({exc!r})") from None
        downtime = self.now_ms() - self.clock_ms
        steps = self._catch_up(self.now_ms())
        log.info(
            "paper venue %s continued: %d journal lines replayed; %.0f s down, the market moved on %d steps",
            path,
            len(loaded.journal),
            downtime / 1000,
            steps,
        )
        return loaded

    def close_state(self) -> None:
        """Write a last snapshot (the next start replays nothing) and stop journaling."""
        if self._state is None:
            return
        self.engine.recorder = None
        try:
            self._state.write_snapshot(self.snapshot())
        finally:
            self._state.close()
            self._state = None

    def snapshot(self) -> dict[str, Any]:
        """The whole venue as JSON-ready values."""
        return {
            "clock_ms": self.clock_ms,
            "engine": snapshot.engine_state(self.engine),
            "paths": {s: snapshot.path_state(p) for s, p in self.paths.items()},
            "candles": {s: snapshot.candles_state(c) for s, c in self.candles.items()},
            "dual_side": dict(self.dual_side),
            "meta": dict(self.meta),
        }

    def _restore(self, d: dict[str, Any]) -> None:
        configured = dict(self.engine.accounts)
        snapshot.restore_engine(self.engine, d["engine"])
        for key, acct in configured.items():  # accounts added to the configuration since
            self.engine.accounts.setdefault(key, acct)
        for s, path in d["paths"].items():
            if s in self.paths:
                snapshot.restore_path(self.paths[s], path)
        for s, rows in d["candles"].items():
            if s in self.candles:
                snapshot.restore_candles(self.candles[s], rows)
        dict.update(self.dual_side, d["dual_side"])
        self.meta = dict(d["meta"])
        self.clock_ms = int(d["clock_ms"])

    def _replay(self, record: list[Any]) -> None:
        """Apply one journal line again, exactly as it first happened."""
        kind = record[0]
        if kind == "adv":
            self._advance(int(record[1]), int(record[2]))
        elif kind == "step":
            self._step(int(record[1]), int(record[2]))
        elif kind == "price":
            self._set_price(record[1], record[2], record[3], int(record[4]))
        elif kind == "call" and record[1] == "force_partial":
            self.engine.force_partial = bool(record[2][0])
        elif kind == "call" and record[1] in RECORDED:
            args, kwargs = snapshot.decode_args(record[2]), snapshot.decode_args(record[3])
            with contextlib.suppress(Exception):  # it failed the first time too, after the same changes
                getattr(self.engine, record[1])(*args, **kwargs)
        elif kind == "dual":
            dict.__setitem__(self.dual_side, str(record[1]), bool(record[2]))
        elif kind == "meta":
            self.meta[str(record[1])] = str(record[2])
        else:
            raise ValueError(f"unknown journal line {kind!r}")

    def _catch_up(self, now_ms: int) -> int:
        """Move the market on from the last saved moment to ``now_ms`` on the usual clock (see the
        module docstring); the number of clock ticks made up."""
        if self.cfg.step_mode:
            return 0
        tick = max(1, self.cfg.tick_interval_ms)
        steps = max(0, min(now_ms - self.clock_ms, MAX_CATCH_UP_MS)) // tick
        market_dt = max(1, round(tick * self.cfg.speed))
        at = self.clock_ms
        for _ in range(steps):
            at += tick
            self._advance(market_dt, at)
        return steps

    # --- views -------------------------------------------------------------------------------------

    def view(self, what: str, api_key: str, symbol: str | None = None) -> Any:
        """Read-only views of one account for the control API: open orders, balances, trades."""
        from market_maker.sim import wire  # local: wire imports engine types only

        acct = self.engine.accounts.get(api_key)
        if acct is None:
            raise ValueError(f"unknown account {api_key[:4]}…")
        if what == "balances":
            return {
                "spot": {a: {"free": wire.fd(f), "locked": wire.fd(lk)} for a, (f, lk) in acct.spot.items()},
                "futures": {a: wire.fd(w) for a, w in acct.wallet.items()},
                "positions": {
                    s: {
                        "amount": wire.fd(self.rules[s].step_size * p.amount),
                        "entry": wire.fd(p.entry),
                        "realized": wire.fd(p.realized),
                    }
                    for s, p in acct.positions.items()
                },
            }
        if what == "open_orders":
            out = []
            for venue in ("spot", "usdm"):
                for o in self.engine.open_orders(venue, api_key, symbol):
                    row = wire.spot_order(o, self.rules[o.symbol])
                    row["market"] = venue
                    out.append(row)
            return out
        if what == "trades":
            rows = []
            for t in acct.trades:
                if symbol is None or t.symbol == symbol:
                    row = wire.spot_trade(t, self.rules[t.symbol])
                    row["market"] = t.venue
                    row["realizedPnl"] = wire.fd(t.realized)
                    order = self.engine.orders.get((t.venue, t.order_id))
                    row["clientOrderId"] = order.client_id if order is not None else ""
                    rows.append(row)
            return rows
        raise ValueError(f"unknown view {what!r}")

    def weights(self) -> dict[str, Any]:
        """Weight and ban state of both venues."""
        now = time.time()
        return {"spot": self.spot_limiter.state(now), "futures": self.futures_limiter.state(now)}


def info_json(obj: Any) -> str:
    """Pretty enough, compact JSON for precomputed bodies."""
    return json.dumps(obj, separators=(",", ":"))
