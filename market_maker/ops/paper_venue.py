"""A paper bot's two files, and that they belong together.

Paper trading on the built-in simulator keeps two states: the bot's database and the venue's state
file beside it (``market_maker.sim.state_file``). The database remembers the venue it trades on (a
control row ``paper_venue`` holding the venue's id); a database and a venue state that do not belong
together (the venue file was deleted, the database is from another venue, or from before venues
were kept) would trade a position the account does not hold, so ``run`` refuses them (exit 4) and
``doctor`` reports it, each with one line saying how to start over: ``paper reset`` or ``run --fresh``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from market_maker.ops.doctor import CheckResult, Status
from market_maker.settings.models import Config
from market_maker.store import Store
from market_maker.store.database import display_name

BINDING_KEY = "paper_venue"


def fix_hint(config_path: str | None) -> str:
    """How to start over, with the configuration the user ran."""
    cfg = f" --config {config_path}" if config_path else ""
    return f"start over with `python3 -m market_maker paper reset{cfg}` (or `run{cfg} --fresh`)"


def paper_state_path(config: Config) -> Path | None:
    """The venue state file of a bot trading the built-in simulator (None when the simulator is
    external, or the database in memory)."""
    from market_maker.sim.state_file import state_path_for

    ex = config.exchange
    if ex.venue != "sim" or ex.rest_url is not None:
        return None
    return state_path_for(config.engine.database, config.bot.id, config.trading.symbol)


def store_has_state(store: Store) -> bool:
    """True when the database holds trading state of this bot and symbol (slots, orders, fills)."""
    return store.last_trade_id() is not None or bool(store.orders()) or store.load_book() is not None


@dataclass(frozen=True, slots=True)
class Binding:
    """What each side says: the venue the database names, and the venue the state file holds."""

    database: str  # for messages
    state_file: Path
    bound: str | None  # the venue id the database names
    db_has_state: bool
    venue_id: str | None  # None: no state file
    venue_has_history: bool  # the paper account has orders or trades

    def problem(self) -> str | None:
        """One line when the two do not belong together, else None."""
        if self.venue_id is not None and self.bound == self.venue_id:
            return None
        if self.bound is not None:
            if self.venue_id is None:
                return (
                    f"database {self.database} trades on a paper venue whose state file {self.state_file} "
                    "is gone"
                )
            return (
                f"database {self.database} belongs to paper venue {self.bound[:8]}, but {self.state_file} "
                f"holds venue {self.venue_id[:8]}"
            )
        if self.db_has_state:
            return (
                f"database {self.database} holds trading state from a paper venue that {self.state_file} "
                "does not hold (an older simulator run)"
            )
        if self.venue_has_history:
            return (
                f"paper venue state {self.state_file} holds orders and trades of a bot database that is "
                f"gone ({self.database} is new)"
            )
        return None


def binding(config: Config, store: Store, venue_id: str | None, venue_has_history: bool) -> Binding:
    """Read the database's side of the binding."""
    path = paper_state_path(config)
    assert path is not None
    return Binding(
        display_name(config.engine.database),
        path,
        store.get_control(BINDING_KEY),
        store_has_state(store),
        venue_id,
        venue_has_history,
    )


def bind(store: Store, venue_id: str) -> None:
    """Record in the database the venue it trades on."""
    store.set_control(BINDING_KEY, venue_id)


def shared_database(config: Config) -> bool:
    """True when the database is a server (PostgreSQL) shared with other bots, not a file."""
    return config.engine.is_postgres


def check_paper_venue(config: Config, config_path: str | None) -> Iterator[CheckResult]:
    """``doctor``'s line: do the database and the paper venue's state file belong together?"""
    from market_maker.sim.state_file import VenueStateError, load
    from market_maker.store import StoreError, open_store

    path = paper_state_path(config)
    if path is None:
        return
    name = "paper venue"
    try:
        loaded = load(path)
    except VenueStateError as exc:
        yield CheckResult(name, Status.FAIL, f"{exc}; {fix_hint(config_path)}")
        return
    try:
        store = open_store(config.engine.database, config.bot.id, config.trading.symbol)
    except StoreError:
        return  # the database check says why
    try:
        check = Binding(
            display_name(config.engine.database),
            path,
            store.get_control(BINDING_KEY),
            store_has_state(store),
            None if loaded is None else loaded.header.venue_id,
            loaded is not None and loaded.has_orders(),
        )
    except StoreError as exc:
        yield CheckResult(name, Status.FAIL, f"cannot read the database: {exc}")
        return
    finally:
        store.close()
    problem = check.problem()
    if problem is not None:
        yield CheckResult(name, Status.FAIL, f"{problem}; {fix_hint(config_path)}")
    elif loaded is None:
        yield CheckResult(name, Status.OK, f"none yet: the first run creates {path}")
    else:
        venue = loaded.header.venue_id[:8]
        yield CheckResult(name, Status.OK, f"{path} (venue {venue}) goes with {check.database}")
