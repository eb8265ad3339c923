from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from assistant.dialogue import Assistant
from assistant.server import create_app
from assistant.settings import Settings
from assistant.store import SqlStore

from .fakes import EchoSkill, KeywordSkill, make_bot, pairs


@pytest.fixture
async def assistant(tmp_path: Path) -> AsyncIterator[Assistant]:
    skills = [EchoSkill(), KeywordSkill("faq", "충전", "충전 요금은 kWh당 300원이에요.", 0.95)]
    bot = make_bot(tmp_path, skills)  # type: ignore[arg-type]
    store = SqlStore(f"sqlite:///{tmp_path / 'sessions.db'}")
    await store.open()
    a = Assistant(bot, store, pairs(bot, skills))  # type: ignore[arg-type]
    yield a
    await a.close()


@pytest.fixture
async def client(assistant: Assistant) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(), assistant=assistant)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_chat_answers_with_messages_route_and_confidence(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/chat", json={"session_id": "u1", "text": "충전 요금 알려줘"})
    assert r.status_code == 200
    assert r.json() == {
        "session_id": "u1",
        "messages": [{"type": "text", "text": "충전 요금은 kWh당 300원이에요."}],
        "route": "faq:충전",
        "confidence": 0.95,
        "expects_reply": False,
    }


async def test_device_and_channel_reach_the_skills(
    client: httpx.AsyncClient, assistant: Assistant
) -> None:
    body = {
        "session_id": "car-1",
        "text": "충전",
        "channel": "car",
        "locale": "ko",
        "device": {"has_screen": False, "has_voice": True, "is_driving": True},
    }
    assert (await client.post("/v1/chat", json=body)).status_code == 200
    faq = assistant.skills[1][1]
    assert isinstance(faq, KeywordSkill)
    seen = faq.seen[-1].utterance
    assert seen.channel == "car" and seen.device.is_driving and not seen.device.has_screen


async def test_repeated_message_id_gets_the_same_reply_once(client: httpx.AsyncClient) -> None:
    body = {"session_id": "u1", "text": "하나", "message_id": "msg-1"}
    first = await client.post("/v1/chat", json=body)
    again = await client.post("/v1/chat", json=body)
    assert again.json() == first.json()
    session = (await client.get("/v1/sessions/u1")).json()
    assert session["turn_count"] == 1 and [t["message_id"] for t in session["turns"]] == ["msg-1"]


async def test_session_shows_context_and_turns_and_can_be_deleted(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/v1/chat", json={"session_id": "u1", "text": "하나"})
    await client.post("/v1/chat", json={"session_id": "u1", "text": "충전"})
    r = await client.get("/v1/sessions/u1")
    assert r.status_code == 200
    body = r.json()
    assert body["turn_count"] == 2
    assert [t["text"] for t in body["turns"]] == ["하나", "충전"]
    assert [t["route"] for t in body["turns"]] == ["echo", "faq:충전"]
    assert body["context"]["slots"] == {"last": "하나"}
    assert {c["skill"] for c in body["turns"][1]["candidates"]} == {"echo", "faq"}
    assert (await client.delete("/v1/sessions/u1")).status_code == 204
    assert (await client.get("/v1/sessions/u1")).status_code == 404
    assert (await client.delete("/v1/sessions/u1")).status_code == 404
    # a new conversation starts from nothing
    r = await client.post("/v1/chat", json={"session_id": "u1", "text": "둘"})
    assert r.json()["messages"][0]["text"] == "둘 (after )"


def problem(r: httpx.Response) -> list[tuple[str, str]]:
    error = r.json()["error"]
    assert error["message"]
    return [(f["field"], f["problem"]) for f in error["fields"]]


BAD_BODIES = [
    ({"text": "hi"}, 422, "session_id", "Field required"),
    ({"session_id": "u1"}, 422, "text", "Field required"),
    ({"session_id": 7, "text": "hi"}, 422, "session_id", "Input should be a valid string"),
    ({"session_id": "u1", "text": ["hi"]}, 422, "text", "Input should be a valid string"),
    (
        {"session_id": "u1", "text": ""},
        422,
        "text",
        "must contain something other than white space",
    ),
    (
        {"session_id": "u1", "text": "   \n\t "},
        422,
        "text",
        "must contain something other than white space",
    ),
    (
        {"session_id": "u1", "text": "가" * 2001},
        422,
        "text",
        "is 2001 characters long; the limit is 2000",
    ),
    (
        {"session_id": "u1", "text": "hi", "locale": "xx"},
        422,
        "locale",
        "'xx' is not spoken by this bot",
    ),
    (
        {"session_id": "", "text": "hi"},
        422,
        "session_id",
        "String should have at least 1 character",
    ),
    (
        {"session_id": "u1", "text": "hi", "device": {"is_driving": "maybe"}},
        422,
        "device.is_driving",
        "Input should be a valid boolean",
    ),
    (
        {"session_id": "u1", "text": "hi", "colour": "red"},
        422,
        "colour",
        "Extra inputs are not permitted",
    ),
    (
        {"session_id": "u1", "text": "hi", "message_id": ""},
        422,
        "message_id",
        "String should have at least 1 character",
    ),
]


@pytest.mark.parametrize(("body", "status", "field", "fragment"), BAD_BODIES)
async def test_bad_input_is_refused_with_the_field_and_nothing_is_stored(
    client: httpx.AsyncClient, body: object, status: int, field: str, fragment: str
) -> None:
    r = await client.post("/v1/chat", json=body)
    assert r.status_code == status
    assert any(f == field and fragment in p for f, p in problem(r)), r.json()
    assert (await client.get("/v1/sessions/u1")).status_code == 404


async def test_malformed_json_is_a_400_naming_the_body(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/v1/chat",
        content=b'{"session_id": "u1", "text": ',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "malformed_json"
    assert problem(r)[0][0] == "body"


async def test_a_body_that_is_not_an_object_is_refused(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/chat", json=["session_id", "text"])
    assert r.status_code == 422 and problem(r)[0][0] == "body"


async def test_bodies_over_64_kib_are_refused_with_or_without_content_length(
    client: httpx.AsyncClient,
) -> None:
    big = json.dumps({"session_id": "u1", "text": "가" * 30_000}).encode()
    assert len(big) > 64 * 1024
    r = await client.post("/v1/chat", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert problem(r) == [("body", "is larger than 65536 bytes")]

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(big), 8192):
            yield big[i : i + 8192]

    r = await client.post(
        "/v1/chat", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413
    assert (await client.get("/v1/sessions/u1")).status_code == 404


async def test_text_limit_follows_the_bot_configuration(tmp_path: Path) -> None:
    skills = [EchoSkill()]
    bot = make_bot(tmp_path, skills)  # type: ignore[arg-type]
    bot.config.limits.max_text_length = 10
    store = SqlStore(f"sqlite:///{tmp_path / 'x.db'}")
    await store.open()
    a = Assistant(bot, store, pairs(bot, skills))  # type: ignore[arg-type]
    try:
        transport = httpx.ASGITransport(app=create_app(Settings(), assistant=a))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            assert (
                await c.post("/v1/chat", json={"session_id": "a", "text": "0123456789"})
            ).status_code == 200
            r = await c.post("/v1/chat", json={"session_id": "a", "text": "0123456789!"})
            assert r.status_code == 422 and problem(r)[0][0] == "text"
    finally:
        await a.close()


async def test_health_readiness_and_openapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "store": "ok",
        "bot": "test",
        "skills": ["echo", "faq"],
    }
    spec = (await client.get("/openapi.json")).json()
    assert {"/v1/chat", "/v1/sessions/{session_id}", "/healthz", "/readyz"} <= set(spec["paths"])
    assert (await client.get("/docs")).status_code == 200


async def test_readiness_fails_when_the_store_is_gone(
    client: httpx.AsyncClient, assistant: Assistant
) -> None:
    await assistant.store.close()
    r = await client.get("/readyz")
    assert r.status_code == 503 and r.json()["store"] == "unreachable"
