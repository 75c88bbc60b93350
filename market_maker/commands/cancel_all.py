"""``cancel-all``: cancel this bot's open orders on its symbol; foreign orders are never touched."""

from __future__ import annotations

import argparse
import sys

from market_maker.commands._config_arg import add_config_argument, config_or_none
from market_maker.core.ids import is_own
from market_maker.exchange.errors import ExchangeError
from market_maker.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from market_maker.ops.venue import VenueError, open_venue

HELP = (
    "Cancel this bot's own open orders (client ids with its bot id prefix) on its symbol;"
    " foreign and manual orders stay. Stop the bot first, or it places new ones."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--config, --dry-run."""
    add_config_argument(parser)
    parser.add_argument("--dry-run", action="store_true", help="list what would be cancelled, cancel nothing")


def run(args: argparse.Namespace) -> int:
    """One line per cancelled order and a summary; exit 1 when the exchange fails, 2 on bad config."""
    config = config_or_none(args)
    if config is None:
        return EXIT_USAGE
    bot_id = config.bot.id
    try:
        with open_venue(config, allow_embedded_sim=False) as venue:
            ex = venue.exchange
            ex.start()
            rules = ex.symbol_rules()
            orders = ex.open_orders()
            own = [o for o in orders if is_own(o.client_id, bot_id)]
            foreign = len(orders) - len(own)
            # The connector's cancel_own re-lists and checks the prefix itself: never a foreign id.
            done = own if args.dry_run else ex.cancel_own(bot_id)
    except (VenueError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ExchangeError as exc:
        print(f"error: {config.exchange.venue}: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_ERROR
    verb = "would cancel" if args.dry_run else "cancelled"
    for o in done:
        qty, price = rules.steps_to_qty(o.orig_qty), rules.ticks_to_price(o.price)
        print(f"{verb} {o.client_id} {o.side.value} {qty} @ {price}")
    print(
        f"{verb} {len(done)} order(s) of bot {bot_id} on {config.trading.symbol};"
        f" left {foreign} foreign order(s) untouched"
    )
    return EXIT_OK
