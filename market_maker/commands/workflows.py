"""``workflows``: list the Durable engine's recent and pending order workflows (id, status, age).

Reads the DBOS system database of the configured bot (``engine.database``) without launching DBOS,
so it never recovers or runs anything and is safe while the bot runs.
"""

from __future__ import annotations

import argparse
import sys
import time

from market_maker.commands._config_arg import add_config_argument, config_or_none
from market_maker.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_USAGE

HELP = "List the Durable engine's recent and pending order workflows (id, status, age)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the verb."""
    add_config_argument(parser)
    parser.add_argument(
        "--limit", type=int, default=20, metavar="N", help="how many recent workflows to list (default 20)"
    )
    parser.add_argument(
        "--all", action="store_true", help="every bot and symbol in the database, not only the configured one"
    )


def run(args: argparse.Namespace) -> int:
    """Print pending workflows, then the most recent ones; exit 0, 1 (unreadable) or 2 (usage)."""
    if args.limit < 1:
        print("error: --limit must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    config = config_or_none(args)
    if config is None:
        return EXIT_USAGE
    if config.engine.type != "durable":
        print(
            f"error: engine.type is {config.engine.type}: only the durable engine runs workflows",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from market_maker.durable.listing import ListingError, age_text, list_workflows
    from market_maker.durable.settings import durable_settings

    bot, symbol = config.bot.id, config.trading.symbol
    try:
        settings = durable_settings(config.engine.database, bot, symbol)
        listing = list_workflows(
            settings, None if args.all else bot, None if args.all else symbol, args.limit
        )
    except (ValueError, ListingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    now = int(time.time() * 1000)
    scope = "every bot" if args.all else f"bot {bot} on {symbol}"
    print(f"workflows of {scope} in {settings.where}")
    for title, rows in ((f"pending: {len(listing.pending)}", listing.pending), ("recent:", listing.recent)):
        print(title)
        if rows:
            width = max(len(r.workflow_id) for r in rows)
            print(f"  {'ID':<{width}}  {'STATUS':<10}  {'AGE':>5}  EXECUTOR")
        for r in rows:
            age = age_text(now - r.created_ms)
            print(f"  {r.workflow_id:<{width}}  {r.status:<10}  {age:>5}  {r.executor_id}")
    return EXIT_OK
