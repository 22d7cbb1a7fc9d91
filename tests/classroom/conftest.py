"""Classroom tests share one PostgreSQL and one Redis per test process (each test gets a database
of its own); services and workers are started per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.classroom import Classroom, RedisServer
from tests.support.postgres import PostgresServer


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.close()


@pytest.fixture
def classroom(tmp_path: Path, postgres: PostgresServer, redis_server: RedisServer,
              keras_home: Path) -> Iterator[Classroom]:
    room = Classroom(tmp_path, postgres, redis_server, env={"TFEXAM_JOB_TIMEOUT": "60"})
    yield room
    room.stop()
