"""Mobile apps: device registration, rich replies, a real HTTP client reading the event
stream, a real WebSocket client, and replies pushed through the outbound webhook when the app
went away mid-turn."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

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
from connectors import mobile
from connectors.webhooks import verify_signature

from .helpers import ADMIN, Receiver, ReplySkill, demo_skills, make_assistant, served

DEVICE = {
    "device_id": "iphone-7f3a",
    "platform": "ios",
    "locale": "ko-KR",
    "timezone": "Asia/Seoul",
    "push": {"provider": "apns", "token": "apns-token-1"},
    "app_version": "2.4.0",
}


def mobile_skills() -> list[ReplySkill]:
    booking = ReplySkill(
        "rich",
        "예약",
        [
            TextPart(text="가까운 서비스센터 두 곳이에요."),
            CardPart(
                title="강남 서비스센터",
                description="2.1km · 오늘 14시 예약 가능",
                image_url="https://img.example.org/gangnam.jpg",
                buttons=(
                    Button(label="앱에서 예약", url="hanbit://service/booking?center=gangnam"),
                    Button(label="전화", url="tel:0215880000"),
                ),
            ),
            CardPart(
                title="서초 서비스센터",
                description="3.4km",
                buttons=(Button(label="길찾기", url="https://map.example.org/seocho"),),
            ),
            ImagePart(url="https://img.example.org/map.png", alt_text="지도"),
            QuickRepliesPart(options=(QuickReply(label="다른 날짜"), QuickReply(label="취소"))),
        ],
    )
    return [*demo_skills(), booking]


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    assistant = await make_assistant(tmp_path, mobile_skills())
    app = create_app(Settings(), assistant=assistant)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        yield c
    await app.state.connectors.aclose()
    await assistant.close()


async def enroll(client: httpx.AsyncClient, device: dict[str, Any] = DEVICE) -> str:
    """Register `device` and send its device token with the client's later requests."""
    r = await client.post("/connectors/mobile/devices", json=device)
    assert r.status_code == 201, r.text
    token = str(r.json()["device_token"])
    client.headers[mobile.DEVICE_TOKEN_HEADER] = token
    return token


class TestRegistration:
    async def test_register_update_read_and_remove(self, client: httpx.AsyncClient) -> None:
        r = await client.post("/connectors/mobile/devices", json=DEVICE)
        assert r.status_code == 201, r.text
        device = r.json()
        assert device["session_id"] == "mobile:iphone-7f3a"
        assert device["device_token"].startswith("dt_")  # shown once, sent from now on
        client.headers[mobile.DEVICE_TOKEN_HEADER] = device["device_token"]
        assert device["push"] == {"provider": "apns", "token": "apns-token-1"}
        assert (device["platform"], device["locale"], device["timezone"]) == (
            "ios",
            "ko-KR",
            "Asia/Seoul",
        )
        # a new token after a reinstall: the same device, updated
        changed = {
            **DEVICE,
            "push": {"provider": "apns", "token": "apns-token-2"},
            "locale": "en-US",
        }
        r = await client.post("/connectors/mobile/devices", json=changed)
        assert r.status_code == 200 and r.json()["push"]["token"] == "apns-token-2"
        assert "device_token" not in r.json()
        got = (await client.get("/connectors/mobile/devices/iphone-7f3a")).json()
        assert got["locale"] == "en-US" and got["created_at"] == device["created_at"]
        assert (await client.delete("/connectors/mobile/devices/iphone-7f3a")).status_code == 204
        assert (await client.get("/connectors/mobile/devices/iphone-7f3a")).status_code == 404
        assert (await client.delete("/connectors/mobile/devices/iphone-7f3a")).status_code == 404

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"timezone": "Mars/Olympus"}, "timezone"),
            ({"platform": "symbian"}, "platform"),
            ({"locale": "한국어"}, "locale"),
            ({"device_id": "a b/c"}, "device_id"),
            ({"push": {"provider": "pager", "token": "x"}}, "push.provider"),
            ({"push": {"provider": "fcm", "token": ""}}, "push.token"),
            ({"colour": "blue"}, "colour"),
        ],
    )
    async def test_a_bad_registration_names_the_field(
        self, client: httpx.AsyncClient, change: dict[str, Any], field: str
    ) -> None:
        r = await client.post("/connectors/mobile/devices", json={**DEVICE, **change})
        assert r.status_code == 400
        assert r.json()["error"]["fields"][0]["field"] == field
        assert (
            await client.get(f"/connectors/mobile/devices/{DEVICE['device_id']}")
        ).status_code == 404

    async def test_a_device_without_push_is_fine(self, client: httpx.AsyncClient) -> None:
        body = {k: v for k, v in DEVICE.items() if k != "push"}
        r = await client.post("/connectors/mobile/devices", json=body)
        assert r.status_code == 201 and r.json()["push"] is None


