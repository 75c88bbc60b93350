"""Risk triggers and the circuit breaker: drawdown from the peak, loss streaks, cooldown, staleness."""

from decimal import Decimal

from market_maker.core.atr import SCALE
from market_maker.core.model import Candle
from market_maker.core.risk import (
    RiskParams,
    on_candle,
    on_clock,
    on_controls,
    on_equity,
    on_market_data,
    on_round_trip,
    reset_breaker,
    set_paused,
    start_risk,
    trip,
)


def test_drawdown_is_measured_from_the_peak_not_from_the_start() -> None:
    p = RiskParams(max_drawdown_pct=Decimal(10))
    r = start_risk(p)
    r = on_equity(r, Decimal(1000), 0, p)
    r = on_equity(r, Decimal(1500), 1, p)  # new peak
    r = on_equity(r, Decimal(1400), 2, p)  # -6.7% from peak, +40% from start
    assert not r.halted and r.equity_peak == Decimal(1500)
    r = on_equity(r, Decimal(1350), 3, p)  # exactly -10% from peak, still +35% from start
    assert r.halted and "drawdown 10.00% from equity peak 1500" in r.halt_reason


def test_consecutive_losses_trip_the_breaker_and_a_win_resets_the_streak() -> None:
    p = RiskParams(max_consecutive_losses=3)
    r = start_risk(p)
    for pnl in ("-1", "-1", "0.5", "-1", "-1"):
        r = on_round_trip(r, Decimal(pnl), 0, p)
    assert not r.halted and r.consecutive_losses == 2
    assert on_round_trip(r, Decimal("-0.01"), 0, p, qty=0) == r  # fees of unsellable dust: no trade
    r = on_round_trip(r, Decimal("-0.01"), 0, p)
    assert r.halted and r.halt_reason == "3 losing round trips in a row"


def test_cooldown_then_resume_or_manual_reset() -> None:
    p = RiskParams(max_consecutive_losses=1, cooldown_ms=60_000)
    r = on_round_trip(start_risk(p), Decimal(-1), 1_000, p)
    assert r.halted and r.halted_until_ms == 61_000
    assert on_clock(r, 60_999, p).halted
    resumed = on_clock(r, 61_000, p)
    assert not resumed.halted and resumed.consecutive_losses == 0
    manual = RiskParams(max_consecutive_losses=1)  # no cooldown: only a manual reset resumes
    m = on_round_trip(start_risk(manual), Decimal(-1), 0, manual)
    assert on_clock(m, 10**12, manual).halted
    assert not reset_breaker(m).halted


def test_stale_market_data_and_manual_pause_trigger() -> None:
    p = RiskParams(stale_price_ms=30_000)
    r = start_risk(p)
    assert r.triggered and r.reasons == ("stale market data",)  # no data yet
    r = on_market_data(r, 1_000)
    assert not on_clock(r, 31_000, p).triggered
    stale = on_clock(r, 31_001, p)
    assert stale.triggered and stale.buys_blocked and not stale.halted
    assert set_paused(on_clock(r, 2_000, p), True).reasons == ("manual pause",)


def _candle(o: int, h: int, lo: int, c: int, v: int = 10) -> Candle:
    return Candle(0, o, h, lo, c, volume=v)


def test_atr_spike_against_a_fixed_baseline() -> None:
    p = RiskParams(atr_period=2, baseline_atr=10 * SCALE, atr_spike_multiple=Decimal(3), stale_price_ms=0)
    r = start_risk(p)
    for c in (_candle(100, 110, 100, 105), _candle(105, 115, 105, 110)):
        r = on_candle(r, c, p)
    assert not r.triggered
    r = on_candle(r, _candle(110, 170, 110, 160), p)  # TR 60: ATR (10 + 60) / 2 = 35 > 3 x 10
    assert r.triggered and r.reasons == ("atr spike",)
    for _ in range(3):
        r = on_candle(r, _candle(160, 162, 158, 160), p)
    assert not r.triggered  # ATR back under 30: the trigger clears on a closed candle


def test_volume_spike_only_counts_with_a_falling_price() -> None:
    p = RiskParams(
        volume_period=3, volume_spike_multiple=Decimal(5), atr_spike_multiple=Decimal(0), stale_price_ms=0
    )
    r = start_risk(p)
    for _ in range(3):
        r = on_candle(r, _candle(100, 101, 99, 100, v=10), p)
    up = on_candle(r, _candle(100, 120, 100, 118, v=100), p)
    assert not up.triggered  # heavy volume on a rising candle is no reason to stop buying
    down = on_candle(r, _candle(100, 100, 80, 82, v=100), p)
    assert down.triggered and down.reasons == ("volume spike with falling price",)
    assert not on_candle(down, _candle(82, 84, 81, 83, v=10), p).triggered


def test_a_trip_from_the_shell_halts_like_a_loss_streak_and_keeps_its_first_reason() -> None:
    p = RiskParams(cooldown_ms=60_000)
    r = trip(start_risk(p), "position drift 0.01 beyond 0.005", 5_000, p)
    assert r.halted and r.buys_blocked and r.halted_until_ms == 65_000
    again = trip(r, "position drift 0.02 beyond 0.005", 9_000, p)
    assert again == r  # one halt, one reason, one end: a second trip while halted changes nothing
    assert not on_clock(r, 65_000, p).halted  # the cooldown ends it as any other halt
    manual = RiskParams(cooldown_ms=0)
    m = trip(start_risk(manual), "drift", 0, manual)
    assert m.halted_until_ms == 0 and on_clock(m, 10**12, manual).halted  # until a manual reset


def test_operator_controls_pause_and_resume() -> None:
    p = RiskParams(max_consecutive_losses=1, stale_price_ms=0)
    halted = on_round_trip(on_controls(start_risk(p), True, False), Decimal(-1), 0, p)
    assert halted.halted and halted.reasons == ("manual pause",)
    assert on_controls(halted, True, False) == halted  # the same rows read again: nothing changes
    resumed = on_controls(halted, False, True)
    assert not resumed.halted and not resumed.triggered and resumed.consecutive_losses == 0
    assert on_controls(halted, False, False).halted  # un-paused, but no resume asked: still halted
    assert on_controls(halted, True, True) == set_paused(reset_breaker(halted), True)
