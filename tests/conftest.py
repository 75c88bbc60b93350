"""Fixtures shared by every test directory: a real PostgreSQL database per test, and the engine choice.

PostgreSQL runs on 127.0.0.1:5432 with trust authentication for the ``postgres`` user. Each test run
creates its own databases (named ``mm_test_<run>_<n>``) and drops them afterwards. When the server is
down the fixture starts it with ``pg_ctlcluster``; when that fails the test *fails* with the command
to run: tests needing PostgreSQL never silently skip.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings

# Property tests check behaviour, never speed: on a loaded 2-core CI box hypothesis's default 200 ms
# deadline per example made them fail at random.
settings.register_profile("project", deadline=None)
settings.load_profile("project")

PG_HOST = os.environ.get("MM_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("MM_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("MM_TEST_PG_USER", "postgres")
PG_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"

_RUN = uuid.uuid4().hex[:8]
_counter = itertools.count(1)


def _admin_conninfo() -> str:
    return f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname=postgres connect_timeout=5"


def _pg_up() -> bool:
    try:
        with psycopg.connect(_admin_conninfo()) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin conninfo of a running PostgreSQL (started here if it is down; fails if it cannot be)."""
    if _pg_up():
        return _admin_conninfo()
    result = subprocess.run(PG_START, shell=True, capture_output=True, text=True, timeout=60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _pg_up():
            return _admin_conninfo()
        time.sleep(0.5)
    pytest.fail(
        f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT} and starting it failed; run: {PG_START}"
        f" (it said: {(result.stderr or result.stdout).strip()[:300]})",
        pytrace=False,
    )


@pytest.fixture
def pg_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test (dropped afterwards), as a postgresql:// URL."""
    name = f"mm_test_{_RUN}_{next(_counter)}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["simple", "durable-sqlite", "durable-postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The ``engine`` config section of one engine: Simple on SQLite, Durable on SQLite, Durable on
    PostgreSQL (a fresh database). Pass it to the bot as ``engine=engine``."""
    if request.param == "simple":
        return {"type": "simple", "database": str(tmp_path / "bot.sqlite")}
    if request.param == "durable-sqlite":
        return {"type": "durable", "database": str(tmp_path / "bot.sqlite")}
    return {"type": "durable", "database": request.getfixturevalue("pg_url")}
