"""USD-M funding as the simulator shows it: Binance's default rate (the 0.01 % interest component, no
premium) and settlement every 8 hours at 00:00, 08:00 and 16:00 UTC of market time.

The simulator shows funding (mark price stream, premiumIndex) but does not charge it to positions.
"""

from __future__ import annotations

from decimal import Decimal

RATE = Decimal("0.0001")
INTERVAL_MS = 8 * 3_600_000


def next_time_ms(now_ms: int) -> int:
    """The next funding time after ``now_ms``."""
    return (now_ms // INTERVAL_MS + 1) * INTERVAL_MS
