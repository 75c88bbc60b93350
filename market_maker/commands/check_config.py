"""``check-config FILE``: validate a configuration and print it merged, with secrets masked."""

from __future__ import annotations

import argparse
import os
import sys

from market_maker.config import ConfigError, dump_config, load_config
from market_maker.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from market_maker.settings.writable import unwritable_paths

HELP = "Validate a configuration file (plus MM_* environment overrides) and print the merged result."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE (or ``--config FILE``, as the other verbs spell it): the YAML configuration to check."""
    parser.add_argument(
        "file", metavar="FILE", nargs="?", help="YAML configuration file, e.g. config/default.yaml"
    )
    parser.add_argument("--config", metavar="FILE", help="the same, as an option")


def run(args: argparse.Namespace) -> int:
    """Print the merged configuration (stdout) and warnings (stderr); every error on stderr, exit 2 (a
    database or log file that could not be created or written too)."""
    if (args.file is None) == (args.config is None):
        print("error: check-config takes one configuration: FILE or --config FILE", file=sys.stderr)
        return EXIT_USAGE
    args.file = args.file or args.config
    try:
        config = load_config(args.file, os.environ)
    except ConfigError as exc:
        for line in exc.errors:
            print(f"error: {line}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a bug in the checker must still not spill a traceback (or a secret) on a user
        print(f"error: {args.file}: internal error while checking: {type(exc).__name__}", file=sys.stderr)
        return EXIT_ERROR
    problems = unwritable_paths(config)
    for line in problems:
        print(f"error: {args.file}: {line}", file=sys.stderr)
    if problems:
        return EXIT_USAGE
    sys.stdout.write(dump_config(config))
    for line in config.warnings():
        print(f"warning: {line}", file=sys.stderr)
    return EXIT_OK
