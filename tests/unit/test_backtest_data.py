"""Kline loaders: every accepted layout gives the same candles; malformed rows name file and line."""

from __future__ import annotations

import json
import zipfile
from decimal import Decimal
from decimal import Decimal as D
from pathlib import Path

import numpy as np
import pytest

from market_maker.backtest.candles import DataError
from market_maker.backtest.loaders import load_klines
from market_maker.backtest.synthetic import synthetic_candles

DATA = Path(__file__).resolve().parents[1] / "data" / "AVAXUSDT-1m-2026-06-01_03.csv"
HEADER = DATA.read_text().splitlines()[0]
ROWS = DATA.read_text().splitlines()[1:]


def _write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    return p


def test_real_file_with_header_loads_in_ticks_and_steps() -> None:
    c = load_klines(DATA)
    assert len(c) == 4320
    assert c.tick_size == Decimal("0.001") and c.step_size == Decimal(1)
    # first row: 1780272000000,8.9810,8.9820,8.9710,8.9740,17315,...
    assert (c.open_time_ms[0], c.open[0], c.high[0], c.low[0], c.close[0], c.volume[0]) == (
        1780272000000,
        8981,
        8982,
        8971,
        8974,
        17315,
    )
    assert c.interval_ms == 60_000
    assert np.all(c.low <= np.minimum(c.open, c.close)) and np.all(c.high >= np.maximum(c.open, c.close))


def test_explicit_tick_and_step_are_used() -> None:
    c = load_klines(DATA, tick_size="0.0001", step_size="0.1")
    assert c.open[0] == 89810 and c.volume[0] == 173150


def _same(a: object, b: object) -> None:
    for col in ("open_time_ms", "open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(a, col), getattr(b, col)), col


def test_headerless_zipped_microsecond_and_json_layouts_agree(tmp_path: Path) -> None:
    ref = load_klines(DATA)
    rows = ROWS[:500]
    ref = ref.slice(0, 500)
    _same(load_klines(_write(tmp_path, "noheader.csv", rows)), ref)

    z = tmp_path / "AVAXUSDT-1m.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("AVAXUSDT-1m.csv", "\n".join([HEADER, *rows]) + "\n")
    _same(load_klines(z), ref)

    us = []
    for r in rows:
        f = r.split(",")
        f[0], f[6] = f[0] + "000", f[6] + "999"
        us.append(",".join(f))
    _same(load_klines(_write(tmp_path, "us.csv", us)), ref)

    arrays = []
    for r in rows:
        f = r.split(",")
        arrays.append([int(f[0]), *f[1:6], int(f[6]), f[7], int(f[8]), *f[9:]])
    js = tmp_path / "klines.json"
    js.write_text(json.dumps(arrays))
    _same(load_klines(js), ref)

    zj = tmp_path / "klines.json.zip"
    with zipfile.ZipFile(zj, "w") as zf:
        zf.writestr("klines.json", json.dumps(arrays))
    _same(load_klines(zj), ref)


@pytest.mark.parametrize(
    ("line_no", "replacement", "message"),
    [
        (3, "1780272120000,8.9730,8.9750,8.9710", "expected 12 fields, got 4"),
        (
            4,
            "1780272180000,8.97x0,8.9750,8.9710,8.9730,6406,1780272239999,1,1,1,1,0",
            "open '8.97x0' is not a decimal",
        ),
        (5, "1780272240000,8.9730,8.9700,8.9710,8.9730,6406,1780272299999,1,1,1,1,0", "inconsistent candle"),
        (
            6,
            "1780272000000,8.9730,8.9750,8.9710,8.9730,6406,1780272059999,1,1,1,1,0",
            "is not after the previous",
        ),
        (
            7,
            "17802723600x0,8.9730,8.9750,8.9710,8.9730,6406,1780272419999,1,1,1,1,0",
            "open_time '17802723600x0'",
        ),
        (8, "1780272360000,8.9730,8.9750,8.9710,8.9730,-5,1780272479999,1,1,1,1,0", "volume '-5' must be"),
        (
            9,
            "1780272420000,8.97305,8.9750,8.9710,8.9730,5,1780272539999,1,1,1,1,0",
            "not a multiple of 0.001",
        ),
    ],
)
def test_malformed_row_names_file_and_line(
    tmp_path: Path, line_no: int, replacement: str, message: str
) -> None:
    lines = [HEADER, *ROWS[:20]]
    lines[line_no - 1] = replacement
    path = _write(tmp_path, "bad.csv", lines)
    with pytest.raises(DataError) as err:
        load_klines(path, tick_size="0.001", step_size="1")
    text = str(err.value)
    assert text.startswith(f"{path}:{line_no}: "), text
    assert message in text
    assert "\n" not in text


def test_malformed_json_entry_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps([[1780272000000, "1", "2", "0.5", "1.5", "3", 1, "0", 1, "0", "0", "0"], [1, 2]])
    )
    with pytest.raises(DataError, match=r"bad\.json: entry 2: expected 12 fields, got 2"):
        load_klines(path)
    path.write_text('[[1780272000000, "1",\n')
    with pytest.raises(DataError, match=r"bad\.json:2: invalid JSON"):
        load_klines(path)


