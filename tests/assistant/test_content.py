"""Versioned shared content: changes land one after another and reach other processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from assistant.store import SqlStore
from assistant.store.content import ContentStore, ContentWatcher, Snapshot


@pytest.fixture(params=["sqlite", "postgres"])
async def two_stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[list[SqlStore]]:
    url = (
        f"sqlite:///{tmp_path / 'c.db'}"
        if request.param == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    stores = [SqlStore(url), SqlStore(url)]  # two engines stand for two processes
    for s in stores:
        await s.open()
    yield stores
    for s in stores:
        await s.close()


def append(item: str) -> Any:
    return lambda current: [*(current or []), item]


async def test_updates_are_versioned_and_none_is_lost(two_stores: list[SqlStore]) -> None:
    a, b = (ContentStore(s.engine) for s in two_stores)
    assert await a.get("faq:faq") is None
    await asyncio.gather(
        *(store.update("faq:faq", append(f"e{i}")) for i, store in enumerate([a, b] * 10))
    )
    snapshot = await b.get("faq:faq")
    assert snapshot is not None and snapshot.version == 20
    assert sorted(snapshot.payload) == sorted(f"e{i}" for i in range(20))


async def test_a_failing_change_leaves_the_content_as_it_was(two_stores: list[SqlStore]) -> None:
    content = ContentStore(two_stores[0].engine)
    await content.update("k", append("a"))

    def refuse(current: Any) -> Any:
        raise ValueError("duplicate id")

    with pytest.raises(ValueError, match="duplicate id"):
        await content.update("k", refuse)
    assert await content.get("k") == Snapshot(1, ["a"])


async def test_watchers_apply_what_other_processes_changed(two_stores: list[SqlStore]) -> None:
    writer, reader = (ContentStore(s.engine) for s in two_stores)
    applied: list[Snapshot] = []

    async def apply(snapshot: Snapshot) -> None:
        applied.append(snapshot)

    watcher = ContentWatcher(reader, interval=0.05)
    watcher.watch("faq:faq", apply)
    assert await watcher.check() == 0
    await writer.update("faq:faq", append("x"))
    assert await watcher.check() == 1 and applied[-1] == Snapshot(1, ["x"])
    assert await watcher.check() == 0  # nothing new
    watcher.seen("faq:faq", 2)  # this process made version 2 itself
    await writer.update("faq:faq", append("y"))
    assert await watcher.check() == 0
    watcher.start()
    await writer.update("faq:faq", append("z"))
    for _ in range(100):
        if applied[-1].version == 3:
            break
        await asyncio.sleep(0.02)
    await watcher.stop()
    assert applied[-1] == Snapshot(3, ["x", "y", "z"])
