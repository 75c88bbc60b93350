"""A harness for the Simple engine's process-level reliability runs (CI tests and bench/reliability_long.py).

The bot is ``python -m market_maker run`` in a subprocess (venue binance at a simulator that lives in
the calling process, so the exchange and its record survive every kill). :class:`CrashRig` starts it,
moves the market, SIGKILLs it at random moments, restarts it, and checks the invariants of issue 9
against the simulator's own record (:func:`problems`); every check is counted in :class:`Tally`.

Bot start and the venue's full order list come from tests/durable_support.py (the Durable engine's
harness); this module adds the Simple engine's config, the market driver and the invariant checks.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from durable_support import KEY, SECRET, bot_config, row_vs_venue, start_bot, tail, venue_orders

from market_maker.core.ids import decode
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook
from market_maker.sim.server import SimConfig, SimServer
from market_maker.store import open_store

T = TypeVar("T")

SYMBOL = "BTCUSDT"
RECONCILED = "reconciled with the exchange"
ZERO = Decimal(0)


@dataclass
class Tally:
    """What a run did and checked (the long runner's figures)."""

    kills: int = 0
    restarts: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    checks: int = 0  # invariant checks made (each covers every order, fill and slot at that moment)
    fills_checked: int = 0  # fills compared with the venue, summed over checks
    open_orders_checked: int = 0  # open orders compared, summed over checks (the in-trade samples too)
    violations: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "kills": self.kills,
            # a kill is survived when the next start reconciled (the first start follows no kill)
            "kills_survived": min(self.kills, max(self.restarts - 1, 0)),
            "restarts": self.restarts,
            "faults_injected": dict(self.faults),
            "faults_injected_total": sum(self.faults.values()),
            "invariant_checks": self.checks,
            "fills_checked": self.fills_checked,
            "open_orders_checked": self.open_orders_checked,
            "invariant_violations": len(self.violations),
            "violations": self.violations[:50],
        }


def write_config(
    path: Path,
    sim: SimServer,
    database: Path,
    bot_id: str,
    market: str,
    engine: str = "simple",
    exchange_keys: dict[str, Any] | None = None,
) -> Path:
    """A bot at the simulator's loopback URLs (the Durable harness's config; engine simple by default,
    durable for the long run's second half: DBOS on SQLite next to the bot's database)."""
    exchange: dict[str, Any] = {"market": market, "timeout_seconds": 5}
    if market != "spot":
        exchange["ws_api_url"] = None  # futures user data comes over the listenKey stream
    if exchange_keys is not None:
        exchange.update(exchange_keys)
    return bot_config(
        path,
        sim,
        bot_id=bot_id,
        symbol=SYMBOL,
        database=str(database),
        interval="10",
        qty="0.001",
        exchange=exchange,
        engine={"type": engine},
        risk={"max_inventory": "10", "max_position_drift": "100"},
        reconcile={"interval_seconds": 30},
    )


class Market:
    """A mean-reverting random walk of the simulator's price in whole dollars: fills on both sides."""

    def __init__(self, rng: random.Random, center: int = 100_000, swing: int = 15) -> None:
        self.rng = rng
        self.center = center
        self.cents = center * 100
        self.swing = swing

    def next(self) -> str:
        """The next price (a string of two decimals)."""
        pull = (self.center * 100 - self.cents) // 20
        self.cents += pull + self.rng.randint(-self.swing * 100, self.swing * 100)
        return f"{self.cents // 100}.{self.cents % 100:02d}"


@dataclass
class Snapshot:
    """The store as another process reads it."""

    fills: list[Any]
    book: SlotBook | None
    round_trips: list[Any]
    orders: list[Any]


def read_store(database: Path, bot_id: str) -> Snapshot:
    """Fills, slot book and round trips of ``bot_id`` (a separate connection; the bot may be running)."""
    store = open_store(str(database), bot_id, SYMBOL)
    try:
        return Snapshot(store.fills(), store.load_book(), store.round_trips(), store.orders())
    finally:
        store.close()


