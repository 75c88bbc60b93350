"""HMAC-SHA256 request signing (reference §A.2).

REST: the signature covers the exact urlencoded string that is sent, so :func:`encode_params` builds
that string once and the caller sends it verbatim (never through an HTTP library's ``params=``, which
would re-encode it). The WebSocket API signs its params sorted by name (reference §A.6).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from decimal import Decimal
from urllib.parse import quote

ParamValue = str | int | Decimal | bool

# RFC 3986 unreserved characters: exactly what ``quote`` leaves alone, so such text is its own encoding
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


def wire_value(value: ParamValue) -> str:
    """One parameter as Binance wants it: booleans lower-case, Decimals in plain notation."""
    if type(value) is str:  # the common case first: symbols, sides, client ids
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def percent_encode(text: str) -> str:
    """``text`` percent-encoded outside the unreserved set (unchanged, without a copy, when it is all
    unreserved: nearly every Binance parameter)."""
    return text if _UNRESERVED(text) else quote(text, safe="-_.~")


def encode_params(params: Mapping[str, ParamValue]) -> str:
    """``k=v&...`` in the given order, percent-encoding anything outside the unreserved set."""
    return "&".join([f"{percent_encode(k)}={percent_encode(wire_value(v))}" for k, v in params.items()])


def sign(secret: str, payload: str) -> str:
    """Hex HMAC-SHA256 of ``payload`` under ``secret``."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def ws_api_payload(params: Mapping[str, ParamValue]) -> str:
    """What a WebSocket API request signs: params (apiKey included) but ``signature``, sorted by name,
    ``k=v&...``, not percent-encoded (the UTF-8 bytes are signed)."""
    return "&".join(f"{k}={wire_value(params[k])}" for k in sorted(params) if k != "signature")


def ws_api_signature(secret: str, params: Mapping[str, ParamValue]) -> str:
    """HMAC signature for a WebSocket API request (see :func:`ws_api_payload`)."""
    return sign(secret, ws_api_payload(params))
