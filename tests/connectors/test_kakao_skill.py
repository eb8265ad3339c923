"""The Kakao skill server over HTTP: answers, refusals, the shared secret and the callback flow
(with a local HTTP receiver standing in for Kakao's callback URL)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from assistant.dialogue import Assistant
from assistant.server import create_app
from assistant.settings import Settings
from connectors.config import ConnectorConfig
from connectors.hub import Hub
from connectors.routes import mount_connectors

from .helpers import Receiver
from .test_kakao import sample_request

SKILL = "/connectors/kakao/skill"
LOCAL = ("127.0.0.1",)  # the receiver stands in for Kakao's callback host


async def client_for(
    assistant: Assistant, config: ConnectorConfig
) -> tuple[httpx.AsyncClient, Hub]:
    app = FastAPI()
    app.state.assistant = assistant
    hub = mount_connectors(app, config)
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://test"), hub


@pytest.fixture
async def client(assistant: Assistant) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(), assistant=assistant)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        yield c
    await app.state.connectors.aclose()


def ask(text: str, **user_request: Any) -> dict[str, Any]:
    body = sample_request()
    body["userRequest"]["utterance"] = text
    body["userRequest"].update(user_request)
    return body


async def test_the_sample_request_gets_a_skill_response(client: httpx.AsyncClient) -> None:
    r = await client.post(SKILL, json=ask("영업시간 알려주세요"))
    assert r.status_code == 200
    body = r.json()
    assert body["version"] == "2.0"
    assert body["template"]["outputs"] == [
        {"simpleText": {"text": "평일 오전 9시부터 오후 6시까지 운영합니다."}}
    ]
    assert [q["label"] for q in body["template"]["quickReplies"]] == ["상담원 연결", "주말 영업"]
    assert body["template"]["quickReplies"][1]["messageText"] == "주말에도 해요?"
    # our dialogue context, as Kakao contexts
    assert body["context"]["values"] == [
        {"name": "faq_topic", "lifeSpan": 3, "params": {"faq_id": "hours"}}
    ]
    assert body["data"]["route"] == "faq:영업시간" and body["data"]["confidence"] == "0.91"


async def test_a_pressed_quick_reply_and_params_reach_the_skill(
    client: httpx.AsyncClient, assistant: Assistant
) -> None:
    body = ask("영업시간")
    body["action"]["params"] = {"branch": "강남"}
    body["action"]["clientExtra"] = {"faq_id": "hours"}
    assert (await client.post(SKILL, json=body)).status_code == 200
    skill = assistant.skills[0][1]
    seen = skill.seen[-1].utterance  # type: ignore[attr-defined]
    assert seen.metadata["params"] == {"branch": "강남"}
    assert seen.metadata["client_extra"] == {"faq_id": "hours"}
    assert seen.session_id == "kakao:BOT1:u-botUserKey"


async def test_a_card_answer(client: httpx.AsyncClient) -> None:
    body = (await client.post(SKILL, json=ask("매장 어디예요?"))).json()
    (card,) = body["template"]["outputs"]
    assert card["textCard"]["title"] == "강남점"
    assert card["textCard"]["buttons"][0]["action"] == "webLink"


@pytest.mark.parametrize(
    ("content", "status", "field"),
    [
        (b"{not json", 400, "body"),
        (b"", 400, "body"),
        (b"[1, 2]", 400, "body"),
        (b'{"bot": {"id": "B"}}', 400, "userRequest"),
        (b'{"userRequest": {"user": {"id": "u"}}}', 400, "userRequest.utterance"),
        (b'{"userRequest": {"utterance": "hi", "user": {}}}', 400, "userRequest.user.id"),
        (
            b'{"userRequest": {"utterance": "  ", "user": {"id": "u"}}}',
            400,
            "userRequest.utterance",
        ),
        (
            b'{"userRequest": {"utterance": "hi", "user": {"id": "u"}, "lang": "ja"}}',
            200,
            None,
        ),
    ],
)
async def test_bad_requests_get_400_naming_the_field(
    client: httpx.AsyncClient, content: bytes, status: int, field: str | None
) -> None:
    r = await client.post(SKILL, content=content, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    if field is not None:
        error = r.json()["error"]
        assert error["fields"][0]["field"] == field
        assert error["message"].startswith(field + ":")


async def test_an_internal_failure_is_a_500_not_an_empty_200(
    client: httpx.AsyncClient, assistant: Assistant
) -> None:
    await assistant.store.close()  # the store is gone: the turn cannot be saved
    r = await client.post(SKILL, json=ask("영업시간"))
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "internal_error"


async def test_the_shared_secret_is_checked_per_bot(assistant: Assistant) -> None:
    config = ConnectorConfig(kakao_secrets={"BOT1": "s3cret-for-bot1"})
    client, hub = await client_for(assistant, config)
    async with client:
        missing = await client.post(SKILL, json=ask("영업시간"))
        wrong = await client.post(SKILL, json=ask("영업시간"), headers={"X-Skill-Secret": "no"})
        right = await client.post(
            SKILL, json=ask("영업시간"), headers={"X-Skill-Secret": "s3cret-for-bot1"}
        )
        other_bot = ask("영업시간")
        other_bot["bot"]["id"] = "BOT2"  # no secret configured for it: refused
        other = await client.post(SKILL, json=other_bot)
    await hub.aclose()
    assert missing.status_code == wrong.status_code == 401
    assert missing.json()["error"]["fields"][0]["field"] == "X-Skill-Secret"
    assert right.status_code == 200
    assert other.status_code == 403 and other.json()["error"]["fields"][0]["field"] == "bot.id"


async def test_a_slow_turn_answers_use_callback_and_posts_the_response_once(
    assistant: Assistant, receiver: Receiver
) -> None:
    config = ConnectorConfig(
        kakao_time_budget_s=0.2, kakao_wait_text="잠시만 기다려 주세요", kakao_callback_hosts=LOCAL
    )
    client, hub = await client_for(assistant, config)
    async with client:
        started = time.monotonic()
        r = await client.post(SKILL, json=ask("느리게 알려줘", callbackUrl=receiver.url))
        answered_in = time.monotonic() - started
        assert r.status_code == 200
        assert r.json() == {
            "version": "2.0",
            "useCallback": True,
            "data": {"text": "잠시만 기다려 주세요"},
        }
        assert answered_in < 0.9  # well before the 1 s skill is done
        (posted,) = await receiver.wait_for(1)
        await hub.drain()
    await hub.aclose()
    assert posted.json()["template"]["outputs"] == [
        {"simpleText": {"text": "천천히 찾은 답이에요."}}
    ]
    assert len(receiver.received) == 1


async def test_the_callback_is_retried_on_server_errors(
    assistant: Assistant, receiver: Receiver
) -> None:
    receiver.statuses = [503]
    config = ConnectorConfig(kakao_time_budget_s=0.1, kakao_callback_hosts=LOCAL)
    client, hub = await client_for(assistant, config)
    async with client:
        r = await client.post(SKILL, json=ask("느리게", callbackUrl=receiver.url))
        assert r.json()["useCallback"] is True
        first, second = await receiver.wait_for(2)
        await hub.drain()
    await hub.aclose()
    assert first.body == second.body
    assert len(receiver.received) == 2


async def test_a_fast_turn_with_callback_url_is_answered_directly(
    assistant: Assistant, receiver: Receiver
) -> None:
    config = ConnectorConfig(kakao_time_budget_s=3.0, kakao_callback_hosts=LOCAL)
    client, hub = await client_for(assistant, config)
    async with client:
        r = await client.post(SKILL, json=ask("영업시간", callbackUrl=receiver.url))
        await hub.drain()
    await hub.aclose()
    assert "template" in r.json() and "useCallback" not in r.json()
    assert receiver.received == []


async def test_a_callback_url_off_kakaos_hosts_is_never_called(
    assistant: Assistant, receiver: Receiver
) -> None:
    client, hub = await client_for(assistant, ConnectorConfig(kakao_time_budget_s=0.1))
    async with client:
        r = await client.post(SKILL, json=ask("느리게", callbackUrl=receiver.url))
        await hub.drain()
    await hub.aclose()
    assert r.json()["template"]["outputs"] == [{"simpleText": {"text": "천천히 찾은 답이에요."}}]
    assert receiver.received == []


async def test_a_turn_that_fails_after_use_callback_still_answers_the_user(
    assistant: Assistant, receiver: Receiver
) -> None:
    config = ConnectorConfig(kakao_time_budget_s=0.1, kakao_callback_hosts=LOCAL)
    client, hub = await client_for(assistant, config)
    async with client:
        r = await client.post(SKILL, json=ask("느리게", callbackUrl=receiver.url))
        assert r.json()["useCallback"] is True
        await assistant.store.close()  # the turn cannot be saved when the skill is done
        (posted,) = await receiver.wait_for(1)
        await hub.drain()
    await hub.aclose()
    (output,) = posted.json()["template"]["outputs"]
    assert output["simpleText"]["text"].startswith("죄송해요")
