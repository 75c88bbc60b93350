"""Files only the bot's user may read and write: the database (and its WAL and shared-memory files,
which SQLite creates with the database file's permissions), the DBOS system database and the log.

``pause`` and ``resume`` act through the database, so its file permissions are the only guard against
another local user steering the bot. A file the bot creates is 0600 and a directory it creates 0700,
whatever the umask; files and directories that already exist are left as their owner set them.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents, each 0700 (``Path.mkdir(parents=True)`` gives the
    parents the default mode)."""
    missing = []
    while not directory.exists() and directory != directory.parent:
        missing.append(directory)
        directory = directory.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # another process made it meanwhile
        os.chmod(d, DIR_MODE)  # mkdir's mode is masked by the umask


def create_private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 (with its directories, 0700) unless it exists."""
    make_private_dirs(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.fchmod(fd, FILE_MODE)  # os.open's mode is masked by the umask too
    os.close(fd)
