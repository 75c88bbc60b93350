"""Reading a bot's workflows from the DBOS system database without launching DBOS (no recovery)."""

from __future__ import annotations

from dataclasses import dataclass

from market_maker.durable.ids import workflow_prefixes
from market_maker.durable.settings import DurableSettings

ACTIVE = ("PENDING", "ENQUEUED", "DELAYED")


@dataclass(frozen=True, slots=True)
class WorkflowRow:
    """One workflow as listed: id, status, age and where it ran."""

    workflow_id: str
    status: str
    name: str
    created_ms: int
    updated_ms: int
    executor_id: str
    app_version: str


@dataclass(frozen=True, slots=True)
class WorkflowListing:
    """Every pending workflow, and the most recent ones."""

    pending: list[WorkflowRow]
    recent: list[WorkflowRow]


class ListingError(RuntimeError):
    """The system database cannot be read (missing, unreachable, not a DBOS database)."""


def list_workflows(
    settings: DurableSettings, bot_id: str | None, symbol: str | None, limit: int
) -> WorkflowListing:
    """Pending workflows (all of them) and the ``limit`` most recent ones, of ``bot_id`` on ``symbol``
    (both None: of every bot in the database)."""
    if settings.sqlite_path is not None and not settings.sqlite_path.exists():
        raise ListingError(f"{settings.where} does not exist: no durable bot has run with this database yet")
    from dbos import DBOSClient

    prefixes = workflow_prefixes(bot_id, symbol) if bot_id and symbol else None
    try:
        client = DBOSClient(
            system_database_url=settings.system_database_url,
            system_database_pool_size=2,
            retry_connection_errors=False,
        )
    except Exception as exc:
        raise ListingError(f"cannot open {settings.where}: {_one_line(exc)}") from None
    try:
        pending = client.list_workflows(
            status=list(ACTIVE), workflow_id_prefix=prefixes, load_input=False, load_output=False
        )
        recent = client.list_workflows(
            workflow_id_prefix=prefixes, limit=limit, sort_desc=True, load_input=False, load_output=False
        )
    except Exception as exc:
        raise ListingError(f"cannot read workflows from {settings.where}: {_one_line(exc)}") from None
    finally:
        client.destroy()
    return WorkflowListing([_row(w) for w in pending], [_row(w) for w in recent])


def _row(w: object) -> WorkflowRow:
    g = w.__getattribute__
    return WorkflowRow(
        str(g("workflow_id")),
        str(g("status")),
        str(g("name") or ""),
        int(g("created_at") or 0),
        int(g("updated_at") or 0),
        str(g("executor_id") or ""),
        str(g("app_version") or ""),
    )


def age_text(ms: int) -> str:
    """A duration for people: ``42s``, ``7m``, ``3h``, ``2d``."""
    s = max(0, ms // 1000)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{s // size}{unit}"
    return f"{s}s"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__
