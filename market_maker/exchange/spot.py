"""Binance spot (``/api/v3``): post-only is LIMIT_MAKER, user data is the WebSocket API (reference §A)."""

from __future__ import annotations

from typing import Any

from market_maker.core.model import Market, Side
from market_maker.exchange import parse
from market_maker.exchange.base import StatusCallback, Stream, UserCallback
from market_maker.exchange.binance import BinanceExchange, Endpoint, MarketApi
from market_maker.exchange.rest import RestClient
from market_maker.exchange.streams import SpotUserStream
from market_maker.exchange.types import Balance, Position
from market_maker.exchange.ws import StreamSettings

SPOT_API = MarketApi(
    time=Endpoint("/api/v3/time", 1),
    exchange_info=Endpoint("/api/v3/exchangeInfo", 20),
    klines=Endpoint("/api/v3/klines", 2),
    order=Endpoint("/api/v3/order", 1),
    query_order=Endpoint("/api/v3/order", 4),
    open_orders=Endpoint("/api/v3/openOrders", 6),
    cancel_all=Endpoint("/api/v3/openOrders", 1),
    trades=Endpoint("/api/v3/myTrades", 20),
    trades_by_order=Endpoint("/api/v3/myTrades", 5),
    account=Endpoint("/api/v3/account", 20),
)


class SpotExchange(BinanceExchange):
    """One spot symbol (see :class:`market_maker.exchange.base.Exchange`)."""

    market = Market.SPOT
    api = SPOT_API

    def __init__(
        self,
        rest: RestClient,
        symbol: str,
        ws_url: str,
        *,
        ws_api_url: str | None = None,
        precheck: bool = True,
        stream_settings: StreamSettings | None = None,
    ) -> None:
        super().__init__(rest, symbol, ws_url, precheck=precheck, stream_settings=stream_settings)
        self.ws_api_url = (ws_api_url or ws_url).rstrip("/")

    def _exchange_info_params(self) -> dict[str, Any]:
        return {"symbol": self.symbol}

    def _order_params(self, side: Side, post_only: bool, reduce_only: bool) -> dict[str, Any]:
        # LIMIT_MAKER takes no timeInForce: sending one is -1106 (reference §A.5)
        return {"type": "LIMIT_MAKER"} if post_only else {"type": "LIMIT", "timeInForce": "GTC"}

    def balances(self) -> dict[str, Balance]:
        """The spot wallet."""
        body = self.rest.request("GET", self.api.account.path, signed=True, weight=self.api.account.weight)
        return parse.balances_from_spot_account(body)

    def position(self) -> Position:
        """The base asset's total balance (free + locked)."""
        rules = self.symbol_rules()
        bal = self.balances().get(rules.base_asset)
        return Position(self.symbol, bal.total if bal is not None else parse.dec(0, "balance"))

    def _user_stream(
        self, on_event: UserCallback, on_status: StatusCallback | None, settings: StreamSettings
    ) -> Stream:
        """Order and balance events through ``userDataStream.subscribe.signature``."""
        return SpotUserStream(
            self.ws_api_url,
            self.rest.fork(),
            self.symbol_rules(),
            on_event,
            on_status=on_status,
            settings=settings,
        )
