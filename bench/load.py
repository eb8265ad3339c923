"""Load driver for a running server (loopback only): concurrent sessions for a bounded time.

Each simulated user sends its turns one after another (it waits for each reply), with a
`message_id` per turn; a turn that fails is retried with the same id (idempotent), on the next
server when several are given. At the end the store is read directly and checked against what
the clients saw: every acknowledged turn must be there (0 lost), in the order it was sent
(0 reordered).

    python bench/load.py --url http://127.0.0.1:8000 --database-url postgresql://... \\
        --sessions 50 --seconds 600

Prints turns/s, p50/p99 latency, errors, lost and reordered turns, and the servers' memory when
their pids are given (--pid).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx
from sqlalchemy import create_engine, text

UTTERANCES = [
    "안녕하세요",
    "서비스센터 운영 시간이 어떻게 되나요?",
    "보증 기간은 얼마나 돼요?",
    "전기차 충전 요금 알려줘",
    "블루투스 연결이 안 돼요",
    "고마워요",
    "심심해",
    "긴급출동 서비스 부르고 싶어요",
    "What are your service center hours?",
    "How do I pair my phone over Bluetooth?",
    "thanks!",
    "앱에서 결제 수단을 바꾸려면?",
]


def require_loopback(url: str) -> None:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise SystemExit(f"refusing to send load to {url}: only loopback addresses are allowed")


@dataclass
class Session:
    id: str
    sent: list[str] = field(default_factory=list)  # message ids acknowledged, in order


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    acknowledged: int = 0
    errors: int = 0
    retries: int = 0
    gave_up: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


async def run_session(
    session: Session,
    servers: list[str],
    client: httpx.AsyncClient,
    deadline: float,
    results: Results,
    rng: random.Random,
    think_s: float,
) -> None:
    turn = 0
    while time.monotonic() < deadline:
        message_id = f"{session.id}-{turn}"
        body = {"session_id": session.id, "text": rng.choice(UTTERANCES), "message_id": message_id}
        attempt = 0
        while True:
            server = servers[(turn + attempt) % len(servers)]
            started = time.perf_counter()
            try:
                r = await client.post(f"{server}/v1/chat", json=body)
                status = str(r.status_code)
            except httpx.HTTPError as e:
                status = type(e).__name__
            results.by_status[status] = results.by_status.get(status, 0) + 1
            if status == "200":
                results.latencies_ms.append((time.perf_counter() - started) * 1000)
                results.acknowledged += 1
                session.sent.append(message_id)
                break
            results.errors += 1
            attempt += 1
            if attempt > 50:
                results.gave_up += 1
                break
            results.retries += 1
            await asyncio.sleep(min(2.0, 0.05 * 2**attempt))
        turn += 1
        if think_s:
            await asyncio.sleep(rng.uniform(0, 2 * think_s))


def check_store(database_url: str, sessions: list[Session]) -> tuple[int, int]:
    """(lost, reordered): acknowledged turns missing from the store, sessions out of order."""
    engine = create_engine(database_url.replace("+aiosqlite", "").replace("+psycopg", "+psycopg"))
    lost = reordered = 0
    with engine.connect() as conn:
        for session in sessions:
            stored = [
                row[0]
                for row in conn.execute(
                    text("SELECT message_id FROM turns WHERE session_id = :s ORDER BY seq"),
                    {"s": session.id},
                )
            ]
            present = set(stored)
            lost += sum(1 for m in session.sent if m not in present)
            acked = set(session.sent)
            if [m for m in stored if m in acked] != session.sent:
                reordered += 1
    engine.dispose()
    return lost, reordered


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


async def drive(
    servers: list[str], sessions: int, seconds: float, think_s: float = 0.0, seed: int = 1
) -> tuple[list[Session], Results, float]:
    for s in servers:
        require_loopback(s)
    run = uuid.uuid4().hex[:6]
    all_sessions = [Session(id=f"load-{run}-{i}") for i in range(sessions)]
    results = Results()
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=sessions * 2)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        started = time.monotonic()
        await asyncio.gather(
            *(
                run_session(
                    s,
                    servers[i % len(servers) :] + servers[: i % len(servers)],
                    client,
                    deadline,
                    results,
                    random.Random(rng.random()),
                    think_s,
                )
                for i, s in enumerate(all_sessions)
            )
        )
        elapsed = time.monotonic() - started
    return all_sessions, results, elapsed


def summary(
    sessions: list[Session], results: Results, elapsed: float, database_url: str | None
) -> dict[str, object]:
    lat = sorted(results.latencies_ms)
    report: dict[str, object] = {
        "sessions": len(sessions),
        "seconds": round(elapsed, 1),
        "turns": results.acknowledged,
        "turns_per_s": round(results.acknowledged / elapsed, 1),
        "p50_ms": round(statistics.median(lat), 1) if lat else None,
        "p99_ms": round(lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))], 1) if lat else None,
        "errors": results.errors,
        "retries": results.retries,
        "gave_up": results.gave_up,
        "responses": results.by_status,
    }
    if database_url:
        lost, reordered = check_store(database_url, sessions)
        report["lost"] = lost
        report["reordered_sessions"] = reordered
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--url", action="append", required=True, help="server base URL (repeat for several)"
    )
    parser.add_argument(
        "--database-url", help="the servers' store, to check it against the clients"
    )
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--think", type=float, default=0.0, help="mean pause between a user's turns (s)"
    )
    parser.add_argument(
        "--pid", type=int, action="append", default=[], help="server pid, for memory"
    )
    args = parser.parse_args()
    if not 1 <= args.sessions <= 1000 or not 0 < args.seconds <= 3600:
        raise SystemExit("--sessions must be 1..1000 and --seconds 0..3600")
    sessions, results, elapsed = asyncio.run(
        drive(args.url, args.sessions, args.seconds, args.think)
    )
    report = summary(sessions, results, elapsed, args.database_url)
    report["server_rss_mb"] = {pid: rss_mb(pid) for pid in args.pid}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