class TestMessages:
    async def test_rich_reply(self, client: httpx.AsyncClient) -> None:
        await enroll(client)
        r = await client.post(
            "/connectors/mobile/messages",
            json={"device_id": "iphone-7f3a", "text": "정비 예약하고 싶어", "message_id": "m-1"},
        )
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["session_id"] == "mobile:iphone-7f3a" and answer["message_id"] == "m-1"
        kinds = [m["type"] for m in answer["messages"]]
        assert kinds == ["text", "carousel", "image", "quick_replies"]
        first, second = answer["messages"][1]["cards"]
        assert first["image_url"] == "https://img.example.org/gangnam.jpg"
        assert first["buttons"] == [
            {
                "label": "앱에서 예약",
                "action": "deep_link",
                "value": "hanbit://service/booking?center=gangnam",
            },
            {"label": "전화", "action": "call", "value": "tel:0215880000"},
        ]
        assert second["buttons"][0]["action"] == "open_url"
        assert answer["messages"][3]["options"] == [
            {"label": "다른 날짜", "text": "다른 날짜"},
            {"label": "취소", "text": "취소"},
        ]

    async def test_the_device_locale_and_timezone_reach_the_core(self, tmp_path: Path) -> None:
        skill = ReplySkill("faq", "", [TextPart(text="네")])
        assistant = await make_assistant(tmp_path, [skill])
        app = create_app(Settings(), assistant=assistant)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as c:
            await enroll(c)
            await c.post(
                "/connectors/mobile/messages", json={"device_id": "iphone-7f3a", "text": "hello"}
            )
        await app.state.connectors.aclose()
        await assistant.close()
        (seen,) = skill.seen
        assert seen.locale == "ko"  # the device's, though the text is English
        assert seen.utterance.device.timezone == "Asia/Seoul"
        assert seen.utterance.metadata["mobile"] == {
            "device_id": "iphone-7f3a",
            "platform": "ios",
            "app_version": "2.4.0",
        }

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"device_id": "nobody", "text": "안녕"}, "device_id"),
            ({"device_id": "iphone-7f3a", "text": "   "}, "text"),
            ({"device_id": "iphone-7f3a"}, "text"),
        ],
    )
    async def test_a_bad_message_names_the_field(
        self, client: httpx.AsyncClient, body: dict[str, Any], field: str
    ) -> None:
        await enroll(client)
        for path in ("/connectors/mobile/messages", "/connectors/mobile/messages/stream"):
            r = await client.post(path, json=body)
            assert r.status_code == 400, (path, r.text)
            assert r.json()["error"]["fields"][0]["field"] == field

    async def test_history_shows_what_was_missed(self, client: httpx.AsyncClient) -> None:
        await enroll(client)
        for text in ("영업시간", "매장 어디"):
            await client.post(
                "/connectors/mobile/messages", json={"device_id": "iphone-7f3a", "text": text}
            )
        missed = (
            await client.get("/connectors/mobile/devices/iphone-7f3a/messages?after=1")
        ).json()
        assert [(m["turn"], m["text"]) for m in missed] == [(2, "매장 어디")]
        assert missed[0]["messages"][0]["type"] == "card"


