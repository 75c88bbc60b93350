"""The REST transport against a raw loopback server: the send hook fires at the socket write, proxies."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


@pytest.fixture
def server(listener: socket.socket) -> Iterator[tuple[int, list[bytes]]]:
    """A keep-alive server answering every request; yields its port and the request heads it read."""
    heads: list[bytes] = []
    listener.setblocking(True)

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:  # closed at the end of the test
                return
            threading.Thread(target=serve, args=(conn, heads), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1], heads


def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def test_the_environments_proxy_gets_the_absolute_url_and_its_credentials(
    server: tuple[int, list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, heads = server
    no_proxy_env(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", f"http://user:p%40ss@127.0.0.1:{port}")
    transport = Transport("http://exchange.example:9000", "k", (2.0, 2.0))
    fired: list[str] = []
    transport.hook.fn = lambda method, path: fired.append(path)
    assert transport.send("GET", "/api/v3/time?a=1", False, "GET /api/v3/time")[0] == 200
    assert heads[0].startswith(b"GET http://exchange.example:9000/api/v3/time?a=1 HTTP/1.1\r\n")
    lines = heads[0].split(b"\r\n")
    assert b"proxy-authorization: Basic dXNlcjpwQHNz" in [line.lower()[:21] + line[21:] for line in lines]
    assert fired == ["/api/v3/time"]
    assert "p%40ss" not in repr(transport) and "p@ss" not in repr(transport)


def test_no_proxy_sends_directly(server: tuple[int, list[bytes]], monkeypatch: pytest.MonkeyPatch) -> None:
    port, heads = server
    no_proxy_env(monkeypatch)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # a proxy that is not there: using it would fail
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    transport = Transport(f"http://127.0.0.1:{port}", "k", (2.0, 2.0))
    assert transport.send("GET", "/api/v3/time", False, "GET /api/v3/time")[0] == 200
    assert heads[0].startswith(b"GET /api/v3/time HTTP/1.1\r\n")


def test_a_closed_transport_opens_new_connections(server: tuple[int, list[bytes]]) -> None:
    port, heads = server
    transport = Transport(f"http://127.0.0.1:{port}", "k", (2.0, 2.0))
    transport.send("GET", "/a", False, "GET /a")
    transport.close()
    assert transport.send("GET", "/b", False, "GET /b")[0] == 200
    assert len(heads) == 2


def test_a_connection_closed_after_the_request_is_an_unknown_outcome(listener: socket.socket) -> None:
    listener.setblocking(True)

    def read_then_close() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)  # the request arrived; no answer

    threading.Thread(target=read_then_close, daemon=True).start()
    transport = Transport(f"http://127.0.0.1:{listener.getsockname()[1]}", "k", (2.0, 2.0))
    with pytest.raises(e.UnknownOutcomeError, match="connection broke"):
        transport.send("POST", "/api/v3/order", True, "POST /api/v3/order")


def test_a_kept_alive_connection_the_server_closed_is_replaced(listener: socket.socket) -> None:
    listener.setblocking(True)
    heads: list[bytes] = []

    def answer_once_per_connection() -> None:
        for _ in range(2):
            conn, _ = listener.accept()
            with conn:
                heads.append(conn.recv(65536))
                conn.sendall(ANSWER)  # keep-alive answer, then the server closes the connection anyway

    threading.Thread(target=answer_once_per_connection, daemon=True).start()
    transport = Transport(f"http://127.0.0.1:{listener.getsockname()[1]}", "k", (2.0, 2.0))
    assert transport.send("GET", "/a", False, "GET /a")[0] == 200
    deadline = time.monotonic() + 2
    while len(heads) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # the server's close has reached the client
    assert transport.send("GET", "/b", False, "GET /b")[0] == 200
    assert len(heads) == 2


def test_reused_header_lines_give_the_same_bytes_as_fresh_ones(server: tuple[int, list[bytes]]) -> None:
    port, heads = server
    kept = Transport(f"http://127.0.0.1:{port}", "k", (2.0, 2.0))
    for _ in range(3):  # the second and third heads reuse the lines the first one built
        kept.send("POST", "/api/v3/order?a=1", True, "POST /api/v3/order")
    Transport(f"http://127.0.0.1:{port}", "k", (2.0, 2.0)).send("POST", "/api/v3/order?a=1", True, "")
    kept.send("GET", "/api/v3/time", False, "GET /api/v3/time")  # unkeyed: no key line
    assert heads[0] == heads[1] == heads[2] == heads[3]
    assert b"\r\nX-MBX-APIKEY: k" in heads[0] and b"Content-Length: 0" in heads[0]
    assert b"X-MBX-APIKEY" not in heads[4] and b"Content-Length" not in heads[4]


def _tls_files(tmp: Path) -> tuple[Path, Path, Path]:
    """A test CA and a certificate for 127.0.0.1 signed by it: (ca.pem, cert.pem, key.pem)."""
    crypto = pytest.importorskip("cryptography")
    del crypto
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def cert(
        subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name | None, signer: Any, ca: bool
    ) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer or name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
            builder = builder.add_extension(san, critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = cert("test CA", ca_key, None, ca_key, True)
    leaf = cert("127.0.0.1", leaf_key, ca.subject, ca_key, False)
    paths = tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


@pytest.fixture
def tls_server(tmp_path: Path, listener: socket.socket) -> Iterator[tuple[int, Path, list[bytes]]]:
    """A keep-alive HTTPS server on loopback; yields its port, the CA that signed it, the heads it read."""
    ca, cert, key = _tls_files(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener.setblocking(True)
    heads: list[bytes] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
                tls = context.wrap_socket(conn, server_side=True)
            except OSError:  # closed at the end, or a client that refused our certificate
                if listener.fileno() < 0:
                    return
                continue
            threading.Thread(target=serve, args=(tls, heads), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1], ca, heads


def test_https_is_verified_with_the_default_trust_store_and_timed_at_the_tls_write(
    tls_server: tuple[int, Path, list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, ca, heads = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the default trust store, pointed at the test CA
    transport = Transport(f"https://127.0.0.1:{port}", "k", (2.0, 2.0))
    fired: list[tuple[str, int]] = []
    transport.hook.fn = lambda method, path: fired.append((path, len(heads)))
    assert transport.send("POST", "/api/v3/order?a=1", True, "POST /api/v3/order")[0] == 200
    assert fired == [("/api/v3/order", 0)] and heads[0].startswith(b"POST /api/v3/order?a=1 HTTP/1.1")


def test_an_untrusted_https_certificate_sends_nothing(
    tls_server: tuple[int, Path, list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, _, heads = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent")  # trusts nothing: the server's certificate fails
    transport = Transport(f"https://127.0.0.1:{port}", "k", (2.0, 2.0))
    fired: list[str] = []
    transport.hook.fn = lambda method, path: fired.append(path)
    with pytest.raises(e.UnknownOutcomeError, match="SSL"):  # classified as before: not "never sent"
        transport.send("POST", "/api/v3/order", True, "POST /api/v3/order")
    assert fired == [] and heads == []  # the hook comes after the handshake: nothing was timed or sent