@dataclass(frozen=True)
class Access:
    """How the bot reaches the exchange: order transport (rest or websocket) and key type (hmac or
    ed25519: a PEM private key in a 0600 file, the account registered with its public key)."""

    transport: str = "rest"
    key_type: str = "hmac"

    @property
    def name(self) -> str:
        """``rest-hmac``, ``websocket-ed25519``, ..."""
        return f"{self.transport}-{self.key_type}"

    def register(self, sim: SimServer, tmp: Path, balances: dict[str, str]) -> None:
        """Create the test account on ``sim`` with this key type (writing the private key for the bot)."""
        if self.key_type == "hmac":
            sim.create_account(KEY, SECRET, balances)
            return
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            NoEncryption,
            PrivateFormat,
            PublicFormat,
        )

        key = Ed25519PrivateKey.generate()
        pem = self.key_file(tmp)
        pem.touch(mode=0o600)
        pem.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
        sim.create_account(KEY, public, balances)

    @staticmethod
    def key_file(tmp: Path) -> Path:
        """Where the bot's private key is written."""
        return tmp / "api-ed25519.pem"

    def config_keys(self, tmp: Path) -> dict[str, Any]:
        """The exchange section's keys for this access."""
        keys: dict[str, Any] = {"order_transport": self.transport}
        if self.key_type != "hmac":
            keys["private_key_file"] = str(self.key_file(tmp))
        return keys


REST_HMAC = Access()
WEBSOCKET_ED25519 = Access("websocket", "ed25519")
ACCESSES = {a.name: a for a in (REST_HMAC, WEBSOCKET_ED25519)}


