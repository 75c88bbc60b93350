"""Can the bot create and write the files a configuration names? Asked by ``check-config`` and ``run``
before anything starts, so a log directory that cannot exist is one configuration error (exit 2), not a
traceback from deep inside the logging set-up.

Permission bits do not tell (root passes every ``access`` check, ``/proc`` refuses any ``mkdir``), so
each path is tried: its missing directories are made and a probe file is created next to it, then all
of it is removed again; an existing file is opened for appending (nothing written).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from market_maker.settings.models import Config


def _cut(path: str) -> str:
    return path if len(path) <= 120 else f"{path[:70]}...{path[-40:]}"


def path_problem(path: Path) -> str:
    """Why ``path`` cannot be created or written ("" when it can); leaves the file system as it was."""
    made: list[Path] = []
    try:
        missing, parent = [], path.parent
        while not parent.exists() and parent != parent.parent:
            missing.append(parent)
            parent = parent.parent
        for directory in reversed(missing):
            directory.mkdir()
            made.append(directory)
        if path.exists():
            if not path.is_file():
                return f"{_cut(str(path))} exists and is not a regular file"
            os.close(os.open(path, os.O_WRONLY | os.O_APPEND))
        else:
            probe = path.with_name(f".{path.name[:40]}.probe-{os.getpid()}")
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            probe.unlink()
    except (OSError, ValueError) as exc:  # ValueError: a name the OS cannot take
        why = getattr(exc, "strerror", None) or type(exc).__name__
        return f"cannot create or write {_cut(str(path))}: {why}"
    finally:
        for directory in reversed(made):
            with contextlib.suppress(OSError):  # someone put something there meanwhile: theirs to keep
                directory.rmdir()
    return ""


def unwritable_paths(config: Config) -> list[str]:
    """One line per file of ``config`` the bot could not create or write (SQLite database, log file)."""
    found = []
    database = config.engine.database
    if "://" not in database and database != ":memory:":
        problem = path_problem(Path(database).expanduser())
        if problem:
            found.append(f"engine.database: {problem}")
    if config.ops.log_file is not None:
        problem = path_problem(Path(config.ops.log_file).expanduser())
        if problem:
            found.append(f"ops.log_file: {problem}")
    return found
