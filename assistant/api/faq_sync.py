"""FAQ changes made through the admin API, kept in the store and shared by every process.

Each FAQ skill's entries live in the versioned content store under `faq:<skill name>` once an
administrator has changed them. A change is applied to the stored entries in one transaction
(so two processes changing entries at once both land), then to this process's index; the other
processes' `ContentWatcher`s see the new version within a couple of seconds and load it. At
start a process loads the stored entries, so changes also survive restarts (the bot's files
are the starting point until the first change; `GET /v1/admin/faq/entries?format=yaml` exports
the current set back into a file).

    sync = await FaqSync.attach(assistant, content, watcher)   # at start-up
    app.include_router(faq_admin_router(sync.resolve))         # the admin API goes through it
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any, cast

from fastapi import Request

from assistant.dialogue import Assistant
from assistant.skills.faq import FaqSkill
from assistant.store.content import ContentStore, ContentWatcher, Snapshot
from faq_index.entry import FaqEntry
from faq_index.errors import DuplicateEntryError, UnknownEntryError
from faq_index.faq import FaqHit, FaqIndex

log = logging.getLogger("assistant.faq_sync")

Entries = dict[str, FaqEntry]


def _load(payload: Any) -> Entries:
    entries = [FaqEntry.model_validate(item) for item in payload]
    return {e.id: e for e in entries}


def _dump(entries: Entries) -> list[dict[str, Any]]:
    return [e.model_dump(mode="json") for e in entries.values()]


class SharedFaq:
    """The FAQ index of one skill as the admin API sees it: reads from this process's index,
    writes through the store first. Its methods are called in worker threads."""

    def __init__(
        self,
        faq: FaqIndex,
        key: str,
        content: ContentStore,
        watcher: ContentWatcher,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.faq = faq
        self.key = key
        self.content = content
        self.watcher = watcher
        self.loop = loop

    # reads: this process's index
    @property
    def entries(self) -> list[FaqEntry]:
        return self.faq.entries

    def __len__(self) -> int:
        return len(self.faq)

    def get(self, entry_id: str) -> FaqEntry:
        return self.faq.get(entry_id)

    def search(self, query: str, k: int = 10, *, locale: str | None = None) -> list[FaqHit]:
        return self.faq.search(query, k, locale=locale)

    # writes: the store, then this process's index
    def _change(self, change: Callable[[Entries], None]) -> Entries:
        def on_stored(payload: Any) -> list[dict[str, Any]]:
            entries = _load(payload) if payload is not None else {e.id: e for e in self.faq.entries}
            change(entries)  # may raise DuplicateEntryError / UnknownEntryError: nothing stored
            return _dump(entries)

        future = asyncio.run_coroutine_threadsafe(
            self.content.update(self.key, on_stored), self.loop
        )
        snapshot = future.result()
        self.watcher.seen(self.key, snapshot.version)
        return _load(snapshot.payload)

    def add(self, entry: FaqEntry) -> None:
        def change(entries: Entries) -> None:
            if entry.id in entries:
                raise DuplicateEntryError(
                    f"entry id {entry.id!r} exists already; update it or choose another id"
                )
            entries[entry.id] = entry

        self._change(change)
        self.faq.upsert(entry)

    def upsert(self, entry: FaqEntry) -> bool:
        created: list[bool] = []

        def change(entries: Entries) -> None:
            created.append(entry.id not in entries)
            entries[entry.id] = entry

        self._change(change)
        self.faq.upsert(entry)
        return created[-1]

    def delete(self, entry_id: str) -> FaqEntry:
        removed: list[FaqEntry] = []

        def change(entries: Entries) -> None:
            if entry_id not in entries:
                raise UnknownEntryError(f"no FAQ entry has id {entry_id!r}")
            removed.append(entries.pop(entry_id))

        self._change(change)
        if entry_id in self.faq:
            self.faq.delete(entry_id)
        return removed[-1]

    def reset(self, entries: Iterable[FaqEntry]) -> None:
        new: Entries = {}
        for entry in entries:
            if entry.id in new:
                raise DuplicateEntryError(f"entry id {entry.id!r} is given twice")
            new[entry.id] = entry

        def change(stored: Entries) -> None:
            stored.clear()
            stored.update(new)

        self._change(change)
        self.faq.reset(new.values())


class FaqSync:
    """The shared FAQs of an assistant's FAQ skills, by skill name."""

    def __init__(self, shared: dict[str, SharedFaq]) -> None:
        self.shared = shared

    @classmethod
    async def attach(
        cls, assistant: Assistant, content: ContentStore, watcher: ContentWatcher
    ) -> FaqSync:
        """Load each FAQ skill's stored entries (if any) and watch them for changes."""
        loop = asyncio.get_running_loop()
        shared: dict[str, SharedFaq] = {}
        for spec, skill in assistant.skills:
            if not isinstance(skill, FaqSkill):
                continue
            key = f"faq:{spec.name}"
            faq = skill.faq

            async def apply(snapshot: Snapshot, faq: FaqIndex = faq, key: str = key) -> None:
                entries = _load(snapshot.payload)
                await asyncio.to_thread(faq.reset, entries.values())
                log.info("faq.reloaded", extra={"key": key, "version": snapshot.version})

            stored = await content.get(key)
            if stored is not None:
                await apply(stored)
            watcher.watch(key, apply, version=stored.version if stored else 0)
            shared[spec.name] = SharedFaq(faq, key, content, watcher, loop)
        return cls(shared)

    def resolve(self, request: Request, skill: str) -> FaqIndex | None:
        """For `faq_admin_router`: the shared FAQ of a skill (it quacks like a FaqIndex)."""
        found = self.shared.get(skill)
        return cast(FaqIndex, found) if found is not None else None
