"""``klines``: history files for the backtester, downloaded from the simulator over REST or synthetic.

The download tests replay seeded synthetic candles on the simulator (loopback only), let the whole
file play, and download it back page by page: the file written must load through the backtester's
loader as exactly the candles that were replayed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from market_maker.backtest.candles import Candles
from market_maker.backtest.kline_csv import write_candles
from market_maker.backtest.loaders import load_klines
from market_maker.backtest.synthetic import DEFAULT_START_MS, synthetic_candles
from market_maker.cli import main
from market_maker.commands._config_arg import DEFAULT_CONFIG
from market_maker.commands._kline_download import download_klines, rest_client
from market_maker.config import load_config
from market_maker.core.model import Market
from market_maker.settings.sim_config import sim_config
from market_maker.sim.server import SimServer

N = 2500
MIN = 60_000
COLUMNS = ("open_time_ms", "open", "high", "low", "close", "volume")


def _same(a: Candles, b: Candles) -> bool:
    return len(a) == len(b) and all(np.array_equal(getattr(a, c), getattr(b, c)) for c in COLUMNS)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimServer, Candles]]:
    """A simulator that has replayed N synthetic BTCUSDT minutes (its klines hold exactly those)."""
    candles = synthetic_candles(N, seed=5)
    data = tmp_path_factory.mktemp("replay") / "BTCUSDT-1m-source.csv"
    write_candles(data, candles)
    cfg = replace(sim_config(load_config(DEFAULT_CONFIG, {}), step_mode=True), replay_file=str(data))
    with SimServer(cfg) as sim:
        sim.control.step(4 * N)  # four points a candle
        yield sim, candles


def test_download_writes_the_replayed_candles_back(
    replayed: tuple[SimServer, Candles], tmp_path: Path
) -> None:
    sim, candles = replayed
    out = tmp_path / "got.csv"
    end = DEFAULT_START_MS + N * MIN
    args = ["klines", "--url", sim.rest_url, "--start", "2026-01-01", "--end", str(end), "--out", str(out)]
    assert main(args) == 0
    assert _same(load_klines(out, "0.01", "0.00001"), candles)


@pytest.mark.parametrize(
    ("start", "end", "limit", "rows", "requests"),
    [
        (0, N, 1000, N, 3),  # three pages: 1000, 1000, 500
        (0, 1000, 1000, 1000, 1),  # exactly one full page: no empty second request
        (0, 1001, 1000, 1001, 2),  # one candle over a page
        (0, N, 7, N, N // 7 + 1),  # small pages meet end to end
        (0.5, 10, 1000, 9, 1),  # a start inside a candle: the file starts at the next whole one
        (N - 3, N + 50, 1000, 3, 1),  # past the end of the data: what there is
    ],
)
def test_paging_boundaries(
    replayed: tuple[SimServer, Candles], start: float, end: int, limit: int, rows: int, requests: int
) -> None:
    sim, candles = replayed
    rest = rest_client(Market.SPOT, sim.rest_url)
    t0 = DEFAULT_START_MS + int(start * MIN)
    got = download_klines(rest, Market.SPOT, "BTCUSDT", "1m", t0, DEFAULT_START_MS + end * MIN, limit)
    assert rest.sent == requests + 1  # and one exchangeInfo request (limits, symbol, clock)
    first = -(-int(start * MIN) // MIN)  # the first candle opening at or after the start
    assert [int(r[0]) for r in got] == [int(t) for t in candles.open_time_ms[first : first + rows]]
    rest.close()


def test_synthetic_file_feeds_the_default_configs_backtest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["klines", "--config", str(DEFAULT_CONFIG), "--synthetic", "1440", "--seed", "3"]) == 0
    (made,) = tmp_path.glob("*.csv")
    assert made.name.startswith("BTCUSDT-1m-")  # named so that backtest knows whose candles they are
    assert _same(load_klines(made, "0.01", "0.00001"), synthetic_candles(1440, seed=3))
    args = [
        "backtest",
        "--data",
        str(made),
        "--config",
        str(DEFAULT_CONFIG),
        "--report",
        "rep",
        "--no-progress",
    ]
    assert main(args) == 0
    assert "Round trips" in capsys.readouterr().out
    for name in ("summary.json", "summary.txt", "fills.csv", "equity.csv", "report.png", "report.html"):
        assert (tmp_path / "rep" / name).stat().st_size > 0


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--start", "2026-06-01", "--interval", "7m"], "--interval '7m'"),
        (["--start", "2026-13-01"], "--start '2026-13-01'"),
        (["--start", "2026-06-02", "--end", "2026-06-01"], "is not before --end"),
        ([], "needs --start"),
        (["--start", "2026-06-01", "--last", "3d"], "not both"),
        (["--last", "0d"], "--last '0d'"),
        (["--synthetic", "0"], "--synthetic 0"),
        (["--synthetic", "10", "--start-price", "abc"], "--start-price 'abc'"),
        (["--synthetic", "10", "--start-price", "100.001"], "a multiple of 0.01"),
        (["--synthetic", "10", "--last", "3d"], "--synthetic takes"),
        (["--symbol", "btc-usdt", "--synthetic", "5"], "--symbol 'btc-usdt'"),
        (["--config", "no/such.yaml", "--synthetic", "5"], "no/such.yaml"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(
    argv: list[str],
    says: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["klines", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and says in err[0], err
    assert not list(tmp_path.iterdir())  # nothing written


def test_an_unreachable_exchange_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with SimServer(sim_config(load_config(DEFAULT_CONFIG, {}), step_mode=True)) as sim:
        url = sim.rest_url
    out = tmp_path / "x.csv"
    assert main(["klines", "--url", url, "--last", "1h", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"error: downloading BTCUSDT klines from {url}: ") and not out.exists()


def test_usd_m_download_uses_the_futures_endpoint_and_the_exchanges_limits(
    replayed: tuple[SimServer, Candles],
) -> None:
    sim, candles = replayed
    rest = rest_client(Market.USDM, sim.rest_url)
    end = DEFAULT_START_MS + N * MIN
    got = download_klines(rest, Market.USDM, "BTCUSDT", "1m", DEFAULT_START_MS, end)
    assert [int(r[0]) for r in got] == [int(t) for t in candles.open_time_ms]
    assert rest.limiter.limit("weight", 60) is not None  # paced by what exchangeInfo announced
    rest.close()


def test_an_unlisted_symbol_is_one_line_and_exit_1(
    replayed: tuple[SimServer, Candles], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim, _ = replayed
    out = tmp_path / "x.csv"
    assert (
        main(["klines", "--url", sim.rest_url, "--symbol", "ETHUSDT", "--last", "1h", "--out", str(out)]) == 1
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: downloading ETHUSDT klines from {sim.rest_url}: ")
    assert not out.exists()
