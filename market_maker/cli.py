"""The command line: ``python -m market_maker <verb>`` (also installed as ``market-maker``).

Exit codes: the one table in :mod:`market_maker.exit_codes` (0 ok, 1 error, 2 bad config or usage,
3 not running, 4 unsafe to trade).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from market_maker.exit_codes import EXIT_OK, EXIT_USAGE

# numpy's OpenBLAS starts a thread per core when numpy is imported, and they spin for a while: nothing
# here does linear algebra, so one thread is enough (a backtest's start-up costs ~0.1-0.2 s less CPU).
# Before any command imports numpy; a value the user set wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# verb -> module under market_maker.commands; modules import lazily so `--help` stays fast.
VERBS: dict[str, str] = {
    "sim-exchange": "sim_exchange",
    "check-config": "check_config",
    "status": "status",
    "doctor": "doctor",
    "cancel-all": "cancel_all",
    "backtest": "backtest",
    "klines": "klines",
    "run": "run",
    "pause": "pause",
    "resume": "resume",
    "workflows": "workflows",
    "paper": "paper",
    "optimize": "optimize",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with every verb registered; with ``only``, that verb's module is the only one
    imported (the others are registered by name), so a verb starts without loading the rest."""
    parser = argparse.ArgumentParser(
        prog="market_maker",
        description="Trailing grid market maker for Binance spot and USD-M futures.",
    )
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb, module_name in VERBS.items():
        if only is not None and verb != only:
            sub.add_parser(verb)
            continue
        module = importlib.import_module(f"market_maker.commands.{module_name}")
        p = sub.add_parser(verb, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def _verb(argv: Sequence[str]) -> str | None:
    """The verb ``argv`` names (its first word, the parser has no global options); None if none."""
    return argv[0] if argv and argv[0] in VERBS else None


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the verb; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_verb(argv))
    args = parser.parse_args(argv)
    if getattr(args, "_module", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args._module.run(args))
    except KeyboardInterrupt:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
