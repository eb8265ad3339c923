"""How much of a public Korean small-talk question set the bundled Korean rules answer.

    .venv/bin/python bench/rules_coverage.py --data ../shared/eval/smalltalk/ChatbotData_ko.csv \
        [--sample 100] [--seed 3] [--min-confidence 0.5]

Reads the `Q` column of the CSV (the file is not part of the project and is never copied into
it; its answers are not read), matches every question against the bundled Korean set and
reports the share answered at all and the share answered at or above `--min-confidence` (the
small-talk skill's confidence; 0.5 is the demo bot's answer threshold). Then prints a seeded
random sample of questions answered above that confidence with the rule and its response, for a
person to judge whether each answer fits. Exits 0 with a note when the file is absent.
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from pathlib import Path

from assistant.skills.smalltalk import SmalltalkSkill, is_question
from rules import bundled_paths, load_rules


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="ChatbotData CSV with a Q column")
    parser.add_argument("--sample", type=int, default=100)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--min-confidence", type=float, default=0.5)
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"skipped: {args.data} not found (public data is not part of the project)")
        return
    with args.data.open(encoding="utf-8") as f:
        questions = [row["Q"] for row in csv.DictReader(f) if row.get("Q")]

    engine = load_rules(bundled_paths("ko"), rng=random.Random(args.seed))
    skill = SmalltalkSkill(name="smalltalk", engine=engine)
    started = time.perf_counter()
    answered: list[tuple[str, str, str, float]] = []
    any_match = 0
    for question in questions:
        match = engine.match(question, locale="ko")
        if match is None:
            continue
        any_match += 1
        confidence = skill.confidence_of(match, question=is_question(question))
        if confidence >= args.min_confidence:
            answered.append((question, match.rule_id, match.response, confidence))
    elapsed = time.perf_counter() - started

    total = len(questions)
    print(f"questions: {total}  ({elapsed:.1f} s, {total / elapsed:,.0f} per second)")
    print(f"matched by any rule:            {any_match:>6}  {any_match / total:.1%}")
    print(
        f"answered at confidence >= {args.min_confidence}: {len(answered):>6}  {len(answered) / total:.1%}"
    )
    sample = random.Random(args.seed).sample(answered, min(args.sample, len(answered)))
    print(f"\nrandom sample of {len(sample)} answered questions (seed {args.seed}):")
    for number, (question, rule_id, response, confidence) in enumerate(sample, start=1):
        print(f"{number:>3}. Q: {question}\n     {rule_id} ({confidence:.2f}): {response}")


if __name__ == "__main__":
    main()
