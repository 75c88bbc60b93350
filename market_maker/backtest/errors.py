"""The backtester's own error (kept out of the compiled replay loop: mypyc compiles no exception classes)."""


class BacktestError(RuntimeError):
    """The core kept asking for actions at one price: a bug, reported rather than looped on."""
