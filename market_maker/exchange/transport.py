"""The REST client's HTTP transport: one urllib3 connection pool to the REST host, and the send hook.

The client talks to urllib3 (requests' own transport) directly: requests' per-call work (session and
environment merging, adapters, hooks, cookies: ~200-300 us before the first byte is written) alone
exceeded the tick-to-order budget. What requests did for us is kept: keep-alive connections, verified
TLS (urllib3's default context: the system's trust store, ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``), and
the environment's ``HTTP(S)_PROXY`` / ``NO_PROXY``, resolved once when the transport is made.

The pool's connections call :attr:`SendHook.fn` with ``(method, path)`` once per request, on the
writing thread, right before the request's first bytes go to the socket (after connecting, the TLS
handshake or a proxy tunnel), so a latency probe ends where the request really leaves.
"""

from __future__ import annotations

import errno
import json
from collections.abc import Callable, Mapping
from http.client import HTTPException
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies, proxy_bypass

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.response import BaseHTTPResponse
from urllib3.util import Retry, make_headers, parse_url
from urllib3.util.proxy import connection_requires_http_tunnel

from market_maker.exchange.errors import ConnectFailedError, UnknownOutcomeError

USER_AGENT = "market-maker/0.1"
POOL_SIZE = 10  # connections kept per client (order lanes and queries share one client)
_NO_RETRY = Retry(total=False, redirect=False)  # every retry decision is the REST client's
_MAX_LINES = 32  # header lines a connection remembers (ours are about six)


class SendHook:
    """Where a pool's connections report each request's first write; ``fn`` may be set at any time."""

    __slots__ = ("fn",)

    def __init__(self) -> None:
        self.fn: Callable[[str, str], None] | None = None


