"""Binance connector: spot and USD-M futures over REST (urllib3) and WebSocket (websocket-client).

Use :func:`make_exchange`; program against :class:`Exchange` / :class:`FuturesExchange` (base.py).
Every error raised is one of :mod:`market_maker.exchange.errors`.
"""

from market_maker.exchange.base import Exchange, FuturesExchange, Stream
from market_maker.exchange.factory import make_exchange

__all__ = ["Exchange", "FuturesExchange", "Stream", "make_exchange"]
