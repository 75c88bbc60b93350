"""Client order ids: deterministic, decodable, within Binance's limits."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from market_maker.core.ids import MAX_LEN, decode, encode, is_own
from market_maker.core.model import Side

BOTS = st.from_regex(r"[A-Za-z0-9]{1,12}", fullmatch=True)


@settings(max_examples=500)
@given(BOTS, st.integers(0, 10**15), st.sampled_from(list(Side)), st.integers(0, 36**6 - 1))
def test_round_trip(bot: str, level: int, side: Side, gen: int) -> None:
    cid = encode(bot, level, side, gen)
    assert len(cid) <= MAX_LEN
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,36}", cid)
    parts = decode(cid, bot)
    assert parts is not None
    assert (parts.bot_id, parts.level, parts.side, parts.generation) == (bot, level, side, gen)
    assert parts.encode() == cid


def test_same_inputs_same_id() -> None:
    assert encode("mm1", 10023000, Side.BUY, 0) == encode("mm1", 10023000, Side.BUY, 0)
    assert encode("mm1", 10023000, Side.BUY, 0) != encode("mm1", 10023000, Side.BUY, 1)


def test_foreign_ids_are_not_ours() -> None:
    assert decode("web_123456") is None
    assert decode("6gCrw2kRUAF9CvJDGP16IP") is None
    assert not is_own(encode("mm2", 5, Side.SELL, 1), "mm1")
    assert is_own(encode("mm1", 5, Side.SELL, 1), "mm1")
