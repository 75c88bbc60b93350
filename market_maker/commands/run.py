"""``run``: trade. With no arguments: config/default.yaml, paper trading on the built-in simulator.

For ``exchange.venue: sim`` the simulator starts in-process on a free loopback port with a seeded price
path, an account is created from ``sim.balances`` with a key and secret generated for this run (kept in
memory only), and the bot trades it over real HTTP and WebSocket. For ``venue: binance`` it trades the
configured Binance endpoints with the API key and secret from the environment or the secrets file.
SIGTERM or Ctrl-C stops gracefully (exit 0); ``--for SECONDS`` stops by itself.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import sys
import threading
from typing import Any

from market_maker.commands._config_arg import add_config_argument, config_or_none
from market_maker.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_USAGE

HELP = "Run the bot (default: paper trading on the built-in simulator with config/default.yaml)."

log = logging.getLogger("market_maker.run")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the verb."""
    add_config_argument(parser)
    parser.add_argument(
        "--for", dest="for_seconds", type=float, metavar="SECONDS", help="stop by itself after SECONDS"
    )
    parser.add_argument(
        "--heartbeat",
        type=float,
        metavar="SECONDS",
        help="seconds between heartbeat lines (default: 5 on the simulator, else ops.heartbeat_seconds)",
    )
    parser.add_argument(
        "--adopt",
        action="store_true",
        help="the store is empty but the exchange holds this bot's orders, trades or position: take them"
        " over as they are (without it the start is refused, exit 4)",
    )


def run(args: argparse.Namespace) -> int:
    """Load the config, start the simulator if asked, run the bot until stopped; the exit code."""
    config = config_or_none(args)
    if config is None:
        return EXIT_USAGE
    if args.for_seconds is not None and args.for_seconds <= 0:
        print("error: --for must be > 0 seconds", file=sys.stderr)
        return EXIT_USAGE
    # every file the bot creates (database, WAL, DBOS's database, rotated logs) is its user's alone:
    # pause/resume act through the database, so its permissions are the only guard
    umask = os.umask(0o077)
    try:
        return _prepare_and_run(config, args)
    finally:
        os.umask(umask)  # an in-process caller (tests) gets its own back


def _prepare_and_run(config: Any, args: argparse.Namespace) -> int:
    if config.bot.cpu is not None:  # before any thread starts: they all inherit it
        from market_maker.ops.cpu_pin import PinError, pin_process

        try:
            pin_process(config.bot.cpu)
        except PinError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    from market_maker.ops.logs import install_logging, secrets_of
    from market_maker.settings.writable import unwritable_paths

    problems = unwritable_paths(config)
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    if problems:
        return EXIT_USAGE
    try:
        install_logging(config.ops, secrets_of(config))
    except OSError as exc:  # raced or refused after the check above
        print(f"error: ops.log_file: cannot open: {exc.strerror or type(exc).__name__}", file=sys.stderr)
        return EXIT_USAGE
    logging.getLogger("websocket").setLevel(logging.WARNING)
    for line in config.warnings():
        log.warning("%s", line)
    stop = threading.Event()
    handlers = {}
    if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
        handlers = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return _run(config, args, stop)
    finally:
        for sig, old in handlers.items():
            signal.signal(sig, old)


