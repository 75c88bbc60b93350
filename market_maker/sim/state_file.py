"""The persistent paper venue: the simulator's whole state in one file that survives Ctrl-C and kill -9.

The file is JSON lines, created 0600:

1. a header: format, version, the venue's id (a bot database names the venue it trades on), the symbols;
2. a snapshot: :mod:`market_maker.sim.snapshot`'s picture of the venue when the file was written;
3. the journal: one line per input that changed the venue since, in order: each client call into the
   engine (order placed, cancelled, account created, leverage...), each move of the market clock
   (``adv``: market milliseconds and the server time), control changes that steer matching.

Why a journal of inputs, written with a plain ``write()`` before the answer leaves: the engine and
the price paths are deterministic, so replaying the inputs on the snapshot rebuilds the state exactly,
random state included, and one ``write()`` of ~150 bytes costs ~1.5 us where a SQLite commit costs
~22 us (and an ``fsync`` ~300 us on this box: it would cap the venue near 3 000 orders a second).
A SIGKILL loses nothing once ``write()`` returned: the bytes are in the kernel's page cache. Only a
power loss or kernel crash can lose the last lines, as it can the bot's own SQLite store in WAL mode with
``synchronous=normal``. Every answer, REST or WebSocket, and every user-stream event is queued on the
event loop after the synchronous handler that wrote its line, so nothing reaches a client unwritten.

The file is rewritten (a new snapshot, an empty journal) when the venue starts, when it stops, and
while it runs once the journal holds :data:`COMPACT_AFTER` lines and twice as many as the venue has
orders (a snapshot's cost grows with the history it holds; this keeps its share per input constant).
The rewrite goes to a temporary file that is fsynced and renamed over the old one, so a kill at any
moment leaves either file whole. The snapshot is built on the event loop: with 100 000 orders kept it
takes about a second, during which the venue answers nothing.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FORMAT = "market-maker paper venue"
VERSION = 1
_encode = json.JSONEncoder(separators=(",", ":")).encode  # one encoder: json.dumps builds one per call
COMPACT_AFTER = 50_000  # journal lines (~80 min of a 100 ms market clock): bounds the replay at start


class VenueStateError(Exception):
    """The venue's state file cannot be used; the message names the file and what is wrong."""


class VenueBusyError(VenueStateError):
    """Another process has the venue's state file open."""


def lock_path(path: Path) -> Path:
    """The lock file beside the state file (held while a process has the venue open)."""
    return path.with_name(path.name + ".lock")


def acquire_lock(path: Path) -> int:
    """Hold the venue's lock (a second simulator on the same file would lose the first one's journal:
    each rewrites the file); the lock's file descriptor. Raises :class:`VenueBusyError`."""
    lock = lock_path(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise VenueBusyError(f"paper venue state {path} is in use by another running simulator") from None
    return fd


@dataclass(frozen=True, slots=True)
class Header:
    """The state file's first line."""

    venue_id: str
    created_ms: int
    symbols: tuple[str, ...]

    def line(self) -> str:
        """The header as its JSON line."""
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "venue_id": self.venue_id,
            "created_ms": self.created_ms,
            "symbols": list(self.symbols),
        }
        return json.dumps(doc, separators=(",", ":"))


def new_header(symbols: tuple[str, ...]) -> Header:
    """A header for a venue created now, with a fresh id."""
    return Header(uuid.uuid4().hex, int(time.time() * 1000), symbols)


def _parse_header(path: Path, line: str) -> Header:
    try:
        doc = json.loads(line)
        if doc.get("format") != FORMAT:
            raise ValueError("not a paper venue state file")
        if doc.get("version") != VERSION:
            raise ValueError(f"version {doc.get('version')}, this program reads version {VERSION}")
        return Header(str(doc["venue_id"]), int(doc["created_ms"]), tuple(doc["symbols"]))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise VenueStateError(f"paper venue state {path}: {exc}") from None


