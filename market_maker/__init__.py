"""market_maker: a trailing grid market maker for Binance spot and USD-M futures."""

__version__ = "0.1.0"
