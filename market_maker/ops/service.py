"""Everything ops a running bot needs, from its configuration, in one object the run verb starts.

    ops = OpsService.from_config(config, status=build_status_input)   # StatusInput from the actors
    ops.start()                         # HTTP endpoint (if ops.enabled) and alert thread (if a webhook)
    ops.metrics.set_price(...); ops.health.stream_message("market"); ops.alert(AlertKind.START, "...")
    ...
    ops.stop()                          # after the bot's own graceful stop (a STOP alert first, if wanted)

``/status`` is the :class:`StatusInput` the bot supplies with health, stream staleness and the last
reconcile filled in from :attr:`OpsService.health` when the bot left them out.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from market_maker.ops import address
from market_maker.ops.alerts import AlertKind, ReconnectStormDetector, WebhookNotifier
from market_maker.ops.health import Health, HealthTracker
from market_maker.ops.http import OpsServer
from market_maker.ops.metrics import BotMetrics
from market_maker.ops.pnl_history import PnlHistory
from market_maker.ops.status_doc import StatusInput, status_document
from market_maker.ops.web_controls import web_controls
from market_maker.settings.models import Config

log = logging.getLogger(__name__)

StatusProvider = Callable[[], StatusInput]


class OpsService:
    """Metrics, health, the ops HTTP endpoint and the alert notifier of one bot."""

    def __init__(
        self,
        metrics: BotMetrics,
        health: HealthTracker,
        status: StatusProvider,
        server: OpsServer | None = None,
        alerts: WebhookNotifier | None = None,
        storm: ReconnectStormDetector | None = None,
    ) -> None:
        self.metrics = metrics
        self.health = health
        self.server = server
        self.alerts = alerts
        self.storm = storm or ReconnectStormDetector()
        self._status = status
        self.history = PnlHistory()  # the bot adds samples; the dashboard reads /history
        self._announced: tuple[Config, str] | None = None

    @classmethod
    def from_config(
        cls, config: Config, status: StatusProvider, *, streams: tuple[str, ...] = ("market", "user")
    ) -> OpsService:
        """Built from ``config``: endpoint unless ``ops.enabled`` is false, alerts only with a webhook."""
        ops, ex = config.ops, config.exchange
        metrics = BotMetrics(config.bot.id, config.trading.symbol, ex.market.value, ex.venue)
        health = HealthTracker(streams, stale_after_s=config.risk.stale_price_seconds)
        token = config.credentials.ops_token
        service = cls(metrics, health, status)
        if ops.enabled:
            service.server = OpsServer(
                metrics.render,
                health.check,
                service.status_document,
                host=ops.host,
                port=ops.port,
                token=token.get_secret_value() if token is not None else None,
                controls=web_controls(config),
                history=service.history.document,
            )
        webhook = config.webhook_url()
        if webhook:
            service.alerts = WebhookNotifier(
                webhook,
                bot_id=config.bot.id,
                symbol=config.trading.symbol,
                min_interval_s=ops.alert_min_interval_seconds,
            )
        return service

    def start(self) -> OpsService:
        """Start the endpoint and the alert thread; OSError (port in use) reaches the caller."""
        if self.alerts is not None:
            self.alerts.start()
        if self.server is not None:
            self.server.start()
        return self

    def announce(self, config: Config) -> None:
        """Record the endpoint's address in the bot's store, where ``status`` looks for it; call once the
        bot holds its trading lock (so a second bot refused at start does not overwrite it)."""
        server = self.server
        if server is not None and self._announced is None and address.publish(config, server.url):
            self._announced = (config, server.url)

    def stop(self) -> None:
        """Stop the endpoint (withdrawing its recorded address), then deliver queued alerts (bounded)."""
        if self._announced is not None:
            address.withdraw(*self._announced)
            self._announced = None
        if self.server is not None:
            self.server.stop()
        if self.alerts is not None:
            self.alerts.stop()

    def alert(self, kind: AlertKind | str, message: str, **details: Any) -> bool:
        """Send an alert when a webhook is configured (never blocks, never raises); False if not sent."""
        if self.alerts is None:
            return False
        return self.alerts.notify(kind, message, **details)

    def stream_reconnected(self, stream: str) -> None:
        """Count a reconnect; several in a short time raise a reconnect-storm alert."""
        self.metrics.stream_reconnected(stream)
        if self.storm.reconnected():
            self.alert(
                AlertKind.RECONNECT_STORM,
                f"{self.storm.threshold} stream reconnects within {self.storm.window_s:g}s",
                stream=stream,
            )

    def reconcile_done(
        self, ok: bool, error: str = "", drift: Any = None, at_unix_s: float | None = None
    ) -> None:
        """Record a reconcile in health and metrics."""
        self.health.reconcile_done(ok, error, at_unix_s)
        last = self.health.last_reconcile()
        self.metrics.set_reconcile(ok, drift, last[2] if last else 0.0)

    def check(self) -> Health:
        """What ``/healthz`` answers now."""
        return self.health.check()

    def status_document(self) -> dict[str, Any]:
        """The ``/status`` document: the bot's StatusInput completed with health and staleness."""
        s = self._status()
        h = self.health.check()
        extra: dict[str, Any] = {"healthy": h.ok, "health_reason": h.reason}
        if not s.stream_staleness_s:
            extra["stream_staleness_s"] = self.health.staleness()
        last = self.health.last_reconcile()
        if s.last_reconcile_ms is None and last is not None:
            extra["last_reconcile_ms"] = int(last[2] * 1000)
            extra["last_reconcile_ok"] = last[0]
            extra["last_reconcile_error"] = last[1]
        return status_document(dataclasses.replace(s, **extra))
