"""The simulated venue's state, owned by the server's event-loop thread: engine, paths, candles,
limits, faults, streams. Everything here runs on that one thread, so nothing needs a lock."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from market_maker.sim.candles import CandleBook
from market_maker.sim.config import SimConfig
from market_maker.sim.engine import UNLIMITED, Engine, Fees
from market_maker.sim.hub import Hub
from market_maker.sim.limits import OrderCounter, WeightLimiter
from market_maker.sim.paths import KlineReplay, PathPoint, RandomWalk, load_klines


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
        self.fault_rng = random.Random(cfg.seed ^ 0x5EED)
        self.spot_limiter = WeightLimiter(cfg.spot_weight_limit, cfg.ban_seconds)
        self.futures_limiter = WeightLimiter(cfg.futures_weight_limit, cfg.ban_seconds)
        self.spot_orders = OrderCounter(cfg.spot_order_limit_10s)
        self.futures_orders = OrderCounter(cfg.futures_order_limit_10s)
        self.dual_side: dict[str, bool] = {}
        self.spot_info = ""  # exchangeInfo bodies, built once by the REST layer
        self.futures_info = ""
        self.symbol_status: dict[str, str] = {}  # symbol -> status other than TRADING (symbol_status.py)
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
        for symbol, path in self.paths.items():
            for p in path.advance(market_dt):
                self.apply_point(symbol, p)

    def step(self, n: int = 1) -> None:
        """Step mode: ``n`` path points per symbol."""
        for _ in range(n):
            for symbol, path in self.paths.items():
                p = path.step(self.cfg.step_ms)
                if p is not None:
                    self.apply_point(symbol, p)

    def set_price(self, symbol: str, price: str, volume: str | None = None) -> None:
        """The market trades at ``price`` now: ``volume`` (base asset) there, or by default enough to fill
        every order it goes through."""
        r = self.rules.get(symbol)
        if r is None:
            raise ValueError(f"set_price: unknown symbol {symbol!r}")
        ticks = r.price_to_ticks(price)
        path = self.paths[symbol]
        path.price = ticks
        if volume is not None:
            vol = r.qty_to_steps(volume)
            self.apply_point(symbol, PathPoint(path.time_ms, ticks, vol))
            return
        vol = max(1, int(Decimal(self.cfg.volume_per_second) / r.step_size))
        self.apply_point(symbol, PathPoint(path.time_ms, ticks, vol), engine_volume=UNLIMITED)

    def apply_point(self, symbol: str, p: PathPoint, engine_volume: int | None = None) -> None:
        """One market print: candles, resting-order fills, market and user streams."""
        self.candles[symbol].add(p)
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
