"""HMAC-SHA256 request signing (reference §A.2).

REST: the signature covers the exact urlencoded string that is sent, so :func:`encode_params` builds
that string once and the caller sends it verbatim (never through an HTTP library's ``params=``, which
would re-encode it). The WebSocket API signs its params sorted by name (reference §A.6).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from decimal import Decimal
from urllib.parse import quote

ParamValue = str | int | Decimal | bool


def wire_value(value: ParamValue) -> str:
    """One parameter as Binance wants it: booleans lower-case, Decimals in plain notation."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def encode_params(params: Mapping[str, ParamValue]) -> str:
    """``k=v&...`` in the given order, percent-encoding anything outside the unreserved set."""
    return "&".join(f"{quote(k, safe='')}={quote(wire_value(v), safe='-_.~')}" for k, v in params.items())


def sign(secret: str, payload: str) -> str:
    """Hex HMAC-SHA256 of ``payload`` under ``secret``."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def ws_api_signature(secret: str, params: Mapping[str, ParamValue]) -> str:
    """Signature for a WebSocket API request: params (apiKey included) sorted by name, ``k=v&...``."""
    payload = "&".join(f"{k}={wire_value(params[k])}" for k in sorted(params) if k != "signature")
    return sign(secret, payload)