class CrashRig:
    """One simulator, one Simple-engine bot that is started, killed and restarted on the same database."""

    def __init__(
        self,
        tmp: Path,
        *,
        market: str = "spot",
        seed: int = 1,
        bot_id: str = "crash",
        generous_limits: bool = False,
        engine: str = "simple",
        access: Access = REST_HMAC,
    ) -> None:
        self.tmp = tmp
        self.access = access
        self.market = market
        self.bot_id = bot_id
        self.rng = random.Random(seed)
        self.price = Market(self.rng)
        # generous limits for kill loops: 20 restarts a minute at this fill rate use more than Binance's
        # per-minute weight and 10-second order budget, and a bot refuses to start on a spent budget
        limits = {"spot_weight_limit": 60_000, "spot_order_limit_10s": 1_000} if generous_limits else {}
        self.sim = SimServer(SimConfig(step_mode=True, seed=seed, **limits)).start()  # type: ignore[arg-type]
        access.register(self.sim, tmp, {"USDT": "1000000", "BTC": "0"})
        self.database = tmp / "bot.sqlite"
        self.log = tmp / "bot.log"
        self.config = write_config(
            tmp / "bot.yaml", self.sim, self.database, bot_id, market, engine, access.config_keys(tmp)
        )
        self.rules: SymbolRules = self.sim.config.symbols[0].rules()
        self.venue_name = "spot" if market == "spot" else "usdm"
        self.proc: subprocess.Popen[bytes] | None = None
        self.tally = Tally()

    # --- the bot process ---------------------------------------------------------------------------

    def _reconciles(self) -> int:
        return self.log.read_text(errors="replace").count(RECONCILED) if self.log.exists() else 0

    def start(self, timeout_s: float = 90.0) -> None:
        """Start the bot and wait for its first reconciliation with the exchange."""
        before = self._reconciles()
        self.proc = start_bot(self.config, self.log)
        self.wait(lambda: self._reconciles() > before, timeout_s, "the first reconciliation")
        self.tally.restarts += 1

    def kill(self) -> None:
        """SIGKILL the bot (it must still be running: an exit of its own is a failure)."""
        proc = self.proc
        assert proc is not None, "no bot"
        if proc.poll() is not None:
            raise AssertionError(f"bot exited by itself ({proc.returncode}):\n{tail(self.log)}")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        self.proc = None
        self.tally.kills += 1

    def kill_cycle(self, n: int) -> None:
        """One round: start, reconcile and check, trade for a random 0.1-2 s, SIGKILL, check the slots."""
        self.start()
        self.check(f"after restart {n}")
        self.trade(self.rng.uniform(0.1, 2.0))
        self.kill()
        self.check_slots(f"after kill {n}")  # fills in flight may be unstored until the restart

    def stop(self) -> int:
        """SIGTERM and wait: the bot's exit code."""
        proc = self.proc
        assert proc is not None, "no bot"
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=60)
        finally:
            self.proc = None

    def close(self) -> None:
        """Kill a bot still running and stop the simulator."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        self.sim.stop()

    def wait(self, cond: Callable[[], bool], timeout_s: float, what: str) -> None:
        """Poll ``cond`` until true; fail naming ``what`` on timeout or when the bot died."""
        deadline = time.monotonic() + timeout_s
        while not cond():
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(
                    f"bot exited ({self.proc.returncode}) waiting for {what}:\n{tail(self.log)}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}: {self.problems()}\n{tail(self.log)}")
            time.sleep(0.1)

    # --- the market --------------------------------------------------------------------------------

    def trade(
        self, seconds: float, every_s: float = 0.05, during: Callable[[int], None] | None = None
    ) -> None:
        """Move the price every ``every_s`` for ``seconds``, sampling the one-order-per-slot invariant."""
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            if during is not None:
                during(n)
            self.sim.control.set_price(SYMBOL, self.price.next())
            n += 1
            if n % 5 == 0:
                self._record(self.slot_problems(), "while trading")
            time.sleep(every_s)

    # --- invariants --------------------------------------------------------------------------------

    def own_open(self) -> list[dict[str, Any]]:
        """The bot's open orders on the venue."""
        return [
            o
            for o in self.sim.control.open_orders(KEY, SYMBOL)
            if o.get("market") == self.venue_name and decode(o["clientOrderId"], self.bot_id) is not None
        ]

    def own_trades(self) -> list[dict[str, Any]]:
        """The account's trades on the bot's market (every order of the account is the bot's)."""
        return [t for t in self.sim.control.trades(KEY, SYMBOL) if t.get("market") == self.venue_name]

    def slot_problems(self) -> list[str]:
        """No slot (level) has two working orders on the venue."""
        own = self.own_open()
        self.tally.open_orders_checked += len(own)
        per_level = Counter(decode(o["clientOrderId"], self.bot_id).level for o in own)  # type: ignore[union-attr]
        return [f"level {lv}: {n} working orders on the venue" for lv, n in per_level.items() if n > 1]

    def problems(self) -> list[str]:
        """Every invariant that does not hold now (the bot reconciled and the market is still)."""
        out = self.slot_problems()
        snap = read_store(self.database, self.bot_id)
        trades = self.own_trades()
        stored = [f.trade_id for f in snap.fills]
        venue = sorted(int(t["id"]) for t in trades)
        self.tally.fills_checked += len(venue)
        if len(set(stored)) != len(stored):
            out.append(f"fills stored twice: {[t for t, n in Counter(stored).items() if n > 1]}")
        if sorted(set(stored)) != venue:
            missing, extra = sorted(set(venue) - set(stored)), sorted(set(stored) - set(venue))
            out.append(f"fills: venue has {missing} not stored, store has {extra} not on the venue")
        book = snap.book
        if book is None:  # nothing stored yet: then nothing may have happened on the venue either
            if trades or self.own_open():
                out.append("no slot book stored, but the venue has own orders or fills")
            return out
        working = {s.client_id for s in book if s.working}
        for o in self.own_open():
            if o["clientOrderId"] not in working:
                out.append(f"own order {o['clientOrderId']} on the venue is tracked by no working slot")
        held = self.rules.step_size * sum(s.held for s in book) + book.dust
        if book.position(self.rules) != held:
            out.append(f"store position {book.position(self.rules)} != slot holdings {held}")
        venue_pos = self.venue_position(trades)
        if venue_pos != held:
            out.append(f"store position {held} != exchange position {venue_pos}")
        stored_pnl: dict[int, tuple[Decimal, int]] = {}
        for rt in snap.round_trips:
            total, trips = stored_pnl.get(rt.level, (ZERO, 0))
            stored_pnl[rt.level] = (total + rt.realized, trips + 1)
        out.extend(self.row_problems(snap.orders))
        venue_pnl = realized_from_trades(trades, self.order_levels(), self.rules)
        for level in sorted(set(stored_pnl) | set(venue_pnl)):
            mine, theirs = stored_pnl.get(level, (ZERO, 0)), venue_pnl.get(level, (ZERO, 0))
            if mine != theirs:
                out.append(
                    f"realized PnL at level {level}: store {mine[0]} over {mine[1]} round trips, "
                    f"the venue's trade log gives {theirs[0]} over {theirs[1]}"
                )
        return out

    def venue_position(self, trades: list[dict[str, Any]]) -> Decimal:
        """Spot: own buys - sells - base fees from the trade log; futures: the venue's position."""
        if self.market != "spot":
            pos = self.sim.control.balances(KEY)["positions"].get(SYMBOL)
            return Decimal(pos["amount"]) if pos else ZERO
        total = ZERO
        for t in trades:
            total += Decimal(t["qty"]) if t["isBuyer"] else -Decimal(t["qty"])
            if t.get("commissionAsset") == self.rules.base_asset:
                total -= Decimal(t["commission"])
        return total

    def order_levels(self) -> dict[int, int]:
        """Venue order id -> slot level (ticks), from the client ids of every order the venue holds."""
        control: Any = self.sim.control

        def read() -> dict[int, int]:
            out = {}
            for o in control._v.engine.orders.values():  # test-only: closed orders too
                d = decode(o.client_id, self.bot_id)
                if o.account == KEY and d is not None:
                    out[o.order_id] = d.level
            return out

        return dict(control._run(read))

    def row_problems(self, rows: Iterable[Any]) -> list[str]:
        """Order rows whose status, executed quantity or average price is not the venue's (a row the bot
        found never reached the venue is NOT_FOUND or REJECTED; a row no report reached yet has no
        average price, which only an order that executed nothing may lack)."""
        venue = {o.client_id: o for o in venue_orders(self.sim, KEY, SYMBOL, self.venue_name)}
        out = []
        for row in rows:
            v = venue.get(row.client_id)
            if v is None:
                if row.status not in ("NOT_FOUND", "REJECTED"):
                    out.append(f"order row {row.client_id} is {row.status}, the venue never had it")
                continue
            differs = row_vs_venue(row, v, self.rules.step_size, self.market == "spot")
            if differs:
                out.append(f"order row {row.client_id}: {differs}")
        return out

    def check(self, when: str, timeout_s: float = 30.0) -> None:
        """Wait (the market still) until every invariant holds; record what never came right."""
        self.tally.checks += 1
        deadline = time.monotonic() + timeout_s
        found = self.problems()
        while found and time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.2)
            found = self.problems()
        self._record(found, when)

    def check_slots(self, when: str) -> None:
        """Record any slot with two working orders on the venue now (valid even right after a kill)."""
        self.tally.checks += 1
        self._record(self.slot_problems(), when)

    def _record(self, found: Iterable[str], when: str) -> None:
        self.tally.violations.extend(f"{when}: {p}" for p in found)


