"""Shared by the bot integration tests: run the real actor system against the simulator, and check
ARCHITECTURE.md §4's invariants against the simulator's own record (its control views).

    with bot_run(tmp_path, trading={...}) as run:
        run.sim.control.set_price("BTCUSDT", "99990")
        run.wait_for(lambda st: st.round_trips == 1)
    # leaving the block settles, stops the bot and asserts the invariants

Nothing here sleeps for a fixed time: waits poll a condition with a generous deadline.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from actors.messages import Status
from actors.observer import Observer
from actors.system import RunOptions, TradingSystem
from market_maker.config import Config, config_from_mapping
from market_maker.core.ids import decode
from market_maker.core.model import Side, SlotState
from market_maker.core.rules import SymbolRules
from market_maker.core.slot_events import RoundTripClosed
from market_maker.core.slots import SlotBook
from market_maker.exchange.factory import make_exchange
from market_maker.settings.sim_config import sim_balances, sim_config
from market_maker.sim.config import SimConfig
from market_maker.sim.server import SimServer
from market_maker.store import OrderRow, open_store

SYMBOL = "BTCUSDT"
WAIT_S = 30.0  # generous: the box is a noisy 2-core machine; conditions normally hold in well under 1 s

# A calm, deterministic test setup: step mode (the price moves only when a test moves it), no stale
# trigger, no ATR trigger unless a test asks for one.
BASE_CONFIG: dict[str, Any] = {
    "trading": {
        "symbol": SYMBOL,
        "price_interval": "10",
        "order_quantity": "0.001",
        "buy_window_size": 3,
        "sell_window_size": 3,
    },
    "bot": {"id": "t1"},
    "exchange": {"venue": "sim", "market": "spot"},
    "risk": {
        "stale_price_seconds": 3600,
        "atr_spike_multiple": 1000,
        "volume_spike_multiple": 1000,
        "max_consecutive_losses": 0,
        "max_drawdown_pct": 100,
        "baseline_atr": 100,
    },
    "reconcile": {"interval_seconds": 3600},
    "cleanup": {"interval_seconds": 3600},
    "sim": {"seed": 7, "start_price": "100000", "balances": {"USDT": "10000", "BTC": "0"}},
}


def merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``over``'s sections merged in (one level deep)."""
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for k, v in over.items():
        out[k] = {**out.get(k, {}), **v} if isinstance(v, dict) else v
    return out


def make_config(db: Path, **sections: dict[str, Any]) -> Config:
    """The test configuration with ``sections`` overriding :data:`BASE_CONFIG`, database at ``db``
    (Simple engine) unless an ``engine`` section is given (tests/conftest.py's ``engine`` fixture)."""
    data = merged(BASE_CONFIG, {"engine": {"type": "simple", "database": str(db)}, **sections})
    return config_from_mapping(data, {})


