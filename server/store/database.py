"""SQLite in WAL mode, one connection per thread, every wait on it bounded.

Each thread has its own connection, so a reader never queues behind another thread's write (WAL
lets readers go on while one writer writes), and no Python-level lock is ever held while SQLite
waits. A write that cannot get the database within `busy_timeout` raises at once instead of
stalling: an API request gets a sentence within about a second, and the service's threads retry
in their own loops. Every SQLite error is recorded in `health`, and a later success clears it, so
/api/health tells the truth about the database.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from server.components import Component
from server.store.schema import MIGRATIONS

BUSY_TIMEOUT_SECONDS = 1.0


class Database:
    def __init__(self, path: Path, busy_timeout: float = BUSY_TIMEOUT_SECONDS,
                 extra_pragmas: tuple[str, ...] = ()) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.busy_timeout = busy_timeout
        self.extra_pragmas = extra_pragmas
        self.health = Component("database")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._registry = threading.Lock()
        self._closed = False
        first = self._conn()
        first.execute("PRAGMA journal_mode=WAL")
        self._migrate()
        self.health.ok()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self._closed:
            raise sqlite3.ProgrammingError("the database is closed")
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, check_same_thread=False,
                               isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
        for pragma in self.extra_pragmas:
            conn.execute(pragma)
        self._local.conn = conn
        with self._registry:
            self._connections.append(conn)
        return conn

    def _migrate(self) -> None:
        with self.transaction() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version={number}")

    @property
    def schema_version(self) -> int:
        return int(self.query_one("PRAGMA user_version")[0])

    @contextmanager
    def _recorded(self, clears: bool = False) -> Iterator[None]:
        """Record a failure; only a write's success clears one (a read can succeed while every
        write fails on a full disk)."""
        try:
            yield
        except sqlite3.Error as error:
            self.health.failed(f"{type(error).__name__}: {error}")
            raise
        if clears:
            self.health.ok()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE: read-then-write steps (claim a job, finish a session) stay atomic.
        Keep what runs inside short: nothing slow happens under the write lock."""
        with self._recorded(clears=True):
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Cursor:
        with self._recorded():
            return self._conn().execute(sql, params)

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._recorded():
            return self._conn().execute(sql, params).fetchall()

    def query_one(
        self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()
    ) -> sqlite3.Row | None:
        with self._recorded():
            return self._conn().execute(sql, params).fetchone()

    def integrity(self) -> str:
        """`PRAGMA integrity_check`'s first line: "ok" for a sound database."""
        return str(self.query_one("PRAGMA integrity_check")[0])

    def close(self) -> None:
        self._closed = True
        with self._registry:
            for conn in self._connections:
                with suppress(sqlite3.Error):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()
