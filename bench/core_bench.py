"""Benchmark of the core turn (not a test): numbers to compare, measured in one run.

1. In process: turns per second and p50/p99 latency of `Assistant.handle` with two trivial
   skills on a SQLite store, sequential (one session after another) and with 16 sessions at once.
2. Over HTTP: answered requests per second of `POST /v1/chat` (the whole server app: its
   middleware, the store, the two trivial skills) beside a bare FastAPI endpoint that parses a
   body of the same shape and answers JSON, both under uvicorn, driven by the same httpx client
   at the same concurrency. The rate limits are off for the run (the bench is one client
   sending thousands of turns a minute); any response but 200 is counted apart as an error,
   and a run with errors says so, since its ratio would not be a measurement. The ratio
   chat/bare is the figure to quote; absolute numbers depend on the machine and on whatever
   else it is doing. Beside it, the turn alone (1., 16 sessions) as a ratio of the bare
   endpoint, and the share of it that /v1/chat keeps: which of the two bounds the HTTP turn.

    .venv/bin/python bench/core_bench.py [--turns 2000] [--seconds 8] [--concurrency 8] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.config import Bot, BotConfig, SkillSpec
from assistant.dialogue import Assistant
from assistant.skill import TurnInput
from assistant.store import SqlStore
from assistant.types import Candidate, ContextUpdate, Reply, TextPart, Utterance


class Greeter:
    """Trivial skill: answers greetings."""

    name = "greeter"

    async def propose(self, turn: TurnInput) -> list[Candidate]:
        if "안녕" not in turn.text:
            return []
        reply = Reply(parts=(TextPart(text="안녕하세요!"),), route="smalltalk", confidence=0.9)
        return [Candidate(reply=reply, confidence=0.9, skill=self.name)]


class Counter:
    """Trivial skill: counts the session's turns in a slot."""

    name = "counter"

    async def propose(self, turn: TurnInput) -> list[Candidate]:
        n = int(turn.context.slots.get("n", 0)) + 1
        reply = Reply(parts=(TextPart(text=f"{n}번째 말씀"),), route="count", confidence=0.6)
        return [
            Candidate(
                reply=reply, confidence=0.6, skill=self.name, update=ContextUpdate(slots={"n": n})
            )
        ]


