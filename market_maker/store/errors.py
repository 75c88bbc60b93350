"""Errors the store raises: one line each, naming the database (never its password)."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The store cannot be opened, read or written (corrupt file, newer schema, bad input, ...)."""


class StoreLockedError(StoreError):
    """Another process holds the trading lock of this bot and symbol."""

    def __init__(self, message: str, owner: str, pid: int, host: str, since_ms: int) -> None:
        super().__init__(message)
        self.owner = owner
        self.pid = pid
        self.host = host
        self.since_ms = since_ms
