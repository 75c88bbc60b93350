"""The ``pause`` / ``resume`` verbs: write a request to the bot's store control rows
(:mod:`market_maker.store.controls`) and say whether a bot is running to apply it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from market_maker.config import Config
from market_maker.exit_codes import EXIT_ERROR, EXIT_NOT_RUNNING, EXIT_OK, EXIT_USAGE
from market_maker.store import Store, StoreError, open_store


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
