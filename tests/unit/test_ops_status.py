"""The /status document: built from the bot's state, valid against docs/status.schema.json, shown as a box."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path

import jsonschema
from hypothesis import given
from hypothesis import strategies as st

from market_maker.core.actions import Place
from market_maker.core.model import Side
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook, ack, submit
from market_maker.ops.status_doc import LadderRow, StatusInput, ladder_from_book, slot_counts, status_document
from market_maker.ops.status_view import render_status

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "status.schema.json").read_text())
BTC = SymbolRules("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), min_notional=Decimal("5"))


def validate(doc: dict[str, object]) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)


def book_with_orders() -> SlotBook:
    book = SlotBook("paper1")
    for level in (9_999_000, 9_998_000, 9_997_000):  # buys at 99990, 99980, 99970
        book, cid = submit(book, Place(level, Side.BUY, level, 100))
        book = ack(book, cid)
    return book


def sample() -> StatusInput:
    book = book_with_orders()
    placed = {s.client_id: 1_000 for s in book}
    return StatusInput(
        bot_id="paper1",
        symbol="BTCUSDT",
        market="spot",
        venue="sim",
        time_ms=61_000,
        price=Decimal("99995.5"),
        center=Decimal("100000"),
        interval=Decimal("10"),
        slots=slot_counts(book),
        ladder=ladder_from_book(book, BTC, 9_999_550, placed_at_ms=placed, now_ms=61_000),
        position=Decimal("0.002"),
        realized_pnl=Decimal("1.25"),
        unrealized_pnl=Decimal("-0.5"),
        fees=Decimal("0.2"),
        risk_triggered=True,
        risk_reasons=("atr spike 3.2x",),
        stream_staleness_s={"market": 0.2, "user": None},
        rate_limit_used=1200,
        rate_limit_limit=6000,
    )


def test_document_is_valid_and_exact() -> None:
    doc = status_document(sample())
    validate(doc)
    assert doc["slots"] == {"FREE": 0, "PENDING": 0, "LOCKED": 3, "FILLED": 0}
    assert doc["pnl"]["net"] == "0.55"  # 1.25 - 0.5 - 0.2, exact
    assert doc["market"]["atr"] is None  # unknown stays null, never a fake 0
    assert [r["price"] for r in doc["ladder"]] == ["99990.00", "99980.00", "99970.00"]
    assert doc["ladder"][0]["age_s"] == 60.0
    assert doc["rate_limit"]["headroom"] == 0.8
    assert json.loads(json.dumps(doc)) == doc


def test_an_order_sent_after_the_clock_reading_is_age_zero_and_the_document_stays_valid() -> None:
    book = book_with_orders()
    placed = {s.client_id: 61_007 for s in book}  # sent 7 ms after the status's clock reading
    ladder = ladder_from_book(book, BTC, 9_999_550, placed_at_ms=placed, now_ms=61_000)
    doc = status_document(dataclasses.replace(sample(), ladder=ladder))
    validate(doc)
    assert [r["age_s"] for r in doc["ladder"]] == [0.0, 0.0, 0.0]


def test_ladder_keeps_the_levels_nearest_the_price() -> None:
    book = SlotBook("b1")
    for i in range(20):
        level = 9_990_000 - i * 1000
        book, _ = submit(book, Place(level, Side.BUY, level, 100))
    rows = ladder_from_book(book, BTC, 10_000_000, depth=4)
    assert [r.price for r in rows] == [Decimal("99900.00") - 10 * i for i in range(4)]


def test_box_shows_levels_ladder_position_pnl_risk() -> None:
    text = render_status(status_document(sample()), now_ms=61_000)
    lines = text.splitlines()
    assert len({len(line) for line in lines}) == 1  # a closed box: every line the same width
    assert "paper1 | BTCUSDT spot | sim" in lines[0]
    assert "LOCKED 3" in text and "FREE 0" in text
    assert "Position 0.002" in text
    assert "fees 0.2" in text and "net 0.55" in text
    assert "Risk TRIGGERED (atr spike 3.2x)" in text and "Breaker ok" in text
    price_line = next(i for i, line in enumerate(lines) if ">>> price 99995.5" in line)
    first_order = next(i for i, line in enumerate(lines) if "99990.00" in line and "LOCKED" in line)
    assert price_line < first_order  # the price marker sits above the buys below it


decimals = st.decimals(min_value=-(10**9), max_value=10**9, places=8, allow_nan=False, allow_infinity=False)


@given(
    price=st.none() | decimals.map(abs),
    realized=decimals,
    unrealized=decimals,
    fees=decimals.map(abs),
    drawdown=st.none() | st.decimals(min_value=0, max_value=100, places=4),
    reasons=st.lists(st.text(max_size=30), max_size=3),
    staleness=st.dictionaries(st.sampled_from(["market", "user"]), st.none() | st.floats(0, 1e6)),
)
def test_any_state_gives_a_valid_document_and_a_box(
    price: Decimal | None,
    realized: Decimal,
    unrealized: Decimal,
    fees: Decimal,
    drawdown: Decimal | None,
    reasons: list[str],
    staleness: dict[str, float | None],
) -> None:
    s = StatusInput(
        bot_id="b1",
        symbol="ETHUSDT",
        market="usdm",
        venue="binance",
        time_ms=10**12,
        price=price,
        realized_pnl=realized,
        unrealized_pnl=unrealized,
        fees=fees,
        drawdown_pct=drawdown,
        risk_reasons=tuple(reasons),
        stream_staleness_s=staleness,
        ladder=[LadderRow(Decimal("1.5"), "FILLED", None, None, Decimal("0.1"), Decimal(0))],
    )
    doc = status_document(s)
    validate(doc)
    assert Decimal(doc["pnl"]["net"]) == realized + unrealized - fees
    box = render_status(doc, now_ms=10**12)
    assert "Position" in box
    assert all(len(line) <= 100 for line in box.splitlines()), box  # fits a 100-column terminal


def test_a_busy_unhealthy_bot_still_fits_100_columns_with_every_age_shown() -> None:
    s = dataclasses.replace(
        sample(),
        bot_id="longbotname1",
        realized_pnl=Decimal("-123456.12345678"),
        unrealized_pnl=Decimal("98765.87654321"),
        fees=Decimal("4321.00012345"),
        orders_placed=123456,
        orders_cancelled=120000,
        fills=99999,
        healthy=False,
        health_reason="market stream stale: no message for 31.2s (limit 30s); last reconcile failed: "
        "HTTP 503 from https://api.binance.com/api/v3/openOrders after 3 tries",
    )
    lines = render_status(status_document(s), now_ms=61_000).splitlines()
    assert max(len(line) for line in lines) <= 100
    assert len({len(line) for line in lines}) == 1  # a closed box: every border in the same column
    assert any("after 3 tries" in line for line in lines)  # wrapped, not cut
    ladder = [line for line in lines if "LOCKED  BUY" in line]  # sent 60 s before the document
    assert len(ladder) == 3 and all(line.rstrip(" |").endswith(" 1m") for line in ladder), ladder


def test_cancel_only_says_no_new_orders_and_counts_expiries() -> None:
    doc = status_document(
        dataclasses.replace(
            sample(), symbol_status="CANCEL_ONLY", orders_expired=2, order_transport="websocket"
        )
    )
    validate(doc)
    assert doc["orders"]["symbol_status"] == "CANCEL_ONLY" and doc["orders"]["placing"] is False
    assert doc["orders"]["expired"] == 2 and doc["orders"]["transport"] == "websocket"
    assert "| CANCEL_ONLY: cancels only" in render_status(doc, now_ms=61_000).splitlines()[0]
    words = " ".join(render_status(doc, now_ms=61_000).replace("|", " ").split())  # lines wrap at 100
    assert "expired 2" in words and "via websocket" in words
    trading = status_document(dataclasses.replace(sample(), symbol_status="TRADING"))
    assert trading["orders"]["placing"] is True
    assert "cancels only" not in render_status(trading, now_ms=61_000)
