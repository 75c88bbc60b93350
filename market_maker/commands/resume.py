"""``resume``: end a manual pause and reset a halted circuit breaker of the running bot."""

from __future__ import annotations

import argparse

from market_maker.commands._config_arg import add_config_argument

HELP = "Resume a bot: end a manual pause and reset a halted circuit breaker."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config F``."""
    add_config_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Write the resume request to the bot's store (exit 3 when no bot is running)."""
    from market_maker.commands._control import control_verb
    from market_maker.store.controls import request_resume

    return control_verb(args, request_resume, "resume")
