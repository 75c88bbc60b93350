"""The order socket's own frame writing (exchange/ws.py ``text_frame``, order_socket.py ``request_text``):
byte for byte what websocket-client and ``json.dumps`` give for the same frame and request."""

from __future__ import annotations

import json

import pytest
import websocket

from market_maker.exchange import ws
from market_maker.exchange.order_socket import request_text


@pytest.mark.parametrize("n", [0, 1, 3, 4, 125, 126, 127, 1000, 65535, 65536, 70001])
def test_a_text_frame_is_websocket_clients_frame_with_the_same_mask_key(
    n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = bytes([0x9C, 0x01, 0xFE, 0x37])
    monkeypatch.setattr(ws.os, "urandom", lambda size: key[:size])
    payload = bytes((i * 31 + 7) % 256 for i in range(n))
    theirs = websocket.ABNF.create_frame(payload, websocket.ABNF.OPCODE_TEXT)
    theirs.get_mask_key = lambda size: key[:size]
    assert ws.text_frame(payload) == theirs.format()


def test_a_frame_is_masked_with_a_fresh_key_each_time() -> None:
    a, b = ws.text_frame(b'{"id":"o1"}'), ws.text_frame(b'{"id":"o1"}')
    assert a[:2] == b[:2] == bytes([0x81, 0x80 | 11])
    assert a[2:6] != b[2:6] or a[6:] != b[6:]  # equal only if os.urandom repeated 32 bits


def test_request_text_is_the_json_of_the_request() -> None:
    params = {"symbol": "BTCUSDT", "origClientOrderId": 'x-"q"\\\n\u00e9\u2603', "recvWindow": "5000"}
    text = request_text("o7", "order.cancel", params)
    assert text == json.dumps({"id": "o7", "method": "order.cancel", "params": params}, separators=(",", ":"))
    assert json.loads(text)["params"] == params
