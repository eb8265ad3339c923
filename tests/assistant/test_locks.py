"""Session locks across processes: two assistants with their own engines stand for two servers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant.dialogue import Assistant
from assistant.errors import StoreError
from assistant.skill import TurnInput
from assistant.store import (
    LocalSessionLocks,
    PostgresSessionLocks,
    RedisSessionLocks,
    SqlStore,
    make_locks,
)
from assistant.store.locks import lock_key
from assistant.types import Candidate, Utterance

from .fakes import EchoSkill, make_bot, pairs


class Overlap:
    """Counts how many turns of one session run at once, across assistants."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0


def counting_skill(overlap: Overlap, hold: float) -> EchoSkill:
    class Counting(EchoSkill):
        async def propose(self, turn: TurnInput) -> Sequence[Candidate]:
            overlap.running += 1
            overlap.most = max(overlap.most, overlap.running)
            await asyncio.sleep(hold)
            try:
                return await super().propose(turn)
            finally:
                overlap.running -= 1

    return Counting()


async def two_assistants(
    tmp_path: Path, url: str, locks: str, overlap: Overlap, *, hold: float = 0.01
) -> list[Assistant]:
    made = []
    for _ in range(2):
        skills = [counting_skill(overlap, hold)]
        bot = make_bot(tmp_path, skills)  # type: ignore[arg-type]
        store = SqlStore(url)
        await store.open()
        made.append(
            Assistant(bot, store, pairs(bot, skills), locks=make_locks(locks, store.engine))
        )  # type: ignore[arg-type]
    return made


async def alternate(assistants: list[Assistant], n: int) -> list[object]:
    tasks = []
    for i in range(n):
        a = assistants[i % 2]
        tasks.append(asyncio.create_task(a.handle(Utterance(text=f"t{i}", session_id="shared"))))
        await asyncio.sleep(0.002)
    return list(await asyncio.gather(*tasks, return_exceptions=True))


@pytest.mark.parametrize("locks", ["postgres", "redis"])
async def test_turns_of_one_session_never_overlap_across_processes(
    locks: str, postgres_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    spec = "postgres" if locks == "postgres" else str(request.getfixturevalue("redis_url"))
    overlap = Overlap()
    assistants = await two_assistants(tmp_path, postgres_url, spec, overlap)
    try:
        outcomes = await alternate(assistants, 16)
        view = await assistants[0].store.get_session("shared", last=50)
    finally:
        for a in assistants:
            await a.close()
    assert not [o for o in outcomes if isinstance(o, BaseException)]
    assert overlap.most == 1
    assert view is not None and view.turn_count == 16
    assert [t.seq for t in view.turns] == list(range(1, 17))
    # every turn saw the one before it: no context update was lost
    replies = [t.reply.plain_text() for t in view.turns]
    for previous, turn, reply in zip(view.turns, view.turns[1:], replies[1:], strict=False):
        assert reply == f"{turn.text} (after {previous.text})"
    assert [h.user for h in view.context.history] == [t.text for t in view.turns[-10:]]


async def test_without_shared_locks_two_processes_do_overlap(
    postgres_url: str, tmp_path: Path
) -> None:
    """The control for the test above: local locks alone do not serialize two processes."""
    overlap = Overlap()
    # turns held long enough that, on a loaded machine too, the second starts before the first
    # ends (the lock tests above would pass by luck if turns were too short to overlap)
    assistants = await two_assistants(tmp_path, postgres_url, "local", overlap, hold=0.3)
    try:
        await alternate(assistants, 8)  # colliding turn numbers are refused by the store
    finally:
        for a in assistants:
            await a.close()
    assert overlap.most == 2


def test_lock_choice_follows_the_database(tmp_path: Path) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    sqlite = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    pg = create_async_engine("postgresql+psycopg://u@127.0.0.1/db")
    assert isinstance(make_locks(None, sqlite), LocalSessionLocks)
    assert isinstance(make_locks(None, pg), PostgresSessionLocks)
    assert isinstance(make_locks("redis://127.0.0.1:6379/0", sqlite), RedisSessionLocks)
    with pytest.raises(StoreError, match="need a PostgreSQL session store"):
        make_locks("postgres", sqlite)
    with pytest.raises(StoreError, match="use 'local', 'postgres' or a redis:// URL"):
        make_locks("zookeeper", sqlite)


def test_lock_keys_are_stable_signed_64_bit() -> None:
    assert lock_key("세션-1") == lock_key("세션-1") != lock_key("세션-2")
    assert -(2**63) <= lock_key("x") < 2**63


async def test_many_sessions_at_once_never_starve_the_connection_pool(
    postgres_url: str, tmp_path: Path
) -> None:
    """More sessions in flight than pooled connections: lock holders must leave connections
    for the turns' queries (else every turn waits for a connection held by another)."""
    skills = [EchoSkill(delay=lambda _t: 0.05)]
    bot = make_bot(tmp_path, skills)  # type: ignore[arg-type]
    store = SqlStore(postgres_url)
    await store.open()
    a = Assistant(bot, store, pairs(bot, skills), locks=PostgresSessionLocks(store.engine))  # type: ignore[arg-type]
    try:
        async with asyncio.timeout(25):
            replies = await asyncio.gather(
                *(a.handle(Utterance(text=f"t{i}", session_id=f"s{i}")) for i in range(45))
            )
    finally:
        await a.close()
    assert [r.plain_text() for r in replies] == [f"t{i} (after )" for i in range(45)]
