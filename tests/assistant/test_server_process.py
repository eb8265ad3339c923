"""The real server: `assistant serve` in its own process, stopped and started again."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(
    database_url: str, *extra: str, env: dict[str, str] | None = None, ready_s: float = 180
) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "ASSISTANT_DATABASE_URL": database_url, **(env or {})}
    env.pop("ASSISTANT_BOT", None)
    output = tempfile.TemporaryFile()  # noqa: SIM115  (closed in the finally below)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "assistant",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
            *extra,
        ],
        env=env,
        stdout=output,  # a file, not a pipe: a full pipe would stall the server
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_s
        while True:
            if proc.poll() is not None:
                output.seek(0)
                raise AssertionError(f"server exited: {output.read().decode(errors='replace')}")
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"server did not become ready within {ready_s} s")
            time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        output.close()


def light_bot(directory: Path, skills: str = "[]") -> str:
    """A bot that starts in a moment, for tests about the server rather than the demo's skills."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "bot.yaml").write_text(f"name: light\nskills: {skills}\n", encoding="utf-8")
    return str(directory)


def readme_curl_body() -> dict[str, object]:
    match = re.search(
        r"curl -s http://127\.0\.0\.1:8000/v1/chat .* -d '(\{.*\})'", README.read_text()
    )
    assert match, "README has no curl example against /v1/chat"
    body = json.loads(match.group(1))
    assert isinstance(body, dict)
    return body


def test_sessions_outlive_a_server_restart_and_the_readme_example_works(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'assistant.db'}"
    body = readme_curl_body()
    with serving(url) as base:
        first = httpx.post(f"{base}/v1/chat", json=body, timeout=30)
        assert first.status_code == 200
        answer = first.json()
        assert answer["session_id"] == body["session_id"] and answer["messages"]
        assert {"route", "confidence", "expects_reply"} <= set(answer)
    with serving(url) as base:
        again = httpx.post(f"{base}/v1/chat", json=body, timeout=30)  # same message_id
        assert again.json() == answer
        httpx.post(
            f"{base}/v1/chat",
            json={"session_id": body["session_id"], "text": "고마워요"},
            timeout=30,
        )
        session = httpx.get(f"{base}/v1/sessions/{body['session_id']}", timeout=30).json()
    assert session["turn_count"] == 2
    assert [t["text"] for t in session["turns"]] == [body["text"], "고마워요"]
    assert [h["user"] for h in session["context"]["history"]] == [body["text"], "고마워요"]


def test_a_wrong_bot_is_refused_before_serving(tmp_path: Path) -> None:
    (tmp_path / "bot.yaml").write_text("name: x\nlocales: [ko, de]\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "assistant",
            "serve",
            "--bot",
            str(tmp_path),
            "--port",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "locales: Value error, unsupported locale(s) ['de']" in done.stderr


@pytest.mark.parametrize("locks", ["postgres", "redis"])
def test_two_servers_on_one_postgresql_share_a_session(
    locks: str, postgres_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    env = (
        {}
        if locks == "postgres"
        else {"ASSISTANT_SESSION_LOCKS": request.getfixturevalue("redis_url")}
    )
    with serving(postgres_url, env=env) as a, serving(postgres_url, env=env) as b:
        servers = [a, b]
        # one after another, alternating servers: the context carries over, order holds
        for i in range(6):
            r = httpx.post(
                f"{servers[i % 2]}/v1/chat",
                json={"session_id": "roam", "text": f"s{i}"},
                timeout=30,
            )
            assert r.status_code == 200
            history = httpx.get(f"{servers[(i + 1) % 2]}/v1/sessions/roam", timeout=30).json()[
                "context"
            ]["history"]
            assert [h["user"] for h in history] == [f"s{k}" for k in range(i + 1)]

        # all at once, alternating servers: no turn lost, none overwrites another's context
        async def burst() -> list[httpx.Response]:
            async with httpx.AsyncClient(timeout=60) as client:
                return list(
                    await asyncio.gather(
                        *(
                            client.post(
                                f"{servers[i % 2]}/v1/chat",
                                json={"session_id": "roam", "text": f"c{i}", "message_id": f"m{i}"},
                            )
                            for i in range(20)
                        )
                    )
                )

        assert [r.status_code for r in asyncio.run(burst())] == [200] * 20
        session = httpx.get(f"{a}/v1/sessions/roam", params={}, timeout=30).json()
    assert session["turn_count"] == 26
    assert [t["seq"] for t in session["turns"]] == list(range(7, 27))  # the last 20
    assert sorted(t["text"] for t in session["turns"]) == sorted(f"c{i}" for i in range(20))
    stored_order = [t["text"] for t in session["turns"]]
    assert [h["user"] for h in session["context"]["history"]] == stored_order[-10:]
