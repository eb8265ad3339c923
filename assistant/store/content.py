"""Content that every server process must agree on (FAQ entries changed through the admin
API, say), versioned in the store so that a change made through one process reaches the others
without a restart, and survives restarts.

    content = ContentStore(store.engine)
    version = await content.update("faq:faq", lambda entries: (entries or []) + [new_entry])
    snapshot = await content.get("faq:faq")          # (version, payload) or None

`update` runs its function on the stored payload inside one transaction that locks the row, so
two processes changing the same content at once both land, one after the other.
`ContentWatcher` polls the versions and hands a newer payload to the process's own index.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from assistant.store.models import Base

log = logging.getLogger("assistant.store.content")


class ContentRow(Base):
    __tablename__ = "content_versions"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: int
    payload: Any


class ContentStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, key: str) -> Snapshot | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(ContentRow.version, ContentRow.payload).where(ContentRow.key == key)
                )
            ).first()
        return None if row is None else Snapshot(row.version, row.payload)

    async def versions(self, keys: list[str]) -> dict[str, int]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(ContentRow.key, ContentRow.version).where(ContentRow.key.in_(keys))
            )
            return {r.key: r.version for r in rows}

    async def update(self, key: str, change: Callable[[Any], Any]) -> Snapshot:
        """Apply `change` to the stored payload (None when there is none) and store the result
        as the next version; `change` may raise to abort, leaving everything as it was."""
        for _ in range(3):  # a concurrent first insert of the same key: retry as an update
            try:
                return await self._update(key, change)
            except IntegrityError:
                continue
        return await self._update(key, change)

    async def _update(self, key: str, change: Callable[[Any], Any]) -> Snapshot:
        now = datetime.now(UTC)
        async with self._engine.begin() as conn:
            if self._engine.dialect.name == "sqlite":
                # SQLite ignores FOR UPDATE: take the write lock before reading instead.
                await conn.exec_driver_sql("BEGIN IMMEDIATE")
            row = (
                await conn.execute(
                    select(ContentRow.version, ContentRow.payload)
                    .where(ContentRow.key == key)
                    .with_for_update()
                )
            ).first()
            payload = change(None if row is None else row.payload)
            if row is None:
                version = 1
                await conn.execute(
                    insert(ContentRow).values(key=key, version=1, payload=payload, updated_at=now)
                )
            else:
                version = row.version + 1
                await conn.execute(
                    update(ContentRow)
                    .where(ContentRow.key == key)
                    .values(version=version, payload=payload, updated_at=now)
                )
        return Snapshot(version, payload)


Apply = Callable[[Snapshot], Awaitable[None]]


class ContentWatcher:
    """Polls content versions every `interval` seconds and applies newer snapshots."""

    def __init__(self, content: ContentStore, *, interval: float = 2.0) -> None:
        self.content = content
        self.interval = interval
        self._watched: dict[str, tuple[int, Apply]] = {}
        self._task: asyncio.Task[None] | None = None

    def watch(self, key: str, apply: Apply, *, version: int = 0) -> None:
        self._watched[key] = (version, apply)

    def seen(self, key: str, version: int) -> None:
        """This process applied `version` itself: no need to apply it again."""
        current, apply = self._watched[key]
        self._watched[key] = (max(current, version), apply)

    async def check(self) -> int:
        """Apply what changed since the last check; returns how many keys were refreshed."""
        if not self._watched:
            return 0
        refreshed = 0
        for key, stored in (await self.content.versions(list(self._watched))).items():
            known, apply = self._watched[key]
            if stored <= known:
                continue
            snapshot = await self.content.get(key)
            if snapshot is None:
                continue
            await apply(snapshot)
            self.seen(key, snapshot.version)
            refreshed += 1
            log.info("content.refreshed", extra={"key": key, "version": snapshot.version})
        return refreshed

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="content-watcher")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception:  # the store may be down for a while: keep serving, try again
                log.exception("content.check_failed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
