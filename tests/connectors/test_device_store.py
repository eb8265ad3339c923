"""The mobile device store on SQLite and PostgreSQL: register, update, concurrent first
registrations, remove; and the push channel's webhooks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from assistant.store import SqlStore
from connectors.device_store import DeviceStore
from connectors.webhook_store import WebhookStore


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def sql(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'devices.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    store = SqlStore(url)
    await store.open()  # migrations, 0006 included
    yield store
    await store.close()


async def test_register_update_and_remove(sql: SqlStore) -> None:
    devices = DeviceStore(sql.engine)
    device, created, token = await devices.register(
        id="d-1", platform="android", locale="ko-KR", timezone="Asia/Seoul",
        push_provider="fcm", push_token="t-1", owner_key="k1",
    )  # fmt: skip
    assert created and device.session_id == "mobile:d-1"
    assert device.push == {"provider": "fcm", "token": "t-1"}
    # the device token is shown once; the store keeps its hash only
    assert token is not None and device.token_matches(token) and device.owner_key == "k1"
    assert not device.token_matches(token + "x") and not device.token_matches(None)
    assert token not in repr(device) and device.token_sha256 != token
    again, created, second = await devices.register(
        id="d-1", platform="android", locale="en-US", timezone="Europe/London"
    )
    assert not created and again.push is None and again.locale == "en-US"
    assert second is None and again.token_matches(token)  # an update issues no new token
    assert again.created_at == device.created_at and again.updated_at >= device.updated_at
    assert await devices.get("d-2") is None
    assert await devices.remove("d-1") and not await devices.remove("d-1")
    assert await devices.get("d-1") is None


async def test_two_first_registrations_at_once_make_one_device(sql: SqlStore) -> None:
    devices = DeviceStore(sql.engine)
    results = await asyncio.gather(
        *(
            devices.register(id="d-9", platform="ios", locale="ko-KR", timezone="Asia/Seoul")
            for _ in range(4)
        )
    )
    assert sum(created for _, created, _ in results) == 1
    assert sum(token is not None for _, _, token in results) == 1  # one token, to the creator
    assert (await devices.get("d-9")) is not None


async def test_push_webhooks_are_those_of_exactly_the_channel(sql: SqlStore) -> None:
    hooks = WebhookStore(sql.engine)
    await hooks.register(url="https://all.example.org")
    push = await hooks.register(url="https://push.example.org", channel="mobile.push")
    await hooks.register(url="https://app.example.org", channel="mobile")
    assert [h.id for h in await hooks.for_channel("mobile.push")] == [push.id]
