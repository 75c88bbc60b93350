"""Risk: volatility and data triggers that stop new buys, and the circuit breaker that halts trading.

Rules (ARCHITECTURE.md §4, field-notes "Money"):

- *Triggered* (cancel working buys, place no new buys, sells continue) while any of: the ATR exceeds
  ``atr_spike_multiple`` x the baseline ATR; the last closed candle had a volume above
  ``volume_spike_multiple`` x the average volume *and* closed below its open; no market data for
  ``stale_price_ms``; a manual pause. Candle-based triggers clear on the next closed candle that does
  not meet them.
- *Halted* (no new orders at all) when the circuit breaker trips: ``max_consecutive_losses`` losing
  round trips in a row, or a drawdown of ``max_drawdown_pct`` measured from the equity **peak** (not
  from the start), or a :func:`trip` for a reason the shell sees (position drift). It resumes after
  ``cooldown_ms`` (if non-zero) or on a manual reset (:func:`on_controls`); a resume clears the loss
  streak and restarts the peak from the next equity reading, so it does not re-trip at once.
- The baseline ATR is fixed (ticks x SCALE, from config) or rolling: a Wilder ATR over the longer
  ``baseline_window``. A zero value for a multiple, a count or a duration disables that rule.

Everything is a pure function of (state, input); times are milliseconds passed in by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from market_maker.core.atr import SCALE, AtrState, WilderAverage
from market_maker.core.model import Candle


@dataclass(frozen=True, slots=True)
class RiskParams:
    """Risk settings in core units (ticks, ms)."""

    atr_period: int = 14
    baseline_window: int = 200  # candles of the rolling baseline ATR
    baseline_atr: int | None = None  # fixed baseline, ticks x SCALE; None = rolling
    atr_spike_multiple: Decimal = Decimal(3)
    volume_spike_multiple: Decimal = Decimal(5)
    volume_period: int = 20
    stale_price_ms: int = 30_000
    max_consecutive_losses: int = 0
    max_drawdown_pct: Decimal = Decimal(0)
    cooldown_ms: int = 0  # 0: a halt lasts until a manual reset

    def __post_init__(self) -> None:
        for name in ("atr_period", "baseline_window", "volume_period"):
            if getattr(self, name) < 1:
                raise ValueError(f"risk.{name} must be >= 1, got {getattr(self, name)}")
        if not 0 <= self.max_drawdown_pct <= 100:
            raise ValueError(f"risk.max_drawdown_pct must be within 0..100, got {self.max_drawdown_pct}")
        if self.baseline_atr is not None and self.baseline_atr <= 0:
            raise ValueError(f"risk.baseline_atr must be > 0, got {self.baseline_atr}")


@dataclass(frozen=True, slots=True)
class RiskState:
    """Everything the risk rules remember; the strategy reads ``buys_blocked`` and ``halted``."""

    atr: AtrState
    baseline: AtrState
    volume: WilderAverage
    fixed_baseline: int | None = None  # ticks x SCALE
    atr_spike: bool = False
    volume_spike: bool = False
    stale: bool = False
    paused: bool = False
    last_data_ms: int | None = None
    consecutive_losses: int = 0
    equity_peak: Decimal | None = None
    halt_reason: str = ""
    halted_until_ms: int = 0  # 0 while halted: until a manual reset

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why new buys are stopped (empty when they are not), in a stable order."""
        flags = (
            (self.atr_spike, "atr spike"),
            (self.volume_spike, "volume spike with falling price"),
            (self.stale, "stale market data"),
            (self.paused, "manual pause"),
        )
        return tuple(why for on, why in flags if on)

    @property
    def triggered(self) -> bool:
        """True while a trigger stops new buys (sells continue)."""
        return self.atr_spike or self.volume_spike or self.stale or self.paused

    @property
    def halted(self) -> bool:
        """True while the circuit breaker stops all new orders."""
        return bool(self.halt_reason)

    @property
    def buys_blocked(self) -> bool:
        """True when working buys must be cancelled and no new buy placed."""
        return self.triggered or self.halted

    @property
    def baseline_scaled(self) -> int:
        """Baseline ATR in ticks x SCALE; 0 until a rolling baseline has seen its whole window."""
        if self.fixed_baseline is not None:
            return self.fixed_baseline
        return self.baseline.scaled if self.baseline.ready else 0


def start_risk(params: RiskParams) -> RiskState:
    """The risk state before any data: nothing seen, hence stale (no market data yet)."""
    return RiskState(
        atr=AtrState.start(params.atr_period),
        baseline=AtrState.start(params.baseline_window),
        volume=WilderAverage(params.volume_period),
        fixed_baseline=params.baseline_atr,
        stale=params.stale_price_ms > 0,
    )


