"""API keys: hashed in the store, scoped, required where the server says so."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from assistant.api.auth import Auth, AuthError
from assistant.cli import app as cli
from assistant.dialogue import Assistant
from assistant.server import create_app
from assistant.settings import Settings
from assistant.store import SqlStore
from assistant.store.keys import ApiKeyStore

from .fakes import EchoSkill, make_bot, pairs


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    s = SqlStore(f"sqlite:///{tmp_path / 'k.db'}")
    await s.open()
    yield s
    await s.close()


async def test_keys_are_stored_hashed_and_verified_by_their_secret(store: SqlStore) -> None:
    keys = ApiKeyStore(store.engine)
    made = await keys.create("kakao", ["chat"])
    assert made.token.startswith(f"ak_{made.key.id}_")
    async with store.engine.connect() as conn:
        stored = (await conn.execute(text("SELECT * FROM api_keys"))).mappings().one()
    secret = made.token.split("_", 2)[2]
    assert secret not in str(dict(stored)) and len(stored["secret_sha256"]) == 64
    found = await keys.verify(made.token)
    assert found is not None and found.scopes == ("chat",) and found.name == "kakao"
    assert await keys.verify(made.token + "x") is None
    assert await keys.verify(f"ak_{made.key.id}_wrong") is None
    assert await keys.verify("not-a-key") is None
    assert await keys.revoke(made.key.id)
    assert await keys.verify(made.token) is None
    assert not await keys.revoke(made.key.id)


async def test_unknown_scopes_are_refused(store: SqlStore) -> None:
    from assistant.errors import StoreError

    with pytest.raises(StoreError, match="scopes must be some of"):
        await ApiKeyStore(store.engine).create("x", ["root"])


async def test_scopes_decide_what_a_key_may_do(store: SqlStore) -> None:
    keys = ApiKeyStore(store.engine)
    chat = (await keys.create("app", ["chat"])).token
    admin = (await keys.create("ops", ["admin"])).token
    auth = Auth(keys, require_chat_key=True, admin_key="env-admin-secret")
    assert (await auth.check(f"Bearer {chat}", "chat")) is not None
    assert (await auth.check(f"Bearer {admin}", "chat")) is not None  # admin may chat
    assert (await auth.check("Bearer env-admin-secret", "admin")) is None  # the environment's key
    # the environment's admin key may chat too, like a stored admin key
    assert (await auth.caller("Bearer env-admin-secret", "chat")).admin
    with pytest.raises(AuthError) as refused:
        await auth.check(f"Bearer {chat}", "admin")
    assert refused.value.status == 403
    for header in (None, "Basic abc", "Bearer ", f"Bearer {chat}zz", "Bearer env-admin-secre"):
        with pytest.raises(AuthError) as refused:
            await auth.check(header, "chat")
        assert refused.value.status == 401
    assert (await Auth(keys).check(None, "chat")) is None  # chat open unless required


@pytest.fixture
async def served(
    tmp_path: Path, store: SqlStore
) -> AsyncIterator[tuple[httpx.AsyncClient, ApiKeyStore]]:
    skills = [EchoSkill()]
    bot = make_bot(tmp_path, skills)  # type: ignore[arg-type]
    assistant = Assistant(bot, store, pairs(bot, skills))  # type: ignore[arg-type]
    app = create_app(Settings(require_api_key=True), assistant=assistant)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c, ApiKeyStore(store.engine)


async def test_chat_needs_a_key_when_the_server_requires_one(
    served: tuple[httpx.AsyncClient, ApiKeyStore],
) -> None:
    client, keys = served
    body = {"session_id": "k", "text": "안녕"}
    missing = await client.post("/v1/chat", json=body)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["error"]["fields"][0]["field"] == "Authorization"
    wrong = await client.post("/v1/chat", json=body, headers={"Authorization": "Bearer ak_x_y"})
    assert wrong.status_code == 401
    token = (await keys.create("app", ["chat"])).token
    ok = await client.post("/v1/chat", json=body, headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    assert (await client.get("/v1/sessions/k")).status_code == 401
    assert (
        await client.get("/v1/sessions/k", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 200
    assert (await client.get("/healthz")).status_code == 200  # probes stay open


def test_cli_makes_lists_and_revokes_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    made = runner.invoke(cli, ["keys", "create", "ops", "--scope", "admin", "--database-url", url])
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    key_id = token.split("_")[1]
    listed = runner.invoke(cli, ["keys", "list", "--database-url", url])
    assert key_id in listed.output and "active" in listed.output and token not in listed.output
    assert runner.invoke(cli, ["keys", "revoke", key_id, "--database-url", url]).exit_code == 0
    assert "revoked" in runner.invoke(cli, ["keys", "list", "--database-url", url]).output
    assert runner.invoke(cli, ["keys", "revoke", key_id, "--database-url", url]).exit_code == 1
    bad = runner.invoke(cli, ["keys", "create", "x", "--scope", "root", "--database-url", url])
    assert bad.exit_code == 2 and "scopes must be some of" in bad.output