def realized_from_trades(
    trades: list[dict[str, Any]], levels: dict[int, int], rules: SymbolRules
) -> dict[int, tuple[Decimal, int]]:
    """Realized PnL and closed round trips per slot level, recomputed from the venue's trade log alone.

    Per slot (the level in the client id), in trade order: buys add what they bought less any base-asset
    fee; a trip closes when sells leave less than one step. Its PnL: proceeds - the FIFO cost of the
    quantity sold - every fee of the trip (converted to quote at its fill price).
    """
    per_level: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for t in sorted(trades, key=lambda t: int(t["id"])):
        per_level[levels[int(t["orderId"])]].append(t)
    out = {}
    for level, rows in per_level.items():
        total, trips = ZERO, 0
        lots: list[list[Decimal]] = []  # [qty, price], oldest first
        held, proceeds, cost, fees = ZERO, ZERO, ZERO, ZERO
        for t in rows:
            qty, price, fee = Decimal(t["qty"]), Decimal(t["price"]), Decimal(t["commission"])
            base_fee = fee if t["commissionAsset"] == rules.base_asset else ZERO
            fees += fee * price if base_fee else fee
            if t["isBuyer"]:
                held += qty - base_fee
                lots.append([qty, price])
                continue
            held -= qty
            proceeds += qty * price
            left = qty
            while left > 0 and lots:
                take = min(left, lots[0][0])
                cost += take * lots[0][1]
                left -= take
                lots[0][0] -= take
                if lots[0][0] == 0:
                    lots.pop(0)
            if held < rules.step_size:
                total += proceeds - cost - fees
                trips += 1
                lots, held, proceeds, cost, fees = [], ZERO, ZERO, ZERO, ZERO
        out[level] = (total, trips)
    return out


