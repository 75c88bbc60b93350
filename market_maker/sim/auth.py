"""Request authentication as Binance does it: the signature over query string then body, timestamps.

An account's ``api_secret`` is either an HMAC secret or, for an Ed25519 or RSA API key, the key's PEM
public key (``-----BEGIN PUBLIC KEY-----``), as Binance registers it. HMAC signatures are hex and
case-insensitive; Ed25519 and RSA signatures are base64, case-sensitive, percent-encoded in a URL.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from market_maker.sim.engine import BinanceError

MAX_RECV_WINDOW = 60_000


def strip_signature(raw: str) -> tuple[str, str | None]:
    """``raw`` (a urlencoded string) without its ``signature=`` parameter, and that signature."""
    if "signature=" not in raw:
        return raw, None
    kept, sig = [], None
    for part in raw.split("&"):
        if part.startswith("signature="):
            sig = part[10:]
        else:
            kept.append(part)
    return "&".join(kept), sig


def sign(secret: str, payload: str) -> str:
    """hex HMAC-SHA256 of ``payload`` under ``secret``."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def is_public_key(secret: str) -> bool:
    """True when an account's credential is a registered public key (Ed25519 or RSA), not an HMAC secret."""
    return secret.startswith("-----BEGIN PUBLIC KEY-----")


@functools.lru_cache(maxsize=256)
def _public_key(pem: str) -> Any:
    key = load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey | RSAPublicKey):
        raise ValueError("only Ed25519 and RSA public keys are accepted")
    return key


def check_public_key(pem: str) -> None:
    """Raise ValueError unless ``pem`` is an Ed25519 or RSA public key in PEM form."""
    _public_key(pem)


def is_ed25519(secret: str) -> bool:
    """True when the account's credential is an Ed25519 public key (session.logon takes only these)."""
    return is_public_key(secret) and isinstance(_public_key(secret), Ed25519PublicKey)


def verify(secret: str, payload: str, signature: str) -> bool:
    """True when ``signature`` (as sent, URL-decoded) signs ``payload`` under the account's credential."""
    if not is_public_key(secret):
        return hmac.compare_digest(sign(secret, payload), signature.lower())
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    key = _public_key(secret)
    try:
        if isinstance(key, Ed25519PublicKey):
            key.verify(raw, payload.encode())
        else:
            key.verify(raw, payload.encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def check_signature(secret: str, query: str, body: str) -> None:
    """Raise -1022 unless the signature (in the query or the body) signs query + body without it."""
    q, sig_q = strip_signature(query)
    b, sig_b = strip_signature(body)
    sig = sig_q or sig_b
    if not sig:
        raise BinanceError(
            -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
        )
    if not verify(secret, q + b, unquote(sig) if "%" in sig else sig):
        raise BinanceError(-1022, "Signature for this request is not valid.")


def check_timestamp(params: dict[str, str], server_ms: int) -> None:
    """Binance's rule: ``timestamp < server + 1000`` and ``server - timestamp <= recvWindow`` (-1021)."""
    ts_raw = params.get("timestamp")
    if not ts_raw:
        raise BinanceError(
            -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
        )
    try:
        ts = int(ts_raw)
        window = float(params.get("recvWindow", "5000"))
    except ValueError:
        raise BinanceError(
            -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
        ) from None
    if ts > 10**14:  # microseconds
        ts //= 1000
    if not 0 < window <= MAX_RECV_WINDOW:
        raise BinanceError(-1131, "recvWindow must be less than 60000")
    if ts >= server_ms + 1000:
        raise BinanceError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
    if server_ms - ts > window:
        raise BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")


def ws_api_payload(params: Mapping[str, object]) -> str:
    """The WebSocket API signs every param but ``signature``, sorted by name, as ``k=v&...``."""
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")
