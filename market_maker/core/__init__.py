"""The functional core: pure trading logic, standard library only (see docs/architecture.md).

The same sources are also installed compiled by mypyc when the build can (``setup.py``); which of the
two runs is decided before this package is imported (``market_maker._compiled``).
"""
