"""One rule per closed candle: the live step, and the backtester's whole-history series proven equal to it.

The live risk actor and the start-up warm-up apply :func:`close_candle` candle by candle; the backtester
computes the same values for the whole history at once (``core.series`` and ``backtest.market_series``).
These tests fold ``close_candle`` over random candles and require every series to match it, value for
value, so a backtest trades on the interval and the triggers the live bot would have.
"""

import itertools
from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from market_maker.backtest.candles import Candles
from market_maker.backtest.market_series import aggregate, market_series
from market_maker.core.atr import SCALE
from market_maker.core.interval import IntervalParams
from market_maker.core.model import Candle
from market_maker.core.risk import RiskParams, RiskState, start_risk
from market_maker.core.series import (
    baseline_series,
    candle_trigger_series,
    close_candle,
    close_candles,
    interval_series,
    true_ranges,
    warm_up_candles,
    wilder_series,
)

MINUTE = 60_000


@st.composite
def candles(draw: st.DrawFn, max_size: int = 80, gaps: bool = False) -> list[Candle]:
    n = draw(st.integers(1, max_size))
    price = 100_000
    t = draw(st.integers(0, 9)) * MINUTE  # not always aligned to longer candles
    out = []
    for i in range(n):
        o = price
        c = max(10, o + draw(st.integers(-400, 400)))
        h = max(o, c) + draw(st.integers(0, 300))
        lo = max(1, min(o, c) - draw(st.integers(0, 300)))
        out.append(Candle(t, o, h, lo, c, volume=draw(st.integers(0, 5000))))
        price = c
        # missing minutes, but 1-minute data: the first two candles are a minute apart
        t += MINUTE * (draw(st.sampled_from([1, 1, 1, 1, 2, 7])) if gaps and i else 1)
    return out


RISK = st.builds(
    RiskParams,
    atr_period=st.integers(1, 10),
    baseline_window=st.integers(1, 30),
    baseline_atr=st.one_of(st.none(), st.integers(1, 500_000_000)),
    atr_spike_multiple=st.sampled_from([Decimal(0), Decimal("1.5"), Decimal(2), Decimal(3)]),
    volume_spike_multiple=st.sampled_from([Decimal(0), Decimal(2), Decimal(5)]),
    volume_period=st.integers(1, 10),
    stale_price_ms=st.just(0),
)
HYSTERESIS = st.sampled_from(["0", "0.05", "0.2"])


