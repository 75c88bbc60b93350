"""``run``: trade. With no arguments: config/default.yaml, paper trading on the built-in simulator.

For ``exchange.venue: sim`` the simulator starts in-process on a free loopback port with a seeded price
path, and the bot trades it over real HTTP and WebSocket. The venue persists in a state file beside the
database (``market_maker.sim.state_file``): the paper account (created from ``sim.balances`` on the first
run, with a generated key and secret kept in that 0600 file), its orders and trades, the market clock.
A run after Ctrl-C or kill -9 continues on it; a database and a venue state that do not belong together
are refused (exit 4, ``market_maker.ops.paper_venue``); ``--fresh`` starts over. With
``exchange.rest_url``/``ws_url`` set, venue ``sim`` trades that simulator (``sim-exchange``) instead,
with the configured key or else sim-exchange's default paper account. For ``venue: binance`` it trades
the configured Binance endpoints with the API key and secret from the environment or the secrets file.
SIGTERM or Ctrl-C stops gracefully (exit 0); ``--for SECONDS`` stops by itself.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from typing import Any

from market_maker.commands._config_arg import add_config_argument, config_or_none
from market_maker.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_UNSAFE, EXIT_USAGE

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
        "--fresh",
        action="store_true",
        help="paper trading: start over (remove the simulator's venue state and the database first)",
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
    if args.fresh:
        from market_maker.commands._paper_reset import reset_paper_or_fail

        code = reset_paper_or_fail(config, lambda line: log.info("fresh start: %s", line), "--fresh")
        if code != EXIT_OK:
            return code
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
    from market_maker.sim.state_file import VenueBusyError, VenueStateError
    from market_maker.startup.patient_start import WaitStopped, patient_start
    from market_maker.store import StoreError

    sim = None
    try:
        if config.exchange.venue == "sim" and config.exchange.rest_url is None:
            sim, key, secret = _start_sim(config)
            urls: tuple[str, str, str | None] = (sim.rest_url, sim.ws_url, None)
            problem = _bind_paper(config, sim, key)
            if problem is not None:
                from market_maker.ops.paper_venue import fix_hint

                print(f"error: {problem}; {fix_hint(args.config)}", file=sys.stderr)
                log.error("not trading: %s", problem)
                _stop_sim(sim)
                return EXIT_UNSAFE
            heartbeat = args.heartbeat or 5.0
        elif config.exchange.venue == "sim":
            urls, (key, secret) = _external_sim(config)
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
            order_transport=config.exchange.order_transport,
            stp_mode=config.exchange.self_trade_prevention,
        )
    except ConfigError as exc:
        for line in exc.errors:
            print(f"error: {line}", file=sys.stderr)
        _stop_sim(sim)
        return EXIT_USAGE
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        _stop_sim(sim)
        return EXIT_ERROR
    except VenueStateError as exc:
        from market_maker.ops.paper_venue import fix_hint

        fix = "stop that bot first" if isinstance(exc, VenueBusyError) else fix_hint(args.config)
        print(f"error: {exc}; {fix}", file=sys.stderr)
        _stop_sim(sim)
        return EXIT_UNSAFE
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
                log.info("ops endpoint on %s (dashboard /, /metrics, /healthz, /status)", ops.server.url)
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
        ops.announce(config)  # holds the trading lock now: record the endpoint's address for `status`
        ops.alert(AlertKind.START, f"trading {config.trading.symbol} as bot {config.bot.id}")
        code = system.wait(stop, args.for_seconds)
        ops.alert(AlertKind.STOP, f"stopped ({system.failed or 'graceful'})", exit_code=code)
        if config.exchange.venue == "sim":
            trades = _venue_trades(config, sim, key)
            code = max(code, _paper_check(config, trades, system.fills_covered_ms))
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
    from market_maker.ops.paper_venue import paper_state_path
    from market_maker.settings.sim_config import sim_balances, sim_config
    from market_maker.sim.server import SimServer

    state = paper_state_path(config)
    sim = SimServer(sim_config(config), state_file=state).start()
    key, secret, created = sim.paper_account(sim_balances(config))
    add_secrets(key, secret)  # kept in the venue's 0600 state file only: masked in every log line
    log.info("simulator listening on %s (control API under %s/_sim/)", sim.rest_url, sim.rest_url)
    if state is not None:
        how = "a new paper account" if created else "the paper account kept there"
        log.info("paper venue state in %s: %s", state, how)
    return sim, key, secret


def _bind_paper(config: Any, sim: Any, key: str) -> str | None:
    """None when the database and the simulator's venue state belong together (binding a new pair);
    else the one line that says why not."""
    from market_maker.ops.paper_venue import bind, binding
    from market_maker.store import open_store

    if sim.venue_id is None:  # an in-memory database: a throw-away venue as well
        return None
    store = open_store(config.engine.database, config.bot.id, config.trading.symbol)
    try:
        check = binding(config, store, sim.venue_id, sim.continued and sim.account_has_history(key))
        problem = check.problem()
        if problem is None and check.bound is None:
            bind(store, sim.venue_id)
        return problem
    finally:
        store.close()


def _external_sim(config: Any) -> tuple[tuple[str, str, str | None], tuple[str, str]]:
    """URLs and credentials of a simulator running on its own (``sim-exchange``): the configured key,
    or else its default paper account."""
    from market_maker.ops.logs import add_secrets
    from market_maker.sim.config import PAPER_API_KEY, PAPER_API_SECRET

    ex = config.exchange
    if ex.ws_url is None:
        raise ValueError("exchange.rest_url is set for venue sim: set exchange.ws_url too")
    if config.credentials.has_api_credentials:
        key, secret = config.api_credentials()
    else:
        key, secret = PAPER_API_KEY, PAPER_API_SECRET
        add_secrets(key, secret)
    log.info("trading the simulator at %s", ex.rest_url)
    return (ex.rest_url, ex.ws_url, ex.ws_api_url), (key, secret)


def _venue_trades(config: Any, sim: Any, key: str) -> list[dict[str, Any]] | str:
    """The account's trade log from the simulator (its control API), or why it cannot be read."""
    if sim is not None:
        rows: list[dict[str, Any]] = sim.control.trades(key, config.trading.symbol)
        return rows
    import requests

    try:
        resp = requests.get(
            f"{config.exchange.rest_url}/_sim/trades",
            params={"api_key": key, "symbol": config.trading.symbol},
            timeout=config.exchange.timeout_seconds,
        )
        resp.raise_for_status()
        result: list[dict[str, Any]] = resp.json()["result"]
        return result
    except (requests.RequestException, ValueError, KeyError) as exc:
        return f"cannot read the simulator's trades: {type(exc).__name__}"


def _paper_check(config: Any, venue_trades: list[dict[str, Any]] | str, until_ms: int | None) -> int:
    from market_maker.commands._paper_check import compare_fills
    from market_maker.store import StoreError, open_store

    if isinstance(venue_trades, str):
        log.error("paper check: %s", venue_trades)
        return EXIT_ERROR
    try:
        store = open_store(config.engine.database, config.bot.id, config.trading.symbol)
        try:
            stored = [f.trade_id for f in store.fills()]
        finally:
            store.close()
    except StoreError as exc:
        log.error("paper check: %s", exc)
        return EXIT_ERROR
    check = compare_fills(venue_trades, stored, config.exchange.market, until_ms)
    (log.info if check.ok else log.error)(check.line())
    return EXIT_OK if check.ok else EXIT_ERROR


def _stop_sim(sim: Any) -> None:
    if sim is not None:
        sim.stop()
