"""Admin console sessions, kept in the store (migration 0007) so that every process sees a
logout or a revoked key at once.

A session is found by the SHA-256 of its cookie's token (the token itself is never stored). It
remembers the stored API key it was opened with (`key_id`), or, for the server's configured
admin key, `key_check`: an HMAC of that key under the cookie's token, so the session ends when
the key changes, and the table alone reveals nothing about the key.

    sessions = ConsoleSessionStore(store.engine)
    token = new_token()
    await sessions.create(token, key_id="3f2a", key_check=None, lifetime_s=8 * 3600)
    found = await sessions.find(token)        # None once ended, expired or the key revoked
    await sessions.end(token)
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, String, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from assistant.store.keys import ApiKeyRow
from assistant.store.models import Base
from assistant.store.sql import as_utc

__all__ = ["ConsoleSession", "ConsoleSessionRow", "ConsoleSessionStore", "new_token"]


class ConsoleSessionRow(Base):
    __tablename__ = "console_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str | None] = mapped_column(String(32))
    key_check: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


SESSIONS = Base.metadata.tables["console_sessions"]
KEYS = ApiKeyRow.__table__


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    id: str
    key_id: str | None
    key_check: str | None
    expires_at: datetime


def new_token() -> str:
    """A session token: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConsoleSessionStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create(
        self, token: str, *, key_id: str | None, key_check: str | None, lifetime_s: float
    ) -> None:
        """Keep a new session whose cookie holds `token` (`new_token()`): opened with the
        stored key `key_id`, or with the server's key (`key_check`). Ended and expired
        sessions are cleared out."""
        now = datetime.now(UTC)
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(SESSIONS).where(
                    or_(SESSIONS.c.expires_at <= now, SESSIONS.c.ended_at.is_not(None))
                )
            )
            await conn.execute(
                insert(SESSIONS).values(
                    id=_digest(token),
                    key_id=key_id,
                    key_check=key_check,
                    created_at=now,
                    expires_at=now + timedelta(seconds=lifetime_s),
                    ended_at=None,
                )
            )

    async def find(self, token: str) -> ConsoleSession | None:
        """The live session of `token`: not ended, not expired, and, when it was opened with a
        stored key, that key still unrevoked and with the admin scope."""
        now = datetime.now(UTC)
        query = (
            select(SESSIONS, KEYS.c.revoked_at, KEYS.c.scopes)
            .select_from(SESSIONS.outerjoin(KEYS, KEYS.c.id == SESSIONS.c.key_id))
            .where(SESSIONS.c.id == _digest(token), SESSIONS.c.ended_at.is_(None))
        )
        async with self.engine.connect() as conn:
            row: Any = (await conn.execute(query)).first()
        if row is None or as_utc(row.expires_at) <= now:
            return None
        if row.key_id is not None and (row.revoked_at is not None or "admin" not in row.scopes):
            return None  # the key was revoked (or lost its admin scope) since the login
        return ConsoleSession(row.id, row.key_id, row.key_check, as_utc(row.expires_at))

    async def end(self, token: str) -> bool:
        """End a session (log out); False when there was no live one."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(SESSIONS)
                .where(SESSIONS.c.id == _digest(token), SESSIONS.c.ended_at.is_(None))
                .values(ended_at=datetime.now(UTC))
            )
        return bool(result.rowcount)
