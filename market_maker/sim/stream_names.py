"""Which market stream names the simulator serves, and their update speeds.

Binance refuses a malformed or unknown stream name (``SUBSCRIBE`` answers ``{"error": {"code": 2, "msg":
"Invalid request: invalid stream"}}``; a connection URL naming one is closed) but accepts a well-formed
name of a symbol it does not list, which then stays silent. The simulator does the same for the kinds it
serves; a Binance kind it does not simulate (``miniTicker``, ``ticker``, ...) is refused too, so a client
finds out at once instead of waiting on a silent stream.
"""

from __future__ import annotations

import re

from market_maker.sim.candles import INTERVALS_MS

INVALID_STREAM = "Invalid request: invalid stream"
_SYMBOL = r"[a-z0-9]{2,30}"
_COMMON = r"trade|aggTrade|bookTicker|kline_(?P<iv>[0-9]+[smhdw])"
_SPOT = re.compile(rf"^{_SYMBOL}@(?:{_COMMON}|depth(?:5|10|20)?(?:@(?:100|1000)ms)?)$")
_FUTURES = re.compile(
    rf"^{_SYMBOL}@(?:{_COMMON}|depth(?:5|10|20)?(?:@(?:100|250|500)ms)?|markPrice(?:@1s)?)$"
)


def is_served(name: str, futures: bool) -> bool:
    """True when ``name`` is a stream this simulator serves in spot (or USD-M) shapes."""
    m = (_FUTURES if futures else _SPOT).match(name)
    if m is None:
        return False
    iv = m.group("iv")
    return iv is None or iv in INTERVALS_MS


def diff_speed_ms(kind: str, futures: bool) -> int | None:
    """The update speed of a diff depth stream kind (``depth``, ``depth@100ms``), None for other kinds."""
    if kind == "depth":
        return 250 if futures else 1000
    if kind.startswith("depth@") and kind.endswith("ms"):
        return int(kind[6:-2])
    return None


def mark_price_speed_ms(kind: str) -> int | None:
    """``markPrice`` updates every 3 s, ``markPrice@1s`` every second; None for other kinds."""
    return {"markPrice": 3000, "markPrice@1s": 1000}.get(kind)
