"""Persistence of the Simple engine: peewee on SQLite (or any peewee database URL).

Use :func:`open_store`; see :class:`Store` for the API the actors call.
"""

from market_maker.store.errors import StoreError, StoreLockedError
from market_maker.store.integrity import StoreDamagedError, verify_store
from market_maker.store.lock import LockHolder
from market_maker.store.records import OPEN_STATUSES, ORDER_STATUSES, OrderRow
from market_maker.store.store import Store, open_store

__all__ = [
    "OPEN_STATUSES",
    "ORDER_STATUSES",
    "LockHolder",
    "OrderRow",
    "Store",
    "StoreDamagedError",
    "StoreError",
    "StoreLockedError",
    "open_store",
    "verify_store",
]
