"""A copy of the task test bot wired to a real webhook receiver and a real rasa-sdk server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

DATA = Path(__file__).parent / "data"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def rasa_action_server() -> Iterator[str]:
    """`python -m rasa_sdk` serving tests/assistant/tasks/data/rasa_actions on a free port."""
    pytest.importorskip("rasa_sdk")
    port = free_port()
    env = {**os.environ, "SANIC_HOST": "127.0.0.1", "PYTHONWARNINGS": "ignore"}
    log = tempfile.TemporaryFile()  # noqa: SIM115  (closed below, after the server)
    process = subprocess.Popen(
        [sys.executable, "-m", "rasa_sdk", "--actions", "rasa_actions", "--port", str(port)],
        cwd=DATA,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                output = log.read().decode(errors="replace")
                pytest.fail(f"the rasa-sdk action server did not start:\n{output[-3000:]}")
            time.sleep(0.2)
        yield f"{url}/webhook"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


class Receiver:
    """A webhook receiver: records each request and answers with `answer`."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answer: dict[str, Any] = {}
        self.status = 200
        self.url = ""


@pytest.fixture
async def webhook() -> AsyncIterator[Receiver]:
    receiver = Receiver()

    async def handle(request: web.Request) -> web.Response:
        receiver.requests.append(await request.json())
        return web.json_response(receiver.answer, status=receiver.status)

    app = web.Application()
    app.router.add_post("/book", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    receiver.url = f"http://127.0.0.1:{port}/book"
    yield receiver
    await runner.cleanup()


@pytest.fixture
def task_bot(tmp_path: Path, webhook: Receiver, rasa_action_server: str) -> Path:
    """The test bot in a temporary directory, its actions pointing at the servers above."""
    bot = tmp_path / "bot"
    shutil.copytree(DATA / "bot", bot)
    flows = bot / "flows.yaml"
    flows.write_text(
        flows.read_text(encoding="utf-8").replace("http://127.0.0.1:9/unused", webhook.url),
        encoding="utf-8",
    )
    config = bot / "bot.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "      encoder: hashing\n  - type: faq",
            f"      encoder: hashing\n      action_endpoint: {rasa_action_server}\n  - type: faq",
            1,
        ),
        encoding="utf-8",
    )
    return bot
