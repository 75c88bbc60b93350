"""Workflow ids: derived from the symbol and the client order id, so a re-run finds the same workflow.

The symbol is part of the id because one PostgreSQL database may serve several bots and symbols and
client ids only carry the bot id.
"""

from __future__ import annotations


def place_workflow_id(symbol: str, client_id: str) -> str:
    """The id of the workflow that places ``client_id`` (one placement per client id, ever)."""
    return f"place-{symbol}-{client_id}"


def cancel_workflow_id(symbol: str, client_id: str, attempt: int = 0) -> str:
    """The id of the ``attempt``-th cancel workflow of ``client_id`` (a new attempt only after one that
    ended without a definite answer)."""
    base = f"cancel-{symbol}-{client_id}"
    return base if attempt == 0 else f"{base}-r{attempt}"


def workflow_prefixes(bot_id: str, symbol: str) -> list[str]:
    """Id prefixes of every workflow of ``bot_id`` on ``symbol`` (client ids start with ``<bot>_``)."""
    return [f"place-{symbol}-{bot_id}_", f"cancel-{symbol}-{bot_id}_"]
