"""Symbol status (exchangeInfo ``status``): TRADING takes every request; CANCEL_ONLY (Binance, from
2026-07-07), BREAK, HALT and the rest refuse new orders while cancels and queries go on."""

from __future__ import annotations

from market_maker.sim.engine import BinanceError

TRADING = "TRADING"
STATUSES = ("TRADING", "CANCEL_ONLY", "BREAK", "HALT", "END_OF_DAY", "PRE_TRADING", "POST_TRADING")


def status_of(statuses: dict[str, str], symbol: str) -> str:
    """The symbol's status (TRADING unless set)."""
    return statuses.get(symbol, TRADING)


def check_open(statuses: dict[str, str], symbol: str) -> None:
    """-2010 "Market is closed." for a new order on a symbol that is not TRADING (errors.md's message
    for a symbol that is not trading)."""
    if statuses and status_of(statuses, symbol) != TRADING:
        raise BinanceError(-2010, "Market is closed.")
