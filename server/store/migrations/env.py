"""Alembic's entry point: migrations run on the connection the store hands over.

`Database` opens the connection (and holds the lock that keeps two processes from migrating at
once), puts it in `config.attributes["connection"]`, and calls `alembic.command.upgrade`; the
`alembic` command line is not needed. Offline (SQL script) mode is not supported.
"""

from __future__ import annotations

from alembic import context

from server.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("tfexam's migrations run through server.store.Database, which opens the "
                       "database; they have no configuration of their own.")
context.configure(connection=connection, target_metadata=metadata,
                  transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