def on_candle(state: RiskState, candle: Candle, params: RiskParams) -> RiskState:
    """Update ATR, baseline and volume average with one *closed* candle and re-evaluate its triggers."""
    vol_spike = (
        params.volume_spike_multiple > 0
        and state.volume.ready
        and candle.close < candle.open
        and candle.volume * SCALE > params.volume_spike_multiple * state.volume.value
    )
    atr = state.atr.update(candle)
    baseline = state.baseline if params.baseline_atr is not None else state.baseline.update(candle)
    new = replace(state, atr=atr, baseline=baseline, volume=state.volume.update(candle.volume))
    base = new.baseline_scaled
    atr_spike = (
        params.atr_spike_multiple > 0
        and atr.ready
        and base > 0
        and (atr.scaled > params.atr_spike_multiple * base)
    )
    return replace(new, atr_spike=bool(atr_spike), volume_spike=bool(vol_spike))


def on_market_data(state: RiskState, now_ms: int) -> RiskState:
    """Record that market data arrived at ``now_ms`` (clears the stale trigger)."""
    return replace(state, last_data_ms=now_ms, stale=False)


def on_market_data_stale(state: RiskState) -> RiskState:
    """A run of market data was dropped as unbelievable: stale until the next believable data (the
    last arrival is forgotten, so the clock does not clear the trigger)."""
    return replace(state, last_data_ms=None, stale=True)


def _resume(state: RiskState) -> RiskState:
    return replace(state, halt_reason="", halted_until_ms=0, consecutive_losses=0, equity_peak=None)


def trip(state: RiskState, reason: str, now_ms: int, params: RiskParams) -> RiskState:
    """Trip the circuit breaker at ``now_ms`` for ``reason``: halted until the cooldown ends, or until
    a manual reset when ``cooldown_ms`` is 0. A breaker already halted keeps its first reason and end.

    The loss streak and the drawdown trip it here; so does the shell for a reason the core cannot see
    (the position on the exchange drifting from the book's).
    """
    if state.halted:
        return state
    until = now_ms + params.cooldown_ms if params.cooldown_ms > 0 else 0
    return replace(state, halt_reason=reason, halted_until_ms=until)


def on_clock(state: RiskState, now_ms: int, params: RiskParams) -> RiskState:
    """Time-based rules at ``now_ms``: the stale-data trigger and the end of a halt's cooldown."""
    if params.stale_price_ms > 0:
        last = state.last_data_ms
        stale = last is None or now_ms - last > params.stale_price_ms
        if stale != state.stale:
            state = replace(state, stale=stale)
    if state.halted and state.halted_until_ms and now_ms >= state.halted_until_ms:
        state = _resume(state)
    return state


def on_round_trip(
    state: RiskState, realized: Decimal, now_ms: int, params: RiskParams, qty: int | None = None
) -> RiskState:
    """Count a closed round trip's result; trips the breaker after too many losses in a row.

    Pass the trip's ``qty``: a trip of quantity 0 (only fee dust was bought, nothing sold) is not a
    trading result and leaves the streak as it is.
    """
    if qty == 0:
        return state
    losses = state.consecutive_losses + 1 if realized < 0 else 0
    if losses != state.consecutive_losses:  # a win after a win changes nothing: no copy
        state = replace(state, consecutive_losses=losses)
    if params.max_consecutive_losses > 0 and losses >= params.max_consecutive_losses:
        return trip(state, f"{losses} losing round trips in a row", now_ms, params)
    return state


def drawdown_pct(peak: Decimal, equity: Decimal) -> Decimal:
    """Drawdown from ``peak`` in percent (0 when equity is at or above the peak)."""
    if peak <= 0 or equity >= peak:
        return Decimal(0)
    return (peak - equity) * 100 / peak


def on_equity(state: RiskState, equity: Decimal, now_ms: int, params: RiskParams) -> RiskState:
    """Track the equity peak (quote) and trip the breaker on a drawdown from that peak."""
    peak = equity if state.equity_peak is None or equity > state.equity_peak else state.equity_peak
    if peak != state.equity_peak:
        state = replace(state, equity_peak=peak)
    dd = drawdown_pct(peak, equity)
    if params.max_drawdown_pct > 0 and dd >= params.max_drawdown_pct:
        return trip(state, f"drawdown {dd:.2f}% from equity peak {peak}", now_ms, params)
    return state


def set_paused(state: RiskState, paused: bool) -> RiskState:
    """Manual pause (stop new buys) or un-pause."""
    return replace(state, paused=paused)


def reset_breaker(state: RiskState) -> RiskState:
    """Manual reset of a halted circuit breaker (also restarts the loss streak and the equity peak)."""
    return _resume(state)


def on_controls(state: RiskState, paused: bool, resume: bool) -> RiskState:
    """The operator's requests (``pause`` / ``resume``): a new resume request resets the breaker, as
    :func:`reset_breaker`; then the pause follows ``paused``.

    ``resume`` is True only for a request not handled before: each one resets the breaker once.
    """
    if resume:
        state = _resume(state)
    return state if paused == state.paused else replace(state, paused=paused)
