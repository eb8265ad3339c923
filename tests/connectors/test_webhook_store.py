"""The webhook store on SQLite and PostgreSQL: matching, due deliveries, claims that exclude
each other, and the end of a delivery."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from assistant.store import SqlStore
from connectors.webhook_store import DELIVERED, PENDING, WebhookStore


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[WebhookStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hooks.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    sql = SqlStore(url)
    await sql.open()  # migrations, 0002 included
    yield WebhookStore(sql.engine)
    await sql.close()


async def test_webhooks_match_by_channel_and_session(store: WebhookStore) -> None:
    every = await store.register(url="https://a.example.org")
    kakao = await store.register(url="https://b.example.org", channel="kakao")
    one = await store.register(url="https://c.example.org", channel="kakao", session_id="s1")
    matched = await store.matching(channel="kakao", session_id="s1")
    assert {h.id for h in matched} == {every.id, kakao.id, one.id}
    assert {h.id for h in await store.matching(channel="rasa", session_id="s1")} == {every.id}
    assert {h.id for h in await store.matching(channel="kakao", session_id="s2")} == {
        every.id,
        kakao.id,
    }
    assert await store.remove(kakao.id) and not await store.remove(kakao.id)
    assert [h.id for h in await store.webhooks()] == [every.id, one.id]


async def test_a_delivery_is_claimed_once_and_ends_delivered(store: WebhookStore) -> None:
    hook = await store.register(url="https://a.example.org", secret="x" * 20)
    await store.enqueue([("d1", hook, '{"n": 1}')], event="reply", now=100.0)
    assert await store.due(now=99.0) == []
    (due,) = await store.due(now=100.5)
    assert (due.url, due.secret, due.body, due.status) == (hook.url, "x" * 20, '{"n": 1}', PENDING)
    assert await store.next_due() == 100.0
    assert await store.claim(due, until=130.0)
    assert not await store.claim(due, until=131.0)  # a second worker loses
    await store.mark_failed("d1", attempts=1, retry_at=102.0, error="HTTP 503")
    (again,) = await store.due(now=102.0)
    assert again.attempts == 1 and again.last_error == "HTTP 503"
    await store.mark_delivered("d1", attempts=2)
    assert await store.due(now=1e12) == [] and await store.next_due() is None
    (done,) = await store.deliveries(hook.id, status=DELIVERED)
    assert done.attempts == 2 and done.last_error is None
