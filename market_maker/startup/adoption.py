"""An empty store facing an account that already holds this bot's orders or position is refused.

A store that was deleted, emptied or replaced by a 0-byte file looks like a first start: left alone,
the bot would take whatever the venue holds as its baseline and forget the slots behind it (working
orders it no longer cancels, inventory it no longer sells). So when the store holds nothing of this bot
and symbol, the venue is asked first; anything of this bot there (its open orders, its recent trades,
a USD-M position) refuses the start unless the operator adopts it explicitly (``run --adopt``).
"""

from __future__ import annotations

from market_maker.core.ids import is_own
from market_maker.exchange.base import Exchange, FuturesExchange


def unadopted(exchange: Exchange, bot_id: str) -> str:
    """What the venue holds of ``bot_id`` in the exchange's symbol, in words ("" for nothing)."""
    found = []
    orders = sum(is_own(o.client_id, bot_id) for o in exchange.open_orders())
    if orders:
        found.append(f"{orders} open order(s) of bot {bot_id}")
    trades = sum(is_own(f.client_id, bot_id) for f in exchange.recent_trades())
    if trades:
        found.append(f"{trades} recent trade(s) of bot {bot_id}")
    if isinstance(exchange, FuturesExchange):
        qty = exchange.position().qty
        if qty:
            found.append(f"a position of {qty:f}")
    return ", ".join(found)


def adoption_refusal(where: str, exchange: Exchange, bot_id: str) -> str:
    """The one-line refusal for an empty store at ``where`` facing the venue's holdings ("" when none)."""
    held = unadopted(exchange, bot_id)
    if not held:
        return ""
    return (
        f"store {where} holds nothing of bot {bot_id} on {exchange.symbol}, but the exchange shows {held}: "
        "restore the database, or start with `run --adopt` to take them over as they are"
    )
