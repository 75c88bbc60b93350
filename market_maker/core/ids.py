"""Deterministic, decodable client order ids.

Layout: ``<bot>_<S><level>_<gen>`` where ``bot`` is the bot id (1-12 of ``[A-Za-z0-9]``), ``S`` is
``B`` or ``S`` (side), ``level`` is the slot's level in ticks and ``gen`` the slot's generation counter,
both in base 36. Example: ``mm1_B255t_3``. Always within Binance's 36 characters of
``[A-Za-z0-9_-]``, so reconciliation can rebuild which slot an order belongs to from the exchange alone.
An id without our ``<bot>_`` prefix is *foreign*: counted, never touched.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from market_maker.core.model import Side
from market_maker.core.values import Value

MAX_LEN: Final = 36
_BOT_RE: Final = re.compile(r"^[A-Za-z0-9]{1,12}$")
_ID_RE: Final = re.compile(r"^([A-Za-z0-9]{1,12})_([BS])([0-9a-z]{1,13})_([0-9a-z]{1,6})$")
_DIGITS: Final = "0123456789abcdefghijklmnopqrstuvwxyz"
_BUY: Final = Side.BUY  # a constant: the compiled build reads ``Side.BUY`` through the enum's class


class ClientIdError(ValueError):
    """An id cannot be built from these parts."""


class ClientId(Value):
    """The decoded parts of one of our client order ids."""

    __slots__ = ("bot_id", "generation", "level", "side")
    FIELDS = ("bot_id", "level", "side", "generation")

    def __init__(
        self,
        bot_id: str,
        level: int,  # ticks
        side: Side,
        generation: int,
    ) -> None:
        self.bot_id: Final = bot_id
        self.level: Final = level
        self.side: Final = side
        self.generation: Final = generation

    def _key(self) -> tuple[object, ...]:
        return (self.bot_id, self.level, self.side, self.generation)

    def encode(self) -> str:
        """The wire form."""
        return encode(self.bot_id, self.level, self.side, self.generation)


def _b36(n: int) -> str:
    if n < 0:
        raise ClientIdError(f"negative value {n} in a client id")
    # ``//`` and ``%`` rather than divmod(): on ints the compiled build does them natively
    out = _DIGITS[n % 36]
    n //= 36
    while n:
        out = _DIGITS[n % 36] + out
        n //= 36
    return out


@lru_cache(maxsize=64)  # pure; every new SlotBook checks its bot id (a backtest makes ~30 000 books/s)
def valid_bot_id(bot_id: str) -> bool:
    """True when ``bot_id`` can prefix client ids."""
    return bool(_BOT_RE.match(bot_id))


# Bot ids encode() has checked, and levels it has written lately (level -> base 36): a slot book
# makes ids for the same few bots and levels again and again (a backtest: thousands per second)
# Final: the compiled build keeps them in C variables (a plain module global is a dict lookup by name
# at every use, several per order event)
_CHECKED_BOTS: Final[set[str]] = set()
_LEVELS: Final[dict[int, str]] = {}
_LEVELS_MAX: Final = 4096


def encode(bot_id: str, level: int, side: Side, generation: int) -> str:
    """Build the client order id for one order of one slot."""
    if bot_id not in _CHECKED_BOTS:
        if not valid_bot_id(bot_id):
            raise ClientIdError(f"bot id {bot_id!r} must be 1-12 letters or digits")
        _CHECKED_BOTS.add(bot_id)
    lv = _LEVELS.get(level)
    if lv is None:
        lv = _b36(level)  # raises for a negative level, before it is remembered
        if len(_LEVELS) >= _LEVELS_MAX:
            _LEVELS.clear()  # bounded; what is forgotten is written again
        _LEVELS[level] = lv
    gen = _b36(generation)
    cid = f"{bot_id}_{'B' if side is _BUY else 'S'}{lv}_{gen}"
    if len(cid) > MAX_LEN:  # only reachable with absurd levels or generations
        raise ClientIdError(f"client id {cid!r} is longer than {MAX_LEN} characters")
    if len(lv) <= 13 and len(gen) <= 6:  # an id decode() accepts (_ID_RE): it will be asked for it
        _remember(cid, ClientId(bot_id, level, side, generation))
    return cid


# Ids made or parsed lately -> their parts (None: not one of ours). The slot book looks an id up
# several times per order (a backtest: tens of thousands per second), and nearly always an id it has
# just made: encode() leaves its parts here, so decode() parses only ids that come from elsewhere.
_DECODED: Final[dict[str, ClientId | None]] = {}
_DECODED_MAX: Final = 4096


def _remember(client_id: str, parts: ClientId | None) -> None:
    if len(_DECODED) >= _DECODED_MAX:
        _DECODED.clear()  # bounded; what is forgotten is parsed again
    _DECODED[client_id] = parts


def decode(client_id: str, bot_id: str | None = None) -> ClientId | None:
    """Parse one of our ids; None when it is foreign (or not ours when ``bot_id`` is given)."""
    if client_id in _DECODED:
        parts = _DECODED[client_id]
    else:
        m = _ID_RE.match(client_id)
        parts = (
            None
            if m is None
            else ClientId(
                bot_id=m.group(1),
                level=int(m.group(3), 36),
                side=Side.BUY if m.group(2) == "B" else Side.SELL,
                generation=int(m.group(4), 36),
            )
        )
        _remember(client_id, parts)
    if parts is None or (bot_id is not None and parts.bot_id != bot_id):
        return None
    return parts


def is_own(client_id: str, bot_id: str) -> bool:
    """True when the id was made by this bot."""
    return decode(client_id, bot_id) is not None
