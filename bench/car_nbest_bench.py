"""Benchmark of n-best turns (not a test): what reading several recognizer hypotheses costs and
what it buys, on the demo bot, in one run.

Each question of the demo bot's car and customer-center domain is sent as the car connector
sends it: once with only the recognizer's first hypothesis (a misheard one), once with that
hypothesis followed by the right one (n-best, 2 hypotheses), and once with three. The runs are
interleaved question by question, so the machine's noise falls on all of them alike.

Reported: median and p90 latency of `Assistant.handle` per run and the ratio n-best/1-best,
and how many turns reached the intended route (the misheard first hypothesis alone mostly
does not).

    OMP_NUM_THREADS=1 python bench/car_nbest_bench.py [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.dialogue import Assistant
from assistant.types import AsrHypothesis, DeviceContext, Utterance

#: (misheard first hypothesis, the right one, a third, the route the right one reaches)
CASES = [
    ("서울 여그로 안네 해조", "서울역으로 안내해 줘", "서울 역 안내", "task:navigate"),
    ("에어컨 이십이 도로 맛처 조", "에어컨 22도로 맞춰 줘", "에어컨 22도", "task:set_temperature"),
    ("정비 얘약 어떻게 해", "정비 예약은 어떻게 하나요?", "정비 예약", "faq:ko-service-booking"),
    (
        "써비스 쎈타 영엽 시간",
        "서비스센터 영업시간이 어떻게 되나요?",
        "서비스센터 시간",
        "faq:ko-service-hours",
    ),
    ("엄마 한태 저나 해 줘", "엄마한테 전화해 줘", "엄마 전화", "task:call_contact"),
    ("아이유 노래 트러 져", "아이유 노래 틀어 줘", "아이유 노래", "task:play_music"),
]


def utterance(session: str, hypotheses: list[tuple[str, float]]) -> Utterance:
    device = DeviceContext(has_screen=True, has_voice=True, is_driving=True)
    return Utterance(
        text=hypotheses[0][0],
        session_id=session,
        channel="car",
        locale="ko",
        alternatives=tuple(AsrHypothesis(text=t, confidence=c) for t, c in hypotheses),
        device=device,
        time_budget_ms=1500,
    )


async def run(rounds: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        assistant = await Assistant.create(database_url=f"sqlite:///{tmp}/bench.db")
        runs: dict[str, list[float]] = {"1-best": [], "2-best": [], "3-best": []}
        right: dict[str, int] = dict.fromkeys(runs, 0)
        try:
            # warm up every skill once
            await assistant.handle(utterance("warm", [("안녕하세요", 0.9)]))
            for r in range(rounds):
                for i, (misheard, correct, third, route) in enumerate(CASES):
                    lists = {
                        "1-best": [(misheard, 0.6)],
                        "2-best": [(misheard, 0.6), (correct, 0.3)],
                        "3-best": [(misheard, 0.6), (correct, 0.3), (third, 0.1)],
                    }
                    for name, hypotheses in lists.items():
                        started = time.perf_counter()
                        reply = await assistant.handle(
                            utterance(f"{name}-{r}-{i}", hypotheses)  # a new session each
                        )
                        runs[name].append((time.perf_counter() - started) * 1000)
                        right[name] += reply.route == route
        finally:
            await assistant.close()
    base = statistics.median(runs["1-best"])
    result: dict[str, object] = {"turns_per_run": rounds * len(CASES)}
    for name, times in runs.items():
        ordered = sorted(times)
        result[name] = {
            "median_ms": round(statistics.median(times), 1),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 1),
            "median_ratio_to_1_best": round(statistics.median(times) / base, 2),
            "intended_route": f"{right[name]}/{len(times)}",
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.rounds))
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    print(f"{result['turns_per_run']} turns per run (interleaved), demo bot, time budget 1.5 s")
    for name in ("1-best", "2-best", "3-best"):
        row = result[name]
        assert isinstance(row, dict)
        print(
            f"{name}: median {row['median_ms']} ms, p90 {row['p90_ms']} ms, "
            f"x{row['median_ratio_to_1_best']} of 1-best; intended route {row['intended_route']}"
        )


if __name__ == "__main__":
    main()
