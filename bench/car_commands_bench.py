"""Benchmark of a driver's commands (not a test): directive-and-payload accuracy per directive
on the held-out car commands (bench/data/car_commands_test.jsonl, which no bot learns from),
and milliseconds per car turn on one core, for this checkout's demo bot and, in the same run,
for another checkout's (the baseline).

Each command is one turn of a new session, as the car connector hands it to the core: the
car's locale (ko-KR, en-US), driving, every directive of the catalog supported. A command is
right when the reply carries the expected directive with the expected payload (keys with no
value left out; text compared without spaces and case; numbers to 0.01). The whole demo bot
answers (task, small talk, FAQ, MRC), so a command taken for a question counts as wrong.

    OMP_NUM_THREADS=1 python bench/car_commands_bench.py [--baseline /tmp/base20] [--json]

`--baseline DIR` runs this script again in a subprocess with DIR (a checkout, e.g.
`git worktree add /tmp/base20 70973ad`) first on the path; both processes are pinned to one
core, one after the other.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "car_commands_test.jsonl"

#: The car directive catalog (a car with every capability).
CATALOG = [
    "climate.power",
    "climate.ac",
    "climate.set_temperature",
    "climate.set_fan",
    "climate.defrost",
    "climate.seat_heat",
    "climate.seat_vent",
    "climate.steering_heat",
    "climate.recirculation",
    "media.play",
    "media.pause",
    "media.resume",
    "media.next",
    "media.previous",
    "media.volume",
    "media.radio",
    "media.source",
    "navigation.set_destination",
    "navigation.search_nearby",
    "navigation.cancel",
    "phone.call",
    "phone.redial",
    "phone.hang_up",
    "message.read",
    "message.send",
]


def _same(expected: Any, got: Any) -> bool:
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return False
        got = {k: v for k, v in got.items() if v is not None}
        return set(expected) == set(got) and all(_same(v, got[k]) for k, v in expected.items())
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected is got
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return abs(float(expected) - float(got)) < 0.01
    if isinstance(expected, str) and isinstance(got, str):
        return "".join(expected.split()).casefold() == "".join(got.split()).casefold()
    return bool(expected == got)


async def measure(root: Path) -> dict[str, Any]:
    sys.path.insert(0, str(root))
    from assistant.dialogue import Assistant
    from assistant.types import DeviceContext, DirectivePart, Utterance

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    commands = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    device = DeviceContext(
        has_screen=True, has_voice=True, is_driving=True, supported_directives=tuple(CATALOG)
    )
    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    times: list[float] = []
    misses: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        assistant = await Assistant.create(database_url=f"sqlite:///{tmp}/bench.db")
        try:
            await assistant.handle(
                Utterance(text="에어컨 켜 줘", session_id="warm", channel="car", device=device)
            )
            for i, command in enumerate(commands):
                utterance = Utterance(
                    text=command["text"],
                    session_id=f"car-{i}",
                    channel="car",
                    locale=command["locale"],
                    device=device,
                )
                started = time.perf_counter()
                reply = await assistant.handle(utterance)
                times.append((time.perf_counter() - started) * 1000)
                directives = [p for p in reply.parts if isinstance(p, DirectivePart)]
                name = command["directive"]
                total[name] += 1
                ok = bool(directives) and directives[0].name == name
                ok = ok and _same(command["payload"], dict(directives[0].payload))
                right[name] += ok
                if not ok:
                    misses.append(
                        {
                            "text": command["text"],
                            "expected": [name, command["payload"]],
                            "got": [[d.name, dict(d.payload)] for d in directives] or reply.route,
                        }
                    )
        finally:
            await assistant.close()
    ordered = sorted(times)
    return {
        "root": str(root),
        "commands": len(commands),
        "accuracy": round(sum(right.values()) / len(commands), 3),
        "per_directive": {n: [right[n], total[n]] for n in sorted(total)},
        "p50_ms": round(statistics.median(times), 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1),
        "misses": misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=HERE.parent, help="checkout to measure")
    parser.add_argument("--baseline", type=Path, help="another checkout, measured beside")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--misses", action="store_true", help="list the commands missed")
    args = parser.parse_args()
    results = []
    if args.baseline is not None:
        env = {**os.environ, "PYTHONPATH": str(args.baseline)}
        out = subprocess.run(
            [sys.executable, __file__, "--root", str(args.baseline), "--json"],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout
        results.append(("baseline", json.loads(out)))
    results.append(("this", asyncio.run(measure(args.root))))
    if args.json:
        print(json.dumps(results[-1][1] if len(results) == 1 else dict(results), indent=2))
        return
    names = sorted({n for _, r in results for n in r["per_directive"]})
    header = "directive".ljust(28) + "".join(label.rjust(12) for label, _ in results)
    print(f"{results[-1][1]['commands']} held-out commands ({DATA.name}), one core")
    print(header)
    for name in names:
        row = name.ljust(28)
        for _, r in results:
            ok, n = r["per_directive"].get(name, [0, 0])
            row += f"{ok}/{n}".rjust(12)
        print(row)
    for key in ("accuracy", "p50_ms", "p99_ms"):
        print(key.ljust(28) + "".join(str(r[key]).rjust(12) for _, r in results))
    if args.misses:
        for miss in results[-1][1]["misses"]:
            print(json.dumps(miss, ensure_ascii=False))


if __name__ == "__main__":
    main()
