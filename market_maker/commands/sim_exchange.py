"""``sim-exchange``: run the Binance-compatible simulator in the foreground until Ctrl-C or SIGTERM.

A configuration without ``accounts`` (or no ``--config`` at all) gets one paper account, the documented
:data:`market_maker.sim.config.PAPER_API_KEY` / ``PAPER_API_SECRET``, printed at start
(docs/exchanges.md says how to list accounts of your own).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from market_maker.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from market_maker.sim.config import PAPER_API_KEY

HELP = "Run the Binance-compatible exchange simulator (REST + WebSocket on loopback) until Ctrl-C."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the verb."""
    parser.add_argument(
        "--config", metavar="F", help="YAML file of simulator settings (see market_maker.sim.config)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    parser.add_argument("--step-mode", action="store_true", help="advance the price only through /_sim/step")
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="keep the venue's state in FILE (0600) and continue it at the next start (default: in memory)",
    )


def load_config(path: str | None, step_mode: bool) -> Any:
    """The SimConfig from ``path`` (a YAML mapping, optionally under a top-level ``sim:`` key)."""
    import dataclasses

    import yaml

    from market_maker.sim.config import PAPER_API_SECRET, AccountSpec, SimConfig

    data: dict[str, Any] = {}
    if path:
        try:
            loaded = yaml.safe_load(Path(path).read_text()) or {}
        except OSError as exc:
            raise ValueError(f"{path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: not valid YAML ({exc})") from None
        if isinstance(loaded, dict) and set(loaded) == {"sim"}:
            loaded = loaded["sim"]
        data = loaded
    cfg = SimConfig.from_mapping(data, where=path or "sim config")
    if not cfg.accounts:
        cfg = dataclasses.replace(cfg, accounts=(AccountSpec(PAPER_API_KEY, PAPER_API_SECRET),))
    return dataclasses.replace(cfg, step_mode=True) if step_mode else cfg


def run(args: argparse.Namespace) -> int:
    """Start the simulator, print its URLs, wait for Ctrl-C / SIGTERM, stop cleanly."""
    from market_maker.sim.config import SimConfigError
    from market_maker.sim.paths import PathError
    from market_maker.sim.server import SimServer
    from market_maker.sim.state_file import VenueStateError

    try:
        cfg = load_config(args.config, args.step_mode)
    except (ValueError, SimConfigError, PathError) as exc:
        print(f"sim-exchange: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        state = Path(args.state) if args.state else None
        sim = SimServer(cfg, host=args.host, port=args.port, state_file=state).start()
    except (RuntimeError, PathError, OSError, VenueStateError) as exc:
        print(f"sim-exchange: {exc}", file=sys.stderr)
        return EXIT_ERROR
    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    print(f"REST      {sim.rest_url}  (spot /api/v3, USD-M /fapi)", flush=True)
    print(f"WebSocket {sim.ws_url}  (/ws, /stream, /ws-api/v3, /private/ws)", flush=True)
    print(f"Control   {sim.rest_url}/_sim/<op>   Ctrl-C to stop", flush=True)
    for acct in sim.config.accounts:
        money = ", ".join(f"{a} {v}" for a, v in acct.balances.items())
        # the default paper account is documented, so its secret is shown; a configured one's is not
        shown = acct.api_secret if acct.api_key == PAPER_API_KEY else "(from the configuration)"
        print(f"Account   PAPER  key {acct.api_key}  secret {shown}  balances {money}", flush=True)
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sim.stop()
        print("simulator stopped", flush=True)
    return EXIT_OK
