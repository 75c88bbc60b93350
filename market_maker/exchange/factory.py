"""``make_exchange``: the one way the rest of the program gets a connector."""

from __future__ import annotations

from market_maker.core.model import Market
from market_maker.exchange.base import Exchange
from market_maker.exchange.binance import BinanceExchange
from market_maker.exchange.keys import Signer
from market_maker.exchange.order_socket import OrderSocket
from market_maker.exchange.ratelimit import RateLimiter
from market_maker.exchange.rest import MAX_RECV_WINDOW_MS, RestClient
from market_maker.exchange.spot import SpotExchange
from market_maker.exchange.usdm import UsdmExchange
from market_maker.exchange.ws import StreamSettings


def make_exchange(
    market: Market | str,
    rest_url: str,
    ws_url: str,
    api_key: str,
    api_secret: str | Signer,
    recv_window_ms: int = 5000,
    *,
    symbol: str,
    ws_api_url: str | None = None,
    routed_ws: bool = False,
    precheck: bool = True,
    max_wait_s: float = 10.0,
    timeout_s: tuple[float, float] = (3.05, 10.0),
    time_refresh_s: float = 300.0,
    stream_settings: StreamSettings | None = None,
    limiter: RateLimiter | None = None,
    order_transport: str = "rest",
    stp_mode: str = "EXPIRE_TAKER",
) -> Exchange:
    """A spot or USD-M connector for ``symbol`` (not started: call ``start()``).

    ``rest_url`` is the REST base (``https://api.binance.com``, ``https://fapi.binance.com`` or the
    simulator's ``rest_url``); ``ws_url`` the market-stream base (``wss://stream.binance.com:9443``,
    ``wss://fstream.binance.com``). Spot user data goes to ``ws_api_url`` (``wss://ws-api.binance.com:443``;
    defaults to ``ws_url``, as on the simulator). ``routed_ws`` selects USD-M's /public, /market and
    /private routes (live Binance since 2026). ``precheck`` refuses orders that fail the symbol's
    filters before sending them. ``max_wait_s`` bounds how long one call may wait for the rate limiter.
    ``api_secret`` is an HMAC secret, an Ed25519 or RSA PEM private key, or a signer (:mod:`keys`).
    ``order_transport`` ``websocket`` places and cancels over the WebSocket API at ``ws_api_url`` (default
    ``ws_url``; spot ``/ws-api/v3``, USD-M ``/ws-fapi/v1``), falling back to REST while it is down.
    """
    try:
        kind = Market(market)
    except ValueError:
        raise ValueError(f"exchange market must be 'spot' or 'usdm', got {market!r}") from None
    for name, url, schemes in (
        ("rest_url", rest_url, ("http://", "https://")),
        ("ws_url", ws_url, ("ws://", "wss://")),
        ("ws_api_url", ws_api_url or ws_url, ("ws://", "wss://")),
    ):
        if not url.startswith(schemes):
            raise ValueError(f"exchange {name} must start with {' or '.join(schemes)}, got {url!r}")
    if not api_key or not api_secret:
        raise ValueError("exchange api_key and api_secret must both be set")
    if not 0 < recv_window_ms <= MAX_RECV_WINDOW_MS:
        raise ValueError(
            f"exchange recv_window_ms must be within 1..{MAX_RECV_WINDOW_MS}, got {recv_window_ms}"
        )
    if order_transport not in ("rest", "websocket"):
        raise ValueError(f"exchange order_transport must be 'rest' or 'websocket', got {order_transport!r}")
    if not symbol.isalnum():
        raise ValueError(f"exchange symbol must be letters and digits, got {symbol!r}")
    rest = RestClient(
        rest_url,
        api_key,
        api_secret,
        time_path="/api/v3/time" if kind is Market.SPOT else "/fapi/v1/time",
        recv_window_ms=recv_window_ms,
        limiter=limiter or RateLimiter(max_wait_s=max_wait_s),
        timeout_s=timeout_s,
        time_refresh_s=time_refresh_s,
    )
    exchange: BinanceExchange
    if kind is Market.SPOT:
        exchange = SpotExchange(
            rest, symbol, ws_url, ws_api_url=ws_api_url, precheck=precheck, stream_settings=stream_settings
        )
    else:
        exchange = UsdmExchange(
            rest, symbol, ws_url, routed_ws=routed_ws, precheck=precheck, stream_settings=stream_settings
        )
    exchange.stp_mode = stp_mode
    if order_transport == "websocket":
        exchange.order_socket = OrderSocket(
            OrderSocket.url_for(ws_api_url or ws_url, usdm=kind is Market.USDM),
            rest,  # the same limiter, server clock and send probe as REST
            timeout_s=timeout_s[1],
            settings=stream_settings,
        )
    return exchange
