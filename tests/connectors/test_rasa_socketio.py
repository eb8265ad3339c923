"""The socket.io channel: a real python-socketio client against a real uvicorn server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio  # type: ignore[import-untyped]

from .helpers import serving


class Conversation:
    """A socket.io client that queues what the server emits, by event."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.events: dict[str, asyncio.Queue[Any]] = {
            name: asyncio.Queue() for name in ("session_confirm", "bot_uttered", "error")
        }
        for name, queue in self.events.items():
            self.client.on(name, self._put(queue))

    @staticmethod
    def _put(queue: asyncio.Queue[Any]) -> Any:
        async def handler(data: Any = None) -> None:
            await queue.put(data)

        return handler

    async def next(self, event: str, timeout_s: float = 10.0) -> Any:
        return await asyncio.wait_for(self.events[event].get(), timeout_s)

    async def say(self, data: Any) -> None:
        await self.client.emit("user_uttered", data)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with serving(tmp_path) as base:
        yield base


@pytest.fixture
async def talk(server: str) -> AsyncIterator[Conversation]:
    # WebSocket: python-socketio's polling client needs up to a ping interval to disconnect.
    # Polling is what a browser starts with; the web chat test covers it.
    conversation = Conversation()
    await conversation.client.connect(server, transports=["websocket"], wait_timeout=10)
    yield conversation
    await conversation.client.disconnect()


async def test_a_conversation(talk: Conversation) -> None:
    await talk.client.emit("session_request", {"session_id": None})
    session_id = await talk.next("session_confirm")
    assert isinstance(session_id, str) and len(session_id) == 32

    await talk.say({"message": "영업시간 알려줘", "session_id": session_id, "customData": {}})
    answer = await talk.next("bot_uttered")
    assert answer == {
        "text": "평일 오전 9시부터 오후 6시까지 운영합니다.",
        "quick_replies": [
            {"content_type": "text", "title": "상담원 연결", "payload": "상담원 연결"},
            {"content_type": "text", "title": "주말 영업", "payload": "주말에도 해요?"},
        ],
    }
    await talk.say({"message": "매장 어디 있어요?", "session_id": session_id})
    card = await talk.next("bot_uttered")
    (element,) = card["attachment"]["payload"]["elements"]
    assert element["title"] == "강남점" and element["subtitle"] == "서울 강남구 테헤란로 1"


async def test_the_session_id_sent_is_kept(talk: Conversation) -> None:
    await talk.client.emit("session_request", {"session_id": "web-user-7"})
    assert await talk.next("session_confirm") == "web-user-7"
    await talk.say({"message": "영업시간"})  # no session id: the confirmed one
    assert (await talk.next("bot_uttered"))["text"].startswith("평일")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"session_id": "x"}, "message"),
        ({"message": 42}, "message"),
        ("just a string", "body"),
        ({"message": "   "}, "message"),
        ({"message": "hi", "session_id": ""}, "session_id"),
    ],
)
async def test_an_invalid_message_gets_an_error_event_and_the_connection_stays(
    talk: Conversation, data: Any, field: str
) -> None:
    await talk.client.emit("session_request", {})
    await talk.next("session_confirm")
    await talk.say(data)
    error = await talk.next("error")
    assert error["fields"][0]["field"] == field
    assert error["message"].startswith(field + ":")
    assert talk.client.connected
    await talk.say({"message": "영업시간"})
    assert (await talk.next("bot_uttered"))["text"].startswith("평일")
