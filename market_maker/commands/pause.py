"""``pause``: the running bot cancels its buys and places no new ones (sells continue) until ``resume``."""

from __future__ import annotations

import argparse

from market_maker.commands._config_arg import add_config_argument

HELP = "Pause a running bot: cancel its buys, place no new ones (sells continue) until resume."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config F``."""
    add_config_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Write the pause request to the bot's store (exit 3 when no bot is running)."""
    from market_maker.commands._control import control_verb
    from market_maker.store.controls import request_pause

    return control_verb(args, request_pause, "pause")