# --- the fault matrix ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One kind of exchange fault: ``tick(rig, n)`` runs at every market step ``n`` while it is on,
    ``clear(rig)`` ends it (the invariants are checked after that)."""

    name: str
    tick: Callable[[CrashRig, int], None]
    clear: Callable[[CrashRig], None]


def _every(steps: int, action: Callable[[Any], Any], name: str) -> Callable[[CrashRig, int], None]:
    def tick(rig: CrashRig, n: int) -> None:
        if n % steps == 0:
            action(rig.sim.control)
            rig.tally.faults[name] += 1

    return tick


def _error_rate(rate: float) -> Callable[[CrashRig, int], None]:
    def tick(rig: CrashRig, n: int) -> None:
        if n == 0:
            control: Any = rig.sim.control
            control._run(lambda: setattr(control._v.faults, "error_rate", rate))  # test-only: no control op
            rig.tally.faults["rest_5xx_5pct_window"] += 1

    return tick


def _clear_error_rate(rig: CrashRig) -> None:
    control: Any = rig.sim.control
    control._run(lambda: setattr(control._v.faults, "error_rate", 0.0))


def _weight_burst(rig: CrashRig, n: int) -> None:
    """Another client on the bot's IP uses the minute's weight up to just below the limit, so the bot's
    next requests meet a real 429 (Retry-After to the end of the minute): sending anything before that
    would earn the bot a 418 ban of its own."""
    if n % 200:
        return
    import requests

    with requests.Session() as s:
        limit = int(rig.sim.config.spot_weight_limit)
        used = 0
        while used < limit - 25:
            r = s.get(f"{rig.sim.rest_url}/api/v3/exchangeInfo", timeout=10)
            used = int(r.headers.get("X-MBX-USED-WEIGHT-1M", "0"))
            if r.status_code != 200:
                break
    rig.tally.faults["weight_burst_429"] += 1


def _nothing(rig: CrashRig) -> None:
    return None


FAULTS: dict[str, Fault] = {
    f.name: f
    for f in (
        Fault("ws_drop", _every(40, lambda c: c.drop_streams(), "ws_drop"), _nothing),
        Fault(
            "ws_stall",
            _every(60, lambda c: c.stall_streams(1.5), "ws_stall"),
            lambda rig: rig.sim.control.resume_streams(),
        ),
        Fault("rest_5xx", _error_rate(0.05), _clear_error_rate),
        Fault(
            "timeout_after_accept",
            _every(30, lambda c: c.timeout_after_accept_next(1, hold_seconds=1.0), "timeout_after_accept"),
            lambda rig: rig.sim.control.timeout_after_accept_next(0),
        ),
        Fault("weight_429", _weight_burst, _nothing),
        Fault("ban_418", _every(80, lambda c: c.ban(2), "ban_418"), lambda rig: rig.sim.control.ban(0)),
        Fault(
            "clock_skew",
            _every(60, lambda c: c.skew_clock(-2500 if time.time() % 2 < 1 else 1500), "clock_skew"),
            lambda rig: rig.sim.control.skew_clock(0),
        ),
        Fault(
            "partial_fills",
            _every(1000, lambda c: c.force_partial_fills(True), "partial_fills_storm"),
            lambda rig: rig.sim.control.force_partial_fills(False),
        ),
        Fault(
            "post_only_rejects",
            _every(20, lambda c: c.reject_next_orders(3), "order_reject_x3"),
            lambda rig: rig.sim.control.reject_next_orders(0),
        ),
    )
}


def side_by_side(jobs: Sequence[Callable[[], T]], workers: int | None = None) -> list[T]:
    """Run independent rig jobs in threads (each rig has its own simulator, database and bot); their
    results in order. Rig runs mostly wait on subprocesses, so they overlap well; the first failure is
    raised once every job has ended (no rig is left running)."""
    with ThreadPoolExecutor(max_workers=workers or len(jobs)) as pool:
        futures = [pool.submit(job) for job in jobs]
        return [f.result() for f in futures]


def finish(rig: CrashRig, what: str) -> None:
    """Trade on a little, check, stop gracefully (exit 0) and check the store as the bot left it."""
    rig.trade(1.0)
    rig.check(what, timeout_s=60)
    code = rig.stop()
    if code != 0:
        rig.tally.violations.append(f"graceful stop exited {code}:\n{tail(rig.log)}")
    rig.check("after a graceful stop", timeout_s=0)
    if rig.access.transport == "websocket":
        text = rig.log.read_text(errors="replace")
        if "orders go over the WebSocket API at" not in text:
            rig.tally.violations.append("order_transport websocket, but the order socket never came up")


def own_bans(rig: CrashRig) -> int:
    """418 bans the simulator's limiters handed out for requests sent during a 429's Retry-After."""
    w = rig.sim.control.weights()
    return sum(int(ip["bans"]) for venue in ("spot", "futures") for ip in w[venue]["ips"].values())


def run_fault(rig: CrashRig, fault: Fault, seconds: float) -> None:
    """Trade for ``seconds`` under ``fault``, clear it, and check every invariant and the ban count."""
    rig.trade(seconds, during=lambda n: fault.tick(rig, n))
    fault.clear(rig)
    rig.check(f"after {fault.name}", timeout_s=90)  # a 429 holds the bot until the minute ends
    bans = own_bans(rig)
    if bans:
        rig.tally.violations.append(f"after {fault.name}: the bot walked into {bans} ban(s) of its own")
