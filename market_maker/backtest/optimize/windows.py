"""Walk-forward windows: consecutive train / test spans of a candle history (pure index arithmetic).

With ``k`` windows and a train-to-test length ratio ``r``, the history of ``n`` candles is cut into a
test length ``t = floor(n / (k + r))`` and a train length ``n - k * t`` (about ``r * t``; the remainder
of the division goes to training so the last test span ends with the data). Window ``i`` (from 0)
trains on ``[i * t, i * t + train)`` and tests on the ``t`` candles right after it: the windows roll
forward by one test length, and every test span is later than everything its parameters were chosen on.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_TEST_CANDLES = 2  # a shorter span has no equity path to speak of


@dataclass(frozen=True, slots=True)
class Window:
    """One walk-forward step: train on ``[train_start, train_stop)``, test on ``[train_stop, test_stop)``."""

    index: int  # 1-based, as reports number them
    train_start: int
    train_stop: int
    test_stop: int

    @property
    def test_start(self) -> int:
        """The first test candle: the one after the last train candle."""
        return self.train_stop


def split_windows(n: int, windows: int, train_ratio: float = 2.0) -> list[Window]:
    """``windows`` rolling train/test windows over ``n`` candles (see the module docstring).

    ValueError (one line) when there are too few candles or the arguments are out of range.
    """
    if windows < 1:
        raise ValueError(f"--windows {windows}: must be at least 1 (or 0 for no walk-forward)")
    if not train_ratio > 0:
        raise ValueError(f"--train-ratio {train_ratio}: must be above 0")
    test = int(n // (windows + train_ratio))
    train = n - windows * test
    if test < MIN_TEST_CANDLES or train < MIN_TEST_CANDLES:
        raise ValueError(
            f"{n} candles are too few for {windows} walk-forward windows at train ratio {train_ratio}"
        )
    return [Window(i + 1, i * test, i * test + train, i * test + train + test) for i in range(windows)]
