"""Vectorized parsing of a well-formed Binance kline CSV (numpy string operations, no per-row Python).

This is only a fast path: it returns ``None`` at the first thing it does not like (ragged rows, a
non-digit, an exponent, an off-tick price, an inconsistent candle, times not increasing, mixed ms/us)
and the caller then runs the careful row-by-row parser, which names the file and line of the problem.
So a file is either parsed here to exactly the same candles, or not at all.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import numpy.typing as npt

from market_maker.backtest.candles import Candles

_US_THRESHOLD = 10**14
_MAX_DIGITS = 17  # int64 holds 18 digits; stay below so scaling cannot overflow


def _scaled(col: npt.NDArray[np.str_]) -> tuple[npt.NDArray[np.int64], int] | None:
    """Non-negative decimal strings as integers x 10**d (d = most fraction digits); None if not plain."""
    parts = np.char.partition(col, ".")
    whole, dot, frac = parts[:, 0], parts[:, 1], parts[:, 2]
    if np.any((dot == ".") & (np.char.str_len(frac) == 0)):
        return None
    digits = int(np.char.str_len(frac).max()) if len(frac) else 0
    if digits + int(np.char.str_len(whole).max()) > _MAX_DIGITS:
        return None
    if not (np.all(np.char.isdigit(whole)) and np.all(np.char.isdigit(frac) | (np.char.str_len(frac) == 0))):
        return None
    padded = np.char.ljust(frac, digits, "0") if digits else frac
    ints = whole.astype(np.int64) * 10**digits
    if digits:
        ints = ints + padded.astype(np.int64)
    return ints, digits


def _units(col: npt.NDArray[np.str_], unit: Decimal, exact: bool) -> npt.NDArray[np.int64] | None:
    """Column / unit as int64 (exactly, or rounded down when not ``exact``); None when not representable."""
    got = _scaled(col)
    if got is None:
        return None
    ints, digits = got
    scaled_unit = unit.scaleb(digits)
    if scaled_unit != scaled_unit.to_integral_value() or scaled_unit <= 0:
        return None  # the unit is finer than the data's own digits: let the careful path decide
    u = int(scaled_unit)
    if exact and np.any(ints % u):
        return None
    return ints // u


def parse_csv(text: str, name: str, tick: Decimal, step: Decimal) -> Candles | None:
    """Candles from a plain Binance kline CSV, or None to fall back to the row-by-row parser."""
    lines = text.splitlines()
    if lines and lines[0] and not lines[0].split(",", 1)[0].strip().isdigit():
        lines = lines[1:]  # the header row
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines or any(not line.strip() for line in lines):
        return None
    body = ",".join(lines)
    if " " in body or "\t" in body or '"' in body:
        return None  # spaces or quoting: not the plain layout
    cells = body.split(",")
    if len(cells) != 12 * len(lines):
        return None  # ragged rows
    table = np.array(cells, dtype=np.str_).reshape(len(lines), 12)
    if not (np.all(np.char.isdigit(table[:, 0])) and np.all(np.char.str_len(table[:, 0]) <= _MAX_DIGITS)):
        return None
    times = table[:, 0].astype(np.int64)
    us = times >= _US_THRESHOLD
    if us.any() and not us.all():
        return None
    if us.all():
        times = times // 1000
    if len(times) > 1 and np.any(np.diff(times) <= 0):
        return None
    cols = [_units(table[:, k], tick, exact=True) for k in range(1, 5)]
    vol = _units(table[:, 5], step, exact=False)
    if vol is None or any(c is None for c in cols):
        return None
    o, h, lo, c = (x for x in cols if x is not None)
    if np.any(lo > np.minimum(o, c)) or np.any(h < np.maximum(o, c)) or np.any(lo <= 0):
        return None
    return Candles(times, o, h, lo, c, vol, tick, step, name)
