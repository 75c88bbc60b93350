"""The backtester's whole-history series equal folding the live per-candle functions, value for value."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from market_maker.core.interval import IntervalParams, interval_after_close
from market_maker.core.model import Candle
from market_maker.core.risk import RiskParams, on_candle, start_risk
from market_maker.core.series import (
    baseline_series,
    candle_trigger_series,
    interval_series,
    true_ranges,
    wilder_series,
)


@st.composite
def candles(draw: st.DrawFn) -> list[Candle]:
    n = draw(st.integers(1, 80))
    price = 100_000
    out = []
    for i in range(n):
        o = price
        c = max(10, o + draw(st.integers(-400, 400)))
        h = max(o, c) + draw(st.integers(0, 300))
        lo = max(1, min(o, c) - draw(st.integers(0, 300)))
        out.append(Candle(i * 60_000, o, h, lo, c, volume=draw(st.integers(0, 5000))))
        price = c
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


@settings(max_examples=500, deadline=None)
@given(candles(), RISK, st.integers(100, 300), st.sampled_from(["0", "0.05", "0.2"]))
def test_series_match_the_per_candle_rules(cs: list[Candle], rp: RiskParams, base: int, hyst: str) -> None:
    ip = IntervalParams(base=base, min_interval=base // 2, max_interval=base * 3, hysteresis=Decimal(hyst))
    trs = true_ranges([c.high for c in cs], [c.low for c in cs], [c.close for c in cs])
    atr = wilder_series(trs, rp.atr_period)
    baseline = baseline_series(trs, rp)
    intervals = interval_series(atr, baseline, rp.atr_period, ip, base)
    flags = candle_trigger_series(
        [c.open for c in cs], [c.close for c in cs], [c.volume for c in cs], atr, baseline, rp
    )
    state = start_risk(rp)
    cur = base
    for i, c in enumerate(cs):
        state = on_candle(state, c, rp)
        cur = interval_after_close(cur, state.atr, state.baseline_scaled, ip)
        assert atr[i] == state.atr.scaled
        assert baseline[i] == state.baseline_scaled
        assert intervals[i] == cur
        assert (flags[0][i], flags[1][i]) == (state.atr_spike, state.volume_spike)