@dataclass
class BotRun:
    """A running bot (real actors, SQLite store) against a running simulator."""

    sim: SimServer
    config: Config
    key: str
    secret: str = field(repr=False)
    options: RunOptions
    system: TradingSystem | None = None
    foreign_order_ids: set[int] = field(default_factory=set)  # orders a "human" placed on the account
    observer: Observer | None = None  # what the actors report as it happens (none: the no-op default)

    @property
    def control(self) -> Any:
        """The simulator's control API."""
        return self.sim.control

    @property
    def symbol(self) -> str:
        """The traded symbol (the configuration's)."""
        return self.config.trading.symbol

    @property
    def rules(self) -> SymbolRules:
        """The exchange's rules for the symbol."""
        return self.sim.config.symbols[0].rules()

    def start(self) -> TradingSystem:
        """Start a bot process-equivalent (a fresh connector and actor system) on the same database."""
        exchange = make_exchange(
            self.config.exchange.market,
            self.sim.rest_url,
            self.sim.ws_url,
            self.key,
            self.secret,
            symbol=self.symbol,
            timeout_s=(3.05, 5.0),
        )
        self.system = TradingSystem(self.config, exchange, self.options, self.observer)
        self.system.start()
        return self.system

    def stop(self) -> None:
        """Graceful stop of the bot (the simulator keeps running)."""
        if self.system is not None:
            self.system.stop()
            self.system = None

    def status(self) -> Status:
        """The slot manager's status (fails the test when it does not answer)."""
        assert self.system is not None, "bot not running"
        st = self.system.status(timeout_s=10.0)
        assert st is not None, "slot manager did not answer"
        return st

    def wait_for(self, cond: Callable[[Status], bool], what: str = "", timeout_s: float = WAIT_S) -> Status:
        """Poll the status until ``cond`` holds; fail with the last status otherwise."""
        assert self.system is not None, "bot not running"
        deadline = time.monotonic() + timeout_s
        st = self.system.status(timeout_s=10.0)  # None while the slot manager restarts
        while st is None or not cond(st):
            if time.monotonic() > deadline:
                last = describe(st) if st is not None else "no answer"
                raise AssertionError(f"timed out waiting for {what or cond}: last status {last}")
            time.sleep(0.02)
            st = self.system.status(timeout_s=10.0)
        return st

    def price(self, price: str) -> Status:
        """Move the market to ``price`` and wait until the bot has seen it and acted on it."""
        self.control.set_price(self.symbol, price)
        ticks = self.rules.price_to_ticks(price)
        self.wait_for(lambda st: st.price == ticks, f"price {price} seen")
        return self.settle()

    def own_open(self) -> list[dict[str, Any]]:
        """Open orders on the venue with this bot's client-id prefix (spot or futures as configured)."""
        market, bot = self.config.exchange.market.value, self.config.bot.id
        return [
            o
            for o in self.control.open_orders(self.key, self.symbol)
            if o.get("market") == market and decode(o["clientOrderId"], bot) is not None
        ]

    def venue_trades(self) -> list[dict[str, Any]]:
        """The account's trades of the bot's own orders on the configured market."""
        market = self.config.exchange.market.value
        return [
            t
            for t in self.control.trades(self.key, self.symbol)
            if t.get("market") == market and int(t["orderId"]) not in self.foreign_order_ids
        ]

    @contextmanager
    def ticking(self, every_s: float = 0.05) -> Iterator[None]:
        """Keep the (step-mode) market moving one path step every ``every_s`` while inside the block."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(every_s):
                self.control.step(1)

        thread = threading.Thread(target=loop, name="ticker", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def store_orders(self) -> list[OrderRow]:
        """The bot's order rows (intent to last status)."""
        store = open_store(self.config.engine.database, self.config.bot.id, self.symbol)
        try:
            return store.orders()
        finally:
            store.close()

    def settle(self, timeout_s: float = WAIT_S) -> Status:
        """Wait until bot and venue agree: nothing in flight, the same open orders, every fill stored."""

        def agreed(st: Status) -> bool:
            if (
                st.outstanding
                or st.queries
                or any(s.state is SlotState.PENDING or s.cancel_requested for s in st.book)
            ):
                return False
            working = {s.client_id for s in st.book if s.working}
            venue = {o["clientOrderId"] for o in self.own_open()}
            stored = stored_trade_ids(self.config)
            return working == venue and sorted(stored) == sorted(int(t["id"]) for t in self.venue_trades())

        return self.wait_for(agreed, "bot and venue to agree", timeout_s)


def describe(st: Status) -> str:
    """A short text of a status, for failure messages."""
    slots = ", ".join(
        f"{s.level}:{s.state.value}{'/' + s.side.value if s.side and s.working else ''}"
        f"{'(held ' + str(s.held) + ')' if s.held else ''}"
        for s in st.book
    )
    return (
        f"price {st.price} interval {st.interval} trips {st.round_trips} outstanding {st.outstanding} "
        f"blocked {st.buys_blocked} halted {st.halted} slots [{slots}]"
    )


def stored_trade_ids(config: Config) -> list[int]:
    """Trade ids in the bot's store (read through a separate connection)."""
    store = open_store(config.engine.database, config.bot.id, config.trading.symbol)
    try:
        return [f.trade_id for f in store.fills()]
    finally:
        store.close()


def stored_book(config: Config) -> SlotBook:
    """The slot book as stored."""
    store = open_store(config.engine.database, config.bot.id, config.trading.symbol)
    try:
        book = store.load_book()
    finally:
        store.close()
    assert book is not None, "no slot book stored"
    return book


