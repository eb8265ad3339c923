"""`POST /v1/feedback`: thumbs up or down on a turn, validated and stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from assistant.dialogue import Assistant
from assistant.server import create_app
from assistant.settings import Settings
from assistant.store import SqlStore
from assistant.store.feedback import FeedbackStore

from .fakes import EchoSkill, make_bot, pairs


@pytest.fixture
async def assistant(tmp_path: Path) -> AsyncIterator[Assistant]:
    skills = [EchoSkill()]
    bot = make_bot(tmp_path, skills)  # type: ignore[arg-type]
    store = SqlStore(f"sqlite:///{tmp_path / 'sessions.db'}")
    await store.open()
    a = Assistant(bot, store, pairs(bot, skills))  # type: ignore[arg-type]
    yield a
    await a.close()


def client_of(assistant: Assistant, settings: Settings | None = None) -> httpx.AsyncClient:
    app = create_app(settings or Settings(), assistant=assistant)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_a_thumbs_down_is_stored_on_the_turn(assistant: Assistant) -> None:
    async with client_of(assistant) as client:
        await client.post("/v1/chat", json={"session_id": "u1", "text": "하나"})
        body = {"session_id": "u1", "text": "둘", "message_id": "m-2", "channel": "kakao"}
        await client.post("/v1/chat", json=body)
        r = await client.post(
            "/v1/feedback",
            json={"session_id": "u1", "message_id": "m-2", "rating": "down", "comment": "틀림"},
        )
        assert r.status_code == 201, r.text
        assert r.json()["turn"] == 2 and r.json()["rating"] == "down"
        r = await client.post("/v1/feedback", json={"session_id": "u1", "turn": 1, "rating": "up"})
        assert r.status_code == 201
    stored = await FeedbackStore(assistant.store.engine).of_session("u1")
    assert {n: (f.rating, f.comment) for n, f in stored.items()} == {
        1: (1, None),
        2: (-1, "틀림"),
    }


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"session_id": "u1", "rating": "down"}, 422, "turn"),
        ({"session_id": "u1", "turn": 1, "message_id": "m", "rating": "down"}, 422, "message_id"),
        ({"session_id": "u1", "turn": 1, "rating": "meh"}, 422, "rating"),
        ({"session_id": "u1", "turn": 0, "rating": "up"}, 422, "turn"),
        ({"session_id": "u1", "turn": 1, "rating": "up", "stars": 5}, 422, "stars"),
        ({"session_id": "u1", "turn": 7, "rating": "up"}, 404, "turn"),
        ({"session_id": "u1", "message_id": "nope", "rating": "up"}, 404, "message_id"),
        ({"session_id": "nobody", "turn": 1, "rating": "up"}, 404, "session_id"),
    ],
)
async def test_bad_feedback_is_refused_naming_the_field(
    assistant: Assistant, body: dict[str, object], status: int, field: str
) -> None:
    async with client_of(assistant) as client:
        await client.post("/v1/chat", json={"session_id": "u1", "text": "하나"})
        r = await client.post("/v1/feedback", json=body)
    assert r.status_code == status, r.text
    assert [f["field"] for f in r.json()["error"]["fields"]] == [field]
    assert await FeedbackStore(assistant.store.engine).of_session("u1") == {}


async def test_feedback_needs_a_chat_key_when_keys_are_required(assistant: Assistant) -> None:
    async with client_of(assistant, Settings(require_api_key=True)) as client:
        r = await client.post("/v1/feedback", json={"session_id": "u1", "turn": 1, "rating": "up"})
    assert r.status_code == 401
