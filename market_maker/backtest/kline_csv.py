"""Write klines as Binance's public CSV layout (``data.binance.vision``), the backtester's input.

Two sources: the REST ``klines`` rows exactly as the exchange sent them (the downloader), and
:class:`Candles` (seeded synthetic candles). The file has the header row Binance's files carry since
2022 and is written to a temporary name first, so an interrupted run never leaves half a file that
looks complete.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from market_maker.backtest.candles import Candles

HEADER = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "count",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "ignore",
)


def write_kline_rows(path: str | Path, rows: Iterable[Sequence[object]]) -> int:
    """Write 12-field kline rows (REST layout) to ``path`` as a Binance CSV; returns the row count."""
    target = Path(path)
    tmp = target.with_name(target.name + ".part")
    n = 0
    with tmp.open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(HEADER)
        for row in rows:
            if len(row) != len(HEADER):
                raise ValueError(f"kline row {n + 1}: expected {len(HEADER)} fields, got {len(row)}")
            out.writerow(row)
            n += 1
    os.replace(tmp, target)
    return n


def candle_rows(candles: Candles) -> Iterable[list[object]]:
    """Binance rows for ``candles``. The trade count and the taker split are unknown (0); the quote
    volume is volume x close, exact (the true figure needs the trades, which candles do not hold)."""
    iv = candles.interval_ms
    for i in range(len(candles)):
        t = int(candles.open_time_ms[i])
        vol = candles.qty(int(candles.volume[i]))
        close = candles.price(int(candles.close[i]))
        yield [
            t,
            str(candles.price(int(candles.open[i]))),
            str(candles.price(int(candles.high[i]))),
            str(candles.price(int(candles.low[i]))),
            str(close),
            str(vol),
            t + iv - 1,
            str(vol * close),
            0,
            "0",
            "0",
            "0",
        ]


def write_candles(path: str | Path, candles: Candles) -> int:
    """Write ``candles`` to ``path`` as a Binance CSV; returns the row count."""
    return write_kline_rows(path, candle_rows(candles))
