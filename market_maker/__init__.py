"""market_maker: a trailing grid market maker for Binance spot and USD-M futures."""

from market_maker import _compiled

__version__ = "0.1.0"
COMPILED = _compiled.select()  # the core and the replay loop run mypyc-compiled (see _compiled)
