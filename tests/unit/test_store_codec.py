"""The slot document's text: slot_to_json fills a template made once (it is on the order path); its text
must be exactly what json.dumps makes of the document (sorted keys, no spaces), and read back the slot."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from market_maker.core.model import Side, SlotState
from market_maker.core.slots import Slot
from market_maker.store.codec import slot_from_json, slot_to_json

ints = st.integers(0, 10**12)
decimals = st.builds(
    lambda d, s, neg: Decimal(d).scaleb(-s) * (-1 if neg else 1), ints, st.integers(0, 30), st.booleans()
)
slots = st.builds(
    Slot,
    level=ints,
    state=st.sampled_from(list(SlotState)),
    side=st.sampled_from([None, Side.BUY, Side.SELL]),
    order_price=ints,
    order_qty=ints,
    order_filled=ints,
    client_id=st.text(max_size=30),
    generation=ints,
    trip_gen=ints,
    unknown=st.booleans(),
    cancel_requested=st.booleans(),
    bought=ints,
    sold=ints,
    held=ints,
    lots=st.lists(st.tuples(ints, ints), max_size=4).map(tuple),
    base_fee=decimals,
    base_fee_quote=decimals,
    dust=decimals,
    proceeds=decimals,
    sold_cost=decimals,
    fees=decimals,
    tp_price=ints,
    rejects=ints,
    backoff_until_ms=ints,
    cancel_fails=ints,
    cancel_retry_ms=ints,
    trade_ids=st.frozensets(ints, max_size=5),
)


def _reference(slot: Slot) -> str:
    """The document as json.dumps writes it (the format stored documents have)."""
    doc: dict[str, Any] = {}
    for name, v in zip(Slot._fields, slot, strict=True):
        if isinstance(v, Decimal):
            v = str(v)
        elif isinstance(v, SlotState | Side):
            v = v.value
        elif name == "lots":
            v = [[q, p] for q, p in v]
        elif name == "trade_ids":
            v = sorted(v)
        doc[name] = v
    return json.dumps(doc, separators=(",", ":"), sort_keys=True)


@settings(max_examples=500, deadline=None)
@given(slots)
def test_the_text_is_json_dumps_text_and_reads_back(slot: Slot) -> None:
    text = slot_to_json(slot)
    assert text == _reference(slot)
    back = slot_from_json(text, "test")
    assert back == slot
    assert [str(x) for x in back if isinstance(x, Decimal)] == [
        str(x) for x in slot if isinstance(x, Decimal)
    ]
