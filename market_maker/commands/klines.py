"""``klines``: get a kline history file for ``backtest``, in Binance's public CSV layout.

Two ways::

    # download closed candles over REST from the configured exchange (Binance, or the simulator)
    python -m market_maker klines --config my-binance.yaml --start 2026-06-01 --end 2026-07-01
    # seeded synthetic candles for the configured symbol, starting at the simulator's start price
    python -m market_maker klines --config config/default.yaml --synthetic 4320 --seed 7

The file is named the Binance way (``BTCUSDT-1m-2026-06-01_2026-07-01.csv``) unless ``--out`` says
otherwise, so ``backtest`` can check that it holds the configured symbol. Downloads need no API key:
klines are public. With ``exchange.venue: sim`` the source is a running ``sim-exchange`` given by
``--url``, else a simulator started here from the configuration (it holds four hours of history).
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from market_maker.commands._config_arg import add_config_argument, config_or_none
from market_maker.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from market_maker.sim.candles import INTERVALS_MS as SIM_INTERVALS_MS

HELP = "Get a kline history file for backtests: download it over REST, or write seeded synthetic candles."

# Binance's kline intervals and their length (the simulator's table, plus 1M: 31 days bounds a month)
INTERVALS_MS = {**SIM_INTERVALS_MS, "1M": 31 * 86_400_000}
_DURATION = re.compile(r"^(\d+)([mhdw])$")
_UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


class _UsageError(Exception):
    pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Source, range, symbol and output options."""
    add_config_argument(parser)
    parser.add_argument("--symbol", help="symbol to get (default: the configuration's trading.symbol)")
    parser.add_argument("--interval", default="1m", help="candle interval, Binance's names (default 1m)")
    parser.add_argument("--start", help="first candle: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] (UTC) or epoch ms")
    parser.add_argument("--end", help="end, exclusive, same forms (default: now)")
    parser.add_argument("--last", metavar="DURATION", help="instead of --start: the last N m/h/d/w, e.g. 30d")
    parser.add_argument(
        "--synthetic", metavar="N", type=int, help="write N seeded synthetic candles instead of downloading"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed for --synthetic (default 1)")
    parser.add_argument(
        "--start-price",
        metavar="P",
        help="first price for --synthetic (default: sim.start_price)",
    )
    parser.add_argument(
        "--url", help="REST base URL to download from (default: the configuration's exchange, see above)"
    )
    parser.add_argument(
        "--out", metavar="FILE", type=Path, help="output CSV (default: named the Binance way)"
    )


def parse_time(text: str, what: str) -> int:
    """UTC epoch ms from ``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM[:SS]`` or an integer of ms."""
    if text.isdigit():
        return int(text)
    for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            return int(datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp() * 1000)
        except ValueError:
            continue
    raise _UsageError(f"{what} {text!r}: expected YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] (UTC) or epoch ms")


def _stamp(ms: int) -> str:
    t = datetime.fromtimestamp(ms / 1000, UTC)
    return t.strftime("%Y-%m-%d") if ms % 86_400_000 == 0 else t.strftime("%Y-%m-%dT%H%M")


def _range(args: argparse.Namespace, now_ms: int) -> tuple[int, int]:
    end = parse_time(args.end, "--end") if args.end else now_ms
    if args.start and args.last:
        raise _UsageError("give --start or --last, not both")
    if args.last:
        m = _DURATION.match(args.last)
        if not m or int(m.group(1)) == 0:
            raise _UsageError(f"--last {args.last!r}: expected a duration like 90m, 12h, 30d or 4w")
        return end - int(m.group(1)) * _UNIT_MS[m.group(2)], end
    if not args.start:
        raise _UsageError("downloading needs --start (or --last); --synthetic writes candles instead")
    start = parse_time(args.start, "--start")
    if start >= end:
        raise _UsageError(f"--start {args.start} is not before --end {args.end or 'now'}")
    return start, end


def run(args: argparse.Namespace) -> int:
    """Write the file; exit 2 on bad arguments or configuration, 1 when the exchange fails."""
    config = config_or_none(args)
    if config is None:
        return EXIT_USAGE
    symbol = args.symbol or config.trading.symbol
    try:
        if args.interval not in INTERVALS_MS:
            raise _UsageError(f"--interval {args.interval!r}: choose one of {' '.join(INTERVALS_MS)}")
        if not symbol.isalnum() or symbol.upper() != symbol:
            raise _UsageError(f"--symbol {symbol!r}: expected upper-case letters and digits, e.g. BTCUSDT")
        if args.synthetic is not None:
            return _synthetic(args, config, symbol)
        start, end = _range(args, int(datetime.now(UTC).timestamp() * 1000))
        return _download(args, config, symbol, start, end)
    except _UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"error: writing {exc.filename or args.out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR


def _synthetic(args: argparse.Namespace, config: Any, symbol: str) -> int:
    from decimal import Decimal, InvalidOperation

    from market_maker.backtest.kline_csv import write_candles
    from market_maker.backtest.synthetic import DEFAULT_START_MS, synthetic_candles

    if args.synthetic < 1:
        raise _UsageError(f"--synthetic {args.synthetic}: the number of candles must be at least 1")
    if args.last or args.end or args.url:
        raise _UsageError("--synthetic takes --start, --interval, --seed and --start-price only")
    s = config.sim
    try:
        price = Decimal(args.start_price) if args.start_price else s.start_price
    except InvalidOperation:
        raise _UsageError(f"--start-price {args.start_price!r}: not a decimal number") from None
    if not price.is_finite() or price <= 0 or price % s.tick_size:
        raise _UsageError(
            f"--start-price {args.start_price}: must be positive and a multiple of {s.tick_size}"
        )
    start = parse_time(args.start, "--start") if args.start else DEFAULT_START_MS
    iv = INTERVALS_MS[args.interval]
    candles = synthetic_candles(
        args.synthetic, args.seed, price, s.tick_size, s.step_size, start_time_ms=start, interval_ms=iv
    )
    out = args.out or Path(f"{symbol}-{args.interval}-synthetic-seed{args.seed}-{_stamp(start)}.csv")
    n = write_candles(out, candles)
    print(
        f"wrote {n} synthetic {symbol} {args.interval} candles (seed {args.seed}) to {out}", file=sys.stderr
    )
    return EXIT_OK


def _download(args: argparse.Namespace, config: Any, symbol: str, start: int, end: int) -> int:
    from market_maker.backtest.kline_csv import write_kline_rows
    from market_maker.commands._kline_download import download_klines, rest_client
    from market_maker.exchange.errors import ExchangeError

    market = config.exchange.market
    sim = None
    url = args.url or config.exchange.rest_url
    if url is None:  # venue sim without a URL: the simulator of this configuration, started here
        from market_maker.settings.sim_config import sim_config
        from market_maker.sim.server import SimServer

        sim = SimServer(sim_config(config, step_mode=True)).start()
        url = sim.rest_url
    rest = rest_client(market, url, config.exchange.timeout_seconds)
    tty = sys.stderr.isatty()  # a progress counter on a terminal only, ended by a newline
    nl = "\n" if tty else ""
    try:
        rows = download_klines(
            rest,
            market,
            symbol,
            args.interval,
            start,
            end,
            progress=_progress if tty else None,
        )
    except ExchangeError as exc:
        print(f"{nl}error: downloading {symbol} klines from {url}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        rest.close()
        if sim is not None:
            sim.stop()
    print(nl, end="", file=sys.stderr)
    if not rows:
        print(f"error: {url} has no closed {symbol} {args.interval} candles in that range", file=sys.stderr)
        return EXIT_ERROR
    out = args.out or Path(f"{symbol}-{args.interval}-{_stamp(start)}_{_stamp(end)}.csv")
    n = write_kline_rows(out, rows)
    print(f"wrote {n} {symbol} {args.interval} candles from {url} to {out}", file=sys.stderr)
    return EXIT_OK


def _progress(n: int, _last_open_ms: int) -> None:
    print(f"\r{n} candles", end="", file=sys.stderr, flush=True)
