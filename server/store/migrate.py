"""Bring a database to the newest schema with Alembic, safely from several processes at once.

Revision ids are schema version numbers ("0001", "0002", …). A SQLite database made before Alembic
recorded its version in `PRAGMA user_version`; it is stamped at that revision first, so a
learner's existing home keeps every exam. Migrating holds the database's write lock (SQLite's
`BEGIN IMMEDIATE`, PostgreSQL's advisory lock), so two processes that start together (the service
and a worker) migrate once.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

# Alembic announces every plugin (as it is imported) and every step at INFO: the service's log and
# a refusal's one sentence on stderr stay free of that.
logging.getLogger("alembic").setLevel(logging.WARNING)

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402

if TYPE_CHECKING:
    from server.store.database import Database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant of our own: the key of PostgreSQL's advisory lock held while migrating.
MIGRATION_LOCK = 0x7F_E7A3_0001


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def revisions() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def head() -> str:
    return revisions()[-1]


def schema_version(conn: sa.Connection) -> int:
    current = MigrationContext.configure(conn).get_current_revision()
    return int(current) if current else 0


def migrate(db: Database) -> None:
    config = _config()
    with db.transaction() as conn:
        if not db.is_sqlite:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        current = MigrationContext.configure(conn).get_current_revision()
        if current == head():
            return
        config.attributes["connection"] = conn
        if current is None and db.is_sqlite:
            legacy = conn.exec_driver_sql("PRAGMA user_version").scalar() or 0
            if legacy:
                command.stamp(config, f"{legacy:04d}")
        command.upgrade(config, "head")
