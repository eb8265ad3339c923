"""Hostile input on every endpoint gets a 4xx in the documented error format, never a 500:
unpaired surrogates, nesting deeper than the parser's recursion, integers of thousands of
digits, NaN, the wrong content type, and a turn number past the store's integers."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.dialogue import Assistant
from assistant.server import create_app
from assistant.settings import Settings

ADMIN = "an-admin-key-for-tests"

#: Every endpoint that reads a JSON body, with a body it would accept.
ENDPOINTS: dict[str, dict[str, Any]] = {
    "/v1/chat": {"session_id": "u1", "text": "안녕"},
    "/v1/feedback": {"session_id": "u1", "turn": 1, "rating": "up"},
    "/connectors/kakao/skill": {"userRequest": {"utterance": "안녕", "user": {"id": "u1"}}},
    "/connectors/car/turns": {
        "session_id": "c1", "hypotheses": [{"text": "안녕"}], "vehicle": {"state": "parked"}
    },
    "/connectors/mobile/devices": {
        "device_id": "d1", "platform": "ios", "locale": "ko-KR", "timezone": "Asia/Seoul"
    },
    "/connectors/mobile/messages": {"device_id": "d1", "text": "안녕"},
    "/webhooks/rest/webhook": {"sender": "u1", "message": "안녕"},
    "/connectors/webhooks/messages": {"session_id": "u1", "text": "안녕"},
    "/connectors/webhooks": {"url": "https://example.com/hook"},
    "/v1/admin/faq/entries": {"id": "x", "question": "q", "answer": "a"},
}  # fmt: skip


def deep(levels: int) -> str:
    return '{"a": ' * levels + "1" + "}" * levels


def hostile_bodies(body: dict[str, Any]) -> dict[str, str]:
    """The attacks on one endpoint's body, as raw JSON text."""
    text_field = next((k for k in ("text", "message", "url", "question") if k in body), None)
    surrogate = dict(body)
    if text_field:
        surrogate[text_field] = "SURROGATE"
    else:
        surrogate["comment"] = "SURROGATE"
    return {
        "surrogate": json.dumps(surrogate).replace("SURROGATE", "\\ud800"),
        "surrogate in a key": json.dumps({**body, "SURROGATE": 1}).replace("SURROGATE", "\\udc00"),
        "deep nesting": "[" * 10_000 + "]" * 10_000,  # 20 KB: under the body limit
        "nesting past the limit": json.dumps({**body, "extra": json.loads(deep(100))}),
        "huge integer": json.dumps(body)[:-1] + ', "n": ' + "9" * 5000 + "}",
        "NaN": json.dumps(body)[:-1] + ', "n": NaN}',
        "infinity": json.dumps(body)[:-1] + ', "n": 1e999}',
    }


@pytest.fixture
async def client(assistant: Assistant) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(admin_api_key=ADMIN), assistant=assistant)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"authorization": f"Bearer {ADMIN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as c:
        yield c
    await app.state.connectors.aclose()


