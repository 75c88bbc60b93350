"""``status``: show a running bot's state (a box, or the JSON document with ``--json``)."""

from __future__ import annotations

import argparse
import json
import sys
import time

from market_maker.commands._config_arg import add_config_argument, config_or_none
from market_maker.exit_codes import EXIT_NOT_RUNNING, EXIT_OK, EXIT_USAGE
from market_maker.ops.client import EndpointDisabledError, NotRunningError, fetch_status, ops_url
from market_maker.ops.status_view import render_status
from market_maker.settings.models import Config

HELP = "Show a running bot's status (grid levels, ladder, position, PnL, risk) from its ops endpoint."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--config, --json, --watch [SECONDS]."""
    add_config_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the status document as JSON")
    parser.add_argument(
        "--url", action="store_true", help="print the ops endpoint's address (e.g. for curl .../metrics)"
    )
    parser.add_argument(
        "--watch",
        nargs="?",
        type=float,
        const=2.0,
        default=None,
        metavar="SECONDS",
        help="refresh every SECONDS (default 2) until Ctrl-C",
    )


def _snapshot(config: Config, as_json: bool) -> str:
    """The rendered status; raises NotRunningError / EndpointDisabledError."""
    doc = fetch_status(config)
    return json.dumps(doc, indent=2) if as_json else render_status(doc)


def run(args: argparse.Namespace) -> int:
    """Print the status once (exit 0), or keep refreshing with --watch; exit 3 when no bot answers."""
    config = config_or_none(args)
    if config is None:
        return EXIT_USAGE
    if args.watch is not None and args.watch <= 0:
        print("error: --watch: SECONDS must be positive", file=sys.stderr)
        return EXIT_USAGE
    if args.url:
        return _print_url(config)
    screen = _Screen() if args.watch is not None and sys.stdout.isatty() else None
    try:
        while True:  # once, or until Ctrl-C with --watch (the CLI turns KeyboardInterrupt into exit 0)
            try:
                text = _snapshot(config, args.json)
            except EndpointDisabledError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return EXIT_USAGE
            except NotRunningError as exc:
                if args.watch is None:
                    print(f"not running: {exc}", file=sys.stderr)
                    return EXIT_NOT_RUNNING
                text = f"not running: {exc}"
            if args.watch is None:
                print(text)
                return EXIT_OK
            if screen is not None:
                screen.draw(text)
            else:  # piped output stays a plain sequence of snapshots
                print(text, flush=True)
            time.sleep(args.watch)
    finally:
        if screen is not None:
            screen.close()


def _print_url(config: Config) -> int:
    try:
        print(ops_url(config))
    except EndpointDisabledError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except NotRunningError as exc:
        print(f"not running: {exc}", file=sys.stderr)
        return EXIT_NOT_RUNNING
    return EXIT_OK


class _Screen:
    """Redraws a snapshot in place on a terminal: the alternate screen (as ``watch`` and ``top`` use),
    the cursor sent home and each line overwritten, no clear-and-scroll flicker; on close the normal
    screen comes back with the last snapshot printed on it."""

    def __init__(self) -> None:
        self.last = ""
        sys.stdout.write("\x1b[?1049h\x1b[?25l")  # alternate screen, cursor hidden

    def draw(self, text: str) -> None:
        """Overwrite the screen with ``text``: home, each line then erase-to-end-of-line, erase below."""
        self.last = text
        body = "".join(f"{line}\x1b[K\n" for line in text.splitlines())
        sys.stdout.write(f"\x1b[H{body}\x1b[J")
        sys.stdout.flush()

    def close(self) -> None:
        """Leave the alternate screen and show the last snapshot on the normal one."""
        sys.stdout.write("\x1b[?25h\x1b[?1049l")
        if self.last:
            sys.stdout.write(self.last + "\n")
        sys.stdout.flush()
