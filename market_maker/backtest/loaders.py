"""Read kline history: Binance public CSV files and the REST API's 12-field JSON arrays.

Accepted inputs (detected from the content, not the file name):

* Binance public-data CSV (``data.binance.vision``): 12 columns ``open_time, open, high, low, close,
  volume, close_time, quote_volume, count, taker_buy_volume, taker_buy_quote_volume, ignore``, with or
  without the header row, plain or zipped (the ``.zip`` files hold one CSV).
* The REST ``klines`` response: a JSON array of 12-element arrays (``[openTime, "open", ...]``), plain
  or zipped.
* Times in milliseconds or microseconds (Binance's spot files use microseconds since 2025); they are
  normalized to milliseconds.

Every row is checked (12 fields, decimal prices, ``low <= open, close <= high``, volume >= 0, open times
strictly increasing, prices on the tick); a bad row raises :class:`DataError` naming the file and line
(``entry N`` for JSON, counted from 1).
"""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from market_maker.backtest import candle_cache
from market_maker.backtest.candles import Candles, DataError
from market_maker.backtest.fast_csv import parse_csv

N_FIELDS = 12
_US_THRESHOLD = 10**14  # ms timestamps are ~1.7e12 today; us ones ~1.7e15
_ZIP_MAGIC = b"PK\x03\x04"


def load_klines(
    path: str | Path, tick_size: Decimal | str | None = None, step_size: Decimal | str | None = None
) -> Candles:
    """Load one kline file (CSV or JSON, zipped or not) into :class:`Candles`.

    ``tick_size``/``step_size`` convert prices and volume to integers; when omitted they are inferred
    from the data as the coarsest grid that every value lies on (the symbol's real tick can be
    coarser than what a short file shows, never finer; pass the exchange's values when you have them).
    """
    path = Path(path)
    if tick_size is not None and step_size is not None:
        cached = candle_cache.load(path, Decimal(tick_size), Decimal(step_size))
        if cached is not None:
            return cached
    name, text = _read_text(path)
    is_json = text.lstrip().startswith("[")
    candles: Candles | None = None
    if not is_json and tick_size is not None and step_size is not None:
        candles = parse_csv(text, name, Decimal(tick_size), Decimal(step_size))
    if candles is None:  # anything the fast path does not like goes through the careful parser
        rows = _json_rows(name, text) if is_json else _csv_rows(name, text)
        candles = _build(name, rows, tick_size, step_size)
    if tick_size is not None and step_size is not None:
        candle_cache.store(path, candles)
    return candles


