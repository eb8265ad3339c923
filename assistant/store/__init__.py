"""Session store: sessions, dialogue contexts and turn logs (SQLAlchemy 2 + Alembic)."""

from assistant.store.locks import LocalSessionLocks, SessionLocks
from assistant.store.sql import DuplicateMessage, SessionView, SqlStore, StoredTurn, TurnLog

__all__ = [
    "DuplicateMessage",
    "LocalSessionLocks",
    "SessionLocks",
    "SessionView",
    "SqlStore",
    "StoredTurn",
    "TurnLog",
]
