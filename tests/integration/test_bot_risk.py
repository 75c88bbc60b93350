"""Risk on the simulator: a trigger cancels buys and then resumes; the breaker halts; pause/resume CLI."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import yaml
from invariants import SYMBOL, BotRun, bot_run

from actors.system import RunOptions
from market_maker.cli import main


def _buys(run: BotRun) -> list[Decimal]:
    return sorted(Decimal(o["price"]) for o in run.own_open() if o["side"] == "BUY")


def _config_file(run: BotRun, tmp_path: Path) -> str:
    """A config file naming the same bot, symbol and database, for the CLI verbs."""
    path = tmp_path / "bot.yaml"
    data = {
        "trading": {"symbol": SYMBOL},
        "bot": {"id": run.config.bot.id},
        "engine": {"type": run.config.engine.type, "database": run.config.engine.database},
    }
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_stale_market_data_cancels_buys_then_trading_resumes(tmp_path: Path, engine: dict[str, str]) -> None:
    with bot_run(tmp_path, engine=engine, risk={"stale_price_seconds": 1}) as run:
        run.price("100000")
        assert len(_buys(run)) == 3
        # step mode: no market data arrives unless the test moves the price
        run.wait_for(lambda st: st.buys_blocked, "stale-data trigger")
        run.wait_for(lambda st: st.open_orders == 0, "buys cancelled")
        assert _buys(run) == [] and run.venue_trades() == []
        with run.ticking():  # data again: the trigger clears and the grid comes back
            run.wait_for(lambda st: not st.buys_blocked and len(_buys(run)) == 3, "buys placed again")


def test_breaker_halts_after_losing_round_trips_until_resumed(tmp_path: Path, engine: dict[str, str]) -> None:
    with bot_run(tmp_path, engine=engine, risk={"max_consecutive_losses": 2, "cooldown_seconds": 0}) as run:
        run.price("100000")
        for trip in (1, 2):
            run.price("99989.99")  # the buys at and above 99990 fill
            sell = max(Decimal(o["price"]) for o in run.own_open() if o["side"] == "SELL")
            st = run.price(str(sell + Decimal("0.01")))  # their take-profits fill: losses after fees
            assert st.round_trips >= trip and st.realized < 0
        st = run.wait_for(lambda st: st.halted, "breaker to trip")
        run.wait_for(lambda st: st.open_orders == 0, "buys cancelled")
        run.price("99950")
        run.price("100050")
        assert run.own_open() == [], "a halted bot placed an order"
        code = main(["resume", "--config", _config_file(run, tmp_path)])
        assert code == 0
        run.wait_for(lambda st: not st.halted, "breaker reset")
        run.price("100000")
        assert len(_buys(run)) == 3


def test_pause_verb_cancels_buys_and_resume_verb_brings_them_back(
    tmp_path: Path, engine: dict[str, str]
) -> None:
    with bot_run(tmp_path, engine=engine) as run:
        run.price("100000")
        assert len(_buys(run)) == 3
        cfg = _config_file(run, tmp_path)
        assert main(["pause", "--config", cfg]) == 0
        run.wait_for(lambda st: st.buys_blocked and st.open_orders == 0, "pause to cancel the buys")
        run.price("100010")
        assert _buys(run) == []
        assert main(["resume", "--config", cfg]) == 0
        run.wait_for(lambda st: not st.buys_blocked, "resume")
        run.price("100000")
        assert len(_buys(run)) >= 3 and max(_buys(run)) <= Decimal("100000")


def test_pause_without_a_running_bot_exits_3(tmp_path: Path) -> None:
    path = tmp_path / "bot.yaml"
    path.write_text(yaml.safe_dump({"engine": {"database": str(tmp_path / "x.sqlite")}}))
    assert main(["pause", "--config", str(path)]) == 3


def test_drawdown_from_the_equity_peak_halts_trading(tmp_path: Path) -> None:
    options = RunOptions(heartbeat_s=3600, risk_clock_s=0.2, equity_s=0.2)
    with bot_run(
        tmp_path,
        options=options,
        # the 6 % move below is one quote: the quote guard (5 % by default) would hold it back
        risk={"max_drawdown_pct": 5, "max_price_jump_pct": 10},
        reconcile={"interval_seconds": 0.3},
        sim={"seed": 7, "balances": {"USDT": "300", "BTC": "0"}},
    ) as run:
        run.price("100000")
        run.price("99969.99")  # all three buys fill: the account is now almost all BTC
        assert not run.status().halted
        run.control.set_price(SYMBOL, "94000")  # about 6% off the peak equity
        st = run.wait_for(lambda st: st.halted, "drawdown breaker")
        assert st.risk is not None and "drawdown" in st.risk.halt_reason
