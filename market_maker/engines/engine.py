"""Starting and stopping an engine: Simple (nothing to start) or Durable (DBOS launched and recovered).

Order at start (see actors/system.py): store opened and locked -> connector started ->
:func:`start_engine` (Durable: DBOS launched, this bot's interrupted workflows recovered and waited
for) -> actors -> reconciliation. At stop: actors stopped -> :meth:`Engine.close` (DBOS destroyed).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from market_maker.durable import faults
from market_maker.durable.ids import workflow_prefixes
from market_maker.durable.outcomes import why
from market_maker.durable.settings import (
    APP_NAME,
    APPLICATION_VERSION,
    DurableSettings,
    durable_settings,
    prepare_sqlite,
)
from market_maker.engines.gateway import DirectGateway, OrderGateway
from market_maker.exchange.base import Exchange
from market_maker.settings.models import Config
from market_maker.store import Store

log = logging.getLogger("market_maker.durable")

ACTIVE = ("PENDING", "ENQUEUED", "DELAYED")
RECOVERY_TIMEOUT_S = 120.0

_running: DurableEngine | None = None  # DBOS is a process-wide singleton: one durable bot per process
_running_lock = threading.Lock()


class EngineStartError(RuntimeError):
    """The engine cannot start (bad settings, database unreachable, recovery not finished)."""


class Engine(Protocol):
    """A started engine: the gateway the exchange actor uses, and how to stop it."""

    gateway: OrderGateway

    def close(self) -> None:
        """Stop the engine (after the actors stopped)."""


class SimpleEngine:
    """Direct connector calls; nothing to start or stop."""

    def __init__(self, exchange: Exchange) -> None:
        self.gateway: OrderGateway = DirectGateway(exchange)

    def close(self) -> None:
        """Nothing to release."""


class DurableEngine:
    """DBOS launched for one bot on one symbol; build it with :func:`start_engine`."""

    def __init__(self, settings: DurableSettings, bot_id: str, symbol: str) -> None:
        self.settings = settings
        self.bot_id = bot_id
        self.symbol = symbol
        from market_maker.durable.workflow_gateway import DurableGateway  # imports DBOS

        self.gateway: OrderGateway = DurableGateway(bot_id, symbol)
        self.recovered: list[str] = []  # ids of the workflows finished by recovery at start
        self._closed = False

    def close(self) -> None:
        """Destroy DBOS (no workflow runs any more: the actors are stopped) and forget the connector."""
        global _running
        if self._closed:
            return
        self._closed = True
        from dbos import DBOS

        from market_maker.durable import workflows

        try:
            DBOS.destroy()
        finally:
            workflows.unregister(self.bot_id, self.symbol)
            with _running_lock:
                if _running is self:
                    _running = None


def start_engine(config: Config, exchange: Exchange, store: Store) -> Engine:
    """The engine ``config.engine.type`` asks for, started; raises :class:`EngineStartError`.

    Durable: ``exchange`` must be started (its rules loaded) and ``store`` locked by this process,
    because recovered workflows place and cancel orders before this returns.
    """
    if config.engine.type != "durable":
        return SimpleEngine(exchange)
    return _start_durable(config, exchange, store)


def _start_durable(config: Config, exchange: Exchange, store: Store) -> DurableEngine:
    global _running
    bot, symbol = config.bot.id, config.trading.symbol
    try:
        faults.arm()
        settings = durable_settings(config.engine.database, bot, symbol)
        if settings.sqlite_path is not None:
            prepare_sqlite(settings.sqlite_path)
    except (ValueError, OSError) as exc:
        raise EngineStartError(f"durable engine: {exc}") from None
    with _running_lock:
        if _running is not None:
            raise EngineStartError(
                f"durable engine: bot {_running.bot_id} on {_running.symbol} already runs in this process "
                "(DBOS allows one durable bot per process)"
            )
        engine = _running = DurableEngine(settings, bot, symbol)
    from dbos import DBOS

    from market_maker.durable import workflows

    workflows.register(bot, symbol, exchange, store)
    try:
        DBOS(
            config={
                "name": APP_NAME,
                "system_database_url": settings.system_database_url,
                "application_version": APPLICATION_VERSION,
                "executor_id": settings.executor_id,
                "log_level": "WARNING",
                "sys_db_pool_size": 5,
                "notification_listener_polling_interval_sec": 0.1,
            }
        )
        DBOS.launch()
        engine.recovered = _wait_recovered(bot, symbol, RECOVERY_TIMEOUT_S)
    except Exception as exc:
        try:
            engine.close()
        except Exception:
            log.debug("stopping DBOS after a failed start failed", exc_info=True)
        if isinstance(exc, EngineStartError):
            raise
        raise EngineStartError(f"durable engine on {settings.where}: {why(exc)}") from None
    log.info(
        "durable engine: workflows in %s as executor %s (version %s)%s",
        settings.where,
        settings.executor_id,
        APPLICATION_VERSION,
        f", {len(engine.recovered)} interrupted workflows finished" if engine.recovered else "",
    )
    return engine


def _wait_recovered(bot: str, symbol: str, timeout_s: float) -> list[str]:
    """Wait until this bot's interrupted workflows have finished (DBOS recovers them at launch).

    Trading must not start before: reconciliation would otherwise see an order half-way through a
    workflow. Pending workflows of another application version are not recovered: they are named.
    """
    from dbos import DBOS

    prefixes = workflow_prefixes(bot, symbol)
    pending = DBOS.list_workflows(
        status=list(ACTIVE), workflow_id_prefix=prefixes, load_input=False, load_output=False
    )
    foreign = [w.workflow_id for w in pending if w.app_version != APPLICATION_VERSION]
    if foreign:
        log.warning(
            "%d pending workflows of another application version are not recovered (resume them by hand): %s",
            len(foreign),
            ", ".join(foreign[:5]),
        )
    ids = [w.workflow_id for w in pending if w.app_version == APPLICATION_VERSION]
    if ids:
        log.info("recovering %d interrupted order workflows: %s", len(ids), ", ".join(ids[:5]))
    deadline = time.monotonic() + timeout_s
    left = set(ids)
    while left:
        for wid in sorted(left):
            st = DBOS.get_workflow_status(wid)
            if st is None or st.status not in ACTIVE:
                left.discard(wid)
                log.info("recovered workflow %s: %s", wid, st.status if st else "gone")
        if left and time.monotonic() > deadline:
            raise EngineStartError(
                f"durable engine: {len(left)} interrupted workflows did not finish within {timeout_s:g} s "
                f"({', '.join(sorted(left)[:3])}): refusing to trade before they do"
            )
        if left:
            time.sleep(0.05)
    return ids
