"""The actor system: start-up order, wiring, supervision and graceful stop.

Start-up (each step must pass before the next; a failure raises :class:`StartError` with the exit code):
open the store, take its lock and check it is sound (exit 4 when damaged: store/integrity.py); load the
exchange's rules (exchangeInfo) and map the configuration onto them; refuse an empty store facing this
bot's orders, trades or position unless adopting (startup/adoption.py); run the account safety checks
(exit 4 when unsafe); load the slots; warm the ATR up from
REST klines; start the slot manager and the exchange actor (user stream connected first, so no event
falls between the snapshot and the stream) and reconcile open orders and trades since the last stored
trade *before* the first new order; then start risk, strategy, market data, reconciler and cleanup.

Supervision: a watchdog thread polls every actor. A dead actor is restarted with back-off and
re-wired (its peers reach it by name through :class:`Wiring`); after too many deaths in a window the
system gives up and :meth:`TradingSystem.wait` returns exit code 1, so a supervisor restarts the
whole process: never a half-alive process.

Stop: no new orders first, then the actors in reverse dependency order; own open orders are cancelled
only when ``bot.cancel_on_exit`` is set; the book is flushed and the lock released.
"""

from __future__ import annotations

import gc
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pykka

from actors import wiring as w
from actors.cleanup import CleanupActor
from actors.dispatch import Dispatcher
from actors.exchange_actor import ORDER_LANES, ExchangeActor
from actors.latest import LatestBox
from actors.messages import (
    ApplyCancels,
    FillsSwept,
    ReconcileDue,
    Republish,
    RiskRestarted,
    Status,
    StatusQuery,
    StopTrading,
    SweepFills,
)
from actors.observer import Observer
from actors.price_monitor import PriceFeed, PriceMonitorActor
from actors.reconciler import ReconcilerActor
from actors.risk import RiskActor
from actors.risk_warmup import warm_up
from actors.slot_manager import SlotManagerActor, SlotSettings
from actors.strategy import StrategyActor
from actors.wiring import Wiring
from market_maker.config import Config
from market_maker.core.model import Fill, Side
from market_maker.core.params import TradingParams
from market_maker.core.quote_check import QuoteLimits
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook
from market_maker.engines import Engine, EngineStartError, start_engine
from market_maker.engines.gateway import DirectGateway
from market_maker.exchange.base import Exchange
from market_maker.exchange.errors import ExchangeError
from market_maker.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_UNSAFE, EXIT_USAGE
from market_maker.ops.heartbeat import plain
from market_maker.settings.params import ParamsError, trading_params
from market_maker.startup.adoption import adoption_refusal
from market_maker.startup.safety import UnsafeError, check_account
from market_maker.store import (
    Store,
    StoreDamagedError,
    StoreError,
    StoreLockedError,
    open_store,
    verify_store,
)

log = logging.getLogger("market_maker.system")


# start order; stop order is the reverse
START_ORDER = (w.SLOTS, w.EXCHANGE, w.RISK, w.STRATEGY, w.PRICE, w.RECONCILER, w.CLEANUP)


class StartError(RuntimeError):
    """The bot cannot start; ``code`` is the process exit code (2 config, 4 unsafe, 1 other)."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Timings of the running system (the configuration supplies the trading ones)."""

    heartbeat_s: float = 60.0
    reconcile_timeout_s: float = 30.0
    stream_timeout_s: float = 15.0
    risk_clock_s: float = 1.0
    equity_s: float = 5.0
    lock_heartbeat_s: float = 5.0
    lock_stale_ms: int = 30_000
    max_restarts: int = 5  # deaths of one actor within restart_window_s before giving up
    restart_window_s: float = 60.0
    stop_timeout_s: float = 5.0
    # Once trading-ready, move the start-up heap out of the garbage collector's way (gc.freeze): a full
    # collection then scans only what was allocated since (8.8 ms -> well under 1 ms, measured by the
    # slot manager's benchmark). The run command sets it; in-process tests that start many systems do not.
    freeze_heap: bool = False
    # an empty store facing the venue's orders, trades or position of this bot: take them over (else refuse)
    adopt: bool = False


