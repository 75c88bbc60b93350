"""Helpers for the simulator's integration tests (no tests here): the test account and a signed client.

Kept out of conftest.py so test modules import them by a name no other conftest can shadow.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import urlencode

import requests

SIM_KEY = "sim-test-key"
SIM_SECRET = "sim-test-secret"
SIM_BALANCES = {"USDT": "100000", "BTC": "1"}


class SignedApi:
    """Plain ``requests`` calls signed as Binance wants: HMAC-SHA256 of the exact string sent."""

    def __init__(self, base_url: str, key: str = SIM_KEY, secret: str = SIM_SECRET) -> None:
        self.base_url = base_url
        self.key = key
        self.secret = secret
        self.session = requests.Session()

    def sign(self, payload: str) -> str:
        """hex HMAC-SHA256 under this client's secret."""
        return hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()

    def call(
        self, method: str, path: str, *, timestamp: int | None = None, timeout: float = 10, **params: Any
    ) -> requests.Response:
        """A signed request with every parameter in the query string."""
        params["timestamp"] = int(time.time() * 1000) if timestamp is None else timestamp
        qs = urlencode(params)
        url = f"{self.base_url}{path}?{qs}&signature={self.sign(qs)}"
        return self.session.request(method, url, headers={"X-MBX-APIKEY": self.key}, timeout=timeout)

    def public(self, path: str, **params: Any) -> requests.Response:
        """An unsigned GET."""
        return self.session.get(self.base_url + path, params=params, timeout=10)
