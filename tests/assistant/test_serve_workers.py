"""`assistant serve`: the port taken before anything loads, and `--workers N` forked from one
process that loaded the models (the memory figures are bench/memory.py's)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.assistant.test_server_process import free_port, light_bot


def children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.add(int(entry))
            except OSError:
                continue
    return found


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:g} s: {what}")
        time.sleep(0.2)


@contextmanager
def server(*args: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--port", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert proc.poll() is None, f"the server exited with {proc.returncode}"
        try:
            return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(ready, 120, "the server answers /readyz")
        yield proc, base
    finally:
        workers = children(proc.pid)  # before the supervisor goes and they are init's
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="--workers forks")
def test_workers_share_the_port_and_metrics_are_replaced_and_stop_together(
    tmp_path: Path, redis_url: str
) -> None:
    bot = light_bot(tmp_path / "bot")
    store = f"sqlite:///{tmp_path / 'workers.db'}"
    args = ("--bot", bot, "--database-url", store, "--session-locks", redis_url)
    with server(*args, "--workers", "2", "--log-level", "warning") as (proc, base):
        workers = children(proc.pid)
        assert len(workers) == 2
        for i in range(10):
            r = httpx.post(f"{base}/v1/chat", json={"session_id": f"w{i}", "text": "hi"})
            assert r.status_code == 200
        metrics = httpx.get(f"{base}/metrics").text
        turns = [
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("assistant_turns_total{")
        ]
        assert sum(turns) == 10  # both workers' turns, counted together

        dead = min(workers)
        os.kill(dead, signal.SIGKILL)
        wait_for(
            lambda: len(children(proc.pid) - {dead}) == 2, 60, "a new worker replaces the dead"
        )
        wait_for(
            lambda: httpx.get(f"{base}/readyz", timeout=5).status_code == 200, 60, "ready again"
        )

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert not children(proc.pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_workers_stop_when_the_supervisor_is_killed(tmp_path: Path, redis_url: str) -> None:
    bot = light_bot(tmp_path / "bot")
    store = f"sqlite:///{tmp_path / 'workers.db'}"
    args = ("--bot", bot, "--database-url", store, "--session-locks", redis_url)
    with server(*args, "--workers", "2", "--log-level", "warning") as (proc, _base):
        workers = children(proc.pid)
        assert len(workers) == 2
        proc.kill()  # SIGKILL: the supervisor cannot pass anything on
        proc.wait()

        def gone() -> bool:
            return not any(os.path.exists(f"/proc/{pid}") and _running(pid) for pid in workers)

        wait_for(gone, 60, "the workers stop with their supervisor")


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_port_in_use_is_said_before_anything_loads(tmp_path: Path) -> None:
    # a bot that would fail only when its skills load: the port's error must come first
    bot = tmp_path / "bot"
    bot.mkdir()
    (bot / "bot.yaml").write_text(
        "name: late\nskills:\n  - type: faq\n    options: {entries: [missing.yaml]}\n"
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "assistant", "serve", "--bot", str(bot), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "missing.yaml" not in done.stderr
