"""The bot as the live-path benchmarks run it: the real TradingSystem (all seven actors, SQLite store,
the real Binance connector over loopback HTTP + WebSocket) in this process, against a
:class:`live_support.SimProcess`, with an observer that keeps every tick-to-order sample.

Logging is installed exactly as ``python -m market_maker run`` does (same formatter and secret
masking, INFO), written to a file, because the per-order log lines are part of the real path.
"""

from __future__ import annotations

import gc
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from live_support import SYMBOL, SimProcess, percentiles

from actors import wiring as w
from actors.observer import Observer
from actors.stages import STAGES, spans_us
from actors.system import RunOptions, TradingSystem
from market_maker.config import Config, config_from_mapping
from market_maker.exchange.factory import make_exchange
from market_maker.exchange.keys import signer_from_pem
from market_maker.ops.cpu_pin import pin_process
from market_maker.ops.logs import install_logging

INTERVAL = "10"  # USDT between grid levels
BOT_CONFIG: dict[str, Any] = {
    "trading": {
        "symbol": SYMBOL,
        "price_interval": INTERVAL,
        "order_quantity": "0.001",
        "buy_window_size": 3,
        "sell_window_size": 3,
    },
    # pinned to one CPU as `bot.cpu` does for `run` (market_maker/ops/cpu_pin.py); the benchmarks'
    # --cpu option changes it (-1: not pinned)
    "bot": {"id": "bench", "cpu": 0},
    "exchange": {"venue": "sim", "market": "spot"},
    # the market is driven straight up: no risk trigger may stop the buys it measures
    "risk": {
        "stale_price_seconds": 3600,
        "atr_spike_multiple": 1000,
        "max_inventory": "1000",
        "volume_spike_multiple": 1000,
        "max_consecutive_losses": 0,
        "max_drawdown_pct": 100,
        "baseline_atr": 100,
    },
    # reconcile (30 s) and cleanup (60 s, which also prunes FREE slots) keep their defaults
}
# the simulator pushes an open kline's update at Binance's documented spot pace (2 s), not on every price
# step: otherwise each tick's bookTicker frame is followed by a kline frame the bot must read at once
SIM_SETTINGS = {"kline_push_ms": 2000}
ALL_CPUS = os.sched_getaffinity(0)  # before any pinning: the simulator may run on every CPU
BALANCES = {"USDT": "100000000", "BTC": "0"}


class Recorder(Observer):
    """Keeps every (kind, frame received, request sent) in perf_counter_ns, and the stage stamps of each
    request in between (actors/stages.py); appends are thread-safe."""

    def __init__(self) -> None:
        self.samples: list[tuple[str, int, int]] = []
        self.traces: list[tuple[int, tuple[int, ...], int]] = []

    def order_sent(self, kind: str, origin_ns: int, sent_ns: int) -> None:
        self.samples.append((kind, origin_ns, sent_ns))

    def order_stages(self, kind: str, origin_ns: int, hops: tuple[int, ...], sent_ns: int) -> None:
        self.traces.append((origin_ns, hops, sent_ns))

    def clear(self) -> None:
        """Forget what was recorded so far (after the warm-up)."""
        self.samples.clear()
        self.traces.clear()


def merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``over``'s sections merged in (one level deep)."""
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for k, v in over.items():
        out[k] = {**out.get(k, {}), **v} if isinstance(v, dict) else v
    return out


