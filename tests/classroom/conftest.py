"""Classroom tests share one PostgreSQL, one Redis and one RabbitMQ node per test process (each
test gets a database of its own, and the broker's queue emptied); services and workers are
started per test. RabbitMQ starts only in a process that runs a test asking for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pages.conftest import chromium  # noqa: F401 - the browser fixture, shared with the pages' tests
from tests.support.classroom import Broker, Classroom, RedisServer
from tests.support.postgres import PostgresServer
from tests.support.rabbitmq import RabbitServer

JOB_LIMITS = {"TFEXAM_JOB_TIMEOUT": "60"}


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


@pytest.fixture(scope="session")
def rabbit_server() -> Iterator[RabbitServer]:
    server = RabbitServer().start()
    yield server
    server.close()


@pytest.fixture
def classroom(tmp_path: Path, postgres: PostgresServer, redis_server: RedisServer,
              keras_home: Path) -> Iterator[Classroom]:
    room = Classroom(tmp_path, postgres, redis_server, env=JOB_LIMITS)
    yield room
    room.stop()


@pytest.fixture
def rabbit_classroom(tmp_path: Path, postgres: PostgresServer, rabbit_server: RabbitServer,
                     keras_home: Path) -> Iterator[Classroom]:
    room = Classroom(tmp_path, postgres, rabbit_server, env=JOB_LIMITS)
    yield room
    room.stop()


@pytest.fixture(params=["redis", "rabbitmq"])
def any_broker(request: pytest.FixtureRequest) -> Broker:
    """For a test whose fault each broker handles its own way: it runs once with each."""
    server: Broker = request.getfixturevalue(
        "redis_server" if request.param == "redis" else "rabbit_server")
    return server
