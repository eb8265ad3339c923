"""Outbound webhooks: registration, signing, retries with backoff, and redelivery after a
restart (deliveries are kept in the store)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from assistant.dialogue import Assistant
from assistant.types import Reply, TextPart, Utterance
from connectors.config import ConnectorConfig
from connectors.hub import Hub
from connectors.routes import mount_connectors
from connectors.targets import TargetPolicy
from connectors.webhook_store import DELIVERED, PENDING, WebhookStore
from connectors.webhooks import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookDispatcher,
    backoff,
    sign,
    verify_signature,
)

from .helpers import ADMIN, Receiver, make_assistant, served

#: The receivers of these tests listen on 127.0.0.1, which webhooks may reach only when allowed.
LOCAL = TargetPolicy.parse("127.0.0.0/8")
FAST = ConnectorConfig(
    webhook_retry_base_s=0.05, webhook_retry_max_s=0.2, webhook_poll_s=0.2, webhook_targets=LOCAL
)


def app_for(assistant: Assistant, config: ConnectorConfig = FAST) -> tuple[FastAPI, Hub]:
    app = FastAPI()
    app.state.assistant = assistant
    return app, mount_connectors(app, config)


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def eventually(check: Callable[[], Any], timeout_s: float = 10.0) -> Any:
    """The first truthy result of `check`, asked every 20 ms."""
    async with asyncio.timeout(timeout_s):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(0.02)


class TestSigning:
    def test_signature_is_hmac_sha256_over_timestamp_and_body(self) -> None:
        import hashlib
        import hmac

        body = b'{"a": 1}'
        headers = sign("key", body, timestamp=1700000000)
        expected = hmac.new(b"key", b"1700000000." + body, hashlib.sha256).hexdigest()
        assert headers == {TIMESTAMP_HEADER: "1700000000", SIGNATURE_HEADER: f"sha256={expected}"}

    def test_verification_refuses_tampering_and_old_timestamps(self) -> None:
        body = b'{"a": 1}'
        headers = sign("key", body, timestamp=1700000000)
        assert verify_signature("key", body, headers, now=1700000010)
        assert not verify_signature("key", b'{"a": 2}', headers, now=1700000010)
        assert not verify_signature("key", body, headers, now=1700000000 + 301)
        assert not verify_signature("key", body, {SIGNATURE_HEADER: "sha256=00"}, now=0)

    def test_backoff_doubles_up_to_the_cap(self) -> None:
        waits = [backoff(n, base_s=1.0, max_s=10.0, jitter=0.0) for n in range(1, 7)]
        assert waits == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
        assert 0.9 <= backoff(1, base_s=1.0, max_s=10.0) <= 1.1


class TestRegistration:
    async def test_register_list_inspect_and_remove(self, assistant: Assistant) -> None:
        app, hub = app_for(assistant)
        async with client(app) as c:
            r = await c.post(
                "/connectors/webhooks",
                json={"url": "https://crm.example.org/in", "channel": "kakao"},
            )
            assert r.status_code == 201
            hook = r.json()
            assert len(hook["secret"]) >= 32 and hook["channel"] == "kakao"
            listed = (await c.get("/connectors/webhooks")).json()
            assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
            deliveries = await c.get(f"/connectors/webhooks/{hook['id']}/deliveries")
            assert deliveries.json() == []
            assert (await c.delete(f"/connectors/webhooks/{hook['id']}")).status_code == 204
            assert (await c.delete(f"/connectors/webhooks/{hook['id']}")).status_code == 404
        await hub.aclose()

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({}, "url"),
            ({"url": "ftp://x.example.org"}, "url"),
            ({"url": "/relative"}, "url"),
            ({"url": "https://x.example.org", "secret": "short"}, "secret"),
            ({"url": "https://x.example.org", "color": "red"}, "color"),
        ],
    )
    async def test_bad_registrations_name_the_field(
        self, assistant: Assistant, body: dict[str, Any], field: str
    ) -> None:
        app, hub = app_for(assistant)
        async with client(app) as c:
            r = await c.post("/connectors/webhooks", json=body)
        await hub.aclose()
        assert r.status_code == 400
        assert r.json()["error"]["fields"][0]["field"] == field


async def test_managing_webhooks_needs_an_admin_key_on_the_server(tmp_path: Path) -> None:
    from assistant.server import create_app
    from assistant.settings import Settings

    assistant = await make_assistant(tmp_path)
    app = create_app(Settings(admin_api_key="admin-key-for-tests"), assistant=assistant)
    body = {"url": "https://crm.example.org/in"}
    async with client(app) as c:
        anonymous = await c.post("/connectors/webhooks", json=body)
        listing = await c.get("/connectors/webhooks")
        wrong = await c.post(
            "/connectors/webhooks", json=body, headers={"Authorization": "Bearer nope"}
        )
        admin = await c.post(
            "/connectors/webhooks",
            json=body,
            headers={"Authorization": "Bearer admin-key-for-tests"},
        )
    await app.state.connectors.aclose()
    await assistant.close()
    assert anonymous.status_code == listing.status_code == wrong.status_code == 401
    assert anonymous.json()["error"]["fields"][0]["field"] == "Authorization"
    assert admin.status_code == 201


class TestDelivery:
    async def test_replies_of_the_channel_are_posted_signed(
        self, assistant: Assistant, receiver: Receiver
    ) -> None:
        app, hub = app_for(assistant)
        async with client(app) as c:
            hook = (
                await c.post("/connectors/webhooks", json={"url": receiver.url, "channel": "rasa"})
            ).json()
            other = (
                await c.post(
                    "/connectors/webhooks", json={"url": receiver.url, "session_id": "nobody"}
                )
            ).json()
            await c.post("/webhooks/rest/webhook", json={"sender": "u1", "message": "영업시간"})
            (posted,) = await receiver.wait_for(1)
            # the receiver's 2xx is recorded after it answered: the listing catches up
            delivered = await eventually(
                lambda: _json(
                    c.get(
                        f"/connectors/webhooks/{hook['id']}/deliveries",
                        params={"status": DELIVERED},
                    )
                )
            )
            listed = (await c.get(f"/connectors/webhooks/{hook['id']}/deliveries")).json()
            not_for_it = await c.get(f"/connectors/webhooks/{other['id']}/deliveries")
        await hub.aclose()
        assert verify_signature(hook["secret"], posted.body, posted.headers)
        body = posted.json()
        assert body["event"] == "reply" and body["session_id"] == "rasa:u1"
        assert body["channel"] == "rasa" and body["user"] == {"text": "영업시간"}
        assert body["text"].startswith("평일 오전 9시부터")
        assert body["reply"]["route"] == "faq:영업시간"
        assert posted.headers[DELIVERY_HEADER] == body["delivery_id"]
        assert [d["status"] for d in listed] == [DELIVERED] and len(delivered) == 1
        assert not_for_it.json() == []

    async def test_a_message_answered_to_the_webhooks_only(
        self, assistant: Assistant, receiver: Receiver
    ) -> None:
        app, hub = app_for(assistant)
        async with client(app) as c:
            await c.post("/connectors/webhooks", json={"url": receiver.url, "session_id": "s9"})
            r = await c.post(
                "/connectors/webhooks/messages", json={"session_id": "s9", "text": "매장"}
            )
            bad = await c.post("/connectors/webhooks/messages", json={"session_id": "s9"})
            (posted,) = await receiver.wait_for(1)
        await hub.aclose()
        assert r.status_code == 202 and len(r.json()["deliveries"]) == 1
        assert posted.json()["reply"]["parts"][0]["type"] == "card"
        assert bad.status_code == 400 and bad.json()["error"]["fields"][0]["field"] == "text"

    async def test_failed_attempts_are_retried_with_backoff(
        self, assistant: Assistant, receiver: Receiver
    ) -> None:
        receiver.statuses = [500, 503]
        app, hub = app_for(assistant)
        async with client(app) as c:
            hook = (await c.post("/connectors/webhooks", json={"url": receiver.url})).json()
            await c.post("/webhooks/rest/webhook", json={"sender": "u2", "message": "영업시간"})
            attempts = await receiver.wait_for(3)
            store = hub.webhooks.store
            (delivery,) = await eventually(lambda: store.deliveries(hook["id"], status=DELIVERED))
        await hub.aclose()
        assert len({a.body for a in attempts}) == 1  # the same delivery each time
        assert len({a.headers[DELIVERY_HEADER] for a in attempts}) == 1
        assert all(verify_signature(hook["secret"], a.body, a.headers) for a in attempts)
        assert delivery.attempts == 3 and delivery.status == DELIVERED

    async def test_pending_deliveries_survive_a_restart(
        self, tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("ASSISTANT_WEBHOOK_RETRY_BASE", "0.05")
        monkeypatch.setenv("ASSISTANT_WEBHOOK_RETRY_MAX", "0.2")
        monkeypatch.setenv("ASSISTANT_WEBHOOK_MAX_ATTEMPTS", "1000")
        monkeypatch.setenv("ASSISTANT_WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8")
        receiver.statuses = [503] * 1000  # the target is down during the first run
        async with served(tmp_path) as base, httpx.AsyncClient(base_url=base, headers=ADMIN) as c:
            hook = (await c.post("/connectors/webhooks", json={"url": receiver.url})).json()
            await c.post("/webhooks/rest/webhook", json={"sender": "u3", "message": "영업시간"})
            await receiver.wait_for(2)
            pending = (await c.get(f"/connectors/webhooks/{hook['id']}/deliveries")).json()
        assert [d["status"] for d in pending] == [PENDING]
        down = len(receiver.received)

        receiver.statuses = []  # up again; a new server (and hub) on the same database
        async with served(tmp_path) as base:
            posted = (await receiver.wait_for(down + 1))[-1]
            async with httpx.AsyncClient(base_url=base, headers=ADMIN) as c:
                deliveries = f"/connectors/webhooks/{hook['id']}/deliveries"
                (delivered,) = await eventually(
                    lambda: _json(c.get(deliveries, params={"status": DELIVERED}))
                )
        assert verify_signature(hook["secret"], posted.body, posted.headers)
        assert json.loads(posted.body)["user"] == {"text": "영업시간"}
        # an attempt cut short by the stop reached the receiver but was not counted
        assert 3 <= delivered["attempts"] <= len(receiver.received)


async def _json(request: Any) -> Any:
    return (await request).json()


async def _attempted(store: WebhookStore, webhook_id: str, *, at_least: int) -> bool:
    (delivery,) = await store.deliveries(webhook_id)
    return delivery.status == PENDING and delivery.attempts >= at_least


async def test_a_delivery_cut_short_by_a_stop_is_due_again_at_once(assistant: Assistant) -> None:
    entered = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        entered.set()
        await asyncio.Event().wait()  # never answers
        raise AssertionError("unreachable")

    async with httpx.AsyncClient(transport=httpx.MockTransport(hang)) as http:
        store = WebhookStore(assistant.store.engine)
        dispatcher = WebhookDispatcher(store=store, client=http, timeout_s=60)
        dispatcher.start()
        hook = await store.register(url="http://127.0.0.1:9/hook")
        await dispatcher.publish(
            Utterance(text="질문", session_id="s1"), Reply(parts=(TextPart(text="답"),), route="r")
        )
        await asyncio.wait_for(entered.wait(), 5)
        (claimed,) = await store.deliveries(hook.id)
        assert claimed.next_attempt_at > dispatcher.clock() + 100  # leased while in flight
        await dispatcher.stop()
    (released,) = await store.deliveries(hook.id)
    assert released.status == PENDING and released.next_attempt_at <= dispatcher.clock()
