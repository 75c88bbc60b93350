"""The bot's ops endpoint: the dashboard at ``/``, ``/metrics``, ``/healthz`` and ``/status`` over HTTP,
in a daemon thread; with a token also ``POST /pause`` and ``/resume``.

    server = OpsServer(metrics.render, tracker.check, build_status, token=None)
    server.start()          # returns once listening; server.port is the bound port (port 0 = any free)
    ...
    server.stop()

Loopback by default. With a token every data path demands ``Authorization: Bearer <token>`` (401
otherwise; the dashboard's own files hold no data and load without it, then ask for the token); the
token is compared in constant time and never logged. The callables run on the HTTP thread: they must be
quick and must not block on an actor without a timeout.
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
import socket
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST

from market_maker.ops.health import Health

log = logging.getLogger(__name__)

HealthFn = Callable[[], Health]
StatusFn = Callable[[], Mapping[str, Any]]
MetricsFn = Callable[[], bytes]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    ops: OpsServer


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a keep-alive client waits ~40 ms for each.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        ops = self.server.ops
        path = self.path.split("?", 1)[0]
        if path in _ASSETS:  # the dashboard's files hold no data: served without the token
            name, ctype = _ASSETS[path]
            self._send(200, _asset(name), ctype, _PAGE_HEADERS)
            return
        if not ops._authorized(self.headers.get("Authorization")):
            self._send(401, b"unauthorized\n", "text/plain; charset=utf-8", {"WWW-Authenticate": "Bearer"})
            return
        try:
            if path == "/metrics":
                self._send(200, ops._metrics(), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                health = ops._health()
                text = "ok\n" if health.ok else f"unhealthy: {health.reason}\n"
                self._send(200 if health.ok else 503, text.encode(), "text/plain; charset=utf-8")
            elif path in ("/status", "/history"):
                doc = ops._status() if path == "/status" else ops._history()
                self._send(200, json.dumps(doc, separators=(",", ":")).encode(), "application/json")
            else:
                self._send(
                    404, b"not found: try /, /metrics, /healthz or /status\n", "text/plain; charset=utf-8"
                )
        except Exception:  # a bug in a callable answers 500, it never kills the endpoint
            log.exception("ops endpoint: %s failed", path)
            self._send(500, b"internal error\n", "text/plain; charset=utf-8")

    def do_POST(self) -> None:
        """A control request (``/pause``, ``/resume``): only with the ops token; read-only without one."""
        ops = self.server.ops
        self.rfile.read(int(self.headers.get("Content-Length") or 0))  # keep the connection in step
        text = "text/plain; charset=utf-8"
        if ops._token is None:
            self._send(403, b"read-only: this endpoint takes requests only when an ops token is set\n", text)
            return
        if not ops._authorized(self.headers.get("Authorization")):
            self._send(401, b"unauthorized\n", text, {"WWW-Authenticate": "Bearer"})
            return
        action = ops._controls.get(self.path.split("?", 1)[0])
        if action is None:
            self._send(404, b"not found: try POST /pause or /resume\n", text)
            return
        try:
            self._send(200, (action() + "\n").encode(), text)
        except Exception:  # the request failed, the endpoint lives on
            log.exception("ops endpoint: %s failed", self.path)
            self._send(500, b"internal error\n", text)

    def _send(self, code: int, body: bytes, ctype: str, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # The default writes every request to stderr; requests carry no secret in the line, but keep
        # access logs out of the bot's log unless asked for.
        log.debug("ops %s - %s", self.address_string(), format % args)


# path -> (file in market_maker/ops/dashboard, content type)
_ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "/dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
    "/favicon.ico": ("favicon.svg", "image/svg+xml"),  # browsers ask for it whatever the page says
}
# The page loads nothing but its own files and talks only to this endpoint.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


@functools.cache
def _asset(name: str) -> bytes:
    return resources.files("market_maker.ops.dashboard").joinpath(name).read_bytes()


class OpsServer:
    """HTTP server for ``/metrics``, ``/healthz`` and ``/status`` on ``host:port`` in a daemon thread."""

    def __init__(
        self,
        metrics: MetricsFn,
        health: HealthFn,
        status: StatusFn,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        controls: Mapping[str, Callable[[], str]] | None = None,
        history: StatusFn | None = None,
    ) -> None:
        self._history = history or (lambda: {"pnl": []})
        self._metrics = metrics
        self._controls = dict(controls or {})  # POST path -> action returning one line; token only
        self._health = health
        self._status = status
        self.host = host
        self._port = port
        self._token = token.encode() if token else None
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        auth = "bearer" if self._token else "none"
        return f"OpsServer(host={self.host!r}, port={self.port}, auth={auth})"

    @property
    def port(self) -> int:
        """The bound port once started (the configured one before)."""
        return self._httpd.server_address[1] if self._httpd else self._port

    @property
    def url(self) -> str:
        """``http://host:port``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> OpsServer:
        """Bind and serve in a daemon thread; raises OSError (e.g. port in use) in the caller."""
        if self._httpd is not None:
            raise RuntimeError("OpsServer already started")
        cls = _Server6 if ":" in self.host else _Server
        httpd = cls((self.host, self._port), _Handler)
        httpd.ops = self
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="ops-http", daemon=True)
        self._thread.start()
        log.debug("ops endpoint listening on %s (auth %s)", self.url, "bearer" if self._token else "none")
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and join the thread."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> OpsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _authorized(self, header: str | None) -> bool:
        if self._token is None:
            return True
        if not header or not header.startswith("Bearer "):
            return False
        return hmac.compare_digest(header[len("Bearer ") :].strip().encode(), self._token)
