"""Fault injection and read-only views, from Python (``sim.control``) or over HTTP (``/_sim/<op>``).

Every operation runs on the server's event-loop thread, so it sees and changes the venue atomically
with respect to requests and the market clock.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from market_maker.sim.symbol_status import STATUSES, TRADING
from market_maker.sim.venue import Venue

T = TypeVar("T")


class Control:
    """Faults and views of a running simulator."""

    def __init__(self, venue: Venue, loop: asyncio.AbstractEventLoop, loop_thread: threading.Thread) -> None:
        self._v = venue
        self._loop = loop
        self._thread = loop_thread
        self._unstall: asyncio.TimerHandle | None = None

    def _run(self, fn: Callable[[], T]) -> T:
        if threading.current_thread() is self._thread:
            return fn()

        async def call() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout=30)

    # --- streams -----------------------------------------------------------------------------------

    def drop_streams(self) -> int:
        """Cut every WebSocket connection abruptly (no close frame); returns how many."""
        return self._run(self._v.hub.drop_all)

    def stall_streams(self, seconds: float = 0.0) -> None:
        """Stop sending on every stream, keeping the sockets open, for ``seconds`` (<= 0: until
        :meth:`resume_streams`). Messages produced meanwhile are lost, as in a real stall."""

        def go() -> None:
            self._v.hub.stalled = True
            if self._unstall:
                self._unstall.cancel()
            self._unstall = self._loop.call_later(seconds, self._resume) if seconds > 0 else None

        self._run(go)

    def _resume(self) -> None:
        self._v.hub.stalled = False
        self._unstall = None

    def resume_streams(self) -> None:
        """End a stall."""
        self._run(self._resume)

    def expire_listen_keys(self) -> int:
        """Expire every futures listenKey now (``listenKeyExpired`` then close); returns how many."""
        return self._run(lambda: self._v.hub.expire_keys(self._v.now_ms(), every=True))

    # --- REST faults -------------------------------------------------------------------------------

    def set_latency(self, ms: float) -> None:
        """Delay every REST answer by ``ms``."""
        self._run(lambda: setattr(self._v.faults, "latency_ms", float(ms)))

    def fail_next(self, n: int, status: int = 503) -> None:
        """Answer the next ``n`` REST requests with HTTP ``status`` without executing them."""

        def go() -> None:
            self._v.faults.fail_next = int(n)
            self._v.faults.fail_status = int(status)

        self._run(go)

    def timeout_after_accept_next(self, n: int, hold_seconds: float | None = None) -> None:
        """Accept the next ``n`` orders but hold the answer (``hold_seconds``, default from config),
        then answer -1007: the client times out not knowing the order exists."""

        def go() -> None:
            self._v.faults.timeout_next = int(n)
            if hold_seconds is not None:
                self._v.faults.timeout_hold_s = float(hold_seconds)

        self._run(go)

    def set_symbol_status(self, symbol: str, status: str) -> None:
        """The symbol's exchangeInfo status: TRADING, or CANCEL_ONLY / BREAK / HALT / ... where new orders
        are refused (-2010 "Market is closed.") and cancels still work."""
        if status not in STATUSES:
            raise ValueError(f"symbol status must be one of {', '.join(STATUSES)}, got {status!r}")

        def go() -> None:
            v = self._v
            if status == TRADING:
                v.symbol_status.pop(symbol, None)
            else:
                v.symbol_status[symbol] = status
            v.spot_info = v.futures_info = ""  # the cached exchangeInfo bodies are built again

        self._run(go)

    def reject_next_orders(self, n: int) -> None:
        """Reject the next ``n`` new orders with -2010."""
        self._run(lambda: setattr(self._v.faults, "reject_next", int(n)))

    def force_partial_fills(self, on: bool) -> None:
        """While on, every resting order's first fill takes only half of it."""
        self._run(lambda: setattr(self._v.engine, "force_partial", bool(on)))

    def skew_clock(self, ms: int) -> None:
        """Shift the server's clock by ``ms`` (affects serverTime and the recvWindow check)."""
        self._run(lambda: setattr(self._v.faults, "skew_ms", int(ms)))

    def ban(self, seconds: float) -> None:
        """Ban every client IP for ``seconds`` (418 with Retry-After); 0 lifts it."""

        def go() -> None:
            until = time.time() + float(seconds) if seconds > 0 else 0.0
            self._v.spot_limiter.global_ban_until = until
            self._v.futures_limiter.global_ban_until = until

        self._run(go)

    def weights(self) -> dict[str, Any]:
        """Weight used, limits and bans per venue and IP."""
        return self._run(self._v.weights)

    def reset_limits(self) -> None:
        """Forget every weight count and ban."""

        def go() -> None:
            self._v.spot_limiter.reset()
            self._v.futures_limiter.reset()

        self._run(go)

    # --- market ------------------------------------------------------------------------------------

    def set_price(self, symbol: str, price: str, volume: str | None = None) -> None:
        """The market trades at ``price`` now: fills every resting order it goes through, or only up to
        ``volume`` (base asset) traded there when given."""
        self._run(lambda: self._v.set_price(symbol, str(price), None if volume is None else str(volume)))

    def step(self, n: int = 1) -> None:
        """Advance every price path by ``n`` points (the way to move the market in step mode)."""
        self._run(lambda: self._v.step(int(n)))

    def hold_user_events(self, on: bool) -> int:
        """While on, fills caused by market prints are matched but their user-stream events wait;
        off pushes the held events in order and returns how many prints' events were released. Lets a
        client see the price of a print before its fills, deterministically."""
        return self._run(lambda: self._v.hold_user_events(bool(on)))

    def price(self, symbol: str) -> str:
        """The last traded price of ``symbol``."""
        return self._run(lambda: str(self._v.rules[symbol].ticks_to_price(self._v.engine.last[symbol])))

    # --- views -------------------------------------------------------------------------------------

    def open_orders(self, api_key: str, symbol: str | None = None) -> list[dict[str, Any]]:
        """Open orders of an account on spot and futures (``market`` says which)."""
        return self._run(lambda: self._v.view("open_orders", api_key, symbol))

    def balances(self, api_key: str) -> dict[str, Any]:
        """Spot free/locked, futures wallet and positions, as decimal strings."""
        return self._run(lambda: self._v.view("balances", api_key))

    def trades(self, api_key: str, symbol: str | None = None) -> list[dict[str, Any]]:
        """The account's trade log (spot and futures)."""
        return self._run(lambda: self._v.view("trades", api_key, symbol))