def _run(config: Any, args: argparse.Namespace, stop: threading.Event) -> int:
    from actors.ops_observer import status_input
    from actors.system import RunOptions, StartError, TradingSystem
    from market_maker.config import ConfigError
    from market_maker.exchange.factory import make_exchange
    from market_maker.ops.alerts import AlertKind
    from market_maker.sim.paths import PathError
    from market_maker.startup.patient_start import WaitStopped, patient_start

    sim = None
    sim_key = ""
    try:
        if config.exchange.venue == "sim":
            sim, sim_key, sim_secret = _start_sim(config)
            urls: tuple[str, str, str | None] = (sim.rest_url, sim.ws_url, None)
            key, secret = sim_key, sim_secret
            heartbeat = args.heartbeat or 5.0
        else:
            ex = config.exchange
            urls = (ex.rest_url, ex.ws_url, ex.ws_api_url)
            key, secret = config.api_credentials()
            heartbeat = args.heartbeat or config.ops.heartbeat_seconds
        exchange = make_exchange(
            config.exchange.market,
            urls[0],
            urls[1],
            key,
            secret,
            config.exchange.recv_window_ms,
            symbol=config.trading.symbol,
            ws_api_url=urls[2],
            routed_ws=_routed(config, urls[1]),
            timeout_s=(3.05, config.exchange.timeout_seconds),
        )
    except ConfigError as exc:
        for line in exc.errors:
            print(f"error: {line}", file=sys.stderr)
        _stop_sim(sim)
        return EXIT_USAGE
    except PathError as exc:  # sim.replay_file names a file that holds no klines
        print(f"error: sim.replay_file: {exc}", file=sys.stderr)
        _stop_sim(sim)
        return EXIT_USAGE
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        _stop_sim(sim)
        return EXIT_ERROR
    from actors.ops_observer import OpsObserver
    from market_maker.ops.service import OpsService

    # /status asks the running system (with a timeout) when a request comes in
    ops = OpsService.from_config(
        config,
        status=lambda: status_input(config, system.status, lambda: system.rules, observer),
        streams=("market",),  # the user stream is quiet while nothing trades: not a health signal
    )
    observer = OpsObserver(ops, exchange)
    options = RunOptions(heartbeat_s=heartbeat, freeze_heap=True, adopt=args.adopt)
    system = TradingSystem(config, exchange, options, observer)
    try:
        try:
            ops.start()
            if ops.server is not None:
                log.info("ops endpoint on %s (/metrics, /healthz, /status)", ops.server.url)
        except OSError as exc:
            print(f"error: ops endpoint {config.ops.host}:{config.ops.port}: {exc.strerror}", file=sys.stderr)
            exchange.close()
            return EXIT_ERROR
        try:
            with patient_start(exchange, stop):  # a spent budget or a ban left by an earlier run: wait
                system.start()
        except WaitStopped as exc:
            log.info("not started: %s", exc)
            return EXIT_OK
        except StartError as exc:
            print(f"error: {exc}", file=sys.stderr)
            log.error("not trading: %s", exc)
            return exc.code
        ops.alert(AlertKind.START, f"trading {config.trading.symbol} as bot {config.bot.id}")
        code = system.wait(stop, args.for_seconds)
        ops.alert(AlertKind.STOP, f"stopped ({system.failed or 'graceful'})", exit_code=code)
        if sim is not None:
            code = max(code, _paper_check(config, sim, sim_key))
        return code
    finally:
        ops.stop()
        _stop_sim(sim)


def _routed(config: Any, ws_url: str) -> bool:
    """USD-M on live Binance uses the /public, /market and /private WebSocket routes (docs/exchanges.md);
    the configuration has no key for it, so it follows the host."""
    from market_maker.core.model import Market

    return config.exchange.market is Market.USDM and "fstream.binance.com" in ws_url


def _start_sim(config: Any) -> tuple[Any, str, str]:
    from market_maker.ops.logs import add_secrets
    from market_maker.settings.sim_config import sim_balances, sim_config
    from market_maker.sim.server import SimServer

    sim = SimServer(sim_config(config)).start()
    key, secret = secrets.token_hex(32), secrets.token_hex(32)
    add_secrets(key, secret)  # generated for this run: masked in every log line like configured ones
    sim.create_account(key, secret, sim_balances(config))
    log.info("simulator listening on %s (control API under %s/_sim/)", sim.rest_url, sim.rest_url)
    return sim, key, secret


def _paper_check(config: Any, sim: Any, key: str) -> int:
    from market_maker.commands._paper_check import compare_fills
    from market_maker.store import StoreError, open_store

    try:
        store = open_store(config.engine.database, config.bot.id, config.trading.symbol)
        try:
            stored = [f.trade_id for f in store.fills()]
        finally:
            store.close()
    except StoreError as exc:
        log.error("paper check: %s", exc)
        return EXIT_ERROR
    check = compare_fills(sim.control.trades(key, config.trading.symbol), stored, config.exchange.market)
    (log.info if check.ok else log.error)(check.line())
    return EXIT_OK if check.ok else EXIT_ERROR


def _stop_sim(sim: Any) -> None:
    if sim is not None:
        sim.stop()
