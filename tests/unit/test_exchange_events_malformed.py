"""Unreadable user-data events: one line naming the field and the event, dropped, and a resync asked for.

Before, a wrong type in an executionReport (``"T": "soon"``, ``"l": "NaN"``, ``"B": "not a list"``)
escaped as ValueError/TypeError with a full traceback in the log, and the event was simply lost until
the next periodic reconcile.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_exchange_parse import SPOT, execution_report

from market_maker.exchange.errors import MalformedEventError
from market_maker.exchange.events import parse_market_event, parse_user_event
from market_maker.exchange.streams import _Resync, _user_events
from market_maker.exchange.types import OrderUpdate, StreamStatus

TRADE = {"x": "TRADE", "X": "PARTIALLY_FILLED", "l": "0.00040", "z": "0.00040", "L": "100000.00", "t": 77}


@pytest.mark.parametrize(
    ("over", "names"),
    [
        ({"T": "soon"}, "'T'"),
        ({"i": "x"}, "'i'"),
        ({"i": None}, "'i'"),
        ({"l": "NaN"}, "NaN"),
        ({"L": "-inf"}, "-inf"),
        ({"z": "1e400000"}, "out of range"),
        ({"l": "-0.001"}, "'l'"),
        ({"t": -1}, "trade id"),
        ({"E": [1]}, "'E'"),
        ({"S": ["BUY"]}, "side"),
    ],
)
def test_a_bad_field_of_a_trade_is_one_line_naming_the_field_the_event_and_the_order(
    over: dict[str, Any], names: str
) -> None:
    with pytest.raises(MalformedEventError) as info:
        parse_user_event(execution_report(**{**TRADE, **over}), SPOT)
    text = str(info.value)
    assert names in text and "executionReport" in text and "mm1_B255t_3" in text and "\n" not in text
    assert info.value.kind == "executionReport" and info.value.client_id == "mm1_B255t_3"


@pytest.mark.parametrize(
    "payload",
    [
        {"e": "outboundAccountPosition", "B": "not a list"},
        {"e": "outboundAccountPosition", "B": [{"f": "1"}]},
        {"e": "ACCOUNT_UPDATE", "a": []},
        {"e": "ACCOUNT_UPDATE", "a": {"B": [{"a": "USDT", "wb": "NaN"}]}},
        {"e": "ORDER_TRADE_UPDATE", "o": "x"},
        {"e": "executionReport", "s": "BTCUSDT"},
    ],
)
def test_other_unreadable_events_are_malformed_errors_too(payload: dict[str, Any]) -> None:
    with pytest.raises(MalformedEventError, match=str(payload["e"])):
        parse_user_event(payload, SPOT)


HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["NaN", "-inf", "1e400", "-1", "0", "1e-30", "soon", "BUY", "TRADE", "FILLED"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(execution_report())), HOSTILE, min_size=1, max_size=5))
def test_any_hostile_field_values_parse_or_raise_one_malformed_error(over: dict[str, Any]) -> None:
    payload = execution_report(**{**TRADE, **over})
    try:
        events = parse_user_event(payload, SPOT)
    except MalformedEventError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 400
        return
    for u in events:  # what parses is a usable event: no negative amounts, a trade has a quantity
        assert isinstance(u, OrderUpdate)
        assert min(u.order.price, u.order.orig_qty, u.order.executed_qty) >= 0
        if u.fill is not None:
            assert u.fill.qty > 0 and u.fill.price >= 0 and u.fill.trade_id >= 0


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["e", "s", "b", "a", "u", "p", "k", "E", "T"]), HOSTILE, max_size=6))
def test_hostile_market_frames_parse_or_raise_an_exchange_error(payload: dict[str, Any]) -> None:
    from market_maker.exchange.errors import ExchangeError

    for kind in ("bookTicker", "trade", "kline", None):
        frame = {**payload, "e": kind} if kind else payload
        try:
            parse_market_event(frame, SPOT)
        except ExchangeError as exc:
            assert "\n" not in str(exc)


def test_a_dropped_event_is_one_warning_line_and_asks_for_a_resync(caplog: pytest.LogCaptureFixture) -> None:
    got: list[StreamStatus] = []
    resync = _Resync("user", got.append, every_s=60)
    with caplog.at_level(logging.WARNING, logger="market_maker.exchange.streams"):
        assert _user_events("user", execution_report(**{**TRADE, "T": "soon"}), SPOT, resync) == []
    [rec] = caplog.records
    assert rec.exc_info is None and "event dropped, reconciling from REST" in rec.getMessage()
    assert "'T'" in rec.getMessage() and "mm1_B255t_3" in rec.getMessage()
    assert len(got) == 1 and got[0].resync and got[0].connected and not got[0].reconnect
    resync.stop()


def test_a_burst_of_bad_events_asks_for_one_resync_now_and_one_after_the_quiet_time() -> None:
    got: list[StreamStatus] = []
    second = threading.Event()

    def on_status(s: StreamStatus) -> None:
        got.append(s)
        if len(got) == 2:
            second.set()

    resync = _Resync("user", on_status, every_s=0.2)
    for _ in range(50):
        resync.request("bad")
    assert len(got) == 1  # the first at once; the other 49 share one trailing request
    assert second.wait(30), "the trailing resync never came"
    assert len(got) == 2 and got[1].reason == "49 unreadable event(s) dropped"
    resync.stop()
