"""The simulator's HTTP + WebSocket server on one loopback port, in a background thread.

    with SimServer(SimConfig(step_mode=True)) as sim:
        sim.create_account("key", "secret", {"USDT": "10000", "BTC": "1"})
        requests.get(sim.rest_url + "/api/v3/time")
        sim.control.set_price("BTCUSDT", "99000")

Spot REST under /api/v3, USD-M REST under /fapi, market streams under /ws and /stream (futures shapes
under /public and /market), the WebSocket API at /ws-api/v3 (spot) and /ws-fapi/v1 (USD-M), futures
user data at /ws/<listenKey> and /private/ws?listenKey=, and the control API under /_sim/.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
import time
from pathlib import Path
from types import TracebackType

from aiohttp import web

from market_maker.sim import streams
from market_maker.sim.auth import check_public_key, is_public_key
from market_maker.sim.config import SimConfig
from market_maker.sim.control import Control, http_control
from market_maker.sim.rest import Route, dispatch
from market_maker.sim.rest_accounts import ROUTES as ACCOUNT_ROUTES
from market_maker.sim.rest_futures import ROUTES as FUTURES_ROUTES
from market_maker.sim.rest_market import ROUTES as MARKET_ROUTES
from market_maker.sim.rest_spot import ROUTES as SPOT_ROUTES
from market_maker.sim.venue import Venue

__all__ = ["SimConfig", "SimServer"]

log = logging.getLogger(__name__)
ROUTES: dict[tuple[str, str], Route] = {**SPOT_ROUTES, **FUTURES_ROUTES, **MARKET_ROUTES, **ACCOUNT_ROUTES}
PAPER_ACCOUNT = "paper_account"  # the venue meta key naming the paper bot's account


class SimServer:
    """A Binance-compatible exchange on ``host:port`` (port 0 picks a free one)."""

    def __init__(
        self,
        config: SimConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        history_minutes: int = 240,
        state_file: Path | None = None,
    ) -> None:
        self.config = config or SimConfig()
        self.state_file = state_file  # persist the venue there (market_maker.sim.state_file)
        self.continued = False  # True once start() continued a state saved earlier
        self.host = host
        self.port = port
        self._history_minutes = history_minutes
        self._venue: Venue | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.BaseRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._control: Control | None = None
        self._stopped = False

    def _ensure_venue(self) -> Venue:
        if self._venue is None:
            venue = Venue(self.config, self._history_minutes)
            if self.state_file is not None:
                self.continued = venue.open_state(self.state_file)
            self._venue = venue
        return self._venue

    # --- life cycle --------------------------------------------------------------------------------

    def start(self) -> SimServer:
        """Serve in a background thread; returns once the port is listening."""
        if self._thread is not None:
            raise RuntimeError("SimServer already started")
        if self._stopped:
            raise RuntimeError("a stopped SimServer cannot be restarted; create a new one")
        self._ensure_venue()  # config, replay-file and state-file errors surface in the caller
        self._thread = threading.Thread(target=self._serve, name="sim-exchange", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise RuntimeError(f"simulator failed to start on {self.host}:{self.port}: {self._error}")
        assert self._loop is not None
        self._control = Control(self._ensure_venue(), self._loop, self._thread)
        return self

    def stop(self) -> None:
        """Close every connection, stop serving and join the thread."""
        if self._thread is None or self._loop is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        with contextlib.suppress(Exception):
            fut.result(timeout=15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=15)
        self._thread = None
        self._stopped = True
        if self._venue is not None:
            self._venue.close_state()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- public views ------------------------------------------------------------------------------

    @property
    def rest_url(self) -> str:
        """``http://host:port``: spot REST under /api/v3, USD-M under /fapi."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """``ws://host:port``: streams, the WebSocket API and user data."""
        return f"ws://{self.host}:{self.port}"

    @property
    def control(self) -> Control:
        """Faults and views (see :class:`market_maker.sim.control.Control`)."""
        if self._control is None:
            raise RuntimeError("SimServer is not started")
        return self._control

    def create_account(self, api_key: str, api_secret: str, balances: dict[str, str]) -> None:
        """Create an account with the same balances in its spot and futures wallets (before or after
        start). ``api_secret`` is the HMAC secret, or for an Ed25519 or RSA API key its PEM public key
        (``-----BEGIN PUBLIC KEY-----``), which then verifies the signatures."""
        if is_public_key(api_secret):
            check_public_key(api_secret)  # a bad key fails here, not on the first request
        venue = self._ensure_venue()
        if self._control is not None:
            self._control._run(lambda: venue.create_account(api_key, api_secret, balances))
        else:
            venue.create_account(api_key, api_secret, balances)

    @property
    def venue_id(self) -> str | None:
        """The persistent venue's id (None without a state file)."""
        return self._ensure_venue().venue_id

    def paper_account(self, balances: dict[str, str]) -> tuple[str, str, bool]:
        """The account a paper bot trades: the one kept in the venue's state, or a new one with
        ``balances`` and a key and secret generated here. Returns (key, secret, created)."""
        venue = self._ensure_venue()

        def get() -> tuple[str, str, bool]:
            key = venue.meta.get(PAPER_ACCOUNT, "")
            acct = venue.engine.accounts.get(key)
            if acct is not None:
                return acct.api_key, acct.api_secret, False
            key, secret = secrets.token_hex(32), secrets.token_hex(32)
            venue.create_account(key, secret, balances)
            venue.set_meta(PAPER_ACCOUNT, key)
            return key, secret, True

        return self._control._run(get) if self._control is not None else get()

    def account_has_history(self, api_key: str) -> bool:
        """True when the account has traded or has orders (open or not)."""
        venue = self._ensure_venue()

        def get() -> bool:
            acct = venue.engine.accounts.get(api_key)
            return acct is not None and (
                bool(acct.trades) or any(o.account == api_key for o in venue.engine.orders.values())
            )

        return self._control._run(get) if self._control is not None else get()

    # --- the loop thread ---------------------------------------------------------------------------

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._startup())
        except BaseException as exc:  # reported to start()'s caller
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _startup(self) -> None:
        # aiohttp's low-level server: one handler, no router or middlewares on the hot path
        handler = web.Server(self._handle, access_log=None)
        self._runner = web.ServerRunner(handler, handle_signals=False, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self._ticker = asyncio.ensure_future(self._tick())

    async def _shutdown(self) -> None:
        if self._ticker:
            self._ticker.cancel()
        if self._venue:
            self._venue.hub.closing.set()
            await self._venue.hub.close_all(self._venue.now_ms())
        if self._runner:
            await self._runner.cleanup()

    async def _tick(self) -> None:
        """The market clock: advance the paths (unless in step mode) and expire listenKeys."""
        v = self._venue
        assert v is not None
        interval = v.cfg.tick_interval_ms / 1000
        last = time.monotonic()
        deadline = last
        next_expiry = last + 1
        drop_every = v.cfg.drop_streams_every_s
        next_drop = last + drop_every
        while True:
            # sleep to a fixed schedule, so a busy loop still steps the market at the configured rate
            deadline = max(deadline + interval, time.monotonic() - interval)
            await asyncio.sleep(max(0.0, deadline - time.monotonic()))
            now = time.monotonic()
            try:
                if not v.cfg.step_mode:
                    v.advance(round((now - last) * 1000))
                if drop_every and now >= next_drop:
                    v.hub.drop_all()
                    next_drop = now + drop_every
                if now >= next_expiry:
                    v.hub.expire_keys(v.now_ms())
                    if v.cfg.ws_max_connection_s:
                        v.hub.cut_old(v.cfg.ws_max_connection_s)
                    next_expiry = now + 1
            except Exception:  # a bug in one tick must not stop the market
                log.exception("simulator market tick failed")
            last = now

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        v = self._venue
        assert v is not None
        route = ROUTES.get((request.method, request.path))
        if route is not None:
            return await dispatch(request, v, route)
        path = request.path
        if path.startswith("/_sim/"):
            assert self._control is not None
            return await http_control(request, self._control)
        if streams.is_ws_path(path) and request.headers.get("Upgrade", "").lower() == "websocket":
            return await streams.handle(request, v)
        if path.startswith(("/api/", "/fapi/", "/sapi/", "/dapi/")):
            return web.json_response(
                {"code": -1000, "msg": f"Unknown endpoint {request.method} {path}."}, status=404
            )
        raise web.HTTPNotFound()
