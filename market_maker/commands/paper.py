"""``paper reset``: start paper trading over on the built-in simulator (a new account, an empty
database). Says what it removes, then removes it."""

from __future__ import annotations

import argparse

from market_maker.commands._config_arg import add_config_argument, config_or_none
from market_maker.exit_codes import EXIT_USAGE

HELP = "Paper trading: `paper reset` removes the simulator's venue state and the bot's database."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The action (``reset``) and --config."""
    parser.add_argument("action", choices=("reset",), help="reset: start over (a new paper account)")
    add_config_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Remove the paper venue's state and the bot's database of the configuration."""
    from market_maker.commands._paper_reset import reset_paper_or_fail

    config = config_or_none(args)
    if config is None:
        return EXIT_USAGE
    return reset_paper_or_fail(config, lambda line: print(line, flush=True), "paper reset")
