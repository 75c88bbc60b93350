"""``paper reset``: start paper trading over on the built-in simulator (a new account, an empty
database). Says what it removes, then removes it."""

from __future__ import annotations

import argparse
import sys

from market_maker.commands._config_arg import add_config_argument, config_or_none
from market_maker.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_UNSAFE, EXIT_USAGE

HELP = "Paper trading: `paper reset` removes the simulator's venue state and the bot's database."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The action (``reset``) and --config."""
    parser.add_argument("action", choices=("reset",), help="reset: start over (a new paper account)")
    add_config_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Remove the paper venue's state and the bot's database of the configuration."""
    from market_maker.commands._paper_reset import StoreError, VenueBusyError, reset_paper

    config = config_or_none(args)
    if config is None:
        return EXIT_USAGE
    try:
        reset_paper(config, lambda line: print(line, flush=True))
    except VenueBusyError as exc:
        print(f"error: {exc}: stop that bot first", file=sys.stderr)
        return EXIT_UNSAFE
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, StoreError) as exc:
        print(f"error: paper reset: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK
