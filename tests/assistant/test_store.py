"""The session store on both backends: SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from assistant.context import DialogueContext
from assistant.dialogue import Assistant
from assistant.errors import StoreError
from assistant.store import DuplicateMessage, SqlStore, TurnLog
from assistant.store.sql import async_url
from assistant.types import ContextUpdate, NamedContext, Utterance

from .fakes import EchoSkill, make_bot, pairs, text_reply


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nested' / 'store.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:
    s = SqlStore(database_url)
    await s.open()
    yield s
    await s.close()


def log(session: str, text: str, message_id: str | None = None) -> TurnLog:
    return TurnLog(
        session_id=session,
        channel="rest",
        locale="ko",
        text=text,
        reply=text_reply(f"re: {text}", "echo", 0.5),
        outcome="answer",
        candidates=[{"skill": "echo", "confidence": 0.5}],
        skills=[{"skill": "echo", "status": "ok"}],
        latency_ms=1.5,
        message_id=message_id,
    )


def test_urls_get_async_drivers() -> None:
    assert async_url("sqlite:///a.db") == "sqlite+aiosqlite:///a.db"
    assert async_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert async_url("postgres://h/db") == "postgresql+psycopg://h/db"
    with pytest.raises(StoreError, match="only sqlite:// and postgresql://"):
        async_url("mysql://h/db")


async def test_context_and_turns_are_saved_together(store: SqlStore) -> None:
    ctx = DialogueContext()
    ctx.apply(ContextUpdate(topic="faq:x", activate=(NamedContext(name="a", ttl=60),)), now=5)
    assert await store.save_turn(log("s", "하나"), ctx) == 1
    assert await store.save_turn(log("s", "둘"), ctx) == 2
    assert await store.load_context("s") == ctx
    view = await store.get_session("s")
    assert view is not None and view.turn_count == 2
    assert [t.seq for t in view.turns] == [1, 2]
    assert view.turns[1].reply.plain_text() == "re: 둘"
    assert view.turns[0].at.tzinfo is not None and view.created_at.tzinfo is not None
    assert await store.load_context("other") is None


async def test_a_message_id_is_stored_once_per_session(store: SqlStore) -> None:
    ctx = DialogueContext()
    await store.save_turn(log("s", "하나", "m1"), ctx)
    with pytest.raises(DuplicateMessage):
        await store.save_turn(log("s", "다시", "m1"), ctx)
    view = await store.get_session("s")
    assert view is not None and view.turn_count == 1  # the failed turn left nothing behind
    assert (await store.find_reply("s", "m1")) == log("s", "하나").reply
    await store.save_turn(log("t", "하나", "m1"), ctx)  # another session may reuse it


async def test_delete_forgets_the_session_and_its_turns(store: SqlStore) -> None:
    await store.save_turn(log("s", "하나", "m1"), DialogueContext())
    assert await store.delete_session("s")
    assert await store.get_session("s") is None
    assert await store.find_reply("s", "m1") is None
    assert not await store.delete_session("s")


async def test_opening_again_finds_the_schema_migrated(database_url: str) -> None:
    for _ in range(2):
        s = SqlStore(database_url)
        await s.open()
        assert await s.ping()
        await s.close()


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    s = SqlStore(f"sqlite:///{tmp_path / 'w.db'}")
    await s.open()
    try:
        async with s._session_factory()() as db:
            assert (await db.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
    finally:
        await s.close()


async def test_an_unreachable_database_is_a_clear_error() -> None:
    s = SqlStore("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(StoreError, match="cannot open the session store at postgresql"):
        await s.open()


async def test_concurrent_turns_of_one_session_keep_their_order(
    database_url: str, tmp_path: Path
) -> None:
    skills = [EchoSkill(delay=lambda t: 0.005 * (int(t[1:]) % 3))]
    bot = make_bot(tmp_path, skills)  # type: ignore[arg-type]
    store = SqlStore(database_url)
    await store.open()
    a = Assistant(bot, store, pairs(bot, skills))  # type: ignore[arg-type]
    try:
        tasks = []
        for i in range(12):
            for session in ("A", "B"):
                tasks.append(
                    asyncio.create_task(a.handle(Utterance(text=f"t{i}", session_id=session)))
                )
                await asyncio.sleep(0)
        await asyncio.gather(*tasks)
        for session in ("A", "B"):
            view = await store.get_session(session)
            assert view is not None
            assert [t.text for t in view.turns] == [f"t{i}" for i in range(12)]
            assert [t.seq for t in view.turns] == list(range(1, 13))
            assert view.context.slots == {"last": "t11"}
    finally:
        await a.close()


async def test_database_errors_are_described_without_what_users_said(store: SqlStore) -> None:
    from sqlalchemy.exc import IntegrityError

    from assistant.store.sql import describe_db_error

    with pytest.raises(IntegrityError) as raised:
        async with store.engine.begin() as conn:
            await conn.execute(text("INSERT INTO sessions (id) VALUES (:x)"), {"x": "비밀 문장"})
    described = describe_db_error(raised.value)
    assert "비밀" not in described and "null" in described.lower()
