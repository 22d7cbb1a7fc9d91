"""The store's database through SQLAlchemy: SQLite (WAL) locally, PostgreSQL in classroom mode.

One code path and one migration history for both. Every statement runs on a connection checked
out of the engine's pool for that statement or transaction and returned at once, so no thread
queues behind another thread's transaction in Python, and no Python-level lock is held while the
database waits:

- SQLite: WAL (readers go on while one writer writes), `synchronous=NORMAL`, and a busy timeout
  of about a second. A write transaction starts with `BEGIN IMMEDIATE` (read-then-write steps stay
  atomic); a read starts a plain deferred one and ends at once. A write that cannot get the
  database within the timeout raises at once instead of stalling: an API request gets a sentence,
  the service's threads retry in their own loops.
- PostgreSQL: READ COMMITTED; read-then-write steps lock the rows they read (`FOR UPDATE SKIP
  LOCKED` for the queue). A connection found dead (the server restarted) is dropped from the pool
  and the next statement reconnects (`pool_pre_ping`); the failed one raises as any other.

Every database error is recorded in `health` and raised as `StoreUnavailable`; a later write's
success clears it, so /api/health tells the truth about the database.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, Row

from server.components import Component
from server.store.migrate import migrate, schema_version

BUSY_TIMEOUT_SECONDS = 1.0


class StoreUnavailable(Exception):
    """The database refused or failed a statement (locked, full, read-only, unreachable)."""


def describe(error: BaseException) -> str:
    """The driver's own words ("OperationalError: database is locked"), without SQLAlchemy's
    echo of the statement."""
    cause = getattr(error, "orig", None) or error
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return f"{type(cause).__name__}: {text}"


def _is_url(target: Path | str) -> bool:
    return isinstance(target, str) and "://" in target


class Database:
    def __init__(self, target: Path | str, busy_timeout: float = BUSY_TIMEOUT_SECONDS,
                 extra_pragmas: tuple[str, ...] = ()) -> None:
        """`target` is a SQLite file's path, or a database URL such as
        `postgresql+psycopg://user@host/db`."""
        self.busy_timeout = busy_timeout
        self.extra_pragmas = extra_pragmas
        self.health = Component("database")
        self._writing = threading.local()
        if _is_url(target):
            self.url = sa.make_url(str(target))
            self.path: Path | None = None
        else:
            path = Path(target)
            path.parent.mkdir(parents=True, exist_ok=True)
            self.path = path
            self.url = sa.URL.create("sqlite+pysqlite", database=str(path))
        self.engine = self._engine()
        with self._recorded(clears=True):
            migrate(self)

    @property
    def where(self) -> str:
        """The database for health and logs: a file's path, or the URL without its password."""
        return str(self.path) if self.path else self.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def _engine(self) -> Engine:
        if self.url.get_backend_name() == "sqlite":
            engine = sa.create_engine(
                self.url, pool_size=8, max_overflow=-1, pool_timeout=self.busy_timeout,
                connect_args={"timeout": self.busy_timeout, "check_same_thread": False})
            event.listen(engine, "connect", self._sqlite_connected)
            event.listen(engine, "begin", self._sqlite_begin)
            return engine
        return sa.create_engine(
            self.url, pool_pre_ping=True, pool_size=5, max_overflow=20,
            pool_timeout=max(self.busy_timeout, 5.0),
            connect_args={"connect_timeout": max(int(self.busy_timeout * 5), 2),
                          # A statement that waits on a lock gives up as SQLite's would.
                          "options": f"-c lock_timeout={int(self.busy_timeout * 1000)}"})

    def _sqlite_connected(self, dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # The driver must not open transactions by itself: `_sqlite_begin` does, deferred for a
        # read and IMMEDIATE for a write.
        dbapi_connection.isolation_level = None
        for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON",
                       f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}",
                       *self.extra_pragmas):
            dbapi_connection.execute(pragma)

    def _sqlite_begin(self, conn: Connection) -> None:
        write = getattr(self._writing, "active", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    @property
    def schema_version(self) -> int:
        with self._recorded(), self.engine.connect() as conn:
            return schema_version(conn)

    @contextmanager
    def _recorded(self, clears: bool = False) -> Iterator[None]:
        """Record a failure; only a write's success clears one (a read can succeed while every
        write fails on a full disk)."""
        try:
            yield
        except (sa.exc.SQLAlchemyError, sqlite3.Error) as error:
            self.health.failed(describe(error))
            raise StoreUnavailable(describe(error)) from error
        if clears:
            self.health.ok()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction, committed at the end or rolled back on any error. Keep what runs
        inside short: nothing slow happens while it holds the write lock."""
        with self._recorded(clears=True):
            self._writing.active = True
            try:
                with self.engine.begin() as conn:
                    self._writing.active = False
                    yield conn
            finally:
                self._writing.active = False

    def _statement(self, sql: str | sa.Executable) -> sa.Executable:
        return sa.text(sql) if isinstance(sql, str) else sql

    def query(self, sql: str | sa.Executable, params: dict[str, Any] | None = None) -> list[Row]:
        with self._recorded(), self.engine.connect() as conn:
            return list(conn.execute(self._statement(sql), params or {}).fetchall())

    def query_one(self, sql: str | sa.Executable, params: dict[str, Any] | None = None
                  ) -> Row | None:
        with self._recorded(), self.engine.connect() as conn:
            return conn.execute(self._statement(sql), params or {}).first()

    def integrity(self) -> str:
        """"ok" for a sound database (SQLite's `PRAGMA integrity_check`; PostgreSQL checks its own
        pages and says so otherwise)."""
        if not self.is_sqlite:
            return "ok"
        row = self.query_one("PRAGMA integrity_check")
        return str(row[0]) if row else "no answer"

    def close(self) -> None:
        self.engine.dispose()
