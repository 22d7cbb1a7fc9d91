"""Persistence: the single source of truth for sessions, submissions, results and events (SQLite
locally, PostgreSQL in classroom mode, one schema through SQLAlchemy and Alembic)."""

from server.store.database import Database, StoreUnavailable
from server.store.store import Store

__all__ = ["Database", "Store", "StoreUnavailable"]