def test_render_every_part() -> None:
    reply = Reply(
        parts=(
            TextPart(text="안내를 시작할게요."),
            SpeechPart(text="안내를 시작할게요."),
            DirectivePart(
                name="navigation.set_destination", payload={"name": "강남역"}, text="강남역 안내"
            ),
            CardPart(title="하나", buttons=(Button(label="연락", payload={"phone": "1588-0000"}),)),
            HandoffPart(text="상담원을 연결할게요.", reason="fallback"),
        ),
        route="task:navigate",
    )
    assert mobile.render(reply) == [
        {"type": "text", "text": "안내를 시작할게요."},
        {
            "type": "action",
            "name": "navigation.set_destination",
            "payload": {"name": "강남역"},
            "text": "강남역 안내",
        },
        {
            "type": "card",
            "title": "하나",
            "description": "",
            "image_url": None,
            "buttons": [{"label": "연락", "action": "call", "value": "tel:1588-0000"}],
        },
        {"type": "handoff", "text": "상담원을 연결할게요.", "reason": "fallback"},
    ]
    spoken = Reply(parts=(SpeechPart(text="말로만"),), route="smalltalk")
    assert mobile.render(spoken) == [{"type": "text", "text": "말로만"}]


# --- a real server: the event stream, the WebSocket, and push ---------------------------------


async def read_events(response: httpx.Response) -> AsyncIterator[tuple[str, Any, float]]:
    """(event, data, arrival time) of a server-sent event stream, as a client parses it."""
    event, data = "message", []
    async for line in response.aiter_lines():
        if line == "":
            if data:
                yield event, json.loads("\n".join(data)), time.monotonic()
            event, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)


async def register(base: str, device: dict[str, Any] = DEVICE) -> dict[str, str]:
    """Register `device` on the server; the header with its device token."""
    async with httpx.AsyncClient(base_url=base) as http:
        r = await http.post("/connectors/mobile/devices", json=device)
        assert r.status_code == 201
        return {mobile.DEVICE_TOKEN_HEADER: r.json()["device_token"]}


async def push_webhook(base: str, url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, headers=ADMIN) as http:
        r = await http.post("/connectors/webhooks", json={"url": url, "channel": "mobile.push"})
        assert r.status_code == 201
        return dict(r.json())


async def test_streaming_as_server_sent_events(tmp_path: Path) -> None:
    async with served(tmp_path, mobile_skills) as base:
        token = await register(base)
        started = time.monotonic()
        async with (
            httpx.AsyncClient(base_url=base, timeout=10, headers=token) as http,
            http.stream(
                "POST",
                "/connectors/mobile/messages/stream",
                json={"device_id": "iphone-7f3a", "text": "느리게 알려줘", "message_id": "m-9"},
            ) as response,
        ):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = [e async for e in read_events(response)]
        names = [e[0] for e in events]
        assert names == ["typing", "part", "done"]
        typing_at, part_at = events[0][2], events[1][2]
        assert (
            typing_at - started < 0.8 <= part_at - started
        )  # typing at once; the answer takes 1 s
        assert events[1][1] == {"type": "text", "text": "천천히 찾은 답이에요."}
        assert events[2][1]["route"] == "slow:느리게" and events[2][1]["message_id"] == "m-9"

        # several parts, in order
        async with (
            httpx.AsyncClient(base_url=base, timeout=10, headers=token) as http,
            http.stream(
                "POST",
                "/connectors/mobile/messages/stream",
                json={"device_id": "iphone-7f3a", "text": "정비 예약"},
            ) as response,
        ):
            events = [e async for e in read_events(response)]
        parts = [data["type"] for name, data, _ in events if name == "part"]
        assert parts == ["text", "carousel", "image", "quick_replies"]


