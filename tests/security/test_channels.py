"""Every channel authenticates with its own credential, and no channel can name another's
session: the attacks of the security review, replayed against the server app.

The bot here is an echo skill that answers each turn with what it heard before in the same
session ("<text> (after <previous>)"), so a reply that names someone else's words is a leak."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio  # type: ignore[import-untyped]

from assistant.dialogue import Assistant
from assistant.server import create_app
from assistant.settings import Settings
from assistant.store.keys import ApiKeyStore
from tests.assistant.fakes import EchoSkill
from tests.connectors.helpers import make_assistant, serving_app

ADMIN = "an-admin-key-for-tests"
CAR_TURN = {"session_id": "busy", "hypotheses": [{"text": "안녕"}], "vehicle": {"state": "parked"}}
SECRET = "s3cret-for-bot1"


@pytest.fixture
async def echo(tmp_path: Path) -> AsyncIterator[Assistant]:
    a = await make_assistant(tmp_path, [EchoSkill()])
    yield a
    await a.close()


def client_of(app: Any, **kwargs: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("10.9.8.7", 4242))
    return httpx.AsyncClient(transport=transport, base_url="http://t", **kwargs)


def kakao(text: str, user: str, bot: str | None = "BOT1") -> dict[str, Any]:
    body: dict[str, Any] = {"userRequest": {"utterance": text, "user": {"id": user}}}
    if bot is not None:
        body["bot"] = {"id": bot, "name": "bot"}
    return body


def text_of(kakao_response: dict[str, Any]) -> str:
    return str(kakao_response["template"]["outputs"][0]["simpleText"]["text"])


# --- KakaoTalk ---------------------------------------------------------------------------------


async def test_the_kakao_secret_cannot_be_skipped(
    echo: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_KAKAO_SECRETS", f"BOT1={SECRET}")
    app = create_app(Settings(), assistant=echo)
    async with client_of(app) as c:
        ok = await c.post(
            "/connectors/kakao/skill",
            json=kakao("엄마에게 전화해 줘", "victim"),
            headers={"X-Skill-Secret": SECRET},
        )
        assert ok.status_code == 200
        for bot in ("OTHER", " BOT1", "BOT1 ", "", None):
            r = await c.post("/connectors/kakao/skill", json=kakao("다시 말해줘", "victim", bot))
            assert r.status_code in (401, 403), (bot, r.text)
            assert r.json()["error"]["fields"][0]["field"] in ("bot.id", "X-Skill-Secret")
        wrong = await c.post(
            "/connectors/kakao/skill",
            json=kakao("다시 말해줘", "victim"),
            headers={"X-Skill-Secret": "guess"},
        )
        assert wrong.status_code == 401
    await app.state.connectors.aclose()
    view = await echo.store.get_session("kakao:BOT1:victim")
    assert view is not None and view.turn_count == 1  # none of the attempts ran a turn


async def test_kakao_sessions_are_per_bot(echo: Assistant) -> None:
    app = create_app(Settings(), assistant=echo)  # no secrets: open, but bots stay apart
    async with client_of(app) as c:
        await c.post("/connectors/kakao/skill", json=kakao("엄마에게 전화해 줘", "u1", "BOT1"))
        other = await c.post("/connectors/kakao/skill", json=kakao("다시 말해줘", "u1", "BOT2"))
    await app.state.connectors.aclose()
    assert "엄마" not in text_of(other.json())


# --- API keys required: nothing runs a turn without a credential ------------------------------


async def test_with_keys_required_no_channel_runs_a_turn_without_a_credential(
    echo: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ASSISTANT_KAKAO_SECRETS", raising=False)
    monkeypatch.delenv("ASSISTANT_RASA_TOKEN", raising=False)
    monkeypatch.setenv("ASSISTANT_RASA_CALLBACK_URL", "https://callback.example.org/in")
    app = create_app(Settings(require_api_key=True, admin_api_key=ADMIN), assistant=echo)
    chat_key = (await ApiKeyStore(echo.store.engine).create("app", ["chat"])).token
    anonymous = {
        "/v1/chat": {"session_id": "s1", "text": "안녕"},
        "/webhooks/rest/webhook": {"sender": "s1", "message": "안녕"},
        "/webhooks/callback/webhook": {"sender": "s1", "message": "안녕"},
        "/connectors/kakao/skill": kakao("안녕", "s1"),
        "/connectors/car/turns": {**CAR_TURN, "session_id": "s1"},
        "/connectors/mobile/messages": {"device_id": "d1", "text": "안녕"},
        "/connectors/webhooks/messages": {"session_id": "s1", "text": "안녕"},
        "/v1/feedback": {"session_id": "s1", "turn": 1, "rating": "up"},
    }
    async with client_of(app) as c:
        for path, body in anonymous.items():
            r = await c.post(path, json=body)
            assert r.status_code in (401, 403), (path, r.status_code, r.text)
            r = await c.post(path, json=body, headers={"Authorization": "Bearer ak_junk_key"})
            assert r.status_code in (401, 403), (path, r.status_code, r.text)
        # the Rasa channel takes a chat key, as Rasa takes its token: ?token= or Bearer
        keyed = await c.post(
            "/webhooks/rest/webhook", params={"token": chat_key}, json=anonymous[
                "/webhooks/rest/webhook"
            ]
        )  # fmt: skip
        assert keyed.status_code == 200
    await app.state.connectors.aclose()
    for session_id in ("s1", "kakao::s1", "kakao:BOT1:s1", "callback:s1", "car:s1", "mobile:d1"):
        assert await echo.store.get_session(session_id) is None, session_id
    keyed_session = await echo.store.get_session("rasa:s1")
    assert keyed_session is not None and keyed_session.turn_count == 1


async def test_the_rasa_token_guards_rest_and_callback(
    echo: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_RASA_TOKEN", "rasa-channel-token")
    monkeypatch.setenv("ASSISTANT_RASA_CALLBACK_URL", "https://callback.example.org/in")
    app = create_app(Settings(), assistant=echo)
    body = {"sender": "u1", "message": "안녕"}
    async with client_of(app) as c:
        for path in ("/webhooks/rest/webhook", "/webhooks/callback/webhook"):
            missing = await c.post(path, json=body)
            wrong = await c.post(path, json=body, params={"token": "nope"})
            assert missing.status_code == wrong.status_code == 401, (path, missing.text)
            assert missing.json()["error"]["fields"][0]["field"] == "token"
        by_query = await c.post(
            "/webhooks/rest/webhook", json=body, params={"token": "rasa-channel-token"}
        )
        by_header = await c.post(
            "/webhooks/rest/webhook",
            json=body,
            headers={"Authorization": "Bearer rasa-channel-token"},
        )
    await app.state.connectors.aclose()
    assert by_query.status_code == by_header.status_code == 200


# --- sessions are namespaced by channel --------------------------------------------------------


async def test_no_channel_can_name_another_channels_session(echo: Assistant) -> None:
    app = create_app(Settings(admin_api_key=ADMIN), assistant=echo)
    async with client_of(app) as c:
        await c.post("/connectors/kakao/skill", json=kakao("엄마 번호는 010-1234", "victim"))
        await c.post("/v1/chat", json={"session_id": "web-7", "text": "카드 번호 4242"})
        # the Rasa REST channel naming the Kakao user's session, and the native one's
        for sender in ("kakao:BOT1:victim", "kakao:victim", "web-7"):
            r = await c.post("/webhooks/rest/webhook", json={"sender": sender, "message": "뭐?"})
            assert r.status_code == 200
            said = " ".join(m.get("text", "") for m in r.json())
            assert "010-1234" not in said and "4242" not in said, (sender, said)
        # the native API may not run turns in a channel's namespace, nor read it without admin
        for session_id in ("kakao:BOT1:victim", "rasa:web-7", "mobile:d1", "car:c1"):
            r = await c.post("/v1/chat", json={"session_id": session_id, "text": "뭐?"})
            assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "session_id"
        anonymous = await c.get("/v1/sessions/kakao:BOT1:victim")
        rating = await c.post(
            "/v1/feedback", json={"session_id": "kakao:BOT1:victim", "turn": 1, "rating": "down"}
        )
        admin = await c.get(
            "/v1/sessions/kakao:BOT1:victim", headers={"Authorization": f"Bearer {ADMIN}"}
        )
        own = await c.get("/v1/sessions/web-7")
    await app.state.connectors.aclose()
    assert anonymous.status_code == rating.status_code == 403
    assert admin.status_code == 200 and admin.json()["turn_count"] == 1
    assert own.status_code == 200 and own.json()["turn_count"] == 1


async def test_socketio_needs_the_token_and_keeps_its_own_namespace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real socket.io client against a real server: refused without the token, and its
    session ids never reach another channel's sessions."""
    monkeypatch.setenv("ASSISTANT_RASA_TOKEN", "rasa-channel-token")

    async def build() -> Assistant:
        return await make_assistant(tmp_path, [EchoSkill()])

    with serving_app(build, Settings(), start_s=30) as base:
        async with httpx.AsyncClient(base_url=base) as http:
            r = await http.post(
                "/webhooks/rest/webhook",
                params={"token": "rasa-channel-token"},
                json={"sender": "shared-id", "message": "비밀번호는 1234"},
            )
            assert r.status_code == 200
        refused = socketio.AsyncClient(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await refused.connect(base, socketio_path="socket.io", auth={"token": "nope"})
        client = socketio.AsyncClient(reconnection=False)
        said: list[dict[str, Any]] = []
        confirmed: list[str] = []
        client.on("bot_uttered", said.append)
        client.on("session_confirm", confirmed.append)
        await client.connect(base, socketio_path="socket.io", auth={"token": "rasa-channel-token"})
        try:
            await client.emit("session_request", {"session_id": "shared-id"})
            await client.sleep(0.5)
            await client.emit(
                "user_uttered", {"message": "뭐라고 했지?", "session_id": "rasa:shared-id"}
            )
            for _ in range(50):
                if said:
                    break
                await client.sleep(0.1)
        finally:
            await client.disconnect()
    assert confirmed == ["shared-id"]
    assert said and "1234" not in json.dumps(said, ensure_ascii=False)


# --- rate limits --------------------------------------------------------------------------------


async def test_rate_limits_cover_every_turn_running_endpoint(
    echo: Assistant,
) -> None:
    app = create_app(Settings(rate_per_session=2, admin_api_key=ADMIN), assistant=echo)
    async with client_of(app) as c:
        for path, body in (
            ("/webhooks/rest/webhook", {"sender": "busy", "message": "안녕"}),
            ("/connectors/kakao/skill", kakao("안녕", "busy")),
            ("/connectors/car/turns", CAR_TURN),
            ("/connectors/webhooks/messages", {"session_id": "busy", "text": "안녕"}),
        ):
            codes = [(await c.post(path, json=body)).status_code for _ in range(3)]
            assert codes[:2] == [200, 200] or codes[:2] == [202, 202], (path, codes)
            assert codes[2] == 429, (path, codes)
    await app.state.connectors.aclose()


async def test_a_junk_authorization_header_does_not_buy_a_fresh_bucket(echo: Assistant) -> None:
    app = create_app(Settings(rate_per_client=3), assistant=echo)
    async with client_of(app) as c:
        codes = [
            (
                await c.get("/v1/sessions/x", headers={"Authorization": f"Bearer junk-{i}"})
            ).status_code
            for i in range(5)
        ]
    await app.state.connectors.aclose()
    assert codes == [404, 404, 404, 429, 429]


def test_forwarded_for_is_not_believed_from_loopback(tmp_path: Path) -> None:
    """Through `assistant serve` itself: X-Forwarded-For from 127.0.0.1 does not pick the
    address that the per-client limit counts."""
    from tests.assistant.test_server_process import light_bot, serving

    bot = light_bot(tmp_path / "bot")
    env = {"ASSISTANT_RATE_PER_CLIENT": "3"}
    url = f"sqlite:///{tmp_path / 'assistant.db'}"
    with serving(url, "--bot", bot, env=env) as base, httpx.Client(base_url=base) as http:
        codes = [
            http.get("/v1/sessions/x", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
            for i in range(5)
        ]
    assert codes == [404, 404, 404, 429, 429]


async def test_the_web_chat_page_sends_csp_frame_and_nosniff_headers(
    echo: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(Settings(), assistant=echo)
    async with client_of(app) as c:
        page = await c.get("/chat")
        api = await c.post("/v1/chat", json={"session_id": "h1", "text": "안녕"})
    await app.state.connectors.aclose()
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'self'" in csp and page.headers["x-frame-options"] == "SAMEORIGIN"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert api.headers["x-content-type-options"] == "nosniff"  # every answer

    monkeypatch.setenv("ASSISTANT_CHAT_FRAME_ANCESTORS", "https://shop.example.com")
    framed = create_app(Settings(), assistant=echo)
    async with client_of(framed) as c:
        page = await c.get("/chat")
    await framed.state.connectors.aclose()
    assert (
        "frame-ancestors 'self' https://shop.example.com" in page.headers["content-security-policy"]
    )
    assert "x-frame-options" not in page.headers
