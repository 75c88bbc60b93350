"""The Durable engine's settings, crash hook and start-up rules (no exchange needed)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from market_maker.config import config_from_mapping
from market_maker.durable.faults import CrashPlan, plan_from_env
from market_maker.durable.settings import durable_settings
from market_maker.engines import EngineStartError, start_engine
from market_maker.store import open_store


def test_sqlite_gets_its_own_wal_file_next_to_the_store_and_one_executor_per_bot_and_symbol(
    tmp_path: Path,
) -> None:
    s = durable_settings(str(tmp_path / "var" / "bot1.sqlite"), "bot1", "ETHUSDT")
    assert s.sqlite_path == tmp_path / "var" / "bot1.dbos.sqlite"
    assert s.system_database_url == f"sqlite:///{tmp_path / 'var' / 'bot1.dbos.sqlite'}"
    assert s.executor_id == "bot1-ETHUSDT"
    pg = durable_settings("postgres://mm:pw@127.0.0.1:5432/mm", "bot1", "BTCUSDT")
    assert pg.sqlite_path is None and pg.system_database_url.startswith("postgresql://")
    assert "pw" not in pg.where and "pw" not in repr(pg)  # the password never shows


def test_a_durable_engine_starts_on_a_wal_file_and_a_second_one_in_the_process_is_refused(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "bot.sqlite")
    cfg = config_from_mapping({"bot": {"id": "e1"}, "engine": {"type": "durable", "database": db}}, {})
    store = open_store(db, "e1", cfg.trading.symbol)
    exchange: Any = object()  # no interrupted workflow: recovery never calls the exchange
    engine = start_engine(cfg, exchange, store)
    try:
        conn = sqlite3.connect(tmp_path / "bot.dbos.sqlite")
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.close()
        with pytest.raises(EngineStartError, match="one durable bot per process"):
            start_engine(cfg, exchange, store)
    finally:
        engine.close()
        store.close()
    engine = start_engine(cfg, exchange, store)  # after a clean stop it starts again
    engine.close()


def test_the_crash_hook_is_off_unless_asked_and_bad_values_are_named() -> None:
    assert plan_from_env({}) is None
    plan = plan_from_env({"MM_CRASH_POINT": "before_call,after_call", "MM_CRASH_COUNTDOWN": "3"})
    assert plan == CrashPlan(frozenset({"before_call", "after_call"}), 3)
    for env, named in (
        ({"MM_CRASH_POINT": "middle"}, "MM_CRASH_POINT"),
        ({"MM_CRASH_POINT": "after_call", "MM_CRASH_COUNTDOWN": "0"}, "MM_CRASH_COUNTDOWN"),
        ({"MM_CRASH_POINT": "after_call", "MM_CRASH_PROBABILITY": "2"}, "MM_CRASH_PROBABILITY"),
    ):
        with pytest.raises(ValueError, match=named):
            plan_from_env(env)


def test_a_bad_crash_hook_setting_stops_the_start_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "bot.sqlite")
    cfg = config_from_mapping({"bot": {"id": "e1"}, "engine": {"type": "durable", "database": db}}, {})
    monkeypatch.setenv("MM_CRASH_POINT", "sometimes")
    store = open_store(db, "e1", cfg.trading.symbol)
    try:
        with pytest.raises(EngineStartError, match="MM_CRASH_POINT='sometimes'"):
            start_engine(cfg, object(), store)  # type: ignore[arg-type]
    finally:
        store.close()
