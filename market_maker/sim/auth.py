"""Request authentication as Binance does it: HMAC-SHA256 over query string then body, timestamps."""

from __future__ import annotations

import hashlib
import hmac

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


def check_signature(secret: str, query: str, body: str) -> None:
    """Raise -1022 unless the signature (in the query or the body) signs query + body without it."""
    q, sig_q = strip_signature(query)
    b, sig_b = strip_signature(body)
    sig = sig_q or sig_b
    if not sig:
        raise BinanceError(
            -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
        )
    if not hmac.compare_digest(sign(secret, q + b), sig.lower()):
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


def ws_api_payload(params: dict[str, object]) -> str:
    """The WebSocket API signs every param but ``signature``, sorted by name, as ``k=v&...``."""
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")