class _Probed:
    """Mixin for urllib3's connections: calls the send hook before a request's first socket write."""

    sock: Any
    _buffer: list[bytes]  # http.client's lines of the request head being built

    def __init__(self, *args: Any, send_hook: SendHook, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._send_hook = send_hook
        self._pending: tuple[str, str] | None = None
        self._lines: dict[tuple[str, tuple[str, ...]], bytes] = {}

    def putheader(self, header: str, *values: str) -> None:
        # http.client checks and encodes every header line of every request (~8 us a request); ours
        # are the same few lines each time, so each is built once per connection and then reused
        key = (header, values)
        line = self._lines.get(key)
        if line is not None:
            self._buffer.append(line)
            return
        size = len(self._buffer)
        super().putheader(header, *values)  # type: ignore[misc]
        if len(self._buffer) == size + 1 and len(self._lines) < _MAX_LINES:
            self._lines[key] = self._buffer[-1]

    def request(self, method: str, url: str, *args: Any, **kw: Any) -> None:
        self._pending = (method, url)
        try:
            super().request(method, url, *args, **kw)  # type: ignore[misc]
        finally:
            self._pending = None

    def send(self, data: Any) -> None:
        pending = self._pending
        if pending is not None:  # the request's first write (the head); later ones are its body
            self._pending = None
            if self.sock is None:
                self.connect()  # type: ignore[attr-defined]  # as http.client would, but before the hook
            fn = self._send_hook.fn
            if fn is not None:
                fn(pending[0], _path(pending[1]))
        super().send(data)  # type: ignore[misc]


# (mypy: urllib3 narrows http.client's putheader signature, so any override disagrees with one of them)
class ProbedHTTPConnection(_Probed, HTTPConnection):  # type: ignore[misc]
    """urllib3's HTTP connection with the send hook."""


class ProbedHTTPSConnection(_Probed, HTTPSConnection):  # type: ignore[misc]
    """urllib3's HTTPS connection with the send hook."""


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = ProbedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = ProbedHTTPSConnection


_POOLS: dict[str, type[HTTPConnectionPool]] = {"http": _HTTPPool, "https": _HTTPSPool}


def _path(target: str) -> str:
    path = target.partition("?")[0]
    return path if path.startswith("/") else urlsplit(path).path  # absolute form through a proxy


def environment_proxy(base_url: str) -> str | None:
    """The proxy the environment names for ``base_url`` (None: direct), as requests chose it."""
    parts = urlsplit(base_url)
    if proxy_bypass(parts.netloc):
        return None
    proxies = getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy:
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


class Transport:
    """Keep-alive connections to one REST host; :meth:`send` writes one request and reads its answer."""

    def __init__(self, base_url: str, api_key: str, timeout_s: tuple[float, float]) -> None:
        self.base_url = base_url.rstrip("/")
        self.hook = SendHook()
        self._timeout_s = timeout_s
        self._timeout = urllib3.Timeout(connect=timeout_s[0], read=timeout_s[1])
        self._api_key = api_key
        common = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate", "Accept": "*/*"}
        self._headers = (common, {**common, "X-MBX-APIKEY": api_key})  # [keyed]: built once
        self._proxy: urllib3.ProxyManager | None = None
        self._tunnel = False  # through a proxy with CONNECT (https)
        self.pool, self._prefix = self._open(environment_proxy(self.base_url))

    def __repr__(self) -> str:  # never the key, nor a proxy's credentials
        return f"Transport({self.base_url!r})"

    def _open(self, proxy: str | None) -> tuple[HTTPConnectionPool, str]:
        """The pool and the prefix of every request target (the base URL's path, or the whole base
        URL when a forwarding proxy needs the absolute form)."""
        url = parse_url(self.base_url)
        if not url.host:
            raise ValueError(f"REST base URL without a host: {self.base_url!r}")
        if proxy is None:
            pool = _POOLS[url.scheme or "http"](
                url.host, url.port, timeout=self._timeout, maxsize=POOL_SIZE, retries=_NO_RETRY,
                send_hook=self.hook,
            )  # fmt: skip
            return pool, (url.path or "").rstrip("/")
        purl = parse_url(proxy)
        auth = make_headers(proxy_basic_auth=unquote(purl.auth)) if purl.auth else None
        self._proxy = urllib3.ProxyManager(
            proxy,
            num_pools=1,
            proxy_headers=auth,
            timeout=self._timeout,
            maxsize=POOL_SIZE,
            retries=_NO_RETRY,
        )
        self._proxy.pool_classes_by_scheme = _POOLS
        pool = self._proxy.connection_from_url(self.base_url)
        pool.conn_kw["send_hook"] = self.hook  # connections are made lazily: every one gets it
        self._tunnel = connection_requires_http_tunnel(
            self._proxy.proxy, self._proxy.proxy_config, url.scheme
        )
        if self._tunnel:
            return pool, (url.path or "").rstrip("/")
        # forwarding: the absolute URL, and the proxy's own headers (credentials) on every request
        plain, keyed = self._headers
        self._headers = ({**plain, **pool.proxy_headers}, {**keyed, **pool.proxy_headers})
        return pool, self.base_url

    def fork(self) -> Transport:
        """A transport with its own connections to the same host (for another thread)."""
        return Transport(self.base_url, self._api_key, self._timeout_s)

    def close(self) -> None:
        """Close every connection; a later request opens a new one (as a requests session did)."""
        old, proxy = self.pool, self._proxy
        self.pool, self._prefix = self._open(environment_proxy(self.base_url))
        old.close()
        if proxy is not None:
            proxy.clear()

    def send(
        self, method: str, target: str, keyed: bool, endpoint: str
    ) -> tuple[int, Mapping[str, str], Any]:
        """Send ``method target`` (path and query, already percent-encoded) and read the whole answer.

        Returns the status, the headers (case-insensitive) and the parsed JSON body (its text, or
        None, when it is not JSON). Raises :class:`ConnectFailedError` when nothing was sent and
        :class:`UnknownOutcomeError` when the request may have reached the exchange.
        """
        try:
            resp = self._exchange(method, self._prefix + target, self._headers[keyed])
        except NewConnectionError:
            raise ConnectFailedError(
                "connection refused: the request was not sent", endpoint=endpoint
            ) from None
        except ConnectTimeoutError:
            raise ConnectFailedError(
                "could not connect: the request was not sent", endpoint=endpoint
            ) from None
        except (ReadTimeoutError, TimeoutError):
            raise UnknownOutcomeError("no answer in time: outcome unknown", endpoint=endpoint) from None
        except (ProtocolError, ConnectionError, HTTPException):
            raise UnknownOutcomeError(
                "connection broke after the request was sent: outcome unknown", endpoint=endpoint
            ) from None
        except (HTTPError, OSError) as exc:
            raise UnknownOutcomeError(
                f"transport error ({type(exc).__name__}): outcome unknown", endpoint=endpoint
            ) from None
        return resp.status, resp.headers, _json(resp.data)

    def _exchange(self, method: str, target: str, headers: Mapping[str, str]) -> BaseHTTPResponse:
        """One request and its whole answer on a pooled connection: urllib3's ``urlopen`` without what
        this client never uses (re-encoding a target built encoded, ~27 us for a signed order, retries,
        redirects, per-call header and timeout copies); the connection is dropped on any failure."""
        pool = self.pool
        conn = pool._get_conn()  # a kept-alive one (checked not dropped) or a new, unconnected one
        try:
            conn.timeout = self._timeout_s[0]
            if self._tunnel and conn.is_closed:
                pool._prepare_proxy(conn)  # CONNECT through the proxy
            pool._validate_conn(conn)  # HTTPS: connect and verify the certificate now
            try:
                conn.request(method, target, headers=headers)
            except OSError as exc:  # the server may have answered and closed early: read that answer
                if exc.errno not in (errno.EPIPE, errno.ECONNRESET, errno.EPROTOTYPE):
                    raise
            conn.timeout = self._timeout_s[1]
            resp = conn.getresponse()  # reads the whole body
        except BaseException:
            conn.close()
            pool._put_conn(None)  # keeps the pool's slot count
            raise
        pool._put_conn(conn)
        return resp


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:  # not JSON (or not UTF-8): the text, as the exchange's message
        return data.decode("utf-8", "replace") or None