def _dynamic(base: int, hyst: str) -> IntervalParams:
    return IntervalParams(base=base, min_interval=base // 2, max_interval=base * 3, hysteresis=Decimal(hyst))


def _fold(
    cs: list[Candle], rp: RiskParams, base: int, dyn: IntervalParams | None
) -> list[tuple[RiskState, int]]:
    """(risk, interval) after each candle, by the live step."""
    risk, interval = start_risk(rp), base
    out = []
    for c in cs:
        risk, interval = close_candle(risk, interval, c, rp, dyn)
        out.append((risk, interval))
    return out


@settings(max_examples=500, deadline=None)
@given(candles(), RISK, st.integers(100, 300), HYSTERESIS)
def test_core_series_equal_folding_the_live_step(
    cs: list[Candle], rp: RiskParams, base: int, hyst: str
) -> None:
    ip = _dynamic(base, hyst)
    trs = true_ranges([c.high for c in cs], [c.low for c in cs], [c.close for c in cs])
    atr = wilder_series(trs, rp.atr_period)
    baseline = baseline_series(trs, rp)
    intervals = interval_series(atr, baseline, rp.atr_period, ip, base)
    flags = candle_trigger_series(
        [c.open for c in cs], [c.close for c in cs], [c.volume for c in cs], atr, baseline, rp
    )
    for i, (state, cur) in enumerate(_fold(cs, rp, base, ip)):
        assert atr[i] == state.atr.scaled
        assert baseline[i] == state.baseline_scaled
        assert intervals[i] == cur
        assert (flags[0][i], flags[1][i]) == (state.atr_spike, state.volume_spike)
    assert close_candles(start_risk(rp), base, cs, rp, ip) == _fold(cs, rp, base, ip)[-1]


def _columns(cs: list[Candle]) -> Candles:
    def col(name: str) -> np.ndarray:
        return np.array([getattr(c, name) for c in cs], dtype=np.int64)

    return Candles(
        col("open_time_ms"), col("open"), col("high"), col("low"), col("close"), col("volume"),
        Decimal("0.01"), Decimal("0.001"),
    )  # fmt: skip


def _risk_candles(cs: list[Candle], minutes: int) -> list[tuple[Candle, int]]:
    """Candles of ``minutes`` (UTC-aligned) built by hand from ``cs``, each with the index of the data
    candle that closes it; a last one the data stops short of has not closed and is left out."""
    ms = minutes * MINUTE
    step = min((b.open_time_ms - a.open_time_ms for a, b in itertools.pairwise(cs)), default=MINUTE)
    groups: dict[int, list[int]] = {}
    for i, c in enumerate(cs):
        groups.setdefault(c.open_time_ms // ms, []).append(i)
    out = []
    for g, idx in groups.items():
        part = [cs[i] for i in idx]
        if g == cs[-1].open_time_ms // ms and part[-1].open_time_ms + step < (g + 1) * ms:
            continue
        big = Candle(
            g * ms,
            part[0].open,
            max(c.high for c in part),
            min(c.low for c in part),
            part[-1].close,
            sum(c.volume for c in part),
        )
        out.append((big, idx[-1]))
    return out


@settings(max_examples=300, deadline=None)
@given(
    candles(max_size=120, gaps=True),
    RISK,
    st.integers(100, 300),
    HYSTERESIS,
    st.booleans(),
    st.sampled_from([1, 5, 15]),
)
def test_backtest_market_series_equal_folding_the_live_step(
    cs: list[Candle], rp: RiskParams, base: int, hyst: str, dynamic: bool, minutes: int
) -> None:
    """What the backtester trades on after each data candle is what the live step gives after the last
    risk candle closed by then (the risk actor reads candles of ``risk.atr_interval``)."""
    ip = _dynamic(base, hyst) if dynamic else None
    data = _columns(cs)
    series = market_series(data, rp, base, ip, minutes * MINUTE if minutes > 1 else 0)
    big = _risk_candles(cs, minutes) if minutes > 1 else [(c, i) for i, c in enumerate(cs)]
    folded = _fold([c for c, _ in big], rp, base, ip)
    expect = [(False, False, base)] * len(cs)
    for (_, closes_at), (state, cur) in zip(big, folded, strict=True):
        expect[closes_at:] = [(state.atr_spike, state.volume_spike, cur)] * (len(cs) - closes_at)
    got = list(
        zip(series.atr_spike.tolist(), series.volume_spike.tolist(), series.interval.tolist(), strict=True)
    )
    assert got == expect
    # the engine looks only at the candles where something changes
    before = [(False, False, base), *expect[:-1]]
    assert series.changes.tolist() == [i for i in range(len(cs)) if expect[i] != before[i]]


def test_the_interval_holds_until_the_atr_has_a_full_period() -> None:
    """A few candles are no ATR yet: against a fixed baseline the interval must not follow their
    average (the ATR of one wild candle), as the backtest never did; from the full period on it does."""
    rp = RiskParams(atr_period=3, baseline_atr=10 * SCALE, stale_price_ms=0, atr_spike_multiple=Decimal(0))
    ip = IntervalParams(base=100, min_interval=50, max_interval=400)
    wild = [Candle(i * MINUTE, 1000, 1040, 1000, 1000) for i in range(3)]  # TR 40: 4x the baseline
    steps = _fold(wild, rp, 100, ip)
    assert [cur for _, cur in steps] == [100, 100, 400]
    calm = [Candle(i * MINUTE, 1000, 1002, 1000, 1000) for i in range(3)]  # TR 2: a fifth of it
    assert [cur for _, cur in _fold(calm, rp, 100, ip)] == [100, 100, 50]
    assert [cur for _, cur in _fold(wild, rp, 100, None)] == [100, 100, 100]  # static: never moves


def test_warm_up_reads_enough_candles_for_the_atr_and_its_baseline() -> None:
    rolling = RiskParams(atr_period=14, baseline_window=240)
    fixed = RiskParams(atr_period=14, baseline_atr=5 * SCALE)
    assert warm_up_candles(rolling) == 255 and warm_up_candles(fixed) == 15
    for rp in (rolling, fixed):
        cs = [Candle(i * MINUTE, 1000, 1010, 990, 1000) for i in range(warm_up_candles(rp))]
        state, _ = close_candles(start_risk(rp), 100, cs, rp, None)
        assert state.atr.ready and state.baseline_scaled > 0


def test_the_last_closed_risk_candle_leaves_out_the_unclosed_one() -> None:
    """Data that stops inside a 5-minute candle: that candle has not closed, and the one before it is
    the exchange's 5-minute kline, not one that took in the later minutes' range and volume."""
    minutes = [Candle(i * MINUTE, 1000, 1001, 999, 1000, volume=10) for i in range(7)]
    minutes[6] = Candle(6 * MINUTE, 1000, 1500, 500, 1000, volume=999)
    five, ends = aggregate(_columns(minutes), 5 * MINUTE)
    assert len(five) == 1 and ends.tolist() == [4]
    assert five.candle(0) == Candle(0, 1000, 1001, 999, 1000, 50, five.candle(0).close_time_ms)
