"""Rasa-compatible channels: REST request and response, the callback channel (with a local
HTTP receiver), and how each reply part is rendered or falls back to text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from assistant.dialogue import Assistant
from assistant.server import create_app
from assistant.settings import Settings
from assistant.types import (
    Button,
    CardPart,
    DirectivePart,
    HandoffPart,
    ImagePart,
    QuickRepliesPart,
    QuickReply,
    Reply,
    SpeechPart,
    TextPart,
)
from connectors import rasa
from connectors.config import ConnectorConfig
from connectors.routes import mount_connectors

from .helpers import Receiver


@pytest.fixture
async def client(assistant: Assistant) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(), assistant=assistant)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        yield c
    await app.state.connectors.aclose()


class TestRest:
    async def test_health(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/webhooks/rest/")
        assert r.status_code == 200 and r.json() == {"status": "ok"}

    async def test_request_and_response(self, client: httpx.AsyncClient) -> None:
        r = await client.post(
            "/webhooks/rest/webhook",
            json={"sender": "rasa-user-1", "message": "영업시간이 어떻게 돼요?", "metadata": {}},
        )
        assert r.status_code == 200
        assert r.json() == [
            {
                "recipient_id": "rasa-user-1",
                "text": "평일 오전 9시부터 오후 6시까지 운영합니다.",
                "buttons": [
                    {"title": "상담원 연결", "payload": "상담원 연결"},
                    {"title": "주말 영업", "payload": "주말에도 해요?"},
                ],
            }
        ]

    async def test_the_sender_is_the_session(
        self, client: httpx.AsyncClient, assistant: Assistant
    ) -> None:
        body = {"sender": "s-42", "message": "영업시간", "metadata": {"locale": "ko", "k": 1}}
        await client.post("/webhooks/rest/webhook", json=body)
        seen = assistant.skills[0][1].seen[-1].utterance  # type: ignore[attr-defined]
        assert seen.session_id == "rasa:s-42" and seen.channel == "rasa"
        assert seen.metadata == {"locale": "ko", "k": 1}

    @pytest.mark.parametrize(
        ("content", "field"),
        [
            (b"{", "body"),
            (b'"hi"', "body"),
            (b'{"message": "hi"}', "sender"),
            (b'{"sender": "u"}', "message"),
            (b'{"sender": "", "message": "hi"}', "sender"),
            (b'{"sender": "u", "message": 5}', "message"),
            (b'{"sender": "u", "message": "hi", "metadata": 3}', "metadata"),
            (b'{"sender": "u", "message": "   "}', "message"),
        ],
    )
    async def test_bad_messages_get_400_naming_the_field(
        self, client: httpx.AsyncClient, content: bytes, field: str
    ) -> None:
        r = await client.post(
            "/webhooks/rest/webhook", content=content, headers={"content-type": "application/json"}
        )
        assert r.status_code == 400, r.text
        assert r.json()["error"]["fields"][0]["field"] == field


class TestCallback:
    async def test_answers_success_then_posts_each_message(
        self, assistant: Assistant, tmp_path: Path
    ) -> None:
        receiver = await Receiver().start()
        app = FastAPI()
        app.state.assistant = assistant
        hub = mount_connectors(app, ConnectorConfig(rasa_callback_url=receiver.url))
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://test"
            ) as client:
                r = await client.post(
                    "/webhooks/callback/webhook", json={"sender": "cb-1", "message": "매장 위치"}
                )
                assert (r.status_code, r.text) == (200, "success")
                (posted,) = await receiver.wait_for(1)
                bad = await client.post("/webhooks/callback/webhook", json={"sender": "cb-1"})
        finally:
            await hub.aclose()
            await receiver.stop()
        message = posted.json()
        assert message["recipient_id"] == "cb-1"
        assert message["text"].startswith("강남점\n서울 강남구 테헤란로 1")
        assert message["buttons"] == [{"title": "전화하기", "payload": "강남점 전화번호"}]
        assert bad.status_code == 400

    async def test_without_a_callback_url_the_channel_says_what_to_set(
        self, client: httpx.AsyncClient
    ) -> None:
        r = await client.post("/webhooks/callback/webhook", json={"sender": "u", "message": "hi"})
        assert r.status_code == 404
        assert r.json()["error"]["fields"][0]["field"] == "ASSISTANT_RASA_CALLBACK_URL"


CARD_TEMPLATE = {
    "type": "template",
    "payload": {
        "template_type": "generic",
        "elements": [
            {
                "title": "강남점",
                "subtitle": "테헤란로 1",
                "image_url": "https://img.example.org/g.png",
                "buttons": [
                    {"type": "web_url", "title": "지도", "url": "https://map.example.org"},
                    {"type": "postback", "title": "전화", "payload": "전화"},
                ],
            }
        ],
    },
}


class TestRender:
    reply = Reply(
        parts=(
            TextPart(text="안내해 드릴게요."),
            SpeechPart(text="안내해 드릴게요."),
            CardPart(
                title="강남점",
                description="테헤란로 1",
                image_url="https://img.example.org/g.png",
                buttons=(Button(label="지도", url="https://map.example.org"), Button(label="전화")),
            ),
            QuickRepliesPart(title="더 궁금한 점?", options=(QuickReply(label="주차"),)),
            ImagePart(url="https://img.example.org/m.png", alt_text="약도"),
            DirectivePart(
                name="navigation.set_destination", payload={"to": "강남점"}, text="길 안내"
            ),
            HandoffPart(text="상담원을 연결할게요.", reason="asked"),
        ),
        route="test",
    )

    def test_rest_messages(self) -> None:
        messages = rasa.render_rest(self.reply, "u1")
        assert [m.get("text") for m in messages] == [
            "안내해 드릴게요.",
            "강남점\n테헤란로 1\n지도: https://map.example.org",
            "더 궁금한 점?",
            "약도",
            "길 안내",
            "상담원을 연결할게요.",
        ]
        assert messages[1]["buttons"] == [{"title": "전화", "payload": "전화"}]
        assert messages[1]["attachment"] == CARD_TEMPLATE
        assert messages[3]["image"] == "https://img.example.org/m.png"
        assert messages[4]["custom"] == {
            "type": "directive",
            "name": "navigation.set_destination",
            "payload": {"to": "강남점"},
        }
        assert messages[5]["custom"] == {"type": "handoff", "reason": "asked"}
        assert all(m["recipient_id"] == "u1" for m in messages)

    def test_socketio_events(self) -> None:
        events = rasa.render_socketio(self.reply)
        assert events[0] == {"text": "안내해 드릴게요."}
        assert events[1] == {"attachment": CARD_TEMPLATE}
        assert events[2] == {
            "text": "더 궁금한 점?",
            "quick_replies": [{"content_type": "text", "title": "주차", "payload": "주차"}],
        }
        assert events[3] == {
            "attachment": {
                "type": "image",
                "payload": {"src": "https://img.example.org/m.png", "title": "약도"},
            }
        }
        assert events[4:] == [{"text": "길 안내"}, {"text": "상담원을 연결할게요."}]

    def test_speech_alone_is_said_as_text(self) -> None:
        reply = Reply(parts=(SpeechPart(text="네"),), route="r")
        assert rasa.render_rest(reply, "u") == [{"recipient_id": "u", "text": "네"}]
        assert rasa.render_socketio(reply) == [{"text": "네"}]

    def test_neighbouring_cards_are_one_carousel_on_socketio(self) -> None:
        reply = Reply(parts=(CardPart(title="A"), CardPart(title="B")), route="r")
        (event,) = rasa.render_socketio(reply)
        elements = event["attachment"]["payload"]["elements"]
        assert [e["title"] for e in elements] == ["A", "B"]
        assert len(rasa.render_rest(reply, "u")) == 2


def test_every_socketio_event_has_a_shape_rasa_webchat_reads() -> None:
    # rasa-webchat picks a renderer by an event's exact keys; any other shape is dropped
    shapes = {
        frozenset({"text"}),
        frozenset({"text", "quick_replies"}),
        frozenset({"attachment"}),
    }
    for event in rasa.render_socketio(TestRender.reply):
        assert frozenset(event) in shapes, event
        if "attachment" in event:
            assert event["attachment"]["type"] in ("image", "template")
