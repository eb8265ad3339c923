"""End-to-end: does the demo bot answer questions about its owner's manual with the fact?

    OMP_NUM_THREADS=1 .venv/bin/python bench/manual_e2e.py \\
        [--questions assistant/demo_bot/eval/manual.held.jsonl] [--baseline DIR] [--json OUT]

The questions (`assistant/demo_bot/eval/manual.{dev,held}.jsonl`, written for the project:
Korean and English, each with the facts that answer it; `facts: []` for a question the manual
does not answer) are put to the demo bot in fresh sessions, as a turn of its own (the
dialogue manager's `preview`: every skill and the policy, nothing stored). Reported:

- `assistant`: the share of answerable questions whose reply holds one of the facts (spaces
  and case ignored), and of the unanswerable ones that end in a fallback or a clarification
  (the bot says it does not know or offers choices, and answers with no span);
- `mrc_only`: the MRC skill's candidate alone, when it passes the MRC threshold;
- `faq_only`: the FAQ skill's answer alone, when it answers;
- `passage_recall@1/3/10`: the passage that holds the fact among the MRC skill's retrieved
  passages (the gold passage: the one of the question's locale whose text holds a fact);
- `turn_ms_p50`: the whole turn (every skill and the policy) and `mrc_ms_p50` (retrieval and
  reading), one thread.

`--baseline DIR` runs the same questions with the code in DIR (another checkout, e.g. `git
worktree add /tmp/base 70973ad`) in a subprocess afterwards and prints both, with ratios.
The dev file was used while building; report the held-back file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
HERE = Path(__file__).resolve().parents[1]
DEFAULT = HERE / "assistant" / "demo_bot" / "eval" / "manual.held.jsonl"


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def has_fact(text: str, facts: list[str]) -> bool:
    flat = squash(text)
    return any(squash(f) in flat for f in facts)


def reply_text(reply: Any) -> str:
    """Every text a user sees of a reply: texts, card titles and descriptions."""
    out = []
    for part in reply.parts:
        for key in ("text", "title", "description"):
            value = getattr(part, key, None)
            if isinstance(value, str):
                out.append(value)
    return "\n".join(out)


async def run(questions: list[dict[str, Any]]) -> dict[str, Any]:
    from assistant.config import load_bot
    from assistant.dialogue import Assistant
    from assistant.skills import build_skills
    from assistant.skills.faq import FaqSkill
    from assistant.skills.mrc import MrcSkill
    from assistant.store import SqlStore
    from assistant.types import Utterance

    bot = load_bot(None)
    skills = build_skills(bot)
    mrc = next(s for _, s in skills if isinstance(s, MrcSkill))
    faq = next(s for _, s in skills if isinstance(s, FaqSkill))
    policy = bot.config.policy
    with tempfile.TemporaryDirectory() as directory:
        store = SqlStore(f"sqlite:///{Path(directory) / 'bench.db'}")
        await store.open()
        assistant = Assistant(bot, store, skills)
        # warm up: the reader's first read and Kiwi's first analysis are no turn's cost
        await assistant.preview(Utterance(text="충전 포트는 어디에 있어?", session_id="w"))
        await assistant.preview(Utterance(text="Where is the charging port?", session_id="w"))
        rows = []
        for n, q in enumerate(questions):
            utterance = Utterance(text=q["question"], session_id=f"b{n}", locale=q["locale"])
            started = time.perf_counter()
            proposal = await assistant.preview(utterance)
            turn_ms = 1000 * (time.perf_counter() - started)
            reply = proposal.decision.reply
            mrc_c = [c for c in proposal.candidates if c.skill == mrc.name]
            faq_c = [
                c
                for c in proposal.candidates
                if c.skill == faq.name and c.details.get("decision") == "answer"
            ]
            mrc_pass = [c for c in mrc_c if c.confidence >= policy.threshold(mrc.name)]
            retrieve = getattr(mrc, "retrieve", None)
            if callable(retrieve):
                hits = retrieve(q["question"], q["locale"], 10)
            else:
                hits = mrc.index.search(q["question"], 10, locale=q["locale"])
            gold = [
                p.id
                for p in mrc.index.passages()
                if p.locale == q["locale"] and q["facts"] and has_fact(p.text, q["facts"])
            ]
            ids = [h.passage.id for h in hits]
            rank = next((i + 1 for i, pid in enumerate(ids) if pid in gold), None)
            mrc_started = time.perf_counter()
            mrc.answer(q["question"], q["locale"])
            mrc_ms = 1000 * (time.perf_counter() - mrc_started)
            rows.append(
                {
                    "id": q["id"],
                    "answerable": bool(q["facts"]),
                    "route": reply.route,
                    "outcome": proposal.decision.outcome,
                    "confidence": round(reply.confidence, 3),
                    "assistant": has_fact(reply_text(reply), q["facts"])
                    if q["facts"]
                    else proposal.decision.outcome in ("fallback", "clarify"),
                    "mrc_only": has_fact(reply_text(mrc_pass[0].reply), q["facts"])
                    if q["facts"] and mrc_pass
                    else (not q["facts"] and not mrc_pass),
                    "faq_only": has_fact(reply_text(faq_c[0].reply), q["facts"])
                    if q["facts"] and faq_c
                    else (not q["facts"] and not faq_c),
                    "mrc_confidence": round(mrc_c[0].confidence, 3) if mrc_c else None,
                    "rank": rank if gold else None,
                    "gold": bool(gold),
                    "turn_ms": round(turn_ms, 1),
                    "mrc_ms": round(mrc_ms, 1),
                    "reply": reply_text(reply)[:160],
                }
            )
        await store.close()
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    with_gold = [r for r in answerable if r["gold"]]

    def share(items: list[dict[str, Any]], key: str) -> float:
        return round(sum(bool(r[key]) for r in items) / max(1, len(items)), 4)

    metrics: dict[str, Any] = {
        "questions": len(rows),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "assistant": share(answerable, "assistant"),
        "mrc_only": share(answerable, "mrc_only"),
        "faq_only": share(answerable, "faq_only"),
        "assistant_facts": sum(r["assistant"] for r in answerable),
        "unanswerable_declined": share(unanswerable, "assistant"),
        "unanswerable_mrc_silent": share(unanswerable, "mrc_only"),
    }
    for k in (1, 3, 10):
        hit = sum(1 for r in with_gold if r["rank"] is not None and r["rank"] <= k)
        metrics[f"passage_recall@{k}"] = round(hit / max(1, len(with_gold)), 4)
    metrics["turn_ms_p50"] = round(statistics.median(r["turn_ms"] for r in rows), 1)
    metrics["mrc_ms_p50"] = round(statistics.median(r["mrc_ms"] for r in rows), 1)
    return {"metrics": metrics, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, nargs="+", default=[DEFAULT])
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with")
    parser.add_argument("--json", type=Path, help="write metrics and rows here")
    parser.add_argument("--rows", action="store_true", help="print every question's result")
    args = parser.parse_args()
    questions = [
        json.loads(line)
        for path in args.questions
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    result = asyncio.run(run(questions))
    out: dict[str, Any] = {"this": result}
    if args.baseline is not None:
        with tempfile.NamedTemporaryFile(suffix=".json") as file:
            env = {**os.environ, "PYTHONPATH": str(args.baseline.resolve())}
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--questions",
                    *(str(p.resolve()) for p in args.questions),
                    "--json",
                    file.name,
                ],
                env=env,
                check=True,
                cwd=args.baseline,
            )
            out["baseline"] = json.loads(Path(file.name).read_text(encoding="utf-8"))["this"]
    if args.json is not None:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.rows:
        for r in result["rows"]:
            print(json.dumps(r, ensure_ascii=False))
    this = result["metrics"]
    base = out.get("baseline", {}).get("metrics", {})
    for key, value in this.items():
        line = f"{key:26} {value}"
        if key in base:
            line += f"   baseline {base[key]}"
            if isinstance(value, float) and base[key]:
                line += f"   ratio {value / base[key]:.2f}"
        print(line)


if __name__ == "__main__":
    main()
