"""Signing against Binance's documented test vector (reference §A.2)."""

from decimal import Decimal
from urllib.parse import parse_qsl, quote

from hypothesis import given
from hypothesis import strategies as st

from market_maker.exchange.signing import ParamValue, encode_params, sign, wire_value, ws_api_signature

SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
PAYLOAD = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
    "&recvWindow=5000&timestamp=1499827319559"
)
EXPECTED = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_signature_matches_the_documented_vector() -> None:
    assert sign(SECRET, PAYLOAD) == EXPECTED


def test_encoded_params_are_the_exact_string_that_is_signed() -> None:
    params: dict[str, ParamValue] = {
        "symbol": "LTCBTC",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": Decimal("1"),
        "price": Decimal("0.1"),
        "recvWindow": 5000,
        "timestamp": 1499827319559,
    }
    qs = encode_params(params)
    assert qs == PAYLOAD
    assert sign(SECRET, qs) == EXPECTED


def test_decimals_are_never_sent_in_exponent_notation_and_booleans_are_lowercase() -> None:
    qs = encode_params({"quantity": Decimal("1E-5"), "reduceOnly": True})
    assert qs == "quantity=0.00001&reduceOnly=true"


def test_non_ascii_values_are_percent_encoded_before_signing() -> None:
    assert encode_params({"newClientOrderId": "a b/é"}) == "newClientOrderId=a%20b%2F%C3%A9"


@given(st.text())
def test_percent_encoding_is_what_quote_gives_whatever_the_text(text: str) -> None:
    # the unreserved fast path must never change a byte of what is signed
    assert encode_params({text: text}) == f"{quote(text, safe='')}={quote(text, safe='-_.~')}"


def test_ws_api_signature_sorts_params_and_leaves_out_the_signature() -> None:
    params: dict[str, ParamValue] = {"timestamp": 1499827319559, "apiKey": "k", "signature": "ignored"}
    assert ws_api_signature(SECRET, params) == sign(SECRET, "apiKey=k&timestamp=1499827319559")


@given(
    st.dictionaries(
        st.text(
            alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=12
        ),
        st.one_of(st.text(max_size=20), st.integers(), st.decimals(allow_nan=False, allow_infinity=False)),
        max_size=6,
    )
)
def test_the_server_reads_back_exactly_the_params_that_were_signed(
    params: dict[str, str | int | Decimal],
) -> None:
    qs = encode_params(params)
    assert qs.isascii() and " " not in qs
    assert dict(parse_qsl(qs, keep_blank_values=True)) == {k: wire_value(v) for k, v in params.items()}
