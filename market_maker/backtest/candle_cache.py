"""A cache of parsed kline files: a ``.npz`` of the candle columns, keyed by the file's content.

Parsing a month of 1-minute candles exactly (decimal strings to integer ticks) costs a few hundred
milliseconds; loading the arrays back costs a few. The cache lies beside the data file
(``<file>.mm-cache.npz``) when that directory is writable, else in the user's cache directory
(``$XDG_CACHE_HOME/market_maker/candles``, by default ``~/.cache/...``). An entry is used only when
the file's content (its hash), the tick and step sizes and the cache format all match what it was
made from; anything else (or an unreadable entry) is ignored and parsed again.
``MARKET_MAKER_CANDLE_CACHE=0`` turns it off. Writes are atomic (temporary file, then rename) and a
failed write only costs the next run the parse.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from decimal import Decimal
from pathlib import Path

import numpy as np

from market_maker.backtest.candles import Candles

FORMAT = 1  # bump when the parse (or what is stored) changes: old entries are then ignored
SUFFIX = ".mm-cache.npz"
_COLUMNS = ("open_time_ms", "open", "high", "low", "close", "volume")


def enabled() -> bool:
    """False when ``MARKET_MAKER_CANDLE_CACHE=0``."""
    return os.environ.get("MARKET_MAKER_CANDLE_CACHE", "1") != "0"


def _key(path: Path, tick: Decimal, step: Decimal) -> str | None:
    # The content's hash, not only size and mtime: a file rewritten within the file system's mtime
    # granularity with the same size must not read back the old candles (hashing a month: ~5 ms).
    try:
        digest = hashlib.blake2b(path.read_bytes(), digest_size=20).hexdigest()
    except OSError:
        return None
    return f"{FORMAT}|{digest}|{tick}|{step}"


def _locations(path: Path) -> list[Path]:
    """Where an entry for ``path`` may be: beside it, then the user's cache directory."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return [path.with_name(path.name + SUFFIX), base / "market_maker" / "candles" / f"{digest}{SUFFIX}"]


def load(path: Path, tick: Decimal, step: Decimal) -> Candles | None:
    """The cached candles of ``path`` for this tick and step, or None when there is no valid entry."""
    key = _key(path, tick, step)
    if key is None or not enabled():
        return None
    for where in _locations(path):
        try:
            with np.load(where, allow_pickle=False) as z:
                if str(z["key"]) != key:
                    continue
                t, o, h, lo, c, v = (np.ascontiguousarray(z[c], dtype=np.int64) for c in _COLUMNS)
                source = str(z["source"])
        except (OSError, KeyError, ValueError):
            continue
        return Candles(t, o, h, lo, c, v, tick, step, source)
    return None


def store(path: Path, candles: Candles) -> Path | None:
    """Write the entry for ``path`` (first writable location); its path, or None when none could be."""
    key = _key(path, candles.tick_size, candles.step_size)
    if key is None or not enabled():
        return None
    arrays = {c: getattr(candles, c) for c in _COLUMNS}
    for where in _locations(path):
        try:
            where.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".mm-cache-", suffix=".npz", dir=where.parent)
        except OSError:
            continue
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, key=np.array(key), source=np.array(candles.source), **arrays)
            os.replace(tmp, where)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
            continue
        return where
    return None
