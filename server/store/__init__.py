"""SQLite persistence: the single source of truth for sessions, submissions, results and events."""

from server.store.database import Database
from server.store.store import Store

__all__ = ["Database", "Store"]
