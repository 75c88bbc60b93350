"""The REST transport against a raw loopback server: the send hook fires at the socket write, proxies."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from market_maker.exchange import errors as e
from market_maker.exchange.transport import Transport

ANSWER = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"answer": 1}'


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.setblocking(False)  # the test accepts only when the client must already be connected
    yield srv
    srv.close()


def serve(conn: socket.socket, heads: list[bytes]) -> None:
    """Answer every request head on ``conn`` (keep-alive), recording each head."""
    conn.setblocking(True)
    buf = b""
    with conn:
        while data := conn.recv(65536):
            buf += data
            while b"\r\n\r\n" in buf:
                head, buf = buf.split(b"\r\n\r\n", 1)
                heads.append(head)
                conn.sendall(ANSWER)


def test_the_send_hook_fires_once_per_request_after_connecting_and_before_the_write(
    listener: socket.socket,
) -> None:
    transport = Transport(f"http://127.0.0.1:{listener.getsockname()[1]}", "k", (2.0, 2.0))
    heads: list[bytes] = []
    fired: list[tuple[str, str, int, int]] = []  # method, path, heads the server had, thread
    first: dict[str, bool] = {}

    def hook(method: str, path: str) -> None:
        if not fired:  # the first request: its connection was opened by this very call
            try:
                conn, _ = listener.accept()  # fails unless the client is connected already
            except BlockingIOError:
                first["connected"] = False
                return
            first["connected"] = True
            try:
                conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
                first["unwritten"] = False  # bytes were there: the hook came after the write
            except BlockingIOError:
                first["unwritten"] = True
            threading.Thread(target=serve, args=(conn, heads), daemon=True).start()
        fired.append((method, path, len(heads), threading.get_ident()))

    transport.hook.fn = hook
    calls = [("POST", "/api/v3/order?symbol=X&signature=ab"), ("GET", "/api/v3/time"), ("DELETE", "/x?y=1")]
    for method, target in calls:
        status, _, body = transport.send(method, target, True, f"{method} {target}")
        assert (status, body) == (200, {"answer": 1})
    assert first == {"connected": True, "unwritten": True}
    paths = [("POST", "/api/v3/order"), ("GET", "/api/v3/time"), ("DELETE", "/x")]
    assert [(m, p) for m, p, _, _ in fired] == paths
    assert [had for _, _, had, _ in fired] == [0, 1, 2]  # each before the server read its request
    assert {thread for *_, thread in fired} == {threading.get_ident()}  # on the writing thread
    assert [h.split(b"\r\n", 1)[0] for h in heads] == [f"{m} {t} HTTP/1.1".encode() for m, t in calls]
    assert all(b"X-MBX-APIKEY: k" in h and b"User-Agent: market-maker/" in h for h in heads)


def test_no_hook_and_a_connect_failure_when_nothing_listens() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    transport = Transport(f"http://127.0.0.1:{port}", "k", (2.0, 2.0))
    fired: list[str] = []
    transport.hook.fn = lambda method, path: fired.append(path)
    with pytest.raises(e.ConnectFailedError):
        transport.send("POST", "/api/v3/order", True, "POST /api/v3/order")
    assert fired == []  # nothing was written, so nothing was timed
