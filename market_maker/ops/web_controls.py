"""Pause and resume from the dashboard: ``POST /pause`` and ``/resume`` on the ops endpoint write the same
store control rows as the ``pause`` / ``resume`` verbs (:mod:`market_maker.store.controls`), which the
running bot's risk actor applies within a second. Offered only when an ops token is set."""

from __future__ import annotations

from collections.abc import Callable

from market_maker.settings.models import Config
from market_maker.store import Store, open_store
from market_maker.store.controls import request_pause, request_resume


def _action(config: Config, request: Callable[[Store], None], done: str) -> Callable[[], str]:
    def act() -> str:
        store = open_store(config.engine.database, config.bot.id, config.trading.symbol)
        try:
            request(store)
        finally:
            store.close()
        return done

    return act


def web_controls(config: Config) -> dict[str, Callable[[], str]]:
    """POST path -> action for the ops endpoint; empty (read-only) without an ops token."""
    if config.credentials.ops_token is None:
        return {}
    return {
        "/pause": _action(config, request_pause, "pause requested: no new buys until resumed"),
        "/resume": _action(config, request_resume, "resume requested: buys allowed, breaker reset"),
    }