def assert_refused_in_format(r: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert r.status_code in statuses, (r.status_code, r.text[:300])
    error = r.json()["error"]
    assert set(error) == {"code", "message", "fields"} and error["fields"], error
    assert all(set(f) == {"field", "problem"} for f in error["fields"])
    return dict(error)


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
async def test_hostile_json_is_refused_with_400_on_every_endpoint(
    client: httpx.AsyncClient, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    for attack, raw in hostile_bodies(ENDPOINTS[path]).items():
        for content_type in ("application/json", "text/plain"):
            r = await client.post(path, content=raw, headers={"content-type": content_type})
            assert r.status_code < 500, (path, attack, content_type, r.status_code, r.text)
            if content_type == "application/json":
                assert_refused_in_format(r, 400)
            else:  # read as JSON by the channels, refused by name by the core API
                assert_refused_in_format(r, 400, 404, 415)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [
        r.getMessage() for r in caplog.records
    ]


async def test_a_surrogate_in_the_text_stores_nothing(
    client: httpx.AsyncClient, assistant: Assistant
) -> None:
    raw = '{"session_id": "u9", "text": "\\ud800 안녕"}'
    r = await client.post("/v1/chat", content=raw, headers={"content-type": "application/json"})
    error = assert_refused_in_format(r, 400)
    assert "surrogate" in error["message"]
    assert await assistant.store.get_session("u9") is None


async def test_the_core_api_refuses_the_wrong_content_type_by_name(
    client: httpx.AsyncClient,
) -> None:
    body = json.dumps(ENDPOINTS["/v1/chat"])
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"content-type": content_type} if content_type else {}
        r = await client.post("/v1/chat", content=body, headers=headers)
        error = assert_refused_in_format(r, 415)
        assert error["fields"][0]["field"] == "content-type"


async def test_body_parsing_errors_and_unknown_routes_use_the_error_format(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post(
        "/v1/chat", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert assert_refused_in_format(r, 400)["code"] == "malformed_json"
    assert (
        assert_refused_in_format(await client.get("/v1/no-such-thing"), 404)["code"] == "not_found"
    )
    r = await client.put("/v1/chat", json=ENDPOINTS["/v1/chat"])
    assert assert_refused_in_format(r, 405)["code"] == "method_not_allowed"


async def test_a_huge_turn_number_is_refused_not_a_500(client: httpx.AsyncClient) -> None:
    await client.post("/v1/chat", json={"session_id": "u1", "text": "안녕"})
    for turn in (2**31, 10**18, 10**25):
        r = await client.post(
            "/v1/feedback", json={"session_id": "u1", "turn": turn, "rating": "down"}
        )
        assert assert_refused_in_format(r, 422)["fields"][0]["field"] == "turn"
    r = await client.get("/connectors/mobile/devices/d1/messages", params={"after": 10**20})
    assert r.status_code in (404, 422), r.text


async def test_hostile_json_on_the_sockets_gets_an_error_event(assistant: Assistant) -> None:
    """The car's voice WebSocket and the mobile WebSocket read JSON the same way."""
    from starlette.testclient import TestClient

    app = create_app(Settings(), assistant=assistant)
    attacks = [
        "[" * 10_000 + "]" * 10_000,
        '{"type": "start", "n": ' + "9" * 5000 + "}",
        '{"type": "turn", "hypotheses": [{"text": "\\ud800"}]}',
    ]
    with TestClient(app) as http, http.websocket_connect("/connectors/car/voice") as ws:
        ws.send_json({"type": "start", "session_id": "v1", "vehicle": {"state": "parked"}})
        assert ws.receive_json()["type"] == "ready"
        for raw in attacks:
            ws.send_text(raw)
            event = ws.receive_json()
            assert event["type"] == "error" and event["error"]["code"] == "invalid_payload", event
        ws.send_json({"type": "turn", "hypotheses": [{"text": "영업시간"}]})
        assert ws.receive_json()["type"] == "thinking"  # the session goes on
        assert ws.receive_json()["type"] == "reply"


async def test_hostile_json_over_socketio_gets_an_error_event(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A real socket.io client sending packets python-socketio's own JSON reader would choke
    on: an `error` event back, no traceback, and the connection goes on."""
    import socketio  # type: ignore[import-untyped]

    from tests.connectors.helpers import make_assistant, serving_app

    async def build() -> Assistant:
        return await make_assistant(tmp_path)

    errors: list[Any] = []
    said: list[Any] = []
    client = socketio.AsyncClient(reconnection=False)
    client.on("error", errors.append)
    client.on("bot_uttered", said.append)
    with serving_app(build, Settings(), start_s=30) as base:
        await client.connect(base, socketio_path="socket.io")
        try:
            await client.emit("session_request", {"session_id": "s-hostile"})
            eio = client.eio
            for packet in (
                '42["user_uttered",' + "[" * 5000 + "]" * 5000 + "]",
                '42["user_uttered",{"message":"\\ud800"}]',
                '42["user_uttered",{"message":"hi","n":' + "9" * 5000 + "}]",
            ):
                await eio.send(packet)
            for _ in range(50):
                if len(errors) >= 3:
                    break
                await client.sleep(0.1)
            await client.emit("user_uttered", {"message": "영업시간"})
            for _ in range(50):
                if said:
                    break
                await client.sleep(0.1)
        finally:
            await client.disconnect()
    assert len(errors) == 3 and all(e["code"] == "invalid_payload" for e in errors), errors
    assert said  # still answering
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
