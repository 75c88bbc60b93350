"""The ``--config`` option shared by the ops verbs: load it or print why not (exit 2)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from market_maker.config import ConfigError, load_config
from market_maker.settings.models import Config

# config/default.yaml of the source tree (or of an editable install), found from any working directory.
DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "config" / "default.yaml"


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--config F`` (default: config/default.yaml of the installation)."""
    parser.add_argument(
        "--config",
        metavar="F",
        default=None,
        help=f"YAML configuration of the bot (default {DEFAULT_CONFIG})",
    )


def config_or_none(args: argparse.Namespace) -> Config | None:
    """The validated configuration, or None after printing each problem on stderr (exit 2 then)."""
    path = args.config or DEFAULT_CONFIG
    try:
        return load_config(path, os.environ)
    except ConfigError as exc:
        for line in exc.errors:
            print(f"error: {line}", file=sys.stderr)
        return None
