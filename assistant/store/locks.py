"""Per-session locks: two turns of one session never run at the same time, and they run in
the order they arrived; turns of different sessions run concurrently.

    locks = LocalSessionLocks()
    async with locks.hold("session-1"):
        ...  # load context, run skills, save

- `LocalSessionLocks` serializes within one process (asyncio locks are first-come, first-served).
- `PostgresSessionLocks` adds a PostgreSQL advisory lock, so processes and hosts sharing one
  database serialize too; `RedisSessionLocks` does the same with a Redis lock that expires on
  its own if its holder dies. Both take the local lock first, so one process holds at most one
  database connection or Redis lock per session.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from assistant.errors import StoreError


class SessionLocks(Protocol):
    def hold(self, session_id: str) -> AbstractAsyncContextManager[None]: ...


def make_locks(spec: str | None, engine: AsyncEngine) -> SessionLocks:
    """Locks by name: `local`, `postgres`, or a `redis://` URL. None: `postgres` when the store
    is PostgreSQL (several processes may share it), else `local`."""
    if spec is None:
        spec = "postgres" if engine.dialect.name == "postgresql" else "local"
    if spec == "local":
        return LocalSessionLocks()
    if spec == "postgres":
        if engine.dialect.name != "postgresql":
            raise StoreError("session locks 'postgres' need a PostgreSQL session store")
        return PostgresSessionLocks(engine)
    if spec.startswith(("redis://", "rediss://", "unix://")):
        return RedisSessionLocks(spec)
    raise StoreError(f"session locks {spec!r}: use 'local', 'postgres' or a redis:// URL")


class LocalSessionLocks:
    """In-process session locks; a session's lock is dropped when nobody holds or awaits it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, session_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(session_id, (asyncio.Lock(), 0))
        self._locks[session_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[session_id]
            if users == 1:
                del self._locks[session_id]
            else:
                self._locks[session_id] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


def lock_key(session_id: str) -> int:
    """A signed 64-bit key for a session (PostgreSQL advisory locks take a bigint)."""
    digest = hashlib.blake2b(session_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresSessionLocks:
    """Session locks shared by every process using one PostgreSQL database (advisory locks).

    A held (or awaited) advisory lock keeps its database connection. At most `max_held` of the
    store's pooled connections are used for locks at once, so the turns' own queries always find
    a free one: without that bound, turns holding every connection for their locks would wait
    for a connection to query with, forever.
    """

    def __init__(self, engine: AsyncEngine, *, max_held: int = 16) -> None:
        self._engine = engine
        self._local = LocalSessionLocks()
        self._slots = asyncio.Semaphore(max_held)

    @asynccontextmanager
    async def hold(self, session_id: str) -> AsyncIterator[None]:
        key = lock_key(session_id)
        async with self._local.hold(session_id), self._slots, self._engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            await conn.commit()
            try:
                yield
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                await conn.commit()


class RedisSessionLocks:
    """Session locks in Redis; a lock expires after `ttl` seconds if its holder dies."""

    def __init__(self, url: str, *, ttl: float = 30.0, wait: float = 60.0) -> None:
        import redis.asyncio as redis

        self._client: Any = redis.Redis.from_url(url)
        self._ttl = ttl
        self._wait = wait
        self._local = LocalSessionLocks()
        self.url = url

    @asynccontextmanager
    async def hold(self, session_id: str) -> AsyncIterator[None]:
        from redis.exceptions import LockError

        name = f"assistant:session-lock:{session_id}"
        async with self._local.hold(session_id):
            lock = self._client.lock(name, timeout=self._ttl, blocking_timeout=self._wait)
            if not await lock.acquire():
                raise StoreError(f"session {session_id!r} stayed locked for {self._wait}s in Redis")
            try:
                yield
            finally:
                # LockError: it expired while held (the turn outlived the lock's ttl)
                with contextlib.suppress(LockError):
                    await lock.release()

    async def ping(self) -> bool:
        try:
            return bool(await self._client.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self._client.aclose()
