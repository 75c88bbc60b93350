"""What spot and USD-M share: one symbol over one :class:`RestClient`, paths and weights per market.

:class:`SpotExchange` (spot.py) and :class:`UsdmExchange` (usdm.py) fill in the differences: order
parameters, cancel-all's answer, the account endpoints and the user-data stream.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from market_maker.core import ids
from market_maker.core.model import Candle, Fill, Market, OrderSnapshot, Side
from market_maker.core.rules import SymbolRules
from market_maker.exchange import parse
from market_maker.exchange.base import MarketCallback, StatusCallback, Stream, UserCallback
from market_maker.exchange.codes import CANCEL_REJECTED
from market_maker.exchange.errors import (
    ClockSkewError,
    ExchangeError,
    FilterError,
    OrderNotFoundError,
    RejectedError,
    SymbolNotTradingError,
    UnknownOutcomeError,
)
from market_maker.exchange.order_socket import OrderSocket, SentRequest, SocketDown
from market_maker.exchange.ratelimit import limits_from_exchange_info
from market_maker.exchange.rest import RestClient
from market_maker.exchange.streams import MarketStream
from market_maker.exchange.types import Balance, Position
from market_maker.exchange.ws import StreamSettings

log = logging.getLogger(__name__)

_ID_CACHE_SIZE = 10000
_SOCKET_START_WAIT_S = 5.0  # start() waits this long for the order socket, then REST carries orders
TRADING = "TRADING"
# while the symbol is not TRADING, a place re-reads exchangeInfo at most this often (else refused locally)
_STATUS_RECHECK_S = 10.0
_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class SentOrder:
    """A place or cancel written to the order socket, its answer not read yet (:meth:`finish`)."""

    kind: str  # "place" or "cancel"
    params: dict[str, Any]
    request: SentRequest


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A REST path and its request weight."""

    path: str
    weight: int


@dataclass(frozen=True, slots=True)
class MarketApi:
    """The REST endpoints of one market (reference §A.4-A.5 spot, §B.2-B.4 USD-M)."""

    time: Endpoint
    exchange_info: Endpoint
    klines: Endpoint
    order: Endpoint  # POST place, DELETE cancel
    query_order: Endpoint  # GET order
    open_orders: Endpoint
    cancel_all: Endpoint
    trades: Endpoint
    trades_by_order: Endpoint
    account: Endpoint  # spot account / futures balance


