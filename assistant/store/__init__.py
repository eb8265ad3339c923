"""Session store: sessions, dialogue contexts and turn logs (SQLAlchemy 2 + Alembic)."""

from assistant.store.locks import (
    LocalSessionLocks,
    PostgresSessionLocks,
    RedisSessionLocks,
    SessionLocks,
    make_locks,
)
from assistant.store.sql import DuplicateMessage, SessionView, SqlStore, StoredTurn, TurnLog

__all__ = [
    "DuplicateMessage",
    "LocalSessionLocks",
    "PostgresSessionLocks",
    "RedisSessionLocks",
    "SessionLocks",
    "SessionView",
    "SqlStore",
    "StoredTurn",
    "TurnLog",
    "make_locks",
]