class TradingSystem:
    """One bot on one symbol: the seven actors around one exchange connector and one store."""

    def __init__(
        self,
        config: Config,
        exchange: Exchange,
        options: RunOptions | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.config = config
        self.exchange = exchange
        self.options = options or RunOptions()
        self.observer = observer or Observer()  # metrics and health for the ops endpoint
        self.wiring = Wiring()
        self.box: LatestBox[tuple[int, int]] = LatestBox()
        # the strategy and the slot manager share one thread: a decision reaches the slot manager
        # without a thread hop (actors/dispatch.py)
        self.decisions = Dispatcher("decisions")
        self.store: Store | None = None
        self.engine: Engine | None = None  # Simple (direct calls) or Durable (DBOS workflows)
        self.params: TradingParams | None = None
        self.failed = ""  # why supervision gave up ("" while healthy)
        # venue time up to which every trade of the account is stored, once a stop swept them (else None)
        self.fills_covered_ms: int | None = None
        self.stop_failed = ""  # the first step of the graceful stop that raised ("" when none did)
        self.restarts: dict[str, list[float]] = {}
        self._factories: dict[str, Callable[[bool], pykka.ActorRef[Any]]] = {}
        self._stopping = threading.Event()
        self._fatal = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._stopped = False
        self.owner = _owner()

    # --- start-up ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Run the start-up sequence and start every actor; raises :class:`StartError` when it cannot."""
        cfg = self.config
        try:
            self.store = open_store(cfg.engine.database, cfg.bot.id, cfg.trading.symbol)
            self.store.acquire_lock(self.owner, _now_ms(), stale_after_ms=self.options.lock_stale_ms)
            verify_store(self.store)
        except StoreDamagedError as exc:
            self._close_store()
            raise StartError(str(exc), EXIT_UNSAFE) from None
        except StoreError as exc:
            self._close_store()
            raise StartError(str(exc), EXIT_ERROR) from None
        try:
            self._start_actors()
        except BaseException:
            self.stop(cancel_orders=False)
            raise

    def _start_actors(self) -> None:
        cfg, store = self.config, self.store
        assert store is not None
        try:
            self.exchange.start()
            rules = self.exchange.symbol_rules()
            params = self.params = trading_params(cfg, rules)
            price = self._last_price()
            stored = store.load_book()
            if not self.options.adopt and store.holds_nothing():
                refusal = adoption_refusal(store.where, self.exchange, cfg.bot.id)
                if refusal:
                    raise UnsafeError(refusal)
            check = check_account(cfg, self.exchange, params, price, _own_buys(stored, rules))
            risk, interval, _ = warm_up(self.exchange, params, cfg.risk.atr_interval, _now_ms())
        except ParamsError as exc:
            raise StartError(str(exc), EXIT_USAGE) from None
        except UnsafeError as exc:
            raise StartError(str(exc), EXIT_UNSAFE) from None
        except ExchangeError as exc:
            raise StartError(f"exchange: {exc}", EXIT_ERROR) from None
        except StoreError as exc:  # read back damaged after the check: as unsafe as a damaged file
            raise StartError(str(exc), EXIT_UNSAFE) from None
        try:  # Durable: DBOS launches and finishes interrupted workflows before any actor starts
            self.engine = start_engine(cfg, self.exchange, store)
        except EngineStartError as exc:
            raise StartError(str(exc), EXIT_ERROR) from None
        gateway = self.engine.gateway
        log.info(
            "account ok: %s free %s, worst-case grid notional %s, clock offset %d ms, equity %s",
            rules.quote_asset,
            plain(check.quote_free),
            plain(check.worst_case_notional),
            check.clock_offset_ms,
            plain(check.equity),
        )
        self.observer.bind(rules)
        book = stored or SlotBook(cfg.bot.id)
        settings = SlotSettings(
            market=cfg.exchange.market,
            heartbeat_s=self.options.heartbeat_s,
            equity_s=self.options.equity_s,
            max_position_drift=cfg.risk.max_position_drift,
        )
        limits = QuoteLimits(
            max_jump_bps=int(cfg.risk.max_price_jump_pct * 100),
            confirm_quotes=cfg.risk.price_jump_confirm_quotes,
            stale_after=cfg.risk.stale_after_dropped_quotes,
        )
        feed = PriceFeed(self.wiring, self.box, cfg.risk.atr_interval, self.observer, limits, self.decisions)
        o, obs = self.options, self.observer

        def slots(restart: bool) -> pykka.ActorRef[Any]:
            b = (store.load_book() or SlotBook(cfg.bot.id)) if restart else book
            return SlotManagerActor.start_on(
                self.decisions, self.wiring, store, params, settings, b, interval, obs
            )

        def strategy(restart: bool) -> pykka.ActorRef[Any]:
            # Blind, at start-up as on a restart: it decides nothing until the slot manager and the risk
            # actor have sent their current views (_wire_strategy). The book loaded above is out of date
            # once reconciliation changed it (what the slot manager told meanwhile went to no one): on
            # it, a take-profit that filled while the bot was down still worked below every buy level,
            # so nothing was placed, no book change came, and the grid stayed frozen.
            return StrategyActor.start_on(self.decisions, self.wiring, self.box, params, None, None, interval)

        self._factories = {
            w.SLOTS: slots,
            w.EXCHANGE: lambda restart: ExchangeActor.start(
                self.wiring,
                self.exchange,
                gateway=gateway,
                observer=obs,
                # Durable: one workflow at a time, as its crash recovery is proven (tests/reliability)
                lanes=ORDER_LANES if isinstance(gateway, DirectGateway) else 1,
            ),
            w.RISK: lambda restart: RiskActor.start(
                self.wiring, store, params, risk, interval, o.risk_clock_s, obs
            ),
            w.STRATEGY: strategy,
            w.PRICE: lambda restart: PriceMonitorActor.start(
                self.wiring, self.exchange, feed, cfg.risk.stale_price_seconds
            ),
            w.RECONCILER: lambda restart: ReconcilerActor.start(self.wiring, cfg.reconcile.interval_seconds),
            w.CLEANUP: lambda restart: CleanupActor.start(
                self.wiring,
                cfg.cleanup.interval_seconds,
                params.stale_order_age_ms / 1000,
            ),
        }
        # The risk actor runs before the first reconcile: a sell that filled while the bot was down closes
        # its round trip there, and the slot manager places nothing until the risk actor has seen it
        # (the breaker may trip on it). Started later, that round trip was lost and trading never resumed.
        for name in (w.SLOTS, w.EXCHANGE, w.RISK):
            self.wiring.set(name, self._factories[name](False))
        self._wait_stream(w.EXCHANGE, "user-data")
        # the start-up phases are read from the log (bench/reliability_long.py sorts its kills by them)
        log.info("reconciling with the exchange")
        self.wiring.tell(w.SLOTS, ReconcileDue())
        self._wait_reconciled()
        for name in START_ORDER[3:]:
            self.wiring.set(name, self._factories[name](False))
            if name == w.STRATEGY:
                self._wire_strategy()
        self._wait_stream(w.PRICE, "market-data")
        self._watchdog = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._watchdog.start()
        if self.options.freeze_heap:
            gc.collect()  # what start-up left as garbage is freed, not frozen
            gc.freeze()
        log.info(
            "trading %s on %s %s as bot %s: interval %s, order %s, windows %d/%d",
            cfg.trading.symbol,
            cfg.exchange.venue,
            cfg.exchange.market.value,
            cfg.bot.id,
            rules.ticks_to_price(interval),
            rules.steps_to_qty(params.grid.order_qty),
            params.grid.buy_window,
            params.grid.sell_window,
        )

    def _last_price(self) -> int:
        candles = self.exchange.klines("1m", limit=1)
        if not candles:
            raise UnsafeError(
                f"no market price for {self.config.trading.symbol}: the exchange returned no klines"
            )
        return candles[-1].close

    def _wait_stream(self, name: str, what: str) -> None:
        """Block until the stream the actor ``name`` owns is connected; StartError (exit 4) on timeout."""
        ref = self.wiring.get(name)
        assert ref is not None
        timeout = self.options.stream_timeout_s
        stream = ref.proxy().stream.get(timeout=timeout)
        if stream is not None and not stream.wait_connected(timeout):
            raise StartError(
                f"{what} stream did not connect within {timeout:g} s: refusing to trade", EXIT_UNSAFE
            )

    def _wait_reconciled(self) -> None:
        deadline = time.monotonic() + self.options.reconcile_timeout_s
        while time.monotonic() < deadline:
            st = self.status(timeout_s=5.0)
            if st is not None and st.reconciled:
                return
            time.sleep(0.05)
        raise StartError(
            f"reconciliation with the exchange did not finish within {self.options.reconcile_timeout_s:g} s: "
            "refusing to trade blind",
            EXIT_UNSAFE,
        )

    # --- views (ask with a timeout: from outside the system only) ---------------------------------------

    @property
    def rules(self) -> SymbolRules | None:
        """The exchange's rules for the symbol, once start-up has read them."""
        return self.params.rules if self.params is not None else None

    def status(self, timeout_s: float = 5.0) -> Status | None:
        """The slot manager's status, or None when it does not answer in time."""
        ref = self.wiring.get(w.SLOTS)
        if ref is None:
            return None
        try:
            answer = ref.ask(StatusQuery(), timeout=timeout_s)
        except (pykka.ActorDeadError, pykka.Timeout):
            return None
        return answer if isinstance(answer, Status) else None

    # --- supervision -----------------------------------------------------------------------------------

    def _watch(self) -> None:
        store = self.store
        assert store is not None
        next_lock = 0.0
        try:
            while not self._stopping.wait(0.2):
                now = time.monotonic()
                if now >= next_lock:
                    next_lock = now + self.options.lock_heartbeat_s
                    problem = self._keep_lock(store)
                    if problem:  # another process may trade this bot now: stop at once
                        self.failed = f"trading lock lost: {problem}"
                        log.critical(self.failed)
                        self._fatal.set()
                        return
                for name in START_ORDER:
                    ref = self.wiring.get(name)
                    dead = ref is not None and not ref.is_alive()
                    if dead and not self._stopping.is_set() and not self._restart(name):
                        return
        finally:
            store.close()

    def _keep_lock(self, store: Store) -> str:
        """Refresh the lock; "" while it is ours, else why it is lost (a busy database is retried)."""
        try:
            store.heartbeat_lock(_now_ms())
        except StoreLockedError as exc:
            return str(exc)
        except StoreError as exc:
            log.warning("lock heartbeat failed (%s): taking the lock again", exc)
            try:
                store.acquire_lock(self.owner, _now_ms(), stale_after_ms=self.options.lock_stale_ms)
            except StoreLockedError as again:
                return str(again)
            except StoreError as again:
                log.error("lock heartbeat failed again: %s", again)
        return ""

    def _restart(self, name: str) -> bool:
        o = self.options
        now = time.monotonic()
        recent = [t for t in self.restarts.get(name, []) if now - t < o.restart_window_s]
        if len(recent) >= o.max_restarts:
            self.failed = (
                f"{name} actor died {len(recent) + 1} times within {o.restart_window_s:g} s: giving up"
            )
            log.critical(self.failed)
            self._fatal.set()
            return False
        delay = min(0.2 * 2 ** len(recent), 10.0)
        log.error("%s actor died: restarting it in %.1f s", name, delay)
        if self._stopping.wait(delay):
            return False
        try:
            ref = self._factories[name](True)
        except Exception as exc:  # cannot even construct it: same as dying again
            log.exception("restarting %s failed", name)
            self.restarts[name] = [*recent, now]
            self.failed = f"{name} actor could not be restarted: {exc}"
            self._fatal.set()
            return False
        self.restarts[name] = [*recent, now]
        self.wiring.set(name, ref)
        if name in (w.SLOTS, w.EXCHANGE):
            self.wiring.tell(w.SLOTS, ReconcileDue())  # events may have been lost: resync before trading
        if name == w.RISK:
            self.wiring.tell(w.SLOTS, RiskRestarted())
        if name == w.STRATEGY:
            self._wire_strategy()
        return True

    def _wire_strategy(self) -> None:
        """A strategy was just wired in: the slot manager and the risk actor send it their current views
        (it starts blind; what they told before it was wired went to no one)."""
        self.wiring.tell(w.SLOTS, Republish())
        self.wiring.tell(w.RISK, Republish())

    # --- running and stopping ---------------------------------------------------------------------

    def wait(self, stop: threading.Event, seconds: float | None = None) -> int:
        """Block until ``stop`` is set, ``seconds`` pass or supervision gives up; then stop. Exit code."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while not stop.is_set() and not self._fatal.is_set():
            left = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if left <= 0:
                break
            stop.wait(left)
        fatal = self._fatal.is_set()
        self.stop()
        return EXIT_ERROR if fatal or self.stop_failed else EXIT_OK

    def stop(self, cancel_orders: bool | None = None) -> None:
        """Graceful stop: no new orders, actors stopped in reverse order, optional cancels, store flushed."""
        if self._stopped:
            return
        self._stopped = True
        self._stopping.set()
        cancel = self.config.bot.cancel_on_exit if cancel_orders is None else cancel_orders
        timeout = self.options.stop_timeout_s
        self.wiring.tell(w.SLOTS, StopTrading())
        refuse = getattr(self.exchange, "refuse_new_orders", None)  # fakes may have none
        if refuse is not None:  # a placement asleep in the rate limiter must not hold the stop up
            refuse()
        # Each step runs even when one before it failed: an actor thread left running would keep the
        # process from ever exiting (a supervisor would then SIGKILL it), and the store must be closed.
        for name in reversed(START_ORDER[2:]):
            self._stop_step(f"stopping the {name} actor", self._stop_actor, name, timeout)
        # finishes requests in flight; replies reach the slots
        self._stop_step("stopping the exchange actor", self._stop_actor, w.EXCHANGE, timeout)
        if cancel:
            self._stop_step("cancel on exit", self._cancel_own, timeout)
        self._stop_step("reading the last fills", self._sweep_fills, timeout)  # not yet streamed to us
        self._stop_step("stopping the slot manager", self._stop_actor, w.SLOTS, timeout)  # flushes the book
        if self._watchdog is not None:
            self._watchdog.join(timeout)
        self._stop_step("stopping the order engine", self._close_engine)
        self._stop_step("closing the store", self._close_store)
        try:
            self.exchange.close()
        except Exception:  # closing an HTTP session must never turn a clean stop into a crash
            log.debug("closing the exchange session failed", exc_info=True)
        log.info("stopped" if not self.stop_failed else f"stopped, but {self.stop_failed} failed")

    def _stop_step(self, what: str, step: Callable[..., None], *args: Any) -> None:
        try:
            step(*args)
        except Exception:
            log.exception("graceful stop: %s failed; the rest of the stop goes on", what)
            self.stop_failed = self.stop_failed or what

    def _stop_actor(self, name: str, timeout: float) -> None:
        ref = self.wiring.get(name)
        if ref is None:
            return
        try:
            ref.stop(block=True, timeout=timeout)
        except pykka.Timeout:
            log.error("%s actor did not stop within %g s", name, timeout)

    def _cancel_own(self, timeout: float) -> None:
        try:
            done = self.exchange.cancel_own(self.config.bot.id)
        except ExchangeError as exc:
            log.error("cancel on exit failed: %s", exc)
            return
        log.info("cancel on exit: %d own orders cancelled", len(done))
        ref = self.wiring.get(w.SLOTS)
        if ref is not None and done:
            try:
                ref.ask(ApplyCancels(tuple(done)), timeout=timeout)
            except (pykka.ActorDeadError, pykka.Timeout):
                log.error("could not record the cancelled orders: the next start reconciles them")

    def _sweep_fills(self, timeout: float) -> None:
        ref = self.wiring.get(w.SLOTS)
        if ref is None:
            return

        def fetch(since_ms: int | None) -> tuple[int, list[Fill]]:
            covered = self.exchange.server_time()  # read first: every trade up to it is in the answer
            return covered, self.exchange.recent_trades(start_ms=since_ms, limit=1000)

        try:
            swept: FillsSwept = ref.ask(SweepFills(fetch), timeout=timeout)
        except (pykka.ActorDeadError, pykka.Timeout):
            log.warning("fills at stop not read: the next start reconciles them")
            return
        if swept.failed:
            log.warning("fills at stop not read (%s): the next start reconciles them", swept.failed)
        elif swept.new:
            log.info("stop: %d fill(s) the user stream had not delivered recorded", swept.new)
        self.fills_covered_ms = swept.covered_ms

    def _close_engine(self) -> None:
        if self.engine is None:
            return
        try:
            self.engine.close()
        except Exception:  # stopping DBOS must never turn a clean stop into a crash
            log.exception("stopping the order engine failed")
        self.engine = None

    def _close_store(self) -> None:
        if self.store is None:
            return
        try:
            self.store.release_lock()
            self.store.close()
        except StoreError as exc:
            log.error("closing the store failed: %s", exc)


def _own_buys(book: SlotBook | None, rules: SymbolRules) -> Decimal:
    """Quote held by the stored book's working buys (still locked on the exchange after a restart)."""
    if book is None:
        return Decimal(0)
    return sum(
        (rules.notional(s.order_price, s.remaining) for s in book if s.working and s.side is Side.BUY),
        Decimal(0),
    )


def _owner() -> str:
    """Unique per system, not just per process: two systems in one process must not share a lock."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _now_ms() -> int:
    return int(time.time() * 1000)
