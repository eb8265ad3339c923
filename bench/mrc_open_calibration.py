"""The e5 reader's open-mode confidence: fitted and measured where most passages lack the answer.

    OMP_NUM_THREADS=1 .venv/bin/python bench/mrc_open_calibration.py \\
        --squad /work/shared/eval/mrc/korquad1_dev_part_a.json --articles 48-69 --every 8 \\
        --offset 2 \\
        [--encoder e5|none] [--examples runs/open-examples.jsonl] [--write] [--json OUT]

Every paragraph of the file is a passage of one index (open mode, as `assistant eval mrc
--mode open`). Each chosen question is asked twice: of the 3 passages retrieved for it, and
of the 3 retrieved with its own paragraph left out (a question the documents do not answer:
whatever the reader says is wrong). Every span the windows propose (no "no answer" margin;
the reader's best `MAX_SPANS`) becomes an example with the features of
`assistant.mrc.confidence` and the label F1 >= 0.5.

Reported, for the answer the skill gives (the most probable span of each asking):

- `ece_before`: the reader's own calibration (`Calibration`, fitted in reader mode), on the
  answers the reader gives with its "no answer" margin (unanswered askings give no example);
- `ece_after`: the open-mode calibration, fitted on half of the articles and scored on the
  other half, and the other way round (2-fold by article);
- answered share and precision at a few thresholds, before and after.

`--examples FILE` keeps the examples (a later run with the file and `--refit` fits again
without reading); `--write` fits on all examples and writes
`korquad-e5-small.open-calibration.json` beside the shipped span model.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from assistant.mrc.confidence import FEATURES, OpenCalibration, question_terms
from assistant.mrc.e5.span_model import DEFAULT_MODEL
from assistant.mrc.e5_reader import E5Reader
from assistant.mrc.evaluation import paragraph_passages
from assistant.mrc.metrics import best_scores, language_of
from assistant.mrc.open_mode import MAX_SPANS, span_features
from assistant.mrc.retrieval import PassageIndex
from assistant.mrc.squad import load_squad, parse_articles
from faq_index.metrics import expected_calibration_error

THRESHOLDS = (0.2, 0.35, 0.5, 0.7)


def collect(args: argparse.Namespace) -> list[dict[str, Any]]:
    """One row per asking: the old answer (score, right) and every span's features and label."""
    from assistant.skills.encoding import DEFAULT_CACHE
    from faq_index.cache import CachedEncoder, EmbeddingCache
    from faq_index.encoders import make_encoder

    questions = load_squad(args.squad)
    by_paragraph = paragraph_passages(questions)
    articles = parse_articles(args.articles)
    chosen = [q for q in questions if articles is None or q.article in articles][
        args.offset :: args.every
    ]
    encoder = None
    if args.encoder != "none":
        encoder = CachedEncoder(
            make_encoder(args.encoder), EmbeddingCache(DEFAULT_CACHE / "embeddings")
        )
    index = PassageIndex(encoder=encoder)
    started = time.perf_counter()
    index.reset(by_paragraph.values())
    print(
        f"indexed {len(by_paragraph)} paragraphs in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    reader = E5Reader()
    reader.warm_up()
    rows: list[dict[str, Any]] = []
    windows: dict[str, Any] = {}

    def read(question: str, passage: Any) -> Any:
        """The windows of one passage, read once per question (both askings share most)."""
        if passage.id not in windows:
            windows[passage.id] = reader._scored(question, [passage])
        return windows[passage.id]

    for n, q in enumerate(chosen):
        windows.clear()
        language = language_of(q.context)
        terms = question_terms(q.question)
        gold = f"p{q.paragraph}"
        for held_out in (False, True):
            hits = index.search(q.question, 3, exclude=[gold] if held_out else [])
            passages = [h.passage for h in hits]
            scored = [w for p in passages for w in read(q.question, p)]
            old = reader.spans_of(scored)
            spans = reader.spans_of(scored, null_margin=math.inf)[:MAX_SPANS]
            ranks = {p.id: i for i, p in enumerate(passages)}

            rows.append(
                {
                    "id": q.id,
                    "article": q.article,
                    "held_out": held_out,
                    "retrieved": gold in ranks,
                    "old": (
                        [
                            reader.confidence(old[0]),
                            _right(
                                old[0].passage.text[old[0].start : old[0].end], q.answers, language
                            ),
                        ]
                        if old
                        else None
                    ),
                    "spans": [
                        {
                            **span_features(s, terms, ranks[s.passage.id]),
                            "right": _right(s.passage.text[s.start : s.end], q.answers, language),
                        }
                        for s in spans
                    ],
                }
            )
        if n % 20 == 0:
            print(f"{n + 1}/{len(chosen)}", file=sys.stderr)
    return rows


def collect_manual(path: Path) -> list[dict[str, Any]]:
    """Examples from questions about the demo bot's manual (`assistant/demo_bot/eval/`), asked
    as the demo bot's MRC skill asks them; a span is right when it holds one of the
    question's facts or is most of one (spaces and case ignored)."""
    import re

    from assistant.config import load_bot
    from assistant.skills import build_skills
    from assistant.skills.mrc import MrcSkill

    def squash(text: str) -> str:
        return re.sub(r"\s+", "", text).lower()

    def right(span: str, facts: list[str]) -> int:
        s = squash(span)
        return int(
            any(squash(f) in s or (s in squash(f) and 2 * len(s) >= len(squash(f))) for f in facts)
        )

    skill = next(s for _, s in build_skills(load_bot(None)) if isinstance(s, MrcSkill))
    reader = skill.reader
    assert isinstance(reader, E5Reader)
    rows: list[dict[str, Any]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        hits = skill.retrieve(q["question"], q["locale"], skill.passages)
        passages = [h.passage for h in hits]
        terms = question_terms(q["question"])
        ranks = {p.id: i for i, p in enumerate(passages)}
        spans = reader.spans(q["question"], passages, null_margin=math.inf)[:MAX_SPANS]
        rows.append(
            {
                "id": q["id"],
                "article": -1,  # not a KorQuAD article: always on the training side
                "held_out": not q["facts"],
                "retrieved": True,
                "old": None,
                "spans": [
                    {
                        **span_features(s, terms, ranks[s.passage.id]),
                        "right": right(s.passage.text[s.start : s.end], q["facts"]),
                    }
                    for s in spans
                ],
            }
        )
    return rows


def _right(text: str, answers: tuple[str, ...], language: str) -> int:
    return int(best_scores(text, answers, language)[1] >= 0.5)


def fit(rows: list[dict[str, Any]]) -> OpenCalibration:
    from sklearn.linear_model import LogisticRegression

    x = np.array([[s[f] for f in FEATURES] for r in rows for s in r["spans"]])
    y = np.array([s["right"] for r in rows for s in r["spans"]])
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    return OpenCalibration(
        tuple(float(c) for c in model.coef_[0]), float(model.intercept_[0]), FEATURES
    )


def chosen_answers(
    rows: list[dict[str, Any]], calibration: OpenCalibration
) -> list[tuple[float, int]]:
    """(probability, right) of the most probable span of each asking."""
    out = []
    for r in rows:
        if r["spans"]:
            best = max(r["spans"], key=calibration.probability)
            out.append((calibration.probability(best), best["right"]))
    return out


def summary(pairs: list[tuple[float, int]], askings: int) -> dict[str, Any]:
    if not pairs:
        return {}
    p = np.array([a for a, _ in pairs])
    y = np.array([b for _, b in pairs])
    out: dict[str, Any] = {
        "examples": len(pairs),
        "ece": round(float(expected_calibration_error(p, y)), 4),
    }
    for t in THRESHOLDS:
        kept = p >= t
        out[f"answered@{t}"] = round(float(kept.sum()) / askings, 4)
        out[f"precision@{t}"] = round(float(y[kept].mean()), 4) if kept.any() else None
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--squad", type=Path)
    parser.add_argument("--articles", default="48-69")
    parser.add_argument("--every", type=int, default=3)
    parser.add_argument("--offset", type=int, default=0, help="start at this question")
    parser.add_argument("--encoder", default="e5")
    parser.add_argument("--examples", type=Path)
    parser.add_argument("--refit", action="store_true", help="fit on --examples, read nothing")
    parser.add_argument(
        "--manual", type=Path, help="also fit on these demo-manual questions (the dev file)"
    )
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.refit and args.examples is not None:
        rows = [json.loads(line) for line in args.examples.read_text(encoding="utf-8").splitlines()]
    else:
        if args.squad is None:
            parser.error("--squad is needed unless --refit with --examples")
        rows = collect(args)
        if args.examples is not None:
            args.examples.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    manual: list[dict[str, Any]] = []
    if args.manual is not None:
        manual = collect_manual(args.manual)
    articles = sorted({r["article"] for r in rows})
    half = set(articles[: len(articles) // 2])
    folds = [
        [r for r in rows if r["article"] in half],
        [r for r in rows if r["article"] not in half],
    ]
    after: list[tuple[float, int]] = []
    for i in (0, 1):  # scored on KorQuAD articles only; the manual's questions always train
        after += chosen_answers(folds[i], fit(folds[1 - i] + manual))
    before = [tuple(r["old"]) for r in rows if r["old"] is not None]
    result = {
        "askings": len(rows),
        "with_answer_retrieved": sum(1 for r in rows if r["retrieved"]),
        "before_reader_calibration": summary(before, len(rows)),  # type: ignore[arg-type]
        "after_open_calibration_2fold": summary(after, len(rows)),
        "own_paragraph_askings": sum(1 for r in rows if not r["held_out"]),
    }
    if args.write:
        calibration = fit(rows + manual)
        calibration = OpenCalibration(
            calibration.coef,
            calibration.intercept,
            FEATURES,
            {
                "data": f"{args.squad.name if args.squad else 'examples'}, articles "
                f"{args.articles}, every {args.every}. question from the {args.offset}. on",
                "examples": sum(len(r["spans"]) for r in rows),
                "askings": len(rows),
                "label": "F1 >= 0.5 of each span the windows propose (no null margin), 3 passages "
                "retrieved from all paragraphs of the file; each question asked again with its "
                "own paragraph left out",
                "ece_2fold_by_article": result["after_open_calibration_2fold"].get("ece"),
                "ece_reader_calibration_open_mode": result["before_reader_calibration"].get("ece"),
                "manual_questions": args.manual.name if args.manual else None,
                "manual_examples": sum(len(r["spans"]) for r in manual),
            },
        )
        result["written"] = str(calibration.save(DEFAULT_MODEL))
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.json is not None:
        args.json.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