@dataclass
class LiveBot:
    """Simulator process + the bot in this process."""

    workdir: Path
    sections: dict[str, Any] = field(default_factory=dict)
    sim: SimProcess | None = None
    system: TradingSystem | None = None
    config: Config | None = None
    recorder: Recorder = field(default_factory=Recorder)

    def start(self) -> LiveBot:
        """Start the simulator, then the bot; returns once the bot trades (reconciled, streams up).

        With ``exchange.order_transport: websocket`` the account has an Ed25519 key (the WebSocket API's
        ``session.logon`` takes only those, and then no request is signed); over REST an HMAC key."""
        transport = str(self.sections.get("exchange", {}).get("order_transport", "rest"))
        key, secret = secrets.token_hex(16), secrets.token_hex(16)
        registered = secret
        if transport == "websocket":
            private = Ed25519PrivateKey.generate()
            secret = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
            registered = signer_from_pem(secret).public_pem()
        self.sim = SimProcess([(key, registered, BALANCES)], **SIM_SETTINGS)
        os.sched_setaffinity(self.sim.pid, ALL_CPUS)  # not pinned with the bot (a spawned child inherits it)
        db = self.workdir / "bot.sqlite"
        data = merged(BOT_CONFIG, {"engine": {"type": "simple", "database": str(db)}, **self.sections})
        data = merged(data, {"ops": {"log_file": str(self.workdir / "bot.log")}})
        self.config = config_from_mapping(data, {})
        devnull = open(Path("/dev/null"), "w")  # noqa: SIM115 - lives as long as the process
        install_logging(self.config.ops, [key, secret], stream=devnull)
        logging.getLogger("websocket").setLevel(logging.WARNING)
        if self.config.bot.cpu is not None:
            pin_process(self.config.bot.cpu)  # as the run command does
        exchange = make_exchange(
            self.config.exchange.market,
            self.sim.rest_url,
            self.sim.ws_url,
            key,
            secret,
            symbol=SYMBOL,
            order_transport=self.config.exchange.order_transport,
            stp_mode=self.config.exchange.self_trade_prevention,
        )
        self.system = TradingSystem(
            self.config,
            exchange,
            RunOptions(heartbeat_s=3600, risk_clock_s=1.0, freeze_heap=True),
            self.recorder,
        )
        self.system.start()
        return self

    def inbox_sizes(self) -> dict[str, int]:
        """Messages waiting in each actor's mailbox now."""
        assert self.system is not None
        out = {}
        for name in (w.STRATEGY, w.SLOTS, w.EXCHANGE, w.RISK):
            ref = self.system.wiring.get(name)
            if ref is not None:
                out[name] = ref.actor_inbox.qsize()
        return out

    def stop(self) -> None:
        """Stop the bot, then the simulator."""
        if self.system is not None:
            self.system.stop()
            self.system = None
        if self.sim is not None:
            self.sim.stop()
            self.sim = None
        os.sched_setaffinity(0, ALL_CPUS)
        # the run froze its heap (freeze_heap, as the run command does); this process goes on to host the
        # next run, so hand that heap back to the collector or every run's memory would stay
        gc.unfreeze()
        gc.collect()


def first_per_decision(samples: list[tuple[str, int, int]]) -> list[float]:
    """Tick-to-order latency (us) of the first order request of each decision (one market frame)."""
    first: dict[int, int] = {}
    for _, origin, sent in samples:
        if origin not in first or sent < first[origin]:
            first[origin] = sent
    return [(sent - origin) / 1000 for origin, sent in first.items()]


def first_of_kind(samples: list[tuple[str, int, int]], kind: str) -> list[float]:
    """Tick-to-order latency (us) of each decision's first request of ``kind`` ("cancel" or "place")."""
    return first_per_decision([s for s in samples if s[0] == kind])


def every_request(samples: list[tuple[str, int, int]]) -> list[float]:
    """Tick-to-order latency (us) of every order request (later ones wait for earlier round trips)."""
    return [(sent - origin) / 1000 for _, origin, sent in samples]


def stage_spans(traces: list[tuple[int, tuple[int, ...], int]]) -> list[list[float]]:
    """Per stage (actors.stages.STAGES), the spans in us of the first order request of each decision."""
    first: dict[int, tuple[tuple[int, ...], int]] = {}
    for origin, hops, sent in traces:
        if origin not in first or sent < first[origin][1]:
            first[origin] = (hops, sent)
    rows = [spans_us(origin, hops, sent) for origin, (hops, sent) in first.items()]
    full = [r for r in rows if r is not None]
    return [list(col) for col in zip(*full, strict=True)] if full else [[] for _ in STAGES]


def stage_table(traces: list[tuple[int, tuple[int, ...], int]]) -> list[dict[str, Any]]:
    """Each stage's name with its p50 / p90 / p99 / max in us (first request of each decision)."""
    return [
        {"stage": name, **percentiles(col)} for name, col in zip(STAGES, stage_spans(traces), strict=True)
    ]


def print_stages(stages: list[dict[str, Any]]) -> None:
    """One line per stage: p50 and p99."""
    for st in stages:
        print(
            f"    {st.get('p50_us', 0):8.0f} us p50 {st.get('p99_us', 0):8.0f} us p99  {st['stage']}",
            flush=True,
        )
