"""Soak and fault run (loopback only): two servers on one PostgreSQL, load on both, and
`kill -9` of one of them mid-run, restarted a few seconds later.

Clients whose server died retry the same `message_id` on the other server; at the end every
acknowledged turn must be in the store, in order (see bench/load.py).

    python bench/soak.py --database-url postgresql://postgres@127.0.0.1/soak \\
        --sessions 50 --seconds 600 [--no-kill] [--bot DIR]

The database is emptied first (its tables are dropped), so give it one of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, port: int, database_url: str, bot: str | None, log: Path) -> None:
        self.port = port
        self.database_url = database_url
        self.bot = bot
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        cmd = [
            sys.executable,
            "-m",
            "assistant",
            "serve",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]
        if self.bot:
            cmd += ["--bot", self.bot]
        env = {
            **os.environ,
            "ASSISTANT_DATABASE_URL": self.database_url,
            "OMP_NUM_THREADS": "1",
            "ASSISTANT_RATE_PER_SESSION": "100000",
            "ASSISTANT_RATE_PER_CLIENT": "1000000",
        }
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 600  # the demo bot embeds its FAQ at start
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"server on {self.port} did not become ready; see {self.log}")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def reset(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as conn:
        for table in ("turns", "sessions", "alembic_version"):
            conn.execute(text(f"DROP TABLE IF EXISTS {table} CASCADE"))
    engine.dispose()


async def run(args: argparse.Namespace) -> dict[str, object]:
    reset(args.database_url)
    logs = Path(args.logs)
    await asyncio.to_thread(logs.mkdir, parents=True, exist_ok=True)
    servers = [
        Server(free_port(), args.database_url, args.bot, logs / f"server{i}.log") for i in range(2)
    ]
    for s in servers:
        s.start()
    events: list[str] = []
    try:
        driving = asyncio.create_task(
            load.drive([s.url for s in servers], args.sessions, args.seconds)
        )
        if not args.no_kill:
            await asyncio.sleep(args.seconds / 2)
            servers[1].kill9()
            events.append(f"t={args.seconds / 2:.0f}s: kill -9 server 2")
            await asyncio.sleep(args.down)
            await asyncio.to_thread(servers[1].start)
            events.append(f"server 2 back after {args.down:.0f}s down (+start-up time)")
        rss = {}
        sessions, results, elapsed = await driving
        for i, s in enumerate(servers):
            if s.proc is not None:
                rss[f"server{i + 1}"] = load.rss_mb(s.proc.pid)
    finally:
        for s in servers:
            s.stop()
    report = load.summary(sessions, results, elapsed, args.database_url)
    report["events"] = events
    report["server_rss_mb"] = rss
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument(
        "--down", type=float, default=5.0, help="seconds the killed server stays down"
    )
    parser.add_argument("--no-kill", action="store_true")
    parser.add_argument("--bot")
    parser.add_argument("--logs", default="bench/results/soak-logs")
    args = parser.parse_args()
    if not 0 < args.seconds <= 3600:
        raise SystemExit("--seconds must be at most 3600")
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