_OPS = {
    "drop_streams",
    "stall_streams",
    "resume_streams",
    "expire_listen_keys",
    "set_latency",
    "fail_next",
    "timeout_after_accept_next",
    "reject_next_orders",
    "force_partial_fills",
    "skew_clock",
    "ban",
    "weights",
    "reset_limits",
    "set_price",
    "step",
    "hold_user_events",
    "price",
    "open_orders",
    "balances",
    "trades",
}


async def http_control(request: web.BaseRequest, control: Control) -> web.Response:
    """``/_sim/<op>``: arguments as JSON body (POST) or query parameters (GET); JSON answer."""
    op = request.path[len("/_sim/") :]
    if op not in _OPS:
        return web.json_response({"error": f"unknown control operation {op!r}"}, status=404)
    try:
        kwargs: dict[str, Any] = {
            k: {"true": True, "false": False}.get(x.lower(), x) for k, x in request.query.items()
        }
        if request.can_read_body:
            body = await request.text()
            if body:
                data = json.loads(body)
                if not isinstance(data, dict):
                    raise ValueError("the body must be a JSON object of arguments")
                kwargs.update(data)
        result = getattr(control, op)(**kwargs)
    except (TypeError, ValueError, KeyError) as exc:
        return web.json_response({"error": f"{op}: {exc}"}, status=400)
    return web.json_response({"result": result})
