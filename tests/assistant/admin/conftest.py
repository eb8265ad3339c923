"""The console's tests run against the real server app around a light bot with every real
skill (tests/data/console_bot: hashing encoder, lexical MRC, one rule file)."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from assistant.dialogue import Assistant
from assistant.server import create_app
from assistant.settings import Settings

BOT = Path(__file__).resolve().parents[2] / "data" / "console_bot"
KEY = "console-admin-key-0123"


def copy_bot(target: Path, cache: Path) -> Path:
    """The console bot in `target`, its FAQ's fitted fusion model cached in `cache` (shared by
    the session's tests, so only the first one fits it)."""
    shutil.copytree(BOT, target)
    config = target / "bot.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("cache_dir: cache", f"cache_dir: {cache}"),
        encoding="utf-8",
    )
    return target


@pytest.fixture(scope="session")
def fusion_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("console-cache")


@dataclass
class ConsoleClient:
    """An HTTP client of the server app, logged in to the console or not."""

    client: httpx.AsyncClient
    app: FastAPI
    assistant: Assistant
    csrf: str = ""
    turns: list[dict[str, Any]] = field(default_factory=list)

    async def login(self, key: str = KEY) -> httpx.Response:
        page = await self.client.get("/admin/login")
        token = form_token(page.text)
        response = await self.client.post(
            "/admin/login",
            content=f"key={key}&csrf_token={token}&next=/admin",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if response.status_code == 303:
            self.csrf = page_csrf((await self.client.get("/admin")).text)
        return response

    async def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def chat(self, text: str, session: str) -> dict[str, Any]:
        r = await self.client.post("/v1/chat", json={"session_id": session, "text": text})
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


def page_csrf(html: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]*)"', html)
    assert found, "no csrf-token meta on the page"
    return found.group(1)


async def open_console(
    tmp_path: Path, cache: Path, *, admin_key: str | None = KEY, name: str = "bot"
) -> tuple[Assistant, FastAPI]:
    bot = copy_bot(tmp_path / name, cache)
    assistant = await Assistant.create(
        bot_dir=str(bot), database_url=f"sqlite:///{tmp_path / 'console.db'}"
    )
    app = create_app(Settings(admin_api_key=admin_key), assistant=assistant)
    return assistant, app


@asynccontextmanager
async def running(tmp_path: Path, cache: Path, *, login: bool) -> AsyncIterator[ConsoleClient]:
    """A client of the server app whose lifespan ran (FAQ sync and document libraries on)."""
    assistant, app = await open_console(tmp_path, cache)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                console = ConsoleClient(client, app, assistant)
                if login:
                    assert (await console.login()).status_code == 303
                yield console
    finally:
        await assistant.close()


@pytest.fixture
async def console(tmp_path: Path, fusion_cache: Path) -> AsyncIterator[ConsoleClient]:
    """A client logged in to the console."""
    async with running(tmp_path, fusion_cache, login=True) as client:
        yield client


@pytest.fixture
async def anonymous(tmp_path: Path, fusion_cache: Path) -> AsyncIterator[ConsoleClient]:
    """A client of the same server that has not logged in."""
    async with running(tmp_path, fusion_cache, login=False) as client:
        yield client