class BinanceExchange:
    """The shared half of the spot and USD-M connectors (see :class:`base.Exchange`)."""

    market: Market
    api: MarketApi

    def __init__(
        self,
        rest: RestClient,
        symbol: str,
        ws_url: str,
        *,
        precheck: bool = True,
        stream_settings: StreamSettings | None = None,
    ) -> None:
        self.symbol = symbol.upper()
        self.stp_mode = "EXPIRE_TAKER"  # selfTradePreventionMode sent on every order (make_exchange sets it)
        self.rest = rest
        self.ws_url = ws_url.rstrip("/")
        self.precheck = precheck
        self.stream_settings = stream_settings or StreamSettings()
        self._rules: SymbolRules | None = None
        self._rules_lock = threading.Lock()
        self._client_ids: OrderedDict[int, str] = OrderedDict()
        # churn gets accounts questioned (field notes): placed and cancelled orders are counted
        self.order_counts = {"placed": 0, "cancelled": 0}
        self.order_socket: OrderSocket | None = None  # exchange.order_transport websocket
        self.rest_fallbacks = 0  # orders sent over REST because the order socket was down
        self._socket_down_logged = False
        # exchangeInfo's status: only TRADING takes new orders (CANCEL_ONLY, BREAK, HALT: cancels only)
        self.symbol_status = TRADING
        self._status_read_at = 0.0  # time.monotonic() of the last exchangeInfo read
        self.status_recheck_s = _STATUS_RECHECK_S

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.symbol!r}, {self.rest.base_url!r})"

    # --- life cycle and reference data ------------------------------------------------------------------

    def start(self) -> None:
        """Measure the clock offset, load rules and rate limits, and open the order socket (if any)."""
        self.sync_time()
        self.symbol_rules(refresh=True)
        sock = self.order_socket
        if sock is not None:
            sock.start()
            how = f"{self.rest.key_kind} key" + (", session.logon" if sock.logon else ", signed requests")
            if sock.wait_connected(_SOCKET_START_WAIT_S):
                log.info("orders go over the WebSocket API at %s (%s)", sock.url, how)
            else:
                log.warning("order socket %s not up yet (%s): orders go over REST until it is", sock.url, how)

    def close(self) -> None:
        """Release the HTTP session and the order socket."""
        if self.order_socket is not None:
            self.order_socket.stop()
        self.rest.close()

    @property
    def order_transport(self) -> str:
        """``websocket`` when place and cancel go over the WebSocket API (REST while it is down)."""
        return "rest" if self.order_socket is None else "websocket"

    def _order_request(
        self, method: str, ws_method: str, endpoint: Endpoint, params: dict[str, Any], orders: int = 0
    ) -> Any:
        """A place or cancel: over the order socket when there is one and it is up, else over REST.

        Only a request that was never sent falls back to REST; one sent on the socket and unanswered is
        an :class:`UnknownOutcomeError` like a REST timeout (the caller resolves it by client id)."""
        sock = self.order_socket
        if sock is not None:
            try:
                body = sock.call(
                    ws_method, params, f"{method} {endpoint.path}", weight=endpoint.weight, orders=orders
                )
            except SocketDown as exc:
                self.rest_fallbacks += 1
                if not self._socket_down_logged:
                    self._socket_down_logged = True
                    log.warning("order socket down (%s): orders go over REST until it is back", exc.meaning)
            else:
                if self._socket_down_logged:
                    self._socket_down_logged = False
                    log.info("order socket back: orders go over the WebSocket API again")
                return body
        return self.rest.request(
            method, endpoint.path, params, signed=True, weight=endpoint.weight, orders=orders
        )

    def refuse_new_orders(self) -> None:
        """The bot is stopping: no new order goes out, and one waiting for the rate limit gives up now.

        Cancels, queries and snapshots still go, so the stop can finish the requests already sent.
        """
        self.rest.limiter.refuse_orders()

    def symbol_rules(self, refresh: bool = False) -> SymbolRules:
        """The symbol's filters (cached); also adopts the announced rate limits."""
        with self._rules_lock:
            if self._rules is None or refresh:
                info = self.rest.request(
                    "GET",
                    self.api.exchange_info.path,
                    self._exchange_info_params(),
                    weight=self.api.exchange_info.weight,
                )
                if not isinstance(info, dict):
                    raise ExchangeError("malformed exchangeInfo answer", endpoint=self.api.exchange_info.path)
                self._rules = parse.rules_from_exchange_info(info, self.symbol)
                self._set_status(str(parse.symbol_info(info, self.symbol).get("status", TRADING)))
                limits = limits_from_exchange_info(info.get("rateLimits", []))
                if limits:
                    self.rest.limiter.set_limits(limits)
            return self._rules

    def _exchange_info_params(self) -> dict[str, Any]:
        return {}

    def _set_status(self, status: str) -> None:
        self._status_read_at = time.monotonic()
        if status != self.symbol_status:
            if status == TRADING:
                log.warning("%s is TRADING again: placing orders", self.symbol)
            else:
                log.warning("%s is %s: no new orders, cancels only", self.symbol, status)
        self.symbol_status = status

    @property
    def placing(self) -> bool:
        """False while the symbol's status takes no new orders (cancels still go)."""
        return self.symbol_status == TRADING

    def _check_trading(self, endpoint: str) -> None:
        """Refuse a new order locally while the symbol is not TRADING, re-reading its status now and
        then so trading resumes when the exchange does."""
        if self.symbol_status == TRADING:
            return
        if time.monotonic() - self._status_read_at >= self.status_recheck_s:
            self.symbol_rules(refresh=True)
        if self.symbol_status != TRADING:
            raise SymbolNotTradingError(
                f"symbol not trading: {self.symbol} is {self.symbol_status}, only cancels are accepted"
                " (nothing was sent)",
                endpoint=endpoint,
            )

    def server_time(self) -> int:
        """The exchange's clock, in ms."""
        return self.rest.server_time()

    def sync_time(self) -> int:
        """Re-measure the clock offset (ms)."""
        return self.rest.sync_time()

    @property
    def time_offset_ms(self) -> int:
        """Exchange minus local clock, as last measured."""
        return self.rest.server_clock.offset_ms

    def klines(
        self, interval: str, limit: int = 500, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[Candle]:
        """Candles, oldest first."""
        rules = self.symbol_rules()
        rows = self.rest.request(
            "GET",
            self.api.klines.path,
            {
                "symbol": self.symbol,
                "interval": interval,
                "startTime": start_ms,
                "endTime": end_ms,
                "limit": limit,
            },
            weight=self.api.klines.weight,
        )
        now = self.rest.server_clock.now_ms()
        return [parse.candle_from_kline(row, rules, now) for row in _as_list(rows, "klines")]

    # --- orders ------------------------------------------------------------------------------------------

    def place(
        self,
        side: Side,
        price: int,
        qty: int,
        client_id: str,
        *,
        post_only: bool = True,
        reduce_only: bool = False,
    ) -> OrderSnapshot:
        """A limit order, post-only by default; refused without sending while the symbol is not TRADING."""
        params = self._place_params(side, price, qty, client_id, post_only, reduce_only)
        try:
            body = self._order_request("POST", "order.place", self.api.order, params, orders=1)
        except RejectedError as exc:
            self._place_refused(exc)
            raise
        return self._placed(body, params)

    def _place_params(
        self, side: Side, price: int, qty: int, client_id: str, post_only: bool, reduce_only: bool
    ) -> dict[str, Any]:
        """A placement's request parameters, after the checks that refuse it without sending."""
        rules = self.symbol_rules()
        self._check_trading(f"POST {self.api.order.path}")
        if self.precheck:
            failed = rules.check(price, qty)
            if failed is not None:
                raise FilterError(
                    f"order fails the {failed} filter (checked before sending; nothing was sent)",
                    filter_name=failed,
                    endpoint=f"POST {self.api.order.path}",
                )
        params: dict[str, Any] = {
            "symbol": self.symbol,
            "side": side.value,
            "quantity": rules.steps_to_qty(qty),
            "price": rules.ticks_to_price(price),
            "newClientOrderId": client_id,
            "newOrderRespType": "RESULT",
            "selfTradePreventionMode": self.stp_mode,
        }
        params.update(self._order_params(side, post_only, reduce_only))
        return params

    def _place_refused(self, exc: RejectedError) -> None:
        """spot: -2010 "Market is closed."; USD-M: -1122 "Invalid symbol status." The status changed
        since it was read: read it."""
        if "market is closed" in exc.msg.lower() or exc.code == -1122:
            self._status_read_at = 0.0
            try:
                self.symbol_rules(refresh=True)
            except ExchangeError as refresh:
                log.warning("%s: market closed, its status unread: %s", self.symbol, refresh)

    def _placed(self, body: Any, params: dict[str, Any]) -> OrderSnapshot:
        self.order_counts["placed"] += 1
        if isinstance(body, dict) and "orderId" in body and "status" not in body:
            # an ACK-only answer: what we sent is what rests
            body = {**body, "side": params["side"], "price": params["price"], "origQty": params["quantity"]}
        return self._snapshot(body, accepted=True)

    # --- orders written on the caller's thread (WebSocket API) ----------------------------------------

    def send_place(
        self, side: Side, price: int, qty: int, client_id: str, reduce_only: bool
    ) -> SentOrder | None:
        """Write a post-only placement's frame on the order socket now, on this thread, when nothing
        needs a wait (see :meth:`OrderSocket.send_now`); None when it was not sent (:meth:`place` then
        does it all, and raises whatever a check raised here). :meth:`finish` reads its answer."""
        sock = self.order_socket
        if sock is None or self.symbol_status != TRADING or self._rules is None:
            return None
        try:
            params = self._place_params(side, price, qty, client_id, True, reduce_only)
        except ExchangeError:
            return None
        path = self.api.order
        sent = sock.send_now("order.place", params, f"POST {path.path}", weight=path.weight, orders=1)
        return None if sent is None else SentOrder("place", params, sent)

    def send_cancel(self, client_id: str) -> SentOrder | None:
        """:meth:`send_place` for a cancel by client id."""
        sock = self.order_socket
        if sock is None:
            return None
        params = {"symbol": self.symbol, "origClientOrderId": client_id}
        path = self.api.order
        sent = sock.send_now("order.cancel", params, f"DELETE {path.path}", weight=path.weight, orders=0)
        return None if sent is None else SentOrder("cancel", params, sent)

    def finish(self, order: SentOrder) -> OrderSnapshot:
        """The answer to a request written by :meth:`send_place` or :meth:`send_cancel`, as :meth:`place`
        or :meth:`cancel` returns or raises it. A request refused for its timestamp (-1021, not executed)
        is sent once more after the clock is re-measured, as :meth:`place` does."""
        sock = self.order_socket
        assert sock is not None
        place = order.kind == "place"
        method, ws_method = ("POST", "order.place") if place else ("DELETE", "order.cancel")
        try:
            try:
                body = sock.answer(order.request)
            except ClockSkewError:
                self.rest.sync_time()
                body = self._order_request(method, ws_method, self.api.order, order.params, orders=int(place))
        except RejectedError as exc:
            if place:
                self._place_refused(exc)
            raise
        if place:
            return self._placed(body, order.params)
        self.order_counts["cancelled"] += 1
        return self._snapshot(body, accepted=True)

    def _order_params(self, side: Side, post_only: bool, reduce_only: bool) -> dict[str, Any]:
        raise NotImplementedError

    def balances(self) -> dict[str, Balance]:
        """Every asset's balance (per market)."""
        raise NotImplementedError

    def position(self) -> Position:
        """The holding in the symbol (per market)."""
        raise NotImplementedError

    def cancel(self, client_id: str) -> OrderSnapshot:
        """Cancel one order by client id."""
        body = self._order_request(
            "DELETE", "order.cancel", self.api.order, {"symbol": self.symbol, "origClientOrderId": client_id}
        )
        self.order_counts["cancelled"] += 1
        return self._snapshot(body, accepted=True)

    def cancel_all(self) -> None:
        """Cancel every open order of the symbol.

        "Nothing open" is success: spot answers -2011 "Unknown order sent."; futures answers 200 with
        a ``{"code": 200, "msg": ...}`` envelope (reference §A.5, §B.3).
        """
        self.rest.request(
            "DELETE",
            self.api.cancel_all.path,
            {"symbol": self.symbol},
            signed=True,
            weight=self.api.cancel_all.weight,
            ok_codes=(CANCEL_REJECTED,),
        )

    @property
    def cancel_place_ratio(self) -> float:
        """Cancelled / placed orders since start (0 before the first order): a churn gauge."""
        placed = self.order_counts["placed"]
        return self.order_counts["cancelled"] / placed if placed else 0.0

    def cancel_own(self, bot_id: str) -> list[OrderSnapshot]:
        """Cancel our open orders one by one; an order that closed meanwhile is skipped."""
        done = []
        for order in self.open_orders():
            if not ids.is_own(order.client_id, bot_id):
                continue
            try:
                done.append(self.cancel(order.client_id))
            except OrderNotFoundError:
                continue  # filled or cancelled since the listing: the user stream reports it
        return done

    def get_order(self, client_id: str) -> OrderSnapshot | None:
        """The order by client id, or None when the exchange does not know it."""
        try:
            body = self.rest.request(
                "GET",
                self.api.query_order.path,
                {"symbol": self.symbol, "origClientOrderId": client_id},
                signed=True,
                weight=self.api.query_order.weight,
            )
        except OrderNotFoundError:
            return None
        return self._snapshot(body)

    def open_orders(self) -> list[OrderSnapshot]:
        """Every open order of the symbol."""
        rows = self.rest.request(
            "GET",
            self.api.open_orders.path,
            {"symbol": self.symbol},
            signed=True,
            weight=self.api.open_orders.weight,
        )
        return [self._snapshot(row) for row in _as_list(rows, "open orders")]

    def recent_trades(self, start_ms: int | None = None, limit: int = 500) -> list[Fill]:
        """Trades since ``start_ms``, with client ids and exact cumulative quantities.

        Trade rows carry neither, so every order seen in the window has its full trade list fetched
        (by orderId) to count ``cum_qty`` from its first trade, and its client id looked up once.
        A span longer than a day is read one day per request; ``limit`` applies to each day.
        """
        rules = self.symbol_rules()
        rows: list[dict[str, Any]] = []
        for begin, end in self._trade_windows(start_ms):
            rows.extend(
                _as_list(
                    self.rest.request(
                        "GET",
                        self.api.trades.path,
                        {"symbol": self.symbol, "startTime": begin, "endTime": end, "limit": limit},
                        signed=True,
                        weight=self.api.trades.weight,
                    ),
                    "trades",
                )
            )
        window = {int(parse.field(r, "id", "trade")) for r in rows}
        order_ids = sorted({int(parse.field(r, "orderId", "trade")) for r in rows})
        full: list[dict[str, Any]] = []
        for order_id in order_ids:
            full.extend(
                _as_list(
                    self.rest.request(
                        "GET",
                        self.api.trades.path,
                        {"symbol": self.symbol, "orderId": order_id},
                        signed=True,
                        weight=self.api.trades_by_order.weight,
                    ),
                    "trades",
                )
            )
            self._client_id_of(order_id)
        fills = parse.fills_from_rest_trades(full, rules, dict(self._client_ids))
        return [f for f in fills if f.trade_id in window]

    def _trade_windows(self, start_ms: int | None) -> list[tuple[int | None, int | None]]:
        """Binance answers at most 24 h per trades request (spot; 7 days on futures) and, given only
        a start, that first day: so a longer span is walked one day at a time."""
        if start_ms is None:
            return [(None, None)]
        now = self.rest.server_clock.now_ms()
        windows: list[tuple[int | None, int | None]] = []
        begin = start_ms
        while True:
            end = begin + _DAY_MS - 1
            windows.append((begin, min(end, now + 60_000)))
            if end >= now:
                return windows
            begin = end + 1

    def _client_id_of(self, order_id: int) -> str:
        if order_id in self._client_ids:
            return self._client_ids[order_id]
        body = self.rest.request(
            "GET",
            self.api.query_order.path,
            {"symbol": self.symbol, "orderId": order_id},
            signed=True,
            weight=self.api.query_order.weight,
        )
        return self._snapshot(body).client_id

    def _snapshot(self, body: Any, accepted: bool = False) -> OrderSnapshot:
        """Parse an order answer. When the request was ``accepted`` (a place or cancel answered 2xx),
        an unreadable answer is an unknown outcome: the caller must query, not assume a failure."""
        try:
            if not isinstance(body, dict):
                raise ExchangeError("malformed order answer: expected an object")
            snap = parse.order_from_rest(body, self.symbol_rules())
        except ExchangeError as exc:
            if not accepted:
                raise
            raise UnknownOutcomeError(
                f"request accepted but its answer is unreadable ({exc.meaning})"
            ) from None
        self._remember(snap.order_id, snap.client_id)
        return snap

    def _remember(self, order_id: int, client_id: str) -> None:
        self._client_ids[order_id] = client_id
        self._client_ids.move_to_end(order_id)
        while len(self._client_ids) > _ID_CACHE_SIZE:
            self._client_ids.popitem(last=False)

    # --- streams -----------------------------------------------------------------------------------------

    def market_stream(
        self,
        on_event: MarketCallback,
        *,
        interval: str = "1m",
        on_status: StatusCallback | None = None,
        stale_after_s: float = 30.0,
    ) -> Stream:
        """bookTicker and kline_<interval> of the symbol, on one combined stream per route."""
        s = self.symbol.lower()
        return MarketStream(
            self._market_urls([f"{s}@bookTicker", f"{s}@kline_{interval}"]),
            self.symbol_rules(),
            on_event,
            on_status=on_status,
            settings=self.stream_settings.with_stale(stale_after_s),
        )

    def user_stream(
        self,
        on_event: UserCallback,
        *,
        on_status: StatusCallback | None = None,
        stale_after_s: float = 300.0,
    ) -> Stream:
        """Order updates, fills, balance and position changes (see :meth:`base.Exchange.user_stream`)."""
        return self._user_stream(on_event, on_status, self.stream_settings.with_stale(stale_after_s))

    def _user_stream(
        self, on_event: UserCallback, on_status: StatusCallback | None, settings: StreamSettings
    ) -> Stream:
        raise NotImplementedError

    def _market_urls(self, streams: list[str]) -> list[str]:
        return [f"{self.ws_url}/stream?streams={'/'.join(streams)}"]


def _as_list(body: Any, what: str) -> list[Any]:
    if not isinstance(body, list):
        raise ExchangeError(f"malformed {what} answer: expected a list")
    return body
