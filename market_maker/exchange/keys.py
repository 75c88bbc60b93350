"""API key types Binance accepts: HMAC-SHA256 secrets, and Ed25519 or RSA private keys (reference §A.2).

A signer turns a signature payload (REST: the query string as sent; WebSocket API: the params sorted by
name) into the ``signature`` parameter. HMAC gives lower-case hex; Ed25519 and RSA (PKCS#1 v1.5 over
SHA-256) give base64, which is case-sensitive and must be percent-encoded in a URL (``+``, ``/``, ``=``).
Ed25519 is the kind Binance recommends, and the only one ``session.logon`` on the WebSocket API accepts.
No signer ever shows its key in ``repr`` or an error message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Protocol
from urllib.parse import quote

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

HMAC, ED25519, RSA = "hmac", "ed25519", "rsa"


class Signer(Protocol):
    """Signs Binance signature payloads with one API key's secret or private key."""

    kind: str  # HMAC, ED25519 or RSA

    def sign(self, payload: str) -> str:
        """The signature of ``payload`` (UTF-8) as Binance wants it in JSON: hex or base64."""
        ...

    def url_signature(self, payload: str) -> str:
        """The same signature ready for a query string (base64 percent-encoded)."""
        ...


class HmacSigner:
    """HMAC-SHA256 with a secret key: hex, which needs no URL encoding."""

    kind = HMAC
    __slots__ = ("_secret",)

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("the API secret is empty")
        self._secret = secret.encode()

    def __repr__(self) -> str:
        return "HmacSigner(<secret>)"

    def sign(self, payload: str) -> str:
        """Hex HMAC-SHA256 of ``payload``."""
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()

    url_signature = sign  # hex is all unreserved characters


class KeyPairSigner:
    """An Ed25519 or RSA private key: base64 signatures."""

    __slots__ = ("_key", "kind")

    def __init__(self, key: Ed25519PrivateKey | RSAPrivateKey) -> None:
        self._key = key
        self.kind = ED25519 if isinstance(key, Ed25519PrivateKey) else RSA

    def __repr__(self) -> str:
        return f"KeyPairSigner({self.kind}, <private key>)"

    def sign(self, payload: str) -> str:
        """Base64 of the Ed25519 signature (RSA: PKCS#1 v1.5 with SHA-256) of ``payload``'s UTF-8."""
        data = payload.encode()
        key = self._key
        if isinstance(key, Ed25519PrivateKey):
            raw = key.sign(data)
        else:
            raw = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(raw).decode("ascii")

    def url_signature(self, payload: str) -> str:
        """The base64 signature percent-encoded, as Binance's REST examples send it."""
        return quote(self.sign(payload), safe="")

    def public_pem(self) -> str:
        """The public half in PEM (SubjectPublicKeyInfo): what is registered with the exchange."""
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return self._key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def signer_from_pem(pem: str | bytes) -> KeyPairSigner:
    """A signer for an unencrypted PEM private key; ValueError (naming no key material) when the text
    is not an Ed25519 or RSA private key."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = load_pem_private_key(data, password=None)
    except TypeError:
        raise ValueError(
            "the private key is encrypted; give it unencrypted (protect the file with mode 0600)"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise ValueError("not a PEM private key (expected -----BEGIN PRIVATE KEY-----)") from None
    if not isinstance(key, Ed25519PrivateKey | RSAPrivateKey):
        raise ValueError(
            f"a {type(key).__name__.removesuffix('PrivateKey')} key; Binance takes Ed25519 or RSA"
        )
    return KeyPairSigner(key)


class NoSigner:
    """The signer of a client made without a secret (public endpoints only: klines, exchangeInfo);
    a signed request through it is a caller's bug and says so."""

    kind = "none"
    __slots__ = ()

    def sign(self, payload: str) -> str:
        """Refuse: there is no key to sign with."""
        raise ValueError("the API secret is empty: this client calls public endpoints only")

    url_signature = sign


def as_signer(secret: str | Signer) -> Signer:
    """``secret`` as a signer: an HMAC secret string, a PEM private key string, or a signer already;
    an empty string gives a client that signs nothing (:class:`NoSigner`)."""
    if not isinstance(secret, str):
        return secret
    if not secret:
        return NoSigner()
    if secret.lstrip().startswith("-----BEGIN"):
        return signer_from_pem(secret)
    return HmacSigner(secret)
