"""FAQ answers on clean and noisy questions, before and after robust reading and the FAQ's
answer / offer / decline rule.

    OMP_NUM_THREADS=1 .venv/bin/python bench/faq_reading.py --data /work/shared/eval/faq \\
        [--sets welfare_ko stackfaq_en] [--limit N] [--hits /tmp/faq_reading_hits.json]

For each data set `<name>.entries.jsonl` + `<name>.queries.dev.jsonl` in `--data` (skipped
when absent) the FAQ is indexed and self-calibrated as `assistant eval faq` and the demo bot do
(e5, fusion fitted on the entries; no dev query used), and every dev query is searched four
ways: as written (`clean`), as written and read by `assistant.normalize.read_text`
(`clean+read`; English typos against the words of the entries, as the demo bot does), a noisy copy (`assistant.noise.add_noise`, seed 21: dropped spaces, jamo and
letter typos, common misspellings) and the noisy copy read (`noisy+read`). A query is answered
by its better reading the way the dialogue manager does it (the reading counts when its top
confidence, times `assistant.dialogue.READING_WEIGHT`, beats the typed text's).

Reported for each way, on the queries split in two halves (even lines `tune`, odd lines `held`:
the thresholds of the rule were chosen looking at `tune` only):
accuracy@1, and for the rule before (answer at 0.5, offer at 0.3: `assistant eval faq`'s
defaults and the demo bot's) and after (`assistant.skills.faq.DEFAULT_RULE`, offering from `--suggest-at`, default 0.01):
end-to-end accuracy (the answered or first offered entry is the expected one), answer precision
(answers that are right), the answered / offered / declined shares, the share of questions whose
expected entry is among the offered ones, and the share that reach the fallback (declined; all
dev questions have an answer). `--hits` keeps the searches, so that a rule can be tried again
without searching.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.cli.eval import faq_encoder
from assistant.noise import add_noise
from assistant.normalize import Vocabulary, detect_locale, read_text
from assistant.skills.faq import FaqRule, decide_hits
from faq_index.faq import FaqIndex
from faq_index.formats import load_entries

K = 5
BEFORE = FaqRule(answer_at=0.5, suggest_at=0.3, margin_answer_at=None, near_at=None)


def search_all(faq: FaqIndex, texts: list[str]) -> list[list[tuple[str, float]]]:
    out = []
    for text in texts:
        hits = faq.search(text, K, locale=detect_locale(text))
        out.append([(h.entry.id, round(h.confidence, 5)) for h in hits])
    return out


def collect(
    data: Path, name: str, limit: int | None, kept: dict[str, Any] | None = None
) -> dict[str, Any]:
    entries = load_entries([data / f"{name}.entries.jsonl"])
    lines = (data / f"{name}.queries.dev.jsonl").read_text(encoding="utf-8").splitlines()
    queries = [json.loads(line) for line in lines if line.strip()][:limit]
    faq = FaqIndex(entries, encoder=faq_encoder("e5", None))
    faq.calibrate()
    rng = random.Random(21)
    clean = [q["text"] for q in queries]
    noisy = [add_noise(t, rng) for t in clean]
    ways: dict[str, list[str]] = {"clean": clean, "noisy": noisy}
    vocabulary = Vocabulary(t for e in entries for t in (*e.questions, e.answer))
    ways["clean+read"] = [read_text(t, detect_locale(t), vocabulary).text for t in clean]
    ways["noisy+read"] = [read_text(t, detect_locale(t), vocabulary).text for t in noisy]
    hits: dict[str, Any] = {}
    for way, texts in ways.items():
        if kept is not None and not way.endswith("+read") and kept["texts"][way] == texts:
            hits[way] = kept["hits"][way]
            continue
        started = time.perf_counter()
        hits[way] = search_all(faq, texts)
        print(
            f"{name} {way}: {len(texts)} searched in {time.perf_counter() - started:.0f}s",
            file=sys.stderr,
        )
    return {"expected": [q["expected_id"] for q in queries], "texts": ways, "hits": hits}


def better(typed: list[tuple[str, float]], read: list[tuple[str, float]], weight: float):
    top_typed = typed[0][1] if typed else 0.0
    top_read = read[0][1] if read else 0.0
    return read if top_read * weight > top_typed else typed


def score(
    expected: list[str | None], hits: list[list[tuple[str, float]]], rule: FaqRule
) -> dict[str, float]:
    n = len(expected)
    answered = offered = declined = right = right_answers = in_offer = 0
    for want, found in zip(expected, hits, strict=True):
        kind, shown = decide_hits([c for _, c in found], rule)
        ids = [found[i][0] for i in shown]
        if kind == "answer":
            answered += 1
            right_answers += ids[0] == want
            right += ids[0] == want
        elif kind == "suggest":
            offered += 1
            right += ids[0] == want
            in_offer += want in ids
        else:
            declined += 1
    return {
        "e2e": right / n,
        "precision": right_answers / answered if answered else 0.0,
        "answered": answered / n,
        "offered": offered / n,
        "declined": declined / n,
        "in_offer": in_offer / n,
    }


def report(name: str, run: dict[str, Any], rule: FaqRule, weight: float) -> None:
    expected = run["expected"]
    hits = run["hits"]
    ways = {
        "clean": hits["clean"],
        "clean+read": [
            better(a, b, weight) for a, b in zip(hits["clean"], hits["clean+read"], strict=True)
        ],
        "noisy": hits["noisy"],
        "noisy+read": [
            better(a, b, weight) for a, b in zip(hits["noisy"], hits["noisy+read"], strict=True)
        ],
    }
    print(f"\n## {name} ({len(expected)} dev questions; tune = even lines, held = odd lines)\n")
    print(
        "| way | half | acc@1 | e2e before | e2e after | precision before | after | answered before | after | offered before | after | fallback before | after |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for way, found in ways.items():
        for half, sl in (("tune", slice(0, None, 2)), ("held", slice(1, None, 2))):
            exp, f = expected[sl], found[sl]
            acc = sum(bool(h) and h[0][0] == e for h, e in zip(f, exp, strict=True)) / len(exp)
            b, a = score(exp, f, BEFORE), score(exp, f, rule)
            print(
                f"| {way} | {half} | {acc:.3f} | {b['e2e']:.3f} | {a['e2e']:.3f} | {b['precision']:.3f} | {a['precision']:.3f} "
                f"| {b['answered']:.3f} | {a['answered']:.3f} | {b['offered']:.3f} | {a['offered']:.3f} | {b['declined']:.3f} | {a['declined']:.3f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--sets", nargs="*", default=["welfare_ko", "stackfaq_en"])
    parser.add_argument("--limit", type=int)
    parser.add_argument(
        "--suggest-at", type=float, default=0.01, help="the rule after offers from here"
    )
    parser.add_argument(
        "--reread", action="store_true", help="search the read ways again (the others kept)"
    )
    parser.add_argument(
        "--hits", type=Path, help="JSON file keeping the searches (reused when present)"
    )
    args = parser.parse_args()
    from assistant.dialogue import READING_WEIGHT
    from assistant.skills.faq import DEFAULT_RULE

    after = dataclasses.replace(DEFAULT_RULE, suggest_at=args.suggest_at, near_at=None)
    stored: dict[str, Any] = {}
    if args.hits and args.hits.exists():
        stored = json.loads(args.hits.read_text(encoding="utf-8"))
    for name in args.sets:
        if not (args.data / f"{name}.queries.dev.jsonl").exists():
            print(f"{name}: not found in {args.data}, skipped", file=sys.stderr)
            continue
        if name not in stored or args.reread:
            stored[name] = collect(args.data, name, args.limit, stored.get(name))
            if args.hits:
                args.hits.write_text(json.dumps(stored, ensure_ascii=False), encoding="utf-8")
        report(name, stored[name], after, READING_WEIGHT)
    print(f"\nrule after: {after}; before: {BEFORE}")


if __name__ == "__main__":
    main()