def read_header(path: Path) -> Header | None:
    """The header of the state file at ``path``, or None when there is no file (for ``doctor`` and the
    start-up check: it reads the first line only)."""
    try:
        with path.open("r", encoding="utf-8") as f:
            line = f.readline()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise VenueStateError(f"paper venue state {path}: {exc.strerror}") from None
    return _parse_header(path, line)


@dataclass(slots=True)
class Loaded:
    """What a state file holds: its header, snapshot and journal lines (already decoded)."""

    header: Header
    snapshot: dict[str, Any]
    journal: list[list[Any]]

    def has_orders(self) -> bool:
        """True when any account of the venue ever placed an order (kept or journaled)."""
        engine = self.snapshot.get("engine", {})
        return bool(engine.get("orders")) or any(r[:2] == ["call", "place"] for r in self.journal)


def load(path: Path) -> Loaded | None:
    """Read the state file at ``path`` (None when there is none). A last line cut short by a kill is
    dropped (it was never acknowledged: its answer leaves only after the whole line is written)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise VenueStateError(f"paper venue state {path}: {getattr(exc, 'strerror', None) or exc}") from None
    lines = text.split("\n")
    header = _parse_header(path, lines[0])
    torn = lines[-1]  # "" when the file ends with a newline, as every whole line does
    body = lines[1:-1]
    if torn:
        log.warning("paper venue state %s: dropped a last line cut short (%d bytes)", path, len(torn))
    if not body:
        raise VenueStateError(f"paper venue state {path}: the snapshot line is missing")
    try:
        snapshot = json.loads(body[0])
        journal = [json.loads(x) for x in body[1:]]
    except json.JSONDecodeError as exc:
        raise VenueStateError(f"paper venue state {path}: damaged line ({exc.msg})") from None
    return Loaded(header, snapshot, journal)


class StateFile:
    """The open state file: appends journal lines, rewrites itself around a new snapshot."""

    def __init__(self, path: Path, header: Header, lock_fd: int) -> None:
        self.path = path
        self.header = header
        self._lock_fd: int | None = lock_fd  # from acquire_lock, released by close()
        self._fd: int | None = None
        self.lines = 0  # journal lines since the last snapshot

    def write_snapshot(self, snapshot: dict[str, Any]) -> None:
        """Replace the file by header + ``snapshot`` + an empty journal, atomically, and keep
        appending to the new one."""
        text = self.header.line() + "\n" + json.dumps(snapshot, separators=(",", ":")) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)  # also when a stale tmp file had other bits
            os.write(fd, text.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename itself survives a power loss
        finally:
            os.close(dir_fd)
        self._close_fd()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self.lines = 0

    def append(self, record: list[Any]) -> None:
        """Write one journal line (before the answer it belongs to can leave)."""
        if self._fd is None:
            raise VenueStateError(f"paper venue state {self.path}: closed")
        os.write(self._fd, (_encode(record) + "\n").encode())
        self.lines += 1

    def _close_fd(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def close(self) -> None:
        """Stop appending and release the lock (the caller writes a last snapshot first)."""
        self._close_fd()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def state_path_for(database: str, bot_id: str, symbol: str) -> Path | None:
    """Where the paper venue of a bot keeps its state: beside a SQLite database
    (``var/paper1.sqlite`` -> ``var/paper1.venue.jsonl``); for a database URL (PostgreSQL, shared by
    several bots) under ``var/`` of the working directory, one file per bot and symbol. None for an
    in-memory database: a bot that forgets everything at exit trades a venue that does too."""
    if database.startswith("sqlite:///"):
        database = database[len("sqlite:///") :]
    if database == ":memory:":
        return None
    if "://" in database:
        return Path("var") / f"{bot_id}-{symbol}.venue.jsonl"
    p = Path(database).expanduser()
    return p.with_name(f"{p.stem}.venue.jsonl")