def stored_round_trips(config: Config) -> list[RoundTripClosed]:
    """Round trips in the bot's store."""
    store = open_store(config.engine.database, config.bot.id, config.trading.symbol)
    try:
        return store.round_trips()
    finally:
        store.close()


@contextmanager
def bot_run(
    tmp_path: Path,
    options: RunOptions | None = None,
    step_mode: bool = True,
    check: bool = True,
    adjust_sim: Callable[[SimConfig], SimConfig] | None = None,
    before_start: Callable[[SimServer], None] | None = None,
    observer: Observer | None = None,
    **sections: dict[str, Any],
) -> Iterator[BotRun]:
    """Simulator + bot; on a clean exit: settle, stop, and assert the invariants. ``adjust_sim``
    changes the simulator's settings beyond the config's ``sim`` section (e.g. its limits);
    ``before_start`` acts on the running simulator before the bot starts; ``observer`` hears what
    the actors report (e.g. each cancel's reason)."""
    config = make_config(tmp_path / "bot.sqlite", **sections)
    cfg = sim_config(config, step_mode=step_mode)
    sim = SimServer(adjust_sim(cfg) if adjust_sim else cfg).start()
    key, secret = secrets.token_hex(16), secrets.token_hex(16)
    sim.create_account(key, secret, sim_balances(config))
    if before_start is not None:
        before_start(sim)
    opts = options or RunOptions(heartbeat_s=3600, risk_clock_s=0.2)
    run = BotRun(sim, config, key, secret, opts, observer=observer)
    try:
        run.start()
        yield run
        if check and run.system is not None:
            run.settle()
        run.stop()
        if check:
            check_invariants(run)
    finally:
        run.stop()
        sim.stop()


def check_invariants(run: BotRun) -> None:
    """ARCHITECTURE.md §4 invariants, the bot's store against the simulator's own record."""
    config, rules = run.config, run.rules
    bot = config.bot.id
    book = stored_book(config)
    own = run.own_open()

    # never two working orders for one slot (on the venue, by the level in the client id)
    per_level = Counter(decode(o["clientOrderId"], bot).level for o in own)  # type: ignore[union-attr]
    assert all(n == 1 for n in per_level.values()), f"two working orders for one slot: {per_level}"

    # every own open order on the venue belongs to exactly one slot, and every working slot is on the venue
    for o in own:
        s = book.find(o["clientOrderId"])
        assert s is not None and s.working, f"venue order {o['clientOrderId']} belongs to no working slot"
        assert s.order_price == rules.price_to_ticks(o["price"]), f"{o['clientOrderId']}: price differs"
    venue_ids = {o["clientOrderId"] for o in own}
    for s in book:
        if s.working:
            assert s.client_id in venue_ids, f"slot {s.level} works {s.client_id}, not open on the venue"

    # buy prices < sell prices
    buys = [rules.price_to_ticks(o["price"]) for o in own if o["side"] == Side.BUY.value]
    sells = [rules.price_to_ticks(o["price"]) for o in own if o["side"] == Side.SELL.value]
    if buys and sells:
        assert max(buys) < min(sells), f"buy {max(buys)} not below sell {min(sells)}"

    # every venue fill of the account is in the store exactly once
    venue = sorted(int(t["id"]) for t in run.venue_trades())
    stored = stored_trade_ids(config)
    assert sorted(stored) == venue, f"store fills {sorted(stored)} != venue fills {venue}"
    assert len(set(stored)) == len(stored), "a fill is stored twice"

    # store position == sum of slot holdings == the venue's own-trade position
    held = rules.step_size * sum(s.held for s in book) + book.dust
    assert book.position(rules) == held, f"book position {book.position(rules)} != slots {held}"
    assert venue_position(run.venue_trades(), rules) == held, (
        f"venue own-trade position {venue_position(run.venue_trades(), rules)} != bot position {held}"
    )


def venue_position(trades: list[dict[str, Any]], rules: SymbolRules) -> Decimal:
    """Base-asset position from the venue's trade log: buys - sells - base-asset fees."""
    pos = Decimal(0)
    for t in trades:
        qty = Decimal(t["qty"])
        pos += qty if t["isBuyer"] else -qty
        if t.get("commissionAsset") == rules.base_asset:
            pos -= Decimal(t["commission"])
    return pos
