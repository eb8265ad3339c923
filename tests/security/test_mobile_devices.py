"""A mobile device belongs to the app install that registered it (its device token) and to the
API key it registered with: knowing a device id is not enough to take over its pushes or to
read its conversation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import update

from assistant.dialogue import Assistant
from assistant.server import create_app
from assistant.settings import Settings
from assistant.store.keys import ApiKeyStore
from connectors.device_store import DEVICES

ADMIN = "an-admin-key-for-tests"
DEVICE_TOKEN_HEADER = "X-Device-Token"  # connectors.mobile.DEVICE_TOKEN_HEADER
DEVICE = {
    "device_id": "iphone-victim",
    "platform": "ios",
    "locale": "ko-KR",
    "timezone": "Asia/Seoul",
    "push": {"provider": "apns", "token": "victims-push-token"},
}
ATTACKER = {**DEVICE, "push": {"provider": "apns", "token": "attackers-push-token"}}


def client_of(assistant: Assistant, **settings: Any) -> tuple[httpx.AsyncClient, Any]:
    app = create_app(Settings(admin_api_key=ADMIN, **settings), assistant=assistant)
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://t"), app


async def test_a_known_device_id_cannot_be_taken_over_or_read(assistant: Assistant) -> None:
    client, app = client_of(assistant)
    async with client as c:
        registered = await c.post("/connectors/mobile/devices", json=DEVICE)
        assert registered.status_code == 201
        mine = {DEVICE_TOKEN_HEADER: registered.json()["device_token"]}
        said = await c.post(
            "/connectors/mobile/messages",
            json={"device_id": "iphone-victim", "text": "영업시간 알려줘"},
            headers=mine,
        )
        assert said.status_code == 200

        # the attacker knows the id, not the token
        for headers in ({}, {DEVICE_TOKEN_HEADER: "dt_guess"}):
            takeover = await c.post("/connectors/mobile/devices", json=ATTACKER, headers=headers)
            assert takeover.status_code in (401, 403), takeover.text
            for method, path in (
                ("GET", "/connectors/mobile/devices/iphone-victim"),
                ("GET", "/connectors/mobile/devices/iphone-victim/messages"),
                ("DELETE", "/connectors/mobile/devices/iphone-victim"),
            ):
                r = await c.request(method, path, headers=headers)
                assert r.status_code in (401, 403), (method, path, r.text)
                assert "영업시간" not in r.text
            r = await c.post(
                "/connectors/mobile/messages",
                json={"device_id": "iphone-victim", "text": "다시 말해줘"},
                headers=headers,
            )
            assert r.status_code in (401, 403)

        device = (await c.get("/connectors/mobile/devices/iphone-victim", headers=mine)).json()
        history = await c.get("/connectors/mobile/devices/iphone-victim/messages", headers=mine)
    await app.state.connectors.aclose()
    assert device["push"]["token"] == "victims-push-token"  # not replaced
    assert [m["text"] for m in history.json()] == ["영업시간 알려줘"]


async def test_a_device_is_bound_to_the_key_that_registered_it(assistant: Assistant) -> None:
    keys = ApiKeyStore(assistant.store.engine)
    app_a = (await keys.create("app-a", ["chat"])).token
    app_b = (await keys.create("app-b", ["chat"])).token
    client, app = client_of(assistant, require_api_key=True)
    async with client as c:
        r = await c.post(
            "/connectors/mobile/devices", json=DEVICE, headers={"Authorization": f"Bearer {app_a}"}
        )
        token = r.json()["device_token"]
        as_b = {"Authorization": f"Bearer {app_b}", DEVICE_TOKEN_HEADER: token}
        as_a = {"Authorization": f"Bearer {app_a}", DEVICE_TOKEN_HEADER: token}
        refused = await c.get("/connectors/mobile/devices/iphone-victim/messages", headers=as_b)
        allowed = await c.get("/connectors/mobile/devices/iphone-victim/messages", headers=as_a)
        admin = await c.get(
            "/connectors/mobile/devices/iphone-victim",
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
    await app.state.connectors.aclose()
    assert refused.status_code == 403 and allowed.status_code == 200
    assert admin.status_code == 200  # the operator may look at any device


async def test_a_device_registered_before_device_tokens_gets_one_when_it_registers_again(
    assistant: Assistant,
) -> None:
    client, app = client_of(assistant)
    async with client as c:
        await c.post("/connectors/mobile/devices", json=DEVICE)
        async with assistant.store.engine.begin() as conn:  # as migration 0007 left old rows
            await conn.execute(update(DEVICES).values(token_sha256=None))
        without = await c.get("/connectors/mobile/devices/iphone-victim/messages")
        again = await c.post("/connectors/mobile/devices", json=DEVICE)
        token = again.json().get("device_token")
        later = await c.get(
            "/connectors/mobile/devices/iphone-victim/messages",
            headers={DEVICE_TOKEN_HEADER: token or ""},
        )
    await app.state.connectors.aclose()
    assert without.status_code == 401 and "register" in without.text
    assert again.status_code == 200 and token is not None and later.status_code == 200


@pytest.mark.parametrize("token", [None, "dt_wrong"])
async def test_the_mobile_websocket_needs_the_device_token(
    assistant: Assistant, token: str | None
) -> None:
    from starlette.testclient import TestClient

    app = create_app(Settings(), assistant=assistant)
    with TestClient(app) as http:
        registered = http.post("/connectors/mobile/devices", json=DEVICE)
        assert registered.status_code == 201
        url = "/connectors/mobile/socket?device_id=iphone-victim"
        if token:
            url += f"&device_token={token}"
        with http.websocket_connect(url) as ws:
            refused = ws.receive_json()
        good = f"{url.split('&')[0]}&device_token={registered.json()['device_token']}"
        with http.websocket_connect(good) as ws:
            ready = ws.receive_json()
    assert refused["type"] == "error"
    assert refused["error"]["fields"][0]["field"] == DEVICE_TOKEN_HEADER
    assert ready["type"] == "ready"