async def make_assistant(db: Path) -> Assistant:
    skills = [Greeter(), Counter()]
    config = BotConfig(name="bench", skills=[SkillSpec(type="bench", name=s.name) for s in skills])
    bot = Bot(config, db.parent)
    store = SqlStore(f"sqlite:///{db}")
    await store.open()
    return Assistant(bot, store, list(zip(config.skills, skills, strict=True)))  # type: ignore[arg-type]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def in_process(turns: int, workdir: Path) -> dict[str, float]:
    assistant = await make_assistant(workdir / "inproc.db")
    texts = ["안녕하세요", "충전 요금 알려줘", "고마워요", "주말에도 해요?"]
    try:
        for i in range(20):  # warm up
            await assistant.handle(Utterance(text=texts[i % 4], session_id="warm"))
        latencies = []
        started = time.perf_counter()
        for i in range(turns):
            t0 = time.perf_counter()
            await assistant.handle(Utterance(text=texts[i % 4], session_id=f"s{i % 50}"))
            latencies.append((time.perf_counter() - t0) * 1000)
        sequential = turns / (time.perf_counter() - started)

        async def session(k: int) -> None:
            for i in range(turns // 16):
                await assistant.handle(Utterance(text=texts[i % 4], session_id=f"c{k}"))

        started = time.perf_counter()
        await asyncio.gather(*(session(k) for k in range(16)))
        concurrent = (turns // 16 * 16) / (time.perf_counter() - started)
    finally:
        await assistant.close()
    return {
        "turns_per_s_sequential": sequential,
        "turns_per_s_16_sessions": concurrent,
        "p50_ms": statistics.median(latencies),
        "p99_ms": pct(latencies, 99),
    }


# --- HTTP ----------------------------------------------------------------------------------------


def serve_chat(port: int, db: str) -> None:
    import uvicorn

    from assistant.server import create_app
    from assistant.settings import Settings

    async def main() -> None:
        assistant = await make_assistant(Path(db))
        unlimited = 10**9  # turns a minute: the rate limits are not what is measured
        settings = Settings(rate_per_session=unlimited, rate_per_client=unlimited)
        config = uvicorn.Config(
            create_app(settings, assistant=assistant),
            port=port,
            log_level="error",
            access_log=False,
        )
        await uvicorn.Server(config).serve()
        await assistant.close()

    asyncio.run(main())


class BareBody(BaseModel):
    session_id: str
    text: str
    message_id: str | None = None


def serve_bare(port: int) -> None:
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/v1/chat")
    async def chat(body: BareBody) -> dict[str, object]:
        return {
            "session_id": body.session_id,
            "messages": [{"type": "text", "text": body.text}],
            "route": "echo",
            "confidence": 1.0,
            "expects_reply": False,
        }

    uvicorn.run(app, port=port, log_level="error", access_log=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def drive(base: str, seconds: float, concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    deadline = time.perf_counter() + seconds

    async def worker(k: int, client: httpx.AsyncClient) -> None:
        i = 0
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            r = await client.post(
                "/v1/chat",
                json={"session_id": f"h{k}", "text": "안녕하세요" if i % 2 else "고마워요"},
            )
            if r.status_code == 200:
                latencies.append((time.perf_counter() - t0) * 1000)
            else:
                errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1
            i += 1

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(k, client) for k in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "requests_per_s": len(latencies) / elapsed,  # answered (200) ones
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": pct(latencies, 99) if latencies else float("nan"),
        "errors": errors,
    }


def start(mode: str, port: int, db: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, __file__, f"--serve-{mode}", str(port), "--db", db], env=env
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(
                f"http://127.0.0.1:{port}/v1/chat",
                json={"session_id": "w", "text": "안녕"},
                timeout=2,
            )
            return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{mode} server did not start")


async def over_http(seconds: float, concurrency: int, workdir: Path) -> dict[str, dict[str, Any]]:
    results = {}
    for mode in ("bare", "chat"):
        port = free_port()
        proc = start(mode, port, str(workdir / "http.db"))
        try:
            await drive(f"http://127.0.0.1:{port}", 1.0, concurrency)  # warm up
            results[mode] = await drive(f"http://127.0.0.1:{port}", seconds, concurrency)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve-chat", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_chat:
        serve_chat(args.serve_chat, args.db)
        return
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        inproc = asyncio.run(in_process(args.turns, workdir))
        http = asyncio.run(over_http(args.seconds, args.concurrency, workdir))
    ratio = http["chat"]["requests_per_s"] / http["bare"]["requests_per_s"]
    # what bounds /v1/chat: the turn itself (in process, as many sessions at once) against the
    # bare endpoint, and what the HTTP app adds on top of the turn
    core = inproc["turns_per_s_16_sessions"] / http["bare"]["requests_per_s"]
    http_share = http["chat"]["requests_per_s"] / inproc["turns_per_s_16_sessions"]
    report = {
        "in_process": inproc,
        "http": http,
        "chat_over_bare_ratio": ratio,
        "core_turn_over_bare_ratio": core,
        "chat_over_core_turn_ratio": http_share,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print("Assistant.handle in process (SQLite store, 2 trivial skills)")
    print(
        f"  sequential        {inproc['turns_per_s_sequential']:8.0f} turns/s   p50 {inproc['p50_ms']:.2f} ms   p99 {inproc['p99_ms']:.2f} ms"
    )
    print(f"  16 sessions       {inproc['turns_per_s_16_sessions']:8.0f} turns/s")
    print(f"HTTP, {args.concurrency} concurrent clients, {args.seconds:.0f} s each")
    for mode in ("bare", "chat"):
        r = http[mode]
        label = "bare FastAPI" if mode == "bare" else "/v1/chat"
        errors = ", ".join(f"{n} x {code}" for code, n in r["errors"].items()) or "none"
        print(
            f"  {label:16s}  {r['requests_per_s']:8.0f} req/s     p50 {r['p50_ms']:.1f} ms   p99 {r['p99_ms']:.1f} ms   errors: {errors}"
        )
    print(f"  /v1/chat runs at {ratio:.2f}x the bare endpoint's throughput")
    print(
        f"  the turn alone, in process, runs at {core:.2f}x the bare endpoint's throughput; "
        f"over HTTP it keeps {http_share:.2f} of its own"
    )
    if any(http[mode]["errors"] for mode in http):
        print("  (requests failed: the ratio is not a measurement until they do not)")


if __name__ == "__main__":
    main()
