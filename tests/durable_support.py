"""Helpers for the Durable engine's process-level tests: bot subprocesses against a simulator that
runs in the test process, and the check that the store matches the exchange order for order.

The simulator's control API lists open orders and trades only; "exactly one order per intent" needs
every order ever accepted (closed ones too), so :func:`venue_orders` reads the simulator's matching
engine on its own event-loop thread (test-only access to its internals).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.exc import ProgrammingError

from market_maker.core.ids import decode
from market_maker.durable.ids import workflow_prefixes
from market_maker.durable.settings import durable_settings
from market_maker.sim.server import SimServer
from market_maker.store import open_store
from market_maker.store.records import NOT_FOUND

ROOT = Path(__file__).resolve().parents[1]
KEY = "durableKeyA1b2C3d4E5f6G7h8I9j0"
SECRET = "durableSecretZ9y8X7w6V5u4T3s2R1"
OPEN = ("NEW", "PARTIALLY_FILLED")
CALM_RISK = {  # no risk trigger unless a test asks for one: the tests drive the price themselves
    "stale_price_seconds": 3600,
    "atr_spike_multiple": 1000,
    "volume_spike_multiple": 1000,
    "max_consecutive_losses": 0,
    "max_drawdown_pct": 100,
    "baseline_atr": 100,
}


def bot_config(
    path: Path,
    sim: SimServer,
    *,
    bot_id: str,
    symbol: str,
    database: str,
    interval: str,
    qty: str,
    **sections: dict[str, Any],
) -> Path:
    """Write a durable bot's YAML: venue binance at the simulator's loopback URLs (key from the env)."""
    data: dict[str, Any] = {
        "trading": {
            "symbol": symbol,
            "price_interval": interval,
            "order_quantity": qty,
            "buy_window_size": 3,
            "sell_window_size": 3,
        },
        "bot": {"id": bot_id},
        "exchange": {
            "venue": "binance",
            "market": "spot",
            "rest_url": sim.rest_url,
            "ws_url": sim.ws_url,
            "ws_api_url": sim.ws_url,
        },
        "engine": {"type": "durable", "database": database},
        "risk": dict(CALM_RISK),
        "reconcile": {"interval_seconds": 3600},
        "cleanup": {"interval_seconds": 3600},
    }
    for k, v in sections.items():
        data[k] = {**data.get(k, {}), **v}
    path.write_text(yaml.safe_dump(data))
    return path


def start_bot(
    config: Path, log: Path, env: dict[str, str] | None = None, args: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    """``python -m market_maker run --config F [args]`` with the test key, output appended to ``log``."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("MM_")}
    full.update(MM_API_KEY=KEY, MM_API_SECRET=SECRET, PYTHONUNBUFFERED="1", **(env or {}))
    command = [sys.executable, "-m", "market_maker", "run", "--config", str(config), "--heartbeat", "30"]
    with log.open("ab") as out:
        return subprocess.Popen(
            [*command, *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=full,
            cwd=ROOT,
        )


def tail(log: Path, lines: int = 40) -> str:
    """The end of a bot's log, for failure messages."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


@dataclass(frozen=True)
class VenueOrder:
    """One order as the simulator's matching engine holds it."""

    client_id: str
    order_id: int
    status: str
    filled: int  # steps
    quote: Decimal = Decimal(0)  # cumulative quote quantity of its fills


def venue_orders(sim: SimServer, api_key: str, symbol: str, venue: str = "spot") -> list[VenueOrder]:
    """Every order of the account in ``symbol`` on ``venue`` (spot, usdm) the simulator ever accepted,
    open or closed."""
    control: Any = sim.control

    def read() -> list[VenueOrder]:
        engine = control._v.engine
        return [
            VenueOrder(o.client_id, o.order_id, o.status, o.filled, o.quote)
            for o in engine.orders.values()
            if o.account == api_key and o.symbol == symbol and o.venue == venue
        ]

    return list(control._run(read))


def venue_avg_price(v: VenueOrder, step_size: Decimal, spot: bool = True) -> Decimal:
    """The venue's average price of ``v``'s fills, computed here (not by the bot's parser) exactly;
    USD-M states it at 5 decimals. 0 when nothing filled, as Binance says it."""
    if v.filled == 0:
        return Decimal(0)
    with localcontext(Context(prec=34)):
        avg = v.quote / (step_size * v.filled)
        return avg if spot else avg.quantize(Decimal("0.00001"))


def row_vs_venue(row: Any, v: VenueOrder, step_size: Decimal, spot: bool = True) -> str | None:
    """What an order row says that the venue does not (status, executed quantity, average price), or
    None. A row no report reached has no average price: only an order that executed nothing may lack it."""
    avg = venue_avg_price(v, step_size, spot)
    row_avg = Decimal(0) if row.avg_price is None and v.filled == 0 else row.avg_price
    if (row.status, row.executed_qty, row_avg) == (v.status, v.filled, avg):
        return None
    return (
        f"store {row.status} {row.executed_qty} avg {row.avg_price} != venue {v.status} {v.filled} avg {avg}"
    )


def workflow_statuses(database: str, bot_id: str, symbol: str) -> dict[str, str]:
    """Status of every workflow of ``bot_id`` on ``symbol``, read with a DBOS client (no launch)."""
    from dbos import DBOSClient

    settings = durable_settings(database, bot_id, symbol)
    if settings.sqlite_path is not None and not settings.sqlite_path.exists():
        return {}
    client = DBOSClient(system_database_url=settings.system_database_url, retry_connection_errors=False)
    try:
        rows = client.list_workflows(
            workflow_id_prefix=workflow_prefixes(bot_id, symbol), load_input=False, load_output=False
        )
        return {w.workflow_id: str(w.status) for w in rows}
    except ProgrammingError:  # DBOS has not created its tables yet
        return {}
    finally:
        client.destroy()


def workflow_executors(database: str, bot_id: str, symbol: str) -> set[str]:
    """The executor ids that ran workflows of ``bot_id`` on ``symbol``."""
    from dbos import DBOSClient

    settings = durable_settings(database, bot_id, symbol)
    client = DBOSClient(system_database_url=settings.system_database_url, retry_connection_errors=False)
    try:
        rows = client.list_workflows(
            workflow_id_prefix=workflow_prefixes(bot_id, symbol), load_input=False, load_output=False
        )
        return {str(w.executor_id) for w in rows}
    finally:
        client.destroy()


def client_id_of(workflow_id: str, symbol: str) -> str:
    """The client order id inside a workflow id (``place-SYM-<cid>`` / ``cancel-SYM-<cid>[-rN]``)."""
    rest = workflow_id.split(f"-{symbol}-", 1)[1]
    return rest.rsplit("-r", 1)[0] if "-r" in rest else rest


def store_vs_venue(
    database: str,
    bot_id: str,
    symbol: str,
    sim: SimServer,
    client_ids: Iterable[str] | None = None,
    settled: bool = True,
) -> list[str]:
    """Problems found comparing the bot's store with the simulator, order by order (empty: they match).

    Every order row has at most one order on the venue; a row the bot found never existed (NOT_FOUND)
    or was rejected has none. ``settled`` (the bot is idle or stopped): every other row has exactly one
    order on the venue, no row is left unresolved (intent or unknown), the stored trades of each order
    add up to what the venue filled, a venue order is open exactly when a slot works it, every row has
    the venue's status, executed quantity and average price (an order that ended while the bot was down
    too), and every own order on the venue has a row. Not settled (right after recovery, the bot
    running): a row the workflows wrote has the venue's status, quantity and average price.
    ``client_ids`` limits the check to those orders.
    """
    store = open_store(database, bot_id, symbol)
    try:
        rows = {r.client_id: r for r in store.orders()}
        filled: dict[str, int] = defaultdict(int)
        for f in store.fills():
            filled[f.client_id] += f.qty
        book = store.load_book()
    finally:
        store.close()
    working = {x.client_id for x in book if x.working} if book is not None else set()
    venue: dict[str, list[VenueOrder]] = defaultdict(list)
    for o in venue_orders(sim, KEY, symbol):
        venue[o.client_id].append(o)
    wanted = set(rows) | {c for c in venue if decode(c, bot_id) is not None}
    if client_ids is not None:
        wanted &= set(client_ids)
    step = next(c.rules() for c in sim.config.symbols if c.symbol == symbol).step_size
    problems = []
    for cid in sorted(wanted):
        row, placed = rows.get(cid), venue.get(cid, [])
        if len(placed) > 1:
            problems.append(f"{cid}: {len(placed)} orders on the venue for one intent")
        elif row is None:
            problems.append(f"{cid}: on the venue ({placed[0].status}) but not in the store")
        elif row.status in (NOT_FOUND, "REJECTED"):
            if placed:
                problems.append(f"{cid}: stored {row.status} but the venue has it ({placed[0].status})")
        elif row.status in ("INTENT", "UNKNOWN"):
            if settled:
                problems.append(f"{cid}: still {row.status} in the store (venue: {placed})")
        elif not placed:
            problems.append(f"{cid}: stored {row.status} but not on the venue")
        elif not settled:
            differs = row_vs_venue(row, placed[0], step)
            if differs:
                problems.append(f"{cid}: {differs}")
        else:
            v = placed[0]
            if filled.get(cid, 0) != v.filled:
                problems.append(
                    f"{cid}: stored trades fill {filled.get(cid, 0)}, the venue filled {v.filled}"
                )
            if (v.status in OPEN) != (cid in working):
                works = "works" if cid in working else "does not work"
                problems.append(f"{cid}: venue {v.status} but the slot {works} it")
            differs = row_vs_venue(row, v, step)  # an ended order's row too
            if differs:
                problems.append(f"{cid}: {differs}")
    return problems


def wait_until(cond: Any, timeout_s: float, what: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Poll ``cond()`` until true; fail naming ``what`` (and the bot's log) on timeout or if it died."""
    deadline = time.monotonic() + timeout_s
    while not cond():
        if proc.poll() is not None:
            raise AssertionError(f"bot exited ({proc.returncode}) while waiting for {what}:\n{tail(log)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{tail(log)}")
        time.sleep(0.1)
