"""Ed25519 and RSA API keys beside HMAC: the bot's signers and the simulator's check agree with Binance."""

from __future__ import annotations

import base64
from urllib.parse import unquote

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from market_maker.exchange.keys import ED25519, HMAC, RSA, HmacSigner, as_signer, signer_from_pem
from market_maker.sim.auth import check_signature, is_ed25519, verify
from market_maker.sim.engine import BinanceError

# Binance's published Ed25519 example key and the signature it gives (spot FIX API docs, Logon <A>)
DOC_KEY = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n"
    "-----END PRIVATE KEY-----\n"
)
DOC_PAYLOAD = "\x01".join(["A", "EXAMPLE", "SPOT", "1", "20240627-11:17:25.223"])
DOC_SIGNATURE = "4MHXelVVcpkdwuLbl6n73HQUXUf1dse2PCgT1DYqW9w8AVZ1RACFGM+5UdlGPrQHrgtS3CvsRURC1oj73j8gCA=="
# the REST HMAC example (reference §A.2)
HMAC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
HMAC_PAYLOAD = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
    "&recvWindow=5000&timestamp=1499827319559"
)
ORDER = "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=1&price=0.2&timestamp=1668481559918"


def test_ed25519_signs_binances_example_to_its_published_signature() -> None:
    signer = signer_from_pem(DOC_KEY)
    assert signer.kind == ED25519
    assert signer.sign(DOC_PAYLOAD) == DOC_SIGNATURE


def test_hmac_signs_binances_example_to_its_published_signature() -> None:
    signer = as_signer(HMAC_SECRET)
    assert isinstance(signer, HmacSigner) and signer.kind == HMAC
    assert signer.sign(HMAC_PAYLOAD) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    assert signer.url_signature(HMAC_PAYLOAD) == signer.sign(HMAC_PAYLOAD)


def test_a_rest_signature_is_percent_encoded_base64_that_the_simulator_accepts() -> None:
    signer = signer_from_pem(DOC_KEY)
    sent = signer.url_signature(ORDER)
    assert not set("+/=") & set(sent)  # base64's own characters are encoded in a URL
    assert unquote(sent) == signer.sign(ORDER)
    check_signature(signer.public_pem(), f"{ORDER}&signature={sent}", "")  # raises when refused
    with pytest.raises(BinanceError) as refused:
        check_signature(signer.public_pem(), ORDER.replace("SELL", "BUY") + f"&signature={sent}", "")
    assert refused.value.code == -1022


def test_the_signature_is_case_sensitive_for_key_pairs_and_not_for_hmac() -> None:
    pair = signer_from_pem(DOC_KEY)
    sig = pair.sign(ORDER)
    assert verify(pair.public_pem(), ORDER, sig)
    assert not verify(pair.public_pem(), ORDER, sig.swapcase())
    hmac_sig = as_signer(HMAC_SECRET).sign(ORDER)
    assert verify(HMAC_SECRET, ORDER, hmac_sig.upper())


def test_rsa_keys_sign_pkcs1_sha256_in_base64() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    signer = as_signer(pem)
    assert signer.kind == RSA
    sig = signer.sign(ORDER)
    assert len(base64.b64decode(sig)) == 256
    public = signer_from_pem(pem).public_pem()
    assert verify(public, ORDER, sig) and not is_ed25519(public)


def test_a_signer_never_shows_its_key() -> None:
    for signer in (signer_from_pem(DOC_KEY), as_signer(HMAC_SECRET)):
        assert "MC4CAQ" not in repr(signer) and HMAC_SECRET not in repr(signer)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n", "not a PEM private key"),
        (
            Ed25519PrivateKey.generate()
            .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"pw"))
            .decode(),
            "encrypted",
        ),
    ],
)
def test_an_unusable_private_key_is_refused_without_quoting_it(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as refused:
        signer_from_pem(text)
    message = str(refused.value)
    assert "\n" not in message and text.splitlines()[1] not in message
