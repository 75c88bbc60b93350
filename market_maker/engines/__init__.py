"""The order engines: Simple (direct connector calls) and Durable (DBOS workflows, whose parts are in
:mod:`market_maker.durable`).

    engine = start_engine(config, exchange, store)   # after exchange.start(), before the actors
    ExchangeActor.start(wiring, exchange, gateway=engine.gateway)
    ...
    engine.close()                                    # after the actors stopped

Durable: every order placement and cancellation is a DBOS workflow whose id derives from the symbol
and the client order id (:mod:`market_maker.durable.ids`); its exchange call is a step that is
idempotent (it queries by client id before placing) and its outcome is written to the store in a
second step. On start the
interrupted workflows of this bot are recovered and finished *before* the actors start, so
reconciliation sees the exchange as the workflows left it. See docs/durable.md.
"""

from market_maker.durable.outcomes import CancelOutcome, PlaceOutcome
from market_maker.engines.engine import Engine, EngineStartError, start_engine
from market_maker.engines.gateway import DirectGateway, OrderGateway

__all__ = [
    "CancelOutcome",
    "DirectGateway",
    "Engine",
    "EngineStartError",
    "OrderGateway",
    "PlaceOutcome",
    "start_engine",
]
