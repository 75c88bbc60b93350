"""Binance USD-M futures (``/fapi``): post-only is GTX, user data is a listenKey stream (reference §B)."""

from __future__ import annotations

from typing import Any

from market_maker.core.model import Market, Side
from market_maker.exchange import parse
from market_maker.exchange.base import StatusCallback, Stream, UserCallback
from market_maker.exchange.binance import BinanceExchange, Endpoint, MarketApi
from market_maker.exchange.codes import MARGIN_TYPE_ALREADY_SET, POSITION_MODE_ALREADY_SET
from market_maker.exchange.errors import ExchangeError
from market_maker.exchange.rest import RestClient
from market_maker.exchange.streams import FuturesUserStream
from market_maker.exchange.types import Balance, Position
from market_maker.exchange.ws import StreamSettings

USDM_API = MarketApi(
    time=Endpoint("/fapi/v1/time", 1),
    exchange_info=Endpoint("/fapi/v1/exchangeInfo", 1),
    klines=Endpoint("/fapi/v1/klines", 5),
    order=Endpoint("/fapi/v1/order", 0),  # placing costs order counts, not IP weight (§B.1)
    query_order=Endpoint("/fapi/v1/order", 1),
    open_orders=Endpoint("/fapi/v1/openOrders", 1),
    cancel_all=Endpoint("/fapi/v1/allOpenOrders", 1),
    trades=Endpoint("/fapi/v1/userTrades", 5),
    trades_by_order=Endpoint("/fapi/v1/userTrades", 5),
    account=Endpoint("/fapi/v2/balance", 5),
)
POSITION_RISK = Endpoint("/fapi/v2/positionRisk", 5)
LEVERAGE = Endpoint("/fapi/v1/leverage", 1)
MARGIN_TYPE = Endpoint("/fapi/v1/marginType", 1)
POSITION_MODE = Endpoint("/fapi/v1/positionSide/dual", 30)
LISTEN_KEY = "/fapi/v1/listenKey"
MARGIN_TYPES = ("ISOLATED", "CROSSED")


class UsdmExchange(BinanceExchange):
    """One USD-M perpetual (see :class:`market_maker.exchange.base.FuturesExchange`)."""

    market = Market.USDM
    api = USDM_API

    def __init__(
        self,
        rest: RestClient,
        symbol: str,
        ws_url: str,
        *,
        routed_ws: bool = False,
        precheck: bool = True,
        stream_settings: StreamSettings | None = None,
    ) -> None:
        super().__init__(rest, symbol, ws_url, precheck=precheck, stream_settings=stream_settings)
        # Binance's 2026 routed URLs: /public (bookTicker), /market (klines), /private (user data)
        self.routed_ws = routed_ws
        self._hedge: bool | None = None

    def _order_params(self, side: Side, post_only: bool, reduce_only: bool) -> dict[str, Any]:
        params: dict[str, Any] = {"type": "LIMIT", "timeInForce": "GTX" if post_only else "GTC"}
        if self.position_mode():
            params["positionSide"] = "LONG"  # a long grid; reduceOnly is not allowed in hedge mode
        elif reduce_only:
            params["reduceOnly"] = "true"  # take-profits in one-way mode
        return params

    def balances(self) -> dict[str, Balance]:
        """The futures wallet: free = availableBalance."""
        rows = self.rest.request("GET", self.api.account.path, signed=True, weight=self.api.account.weight)
        if not isinstance(rows, list):
            raise ExchangeError("malformed futures balance answer: expected a list")
        return parse.balances_from_futures(rows)

    def position(self) -> Position:
        """Net position, entry price, unrealized PnL, leverage and margin type."""
        rows = self.rest.request(
            "GET", POSITION_RISK.path, {"symbol": self.symbol}, signed=True, weight=POSITION_RISK.weight
        )
        if not isinstance(rows, list):
            raise ExchangeError("malformed positionRisk answer: expected a list")
        return parse.position_from_futures(rows, self.symbol)

    # --- configuration -------------------------------------------------------------------------------

    def set_leverage(self, leverage: int) -> int:
        """Set the symbol's leverage; returns what the exchange applied."""
        if not 1 <= leverage <= 125:
            raise ValueError(f"leverage must be within 1..125, got {leverage}")
        body = self.rest.request(
            "POST",
            LEVERAGE.path,
            {"symbol": self.symbol, "leverage": leverage},
            signed=True,
            weight=LEVERAGE.weight,
        )
        try:
            return int(body["leverage"])
        except (KeyError, TypeError, ValueError):
            raise ExchangeError("malformed leverage answer", endpoint=LEVERAGE.path) from None

    def set_margin_type(self, margin_type: str) -> None:
        """ISOLATED or CROSSED; -4046 "No need to change margin type." is success."""
        mt = margin_type.upper()
        if mt not in MARGIN_TYPES:
            raise ValueError(f"margin_type must be ISOLATED or CROSSED, got {margin_type!r}")
        self.rest.request(
            "POST",
            MARGIN_TYPE.path,
            {"symbol": self.symbol, "marginType": mt},
            signed=True,
            weight=MARGIN_TYPE.weight,
            ok_codes=(MARGIN_TYPE_ALREADY_SET,),
        )

    def set_position_mode(self, hedge: bool) -> None:
        """Hedge or one-way mode; -4059 "No need to change position side." is success."""
        self.rest.request(
            "POST",
            POSITION_MODE.path,
            {"dualSidePosition": hedge},
            signed=True,
            weight=1,
            ok_codes=(POSITION_MODE_ALREADY_SET,),
        )
        self._hedge = hedge

    def position_mode(self) -> bool:
        """True in hedge mode (asked once, then cached; set_position_mode updates it)."""
        if self._hedge is None:
            body = self.rest.request("GET", POSITION_MODE.path, signed=True, weight=POSITION_MODE.weight)
            if not isinstance(body, dict) or "dualSidePosition" not in body:
                raise ExchangeError("malformed position mode answer", endpoint=POSITION_MODE.path)
            self._hedge = body["dualSidePosition"] in (True, "true")
        return self._hedge

    # --- streams -------------------------------------------------------------------------------------

    def _market_urls(self, streams: list[str]) -> list[str]:
        if not self.routed_ws:
            return super()._market_urls(streams)
        public = [s for s in streams if "bookTicker" in s or "@depth" in s]
        regular = [s for s in streams if s not in public]
        return [
            f"{self.ws_url}/{route}/stream?streams={'/'.join(group)}"
            for route, group in (("public", public), ("market", regular))
            if group
        ]

    def _user_stream(
        self, on_event: UserCallback, on_status: StatusCallback | None, settings: StreamSettings
    ) -> Stream:
        """Order and account events over a listenKey (kept alive every 30 minutes)."""
        return FuturesUserStream(
            self.ws_url,
            self.rest.fork(),
            LISTEN_KEY,
            self.symbol_rules(),
            on_event,
            routed=self.routed_ws,
            on_status=on_status,
            settings=settings,
        )