def _read_text(path: Path) -> tuple[str, str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    name = str(path)
    if raw.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                members = [m for m in zf.namelist() if not m.endswith("/")]
                if len(members) != 1:
                    raise DataError(
                        f"{path}: a kline zip holds exactly one file, this one has {len(members)}"
                    )
                name = f"{path}:{members[0]}"
                raw = zf.read(members[0])
        except zipfile.BadZipFile as exc:
            raise DataError(f"{path}: damaged zip file ({exc})") from None
    try:
        return name, raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{name}: not a text file (byte {exc.start} is not UTF-8)") from None


def _csv_rows(name: str, text: str) -> list[tuple[str, Sequence[object]]]:
    rows: list[tuple[str, Sequence[object]]] = []
    for lineno, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not fields or all(not f.strip() for f in fields):
            continue  # blank lines, e.g. a trailing newline
        if lineno == 1 and not fields[0].strip().lstrip("-").isdigit():
            continue  # the header row Binance has written since 2022
        rows.append((f"{name}:{lineno}", fields))
    return rows


def _json_rows(name: str, text: str) -> list[tuple[str, Sequence[object]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{name}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    if not isinstance(data, list):
        raise DataError(f"{name}: expected a JSON array of klines")
    rows: list[tuple[str, Sequence[object]]] = []
    for i, entry in enumerate(data, start=1):
        where = f"{name}: entry {i}"
        if not isinstance(entry, list):
            raise DataError(f"{where}: expected a 12-element array, got {type(entry).__name__}")
        rows.append((where, entry))
    return rows


def _int_field(where: str, label: str, value: object) -> int:
    if isinstance(value, bool):
        raise DataError(f"{where}: {label} {value!r} is not an integer")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text.isdigit():
        raise DataError(f"{where}: {label} {value!r} is not an integer")
    return int(text)


def _dec_field(where: str, label: str, value: object) -> Decimal:
    if isinstance(value, float | bool):  # a float has already lost the exchange's digits
        raise DataError(
            f"{where}: {label} {value!r} must be a decimal string or integer, not {type(value).__name__}"
        )
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise DataError(f"{where}: {label} {value!r} is not a decimal number") from None
    if not d.is_finite() or d < 0:
        raise DataError(f"{where}: {label} {value!r} must be a finite number >= 0")
    return d


_PRICE_LABELS = ("open", "high", "low", "close")


def _parse(
    rows: Iterable[tuple[str, Sequence[object]]],
) -> tuple[list[str], list[int], list[tuple[Decimal, ...]]]:
    wheres: list[str] = []
    times: list[int] = []
    values: list[tuple[Decimal, ...]] = []
    unit = 0  # 1 for ms, 1000 for us; fixed by the first row
    prev = -1
    for where, f in rows:
        if len(f) != N_FIELDS:
            raise DataError(f"{where}: expected {N_FIELDS} fields, got {len(f)}")
        t = _int_field(where, "open_time", f[0])
        if unit == 0:
            unit = 1000 if t >= _US_THRESHOLD else 1
        elif (t >= _US_THRESHOLD) != (unit == 1000):
            raise DataError(f"{where}: open_time {t} switches between ms and us within one file")
        t //= unit
        if t <= prev:
            raise DataError(f"{where}: open_time {t} is not after the previous row's {prev}")
        prev = t
        o, h, lo, c = (_dec_field(where, lab, f[k]) for k, lab in enumerate(_PRICE_LABELS, start=1))
        v = _dec_field(where, "volume", f[5])
        if not (lo <= o <= h and lo <= c <= h):
            raise DataError(f"{where}: inconsistent candle (open {o}, high {h}, low {lo}, close {c})")
        if lo <= 0:
            raise DataError(f"{where}: low {lo} must be > 0")
        wheres.append(where)
        times.append(t)
        values.append((o, h, lo, c, v))
    return wheres, times, values


def _grid(values: Iterable[Decimal]) -> Decimal:
    """The coarsest grid every value lies on: gcd of the values at their finest exponent."""
    vals = list(values)
    exp = min((v.as_tuple().exponent for v in vals), default=0)
    assert isinstance(exp, int)
    g = 0
    for v in vals:
        g = math.gcd(g, int(v.scaleb(-exp)))
    grid = Decimal(g or 1).scaleb(exp).normalize()
    return grid.quantize(Decimal(1)) if grid == grid.to_integral_value() else grid  # 1E+1 -> 10


def _to_units(where: str, label: str, value: Decimal, unit: Decimal) -> int:
    q = value / unit
    if q != q.to_integral_value():
        raise DataError(f"{where}: {label} {value} is not a multiple of {unit}")
    return int(q)


def _build(
    name: str,
    rows: list[tuple[str, Sequence[object]]],
    tick_size: Decimal | str | None,
    step_size: Decimal | str | None,
) -> Candles:
    wheres, times, values = _parse(rows)
    if not values:
        raise DataError(f"{name}: no candles in the file")
    tick = Decimal(tick_size) if tick_size is not None else _grid(x for r in values for x in r[:4])
    step = Decimal(step_size) if step_size is not None else _grid(r[4] for r in values if r[4] > 0)
    if tick <= 0 or step <= 0:
        raise DataError(f"{name}: tick size {tick} and step size {step} must be > 0")
    cols: list[list[int]] = [[], [], [], []]
    vol: list[int] = []
    for where, r in zip(wheres, values, strict=True):
        for k in range(4):
            cols[k].append(_to_units(where, _PRICE_LABELS[k], r[k], tick))
        vol.append(int(r[4] / step))  # volume only sizes partial fills: round down, never invent volume
    arr = [np.asarray(c, dtype=np.int64) for c in cols]
    return Candles(
        open_time_ms=np.asarray(times, dtype=np.int64),
        open=arr[0],
        high=arr[1],
        low=arr[2],
        close=arr[3],
        volume=np.asarray(vol, dtype=np.int64),
        tick_size=tick,
        step_size=step,
        source=name,
    )
