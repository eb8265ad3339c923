"""Outbound webhooks cannot be pointed inside the operator's network: loopback, link-local (the
cloud metadata service), private and reserved targets are refused when registered, in every
spelling of an address, and again after DNS resolution at delivery; a refused delivery says
why, not how the target answered; failed deliveries end in the dead-letter list."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.dialogue import Assistant
from assistant.server import create_app
from assistant.settings import Settings
from connectors.webhook_store import WebhookStore
from connectors.webhooks import WebhookDispatcher
from tests.connectors.helpers import Receiver
from tests.connectors.test_webhooks import eventually

ADMIN = "an-admin-key-for-tests"
HEADERS = {"Authorization": f"Bearer {ADMIN}"}

INTERNAL = [
    "http://127.0.0.1:22/",
    "http://localhost:8000/v1/chat",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://10.0.0.1/",
    "http://192.168.1.1/admin",
    "http://172.16.0.5/",
    "http://100.64.0.1/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://127.1/",
    "http://0177.0.0.1/",
    "http://0.0.0.0/",
    "http://[fd00:ec2::254]/",
]


async def test_internal_targets_are_refused_when_registered(
    assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ASSISTANT_WEBHOOK_ALLOW_NETWORKS", raising=False)
    app = create_app(Settings(admin_api_key=ADMIN), assistant=assistant)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=HEADERS) as c:
        for url in INTERNAL:
            r = await c.post("/connectors/webhooks", json={"url": url})
            assert r.status_code == 400, (url, r.text)
            problem = r.json()["error"]["fields"][0]
            assert (
                problem["field"] == "url"
                and "ASSISTANT_WEBHOOK_ALLOW_NETWORKS" in problem["problem"]
            ), problem
        assert (await c.get("/connectors/webhooks")).json() == []
        # a public name that does not resolve here is checked again at each delivery
        ok = await c.post("/connectors/webhooks", json={"url": "https://crm.example.org/in"})
        assert ok.status_code == 201
    await app.state.connectors.aclose()


async def test_the_operator_may_allow_a_network(
    assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_WEBHOOK_ALLOW_NETWORKS", "10.0.0.0/8")
    app = create_app(Settings(admin_api_key=ADMIN), assistant=assistant)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=HEADERS) as c:
        allowed = await c.post("/connectors/webhooks", json={"url": "http://10.0.0.1/hook"})
        loopback = await c.post("/connectors/webhooks", json={"url": "http://127.0.0.1/hook"})
    await app.state.connectors.aclose()
    assert allowed.status_code == 201 and loopback.status_code == 400


async def test_a_name_that_resolves_inside_is_refused_at_delivery(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    """DNS rebinding: a name that looked public when the webhook was registered resolves to
    the loopback interface when the delivery is made. The guard resolves it itself and never
    connects; the delivery is dead with the reason, not with the target's answer."""
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo
    port = int(receiver.url.split(":")[2].split("/")[0])

    async def resolver(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "hooks.rebind.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return await real(host, *args, **kwargs)

    from connectors.targets import GuardedTransport, TargetPolicy, TargetRefused

    monkeypatch.setattr(loop, "getaddrinfo", resolver)
    policy = TargetPolicy()
    with pytest.raises(TargetRefused, match="loopback"):
        await policy.addresses("hooks.rebind.example", 80)
    async with httpx.AsyncClient(transport=GuardedTransport(policy)) as client:
        with pytest.raises(TargetRefused):
            await client.post(f"http://hooks.rebind.example:{port}/", content=b"{}")
    assert receiver.received == []  # nothing reached the target


async def test_a_refused_delivery_is_dead_with_the_reason_only(
    tmp_path: Path, receiver: Receiver
) -> None:
    from assistant.store import SqlStore
    from connectors.targets import GuardedTransport, TargetPolicy

    store = SqlStore(f"sqlite:///{tmp_path / 'hooks.db'}")
    await store.open()
    hooks = WebhookStore(store.engine)
    hook = await hooks.register(url=receiver.url)  # registered before the check existed
    await hooks.enqueue([("d-1", hook, '{"event": "reply"}')], event="reply", now=0.0)
    async with httpx.AsyncClient(transport=GuardedTransport(TargetPolicy())) as client:
        dispatcher = WebhookDispatcher(store=hooks, client=client, clock=lambda: 1.0)
        assert await dispatcher.send_due() == 1
    (delivery,) = await hooks.deliveries(hook.id)
    await store.close()
    assert delivery.status == "dead" and delivery.attempts == 1
    assert delivery.last_error is not None and delivery.last_error.startswith("refused: ")
    assert "loopback" in delivery.last_error and "HTTP" not in delivery.last_error
    assert receiver.received == []


async def test_failed_deliveries_are_capped_then_dead_and_can_be_sent_again(
    assistant: Assistant, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_WEBHOOK_ALLOW_NETWORKS", "127.0.0.1/32")
    monkeypatch.setenv("ASSISTANT_WEBHOOK_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("ASSISTANT_WEBHOOK_RETRY_BASE", "0.02")
    monkeypatch.setenv("ASSISTANT_WEBHOOK_RETRY_MAX", "0.05")
    receiver.statuses = [500] * 3
    app = create_app(Settings(admin_api_key=ADMIN), assistant=assistant)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=HEADERS) as c:
        hook = (await c.post("/connectors/webhooks", json={"url": receiver.url})).json()
        await c.post("/webhooks/rest/webhook", json={"sender": "u1", "message": "영업시간"})
        deliveries = f"/connectors/webhooks/{hook['id']}/deliveries"

        async def dead() -> Any:
            return (await c.get(deliveries, params={"status": "dead"})).json()

        (given_up,) = await eventually(dead)
        assert given_up["attempts"] == 3 and len(receiver.received) == 3
        assert "HTTP 500" in given_up["last_error"] and "after 3 attempts" in given_up["last_error"]
        await asyncio.sleep(0.3)
        assert len(receiver.received) == 3  # no fourth attempt: it is not retried forever

        r = await c.post(f"{deliveries}/{given_up['id']}/retry")
        assert r.status_code == 202
        await receiver.wait_for(4)  # the target is up now (statuses ran out: 200)

        async def delivered() -> Any:
            return (await c.get(deliveries, params={"status": "delivered"})).json()

        assert (await eventually(delivered))[0]["id"] == given_up["id"]
        again = await c.post(f"{deliveries}/{given_up['id']}/retry")
        assert again.status_code == 404  # only dead deliveries are sent again
    await app.state.connectors.aclose()
