"""``doctor``: check that a bot can start safely; one line per check, ok / WARN / FAIL with the reason."""

from __future__ import annotations

import argparse
import sys

from market_maker.commands._config_arg import add_config_argument, config_or_none
from market_maker.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_UNSAFE, EXIT_USAGE
from market_maker.ops.doctor import (
    CheckResult,
    Status,
    check_database,
    check_exchange,
    environment_note,
    now_ms,
)
from market_maker.ops.paper_venue import check_paper_venue
from market_maker.ops.venue import VenueError, open_venue

HELP = (
    "Check config, database (and that a paper bot's database and venue state go together), exchange"
    " reachability, clock skew, API-key permissions, balance against the worst-case grid and the"
    " trading lock; exit 0 ok, 4 unsafe to trade, 2 bad config."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--config."""
    add_config_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Print one line per check; the exit code says whether it is safe to trade."""
    config = config_or_none(args)
    if config is None:
        print("FAIL  config: invalid (see the errors above)")
        return EXIT_USAGE
    print(f"ok    {environment_note(config)}")
    for warning in config.warnings():
        print(f"WARN  config: {warning}")
    results: list[CheckResult] = []
    try:
        for result in check_database(config, now_ms()):
            results.append(result)
            print(result.line(), flush=True)
        for result in check_paper_venue(config, args.config):
            results.append(result)
            print(result.line(), flush=True)
        try:
            with open_venue(config, allow_embedded_sim=True) as venue:
                for result in check_exchange(config, venue.exchange, venue.description):
                    results.append(result)
                    print(result.line(), flush=True)
        except (VenueError, ValueError) as exc:
            result = CheckResult("exchange", Status.FAIL, str(exc))
            results.append(result)
            print(result.line())
    except Exception as exc:  # a bug in a check: say so in one line, never a traceback with secrets
        print(
            f"error: doctor failed: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}", file=sys.stderr
        )
        return EXIT_ERROR
    failed = [r for r in results if r.status is Status.FAIL]
    if failed:
        print(f"unsafe to trade: {len(failed)} check(s) failed")
        return EXIT_UNSAFE
    return EXIT_OK