def test_float_prices_in_json_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "floats.json"
    path.write_text(json.dumps([[1780272000000, 1.5, 2.0, 0.5, 1.5, "3", 1, "0", 1, "0", "0", "0"]]))
    with pytest.raises(DataError, match=r"entry 1: open 1\.5 must be a decimal string"):
        load_klines(path)


def test_missing_empty_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        load_klines(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="no candles"):
        load_klines(_write(tmp_path, "empty.csv", [HEADER]))
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataError, match="not a text file"):
        load_klines(binary)


def test_synthetic_candles_are_seeded_and_consistent() -> None:
    a = synthetic_candles(5000, seed=7)
    b = synthetic_candles(5000, seed=7)
    c = synthetic_candles(5000, seed=8)
    _same(a, b)
    assert not np.array_equal(a.close, c.close)
    assert np.all(a.low <= np.minimum(a.open, a.close)) and np.all(a.high >= np.maximum(a.open, a.close))
    assert np.all(a.open[1:] == a.close[:-1]) and np.all(a.low > 0)
    assert np.all(np.diff(a.open_time_ms) == 60_000)
    assert a.open[0] == 10_000_000  # 100000.00 at tick 0.01


def test_vectorized_fast_path_equals_the_row_parser(tmp_path: Path) -> None:
    from market_maker.backtest.fast_csv import parse_csv
    from market_maker.backtest.loaders import _build, _csv_rows

    us = []
    for r in ROWS[:800]:
        f = r.split(",")
        f[0], f[6] = f[0] + "000", f[6] + "999"
        us.append(",".join(f))
    for text in ("\n".join([HEADER, *ROWS]) + "\n", "\n".join(us) + "\n"):
        fast = parse_csv(text, "x", D("0.001"), D("1"))
        assert fast is not None
        _same(fast, _build("x", _csv_rows("x", text), "0.001", "1"))
    # anything unusual is left to the row parser (which names the line)
    assert parse_csv("\n".join(ROWS[:5]).replace("8.9", "8.9 ", 1), "x", D("0.001"), D("1")) is None
    assert parse_csv("\n".join(ROWS[:5]).replace("8.9", "8.9e0", 1), "x", D("0.001"), D("1")) is None
    assert parse_csv("\n".join([ROWS[1], ROWS[0]]), "x", D("0.001"), D("1")) is None


def test_parsed_candles_are_cached_and_a_changed_file_is_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from market_maker.backtest import candle_cache, loaders

    src = _write(tmp_path, "AVAXUSDT-1m-x.csv", [HEADER, *ROWS[:50]])
    first = load_klines(src, "0.001", "1")
    entry = src.with_name(src.name + candle_cache.SUFFIX)
    assert entry.exists()
    parses: list[str] = []
    real = loaders.parse_csv
    monkeypatch.setattr(loaders, "parse_csv", lambda *a: parses.append(a[1]) or real(*a))
    again = load_klines(src, "0.001", "1")
    assert parses == []  # read back from the cache, not parsed
    for col in ("open_time_ms", "open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(first, col), getattr(again, col))
    assert again.source == first.source
    # the same size, rewritten at once: a different close must be seen
    rows = list(ROWS[:50])
    f = rows[10].split(",")
    assert f[4] != f[3]  # close differs from low: swapping keeps the candle valid and the size
    f[4] = f[3]
    rows[10] = ",".join(f)
    src.write_text("\n".join([HEADER, *rows]) + "\n")
    changed = load_klines(src, "0.001", "1")
    assert parses == [str(src)]
    assert changed.close[10] == changed.low[10] != first.close[10]
    # another tick size is another entry: not the cached ticks of 0.001
    assert load_klines(src, "0.0001", "1").close[10] == 10 * changed.close[10]


def test_damaged_or_unwritable_cache_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from market_maker.backtest import candle_cache

    src = _write(tmp_path, "k.csv", [HEADER, *ROWS[:20]])
    src.with_name(src.name + candle_cache.SUFFIX).write_bytes(b"not an npz")
    want = load_klines(src, "0.001", "1")  # the damaged entry is ignored (and replaced)
    assert np.array_equal(load_klines(src, "0.001", "1").close, want.close)
    # the place beside the file cannot take it (here a directory of that name, which even root cannot
    # replace): the entry goes to the user's cache directory instead
    beside = src.with_name(src.name + candle_cache.SUFFIX)
    beside.unlink()
    beside.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    load_klines(src, "0.001", "1")
    assert list((tmp_path / "xdg" / "market_maker" / "candles").glob("*" + candle_cache.SUFFIX))
    assert np.array_equal(load_klines(src, "0.001", "1").close, want.close)
