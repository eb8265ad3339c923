"""The connectors' routes on the server app: what create_app mounts, and the README example."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from assistant.server import create_app
from assistant.settings import Settings

from .helpers import make_assistant

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    assistant = await make_assistant(tmp_path)
    app = create_app(Settings(), assistant=assistant)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        yield c
    await app.state.connectors.aclose()
    await assistant.close()


async def test_the_web_chat_page_and_its_assets_are_served(client: httpx.AsyncClient) -> None:
    page = await client.get("/chat")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "chat/static/socket.io.min.js" in page.text
    for asset in ("socket.io.min.js", "chat.js", "chat.css"):
        r = await client.get(f"/chat/static/{asset}")
        assert r.status_code == 200 and len(r.content) > 100, asset


async def test_socketio_is_mounted(client: httpx.AsyncClient) -> None:
    r = await client.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
    assert r.status_code == 200 and r.text.startswith("0{")  # engine.io open packet
    assert json.loads(r.text[1:])["sid"]


async def test_the_readme_rest_example(client: httpx.AsyncClient) -> None:
    match = re.search(
        r"curl -s http://127\.0\.0\.1:8000(/webhooks/rest/webhook) .* -d '(\{.*\})'",
        README.read_text(),
    )
    assert match, "README has no curl example against the Rasa REST channel"
    r = await client.post(match.group(1), json=json.loads(match.group(2)))
    assert r.status_code == 200
    messages = r.json()
    assert messages and all(m["recipient_id"] == "demo-2" and m["text"] for m in messages)