async def test_a_websocket_conversation(tmp_path: Path) -> None:
    async with served(tmp_path, mobile_skills) as base:
        token = await register(base)
        url = (
            base.replace("http://", "ws://")
            + "/connectors/mobile/socket?device_id=iphone-7f3a"
            + f"&device_token={token[mobile.DEVICE_TOKEN_HEADER]}"
        )
        async with connect(url, open_timeout=10) as ws:

            async def receive() -> dict[str, Any]:
                return dict(json.loads(await asyncio.wait_for(ws.recv(), 10)))

            assert await receive() == {"type": "ready", "session_id": "mobile:iphone-7f3a"}
            await ws.send(json.dumps({"type": "message", "text": "영업시간 알려줘"}))
            assert await receive() == {"type": "typing"}
            text, quick = await receive(), await receive()
            assert text == {
                "type": "part",
                "part": {"type": "text", "text": "평일 오전 9시부터 오후 6시까지 운영합니다."},
            }
            assert quick["part"]["type"] == "quick_replies"
            done = await receive()
            assert done["type"] == "done" and done["route"] == "faq:영업시간"

            await ws.send(json.dumps({"type": "message", "text": " "}))
            assert (await receive())["error"]["fields"][0]["field"] == "text"
            await ws.send("nonsense")
            assert (await receive())["error"]["fields"][0]["field"] == "body"
            await ws.send(json.dumps({"type": "message", "text": "매장 어디예요"}))
            assert await receive() == {"type": "typing"}
            assert (await receive())["part"]["type"] == "card"
            assert (await receive())["type"] == "done"

        unknown = base.replace("http://", "ws://") + "/connectors/mobile/socket?device_id=nobody"
        async with connect(unknown, open_timeout=10) as ws:
            refused = json.loads(await ws.recv())
            assert (
                refused["type"] == "error" and refused["error"]["fields"][0]["field"] == "device_id"
            )


async def test_a_reply_the_app_did_not_receive_is_pushed(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_WEBHOOK_ALLOW_NETWORKS", "127.0.0.1/32")  # the receiver's
    async with served(tmp_path, mobile_skills) as base:
        token = await register(base)
        hook = await push_webhook(base, receiver.url)

        # the stream is closed by the app after the typing indicator, while the turn runs
        async with (
            httpx.AsyncClient(base_url=base, timeout=10, headers=token) as http,
            http.stream(
                "POST",
                "/connectors/mobile/messages/stream",
                json={"device_id": "iphone-7f3a", "text": "느리게 알려줘", "message_id": "m-away"},
            ) as response,
        ):
            async for event, _, _ in read_events(response):
                assert event == "typing"
                break
        (got,) = await receiver.wait_for(1)
        assert got.headers["X-Assistant-Event"] == "mobile.push"
        assert verify_signature(hook["secret"], got.body, got.headers)
        body = got.json()
        assert body["device"]["push"] == {"provider": "apns", "token": "apns-token-1"}
        assert body["device"]["device_id"] == "iphone-7f3a"
        assert body["messages"] == [{"type": "text", "text": "천천히 찾은 답이에요."}]
        assert body["session_id"] == "mobile:iphone-7f3a" and body["message_id"] == "m-away"

        # the same over the WebSocket: closed before the reply was ready
        url = (
            base.replace("http://", "ws://")
            + "/connectors/mobile/socket?device_id=iphone-7f3a"
            + f"&device_token={token[mobile.DEVICE_TOKEN_HEADER]}"
        )
        async with connect(url, open_timeout=10) as ws:
            await ws.recv()  # ready
            await ws.send(
                json.dumps({"type": "message", "text": "느리게 한 번 더", "message_id": "m-ws"})
            )
            assert json.loads(await ws.recv()) == {"type": "typing"}
        second = (await receiver.wait_for(2))[1].json()
        assert second["message_id"] == "m-ws" and second["event"] == "mobile.push"

        # a stream read to its end is not pushed: after another whole turn, still two
        async with (
            httpx.AsyncClient(base_url=base, timeout=10, headers=token) as http,
            http.stream(
                "POST",
                "/connectors/mobile/messages/stream",
                json={"device_id": "iphone-7f3a", "text": "영업시간"},
            ) as response,
        ):
            assert [e[0] async for e in read_events(response)][-1] == "done"
            r = await http.post(
                "/connectors/mobile/messages", json={"device_id": "iphone-7f3a", "text": "느리게"}
            )
            assert r.status_code == 200
            deliveries = (
                await http.get(f"/connectors/webhooks/{hook['id']}/deliveries", headers=ADMIN)
            ).json()
        assert len(deliveries) == 2
