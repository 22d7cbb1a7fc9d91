"""Every store test runs on both back-ends: SQLite (the local default) and a real PostgreSQL
(classroom mode), started once per test process; each test gets a fresh database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from server.store import Database
from tests.support.postgres import PostgresServer


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    yield server
    server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_target(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Path | str:
    """Where a test's database lives: a SQLite file, or a fresh PostgreSQL database's URL."""
    if backend == "sqlite":
        return tmp_path / "db.sqlite3"
    return request.getfixturevalue("postgres").create_database()


@pytest.fixture
def open_db(database_target: Path | str) -> Iterator[Callable[[], Database]]:
    """Open the test's database (again, as after a crash, when called twice)."""
    opened: list[Database] = []

    def _open() -> Database:
        opened.append(Database(database_target))
        return opened[-1]

    yield _open
    for db in opened:
        db.close()
