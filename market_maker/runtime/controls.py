"""Requests from the command line to a running bot, through the store's control rows.

The risk actor polls them every second: ``pause`` = "1" stops new buys (a manual risk trigger) until
it is "0"; a new ``resume`` value un-pauses and resets a halted circuit breaker.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from market_maker.config import Config
from market_maker.exit_codes import EXIT_ERROR, EXIT_NOT_RUNNING, EXIT_OK, EXIT_USAGE
from market_maker.store import Store, StoreError, open_store

PAUSE_KEY = "pause"
RESUME_KEY = "resume"


def request_pause(store: Store) -> None:
    """Ask the bot to cancel its buys and place no new ones until resumed."""
    store.set_control(PAUSE_KEY, "1")


def request_resume(store: Store) -> None:
    """Ask the bot to un-pause and reset its circuit breaker."""
    with store.atomic():
        store.set_control(PAUSE_KEY, "0")
        store.set_control(RESUME_KEY, str(time.time_ns()))


def send_control(config: Config, request: Callable[[Store], None], what: str) -> int:
    """Write ``request`` to the bot's store; exit 0 if a bot holds the lock, 3 if none runs, 1 on error."""
    try:
        store = open_store(config.engine.database, config.bot.id, config.trading.symbol)
        try:
            request(store)
            holder = store.lock_holder()
        finally:
            store.close()
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    who = f"bot {config.bot.id} on {config.trading.symbol}"
    if holder is None:
        print(f"{who}: {what} recorded, but no bot is running; it applies at the next start", file=sys.stderr)
        return EXIT_NOT_RUNNING
    print(f"{who}: {what} sent (the bot applies it within a few seconds)")
    return EXIT_OK


def control_verb(args: argparse.Namespace, request: Callable[[Store], None], what: str) -> int:
    """The ``pause`` / ``resume`` verbs: load ``--config`` (exit 2 if bad), then :func:`send_control`."""
    from market_maker.commands._config_arg import config_or_none

    config = config_or_none(args)
    return EXIT_USAGE if config is None else send_control(config, request, what)
