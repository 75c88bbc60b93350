"""Market prices read from their text straight into ticks agree with the checked Decimal path."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market_maker.core.rules import SymbolRules
from market_maker.exchange.errors import ExchangeError
from market_maker.exchange.events import MarketParser, book_ticker_texts
from market_maker.exchange.parse import lattice_digits, to_ticks, units_below, units_from_text
from market_maker.exchange.streams import MarketStream
from market_maker.exchange.types import MarketDataDropped, Quote
from market_maker.exchange.ws import StreamSettings

RULES = SymbolRules(
    "BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), max_price=Decimal("1000000")
)
HALF = SymbolRules("XUSDT", "X", "USDT", Decimal("0.5"), Decimal("1"), max_price=Decimal("1000"))


def test_lattice_digits_of_powers_of_ten_only() -> None:
    units = ("0.01", "0.010", "1", "1.00", "0.00000001")
    assert [lattice_digits(Decimal(u)) for u in units] == [2, 2, 0, 0, 8]
    assert [lattice_digits(Decimal(u)) for u in ("0.5", "10", "0.25", "100")] == [None] * 4


def test_units_from_text_reads_on_lattice_strings_and_leaves_the_rest() -> None:
    assert units_from_text("100000.01000000", 2) == 10000001
    assert units_from_text("100000", 2) == 10000000
    assert units_from_text("100000.", 2) == 10000000
    assert units_from_text("0.1", 2) == 10
    assert units_from_text("7", 0) == 7
    odd_texts = ("100000.015", "-1.00", "+1.00", ".5", "1e5", "1_000", " 1", "1.0x", "١٢", "NaN", "")
    for odd in (*odd_texts, "1" * 19):
        assert units_from_text(odd, 2) is None, odd
    for not_text in (1, 1.5, None, True, b"1.00"):
        assert units_from_text(not_text, 2) is None


@given(st.integers(0, 10**12), st.integers(0, 8), st.integers(0, 6))
def test_units_from_text_equals_the_decimal_path(ticks: int, extra_zeros: int, digits: int) -> None:
    unit = Decimal(1).scaleb(-digits)
    rules = SymbolRules("S", "B", "Q", unit, Decimal(1))
    text = f"{(unit * ticks):f}"
    if extra_zeros:
        text += ("" if "." in text else ".") + "0" * extra_zeros
    assert units_from_text(text, digits) == to_ticks(rules, text) == ticks


@given(st.decimals(min_value=Decimal("0.01"), max_value=10**6, places=4, allow_nan=False))
def test_a_parsed_price_is_the_same_on_the_fast_and_the_slow_path(price: Decimal) -> None:
    text = f"{price:f}"
    parser = MarketParser(RULES)
    if price % RULES.tick_size:  # off the tick: no market shows it, whichever path reads it
        with pytest.raises(ExchangeError, match="off the tick"):
            parser.price(text, "bid")
    else:
        assert parser.price(text, "bid") == parser.price(f"{price:e}", "bid") == to_ticks(RULES, text)


def test_units_below_is_exact() -> None:
    assert units_below(Decimal("1000000"), Decimal("0.01")) == 100_000_000
    assert units_below(Decimal("1000.005"), Decimal("0.01")) == 100_000
    assert units_below(Decimal("1000"), Decimal("0.5")) == 2000


def test_max_price_bound_on_both_paths() -> None:
    parser = MarketParser(RULES)
    assert parser.price("1000000.00", "bid") == 100_000_000  # at maxPrice: allowed
    with pytest.raises(ExchangeError, match="impossible bid"):
        parser.price("1000000.01", "bid")
    with pytest.raises(ExchangeError, match="impossible ask"):
        parser.price("1000001.00e0", "ask")  # the Decimal path, same bound
    half = MarketParser(HALF)  # a tick that is not a power of ten: always the Decimal path
    assert half.price("999.5", "bid") == 1999
    with pytest.raises(ExchangeError, match="impossible"):
        half.price("1000.5", "bid")
    with pytest.raises(ExchangeError, match="impossible"):
        parser.price("-1.00", "bid")


def test_a_quote_carries_its_arrival_but_compares_on_market_data_only() -> None:
    q = MarketParser(RULES).parse({"u": 1, "s": "BTCUSDT", "b": "1.00", "B": "1", "a": "1.01", "A": "1"}, 123)
    assert isinstance(q, Quote) and q.received_ns == 123
    assert q == Quote("BTCUSDT", 100, 101, 0)


BOOK = {"u": 1, "s": "BTCUSDT", "B": "1", "A": "1"}
MIN = SymbolRules("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), min_price=Decimal("0.10"))


@pytest.mark.parametrize(
    ("bid", "ask", "words"),
    [
        ("200000.00", "1.00", "crossed bookTicker"),  # the frame an outside harness got the bot to trade on
        ("100.00", "100.00", "crossed bookTicker"),  # a locked book would have traded too
        ("100.005", "100.01", "off the tick"),
        ("0", "100.01", "outside its price filter"),  # Binance's empty side: no mid to trade around
        ("0.09", "100.01", "outside its price filter"),  # below minPrice
    ],
)
def test_a_book_no_market_could_show_is_refused_naming_why(bid: str, ask: str, words: str) -> None:
    with pytest.raises(ExchangeError, match=words):
        MarketParser(MIN).parse({**BOOK, "b": bid, "a": ask})


def test_a_candle_whose_high_is_below_its_body_is_refused() -> None:
    k = {
        "t": 0,
        "T": 59999,
        "i": "1m",
        "o": "10.00",
        "h": "9.00",
        "l": "8.00",
        "c": "8.50",
        "v": "1",
        "x": True,
    }
    with pytest.raises(ExchangeError, match="inconsistent kline"):
        MarketParser(MIN).parse({"e": "kline", "s": "BTCUSDT", "k": k})
    assert MarketParser(MIN).parse({"e": "kline", "s": "BTCUSDT", "k": {**k, "h": "10.00"}}) is not None


def _frame(symbol: str, bid: str, ask: str, u: str = "400900217") -> bytes:
    return (
        f'{{"stream":"btcusdt@bookTicker","data":{{"u":{u},"s":"{symbol}","b":"{bid}","B":"31.21",'
        f'"a":"{ask}","A":"40.66"}}}}'
    ).encode()


def _both_paths(raw: bytes) -> tuple[list[object], list[object]]:
    """The events the text path and the JSON path give for one frame ("declined": the text path left it)."""
    by_text: list[object] = []
    by_json: list[object] = []
    text = MarketStream(["ws://unused"], RULES, by_text.append, settings=StreamSettings())
    decoded = MarketStream(["ws://unused"], RULES, by_json.append, settings=StreamSettings())
    text.connections[0].received_ns = decoded.connections[0].received_ns = 7
    if text._raw(text.connections[0], raw) is None:
        by_text.append("declined")
    assert decoded._message(decoded.connections[0], json.loads(raw)) is True
    return by_text, by_json


_PRICE_TEXT = st.one_of(
    st.decimals(min_value=Decimal("0.01"), max_value=2 * 10**6, places=3, allow_nan=False).map(
        lambda d: f"{d:f}"
    ),
    st.text(alphabet="0123456789.", min_size=1, max_size=12),
    # Binance's own shape, 8 decimals, on and off the tick, up to past maxPrice and past 18 whole digits
    st.decimals(min_value=0, max_value=10**20, places=8, allow_nan=False).map(lambda d: f"{d:.8f}"),
    st.integers(min_value=0, max_value=10**8).map(lambda n: f"{n // 100}.{n % 100:02d}000000"),
)


@given(_PRICE_TEXT, _PRICE_TEXT, st.sampled_from(["BTCUSDT", "ETHUSDT"]))
def test_a_book_ticker_read_from_its_text_is_the_one_read_from_its_json(
    bid: str, ask: str, symbol: str
) -> None:
    by_text, by_json = _both_paths(_frame(symbol, bid, ask))
    assert by_text == by_json  # the same quote, the same drop (and reason), or nothing for another symbol


def test_the_text_path_reads_the_shape_binance_sends_and_leaves_anything_else_to_json() -> None:
    by_text, by_json = _both_paths(_frame("BTCUSDT", "100000.00", "100000.01"))
    assert by_text == by_json == [Quote("BTCUSDT", 10000000, 10000001, 0, 7)]
    crossed, _ = _both_paths(_frame("BTCUSDT", "100000.02", "100000.01"))
    assert isinstance(crossed[0], MarketDataDropped) and "crossed" in crossed[0].reason
    assert book_ticker_texts(_frame("BTCUSDT", "1.00", "1.01", u="0123")) is None  # not JSON: a leading zero
    assert book_ticker_texts(_frame("BTCUSDT", "1.00", "1.01").decode()) is None  # text frames come as bytes
    for other in (
        _frame("BTCUSDT", "100000.00", "100000.0\\u0031"),  # an escape
        _frame("BTCUSDT", "100000.00", "100000.01").replace(b",", b", "),  # spacing
        b'{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1.00","B":"1",'
        b'"a":"1.01","A":"1","T":1,"E":2}}',  # USD-M's shape
    ):
        by_text, by_json = _both_paths(other)
        assert by_text == ["declined"] and len(by_json) == 1, other


def test_binance_everyday_frame_is_read_by_one_match_and_any_other_left_to_the_checked_path() -> None:
    parser = MarketParser(RULES)
    assert parser.quick_quote(_frame("BTCUSDT", "100000.01000000", "100000.02000000"), 7) == Quote(
        "BTCUSDT", 10000001, 10000002, 0, 7
    )
    assert parser.quick_quote(_frame("BTCUSDT", "0100000.01", "100000.020"), 7) == Quote(
        "BTCUSDT", 10000001, 10000002, 0, 7
    )
    for bid, ask, symbol in (
        ("100000.01000000", "100000.02000000", "ETHUSDT"),  # another symbol
        ("100000.01500000", "100000.02000000", "BTCUSDT"),  # off the tick
        ("100000.1", "100000.20", "BTCUSDT"),  # fewer decimals than the tick has
        ("100000", "100001", "BTCUSDT"),  # no decimals
        ("100000.02", "100000.02", "BTCUSDT"),  # locked
        ("0.00", "100000.02", "BTCUSDT"),  # an empty side
        ("100000.00", "1000000.01", "BTCUSDT"),  # above maxPrice
        ("1" * 19 + ".00", "1" * 19 + ".01", "BTCUSDT"),  # too long to read digit by digit
    ):
        assert parser.quick_quote(_frame(symbol, bid, ask), 7) is None, (bid, ask, symbol)
    assert parser.quick_quote(_frame("BTCUSDT", "1.00", "1.01").decode(), 7) is None  # frames come as bytes
    assert MarketParser(HALF).quick_quote(_frame("XUSDT", "1.00", "1.50"), 7) is None  # not a power of ten
