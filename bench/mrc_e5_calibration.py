"""Calibrating the e5 reader's confidence: P(the answer is right) instead of p(start)·p(end).

    OMP_NUM_THREADS=1 .venv/bin/python bench/mrc_e5_calibration.py \\
        --squad /work/shared/eval/mrc/korquad1_dev_part_a.json --articles 48-69 [--every 2] \\
        [--write] [--json OUT]

The MRC skill hands the reader's score to the dialogue policy as the candidate's confidence,
and the policy compares it with the other skills' calibrated confidences and with `bot.yaml`'s
thresholds. A span's own probability is no such thing: it is split between overlapping spans
("left rear wing", "the left rear wing", ...), so a right answer can score 0.06.

Each question is asked as the bot asks it: its article's paragraphs are indexed
(`PassageIndex`, lexical retrieval as in the demo bot), the best 3 are read, and the reader's
best span is kept with its log score and its gap over its window's "no answer" score. It is
right when its F1 against the gold answers (KorQuAD's character F1) is at least 0.5. Each
question is asked a second time of the next article's paragraphs, which do not hold its
answer (a question the documents do not cover, as most questions a bot's MRC skill sees are:
whatever it answers is wrong). Questions the reader leaves unanswered give no example. Use
articles the span model was not trained on (the shipped one: 0-47, so 48-69).

Reported: expected calibration error (10 bins) of the raw score and of a logistic regression
over (log score, gap), fitted on half of the articles and reported on the other half (and
the other way round), and, at a few thresholds, the share of questions answered and the
share of those answers that are right. `--write` fits on every example and writes the
calibration beside the shipped span model (`korquad-e5-small.calibration.json`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from rich.progress import Progress

from assistant.mrc.e5.span_model import DEFAULT_MODEL
from assistant.mrc.e5_reader import Calibration, E5Reader, Span
from assistant.mrc.evaluation import paragraph_passages
from assistant.mrc.metrics import best_scores, language_of
from assistant.mrc.reader import Passage
from assistant.mrc.retrieval import PassageIndex
from assistant.mrc.squad import load_squad, parse_articles
from faq_index.metrics import expected_calibration_error

THRESHOLDS = (0.2, 0.35, 0.5, 0.7)


def collect(
    args: argparse.Namespace, reader: E5Reader
) -> tuple[list[dict[str, float | int | str]], int]:
    """One example per answered question (log score, gap, F1, right, article), and how many
    questions were asked."""
    articles = parse_articles(args.articles)
    chosen = [q for q in load_squad(args.squad) if articles is None or q.article in articles]
    questions = chosen[:: args.every]
    article_of = {q.paragraph: q.article for q in chosen}
    by_article: dict[int, list[Passage]] = {}
    for paragraph, passage in paragraph_passages(chosen).items():  # every one is searched
        by_article.setdefault(article_of[paragraph], []).append(passage)
    indexes = {}
    for article, paragraphs in by_article.items():
        indexes[article] = PassageIndex()
        indexes[article].add(paragraphs)
    numbers = sorted(indexes)
    # each question is also asked of the next article's documents, where its answer is not
    asks = [(q, q.article, True) for q in questions] + [
        (q, numbers[(numbers.index(q.article) + 1) % len(numbers)], False) for q in questions
    ]
    examples: list[dict[str, float | int | str]] = []
    with Progress() as progress:
        task = progress.add_task("reading", total=len(asks))
        for q, article, in_scope in asks:
            hits = indexes[article].search(q.question, args.passages)
            spans: list[Span] = reader.spans(q.question, [h.passage for h in hits])
            progress.advance(task)
            if not spans:
                continue
            best = spans[0]
            f1 = 0.0
            if in_scope:
                _, f1 = best_scores(
                    best.passage.text[best.start : best.end], q.answers, language_of(q.context)
                )
            examples.append(
                {
                    "id": q.id,
                    "article": q.article,
                    "in_scope": int(in_scope),
                    "log_score": best.log_score,
                    "gap": best.gap,
                    "f1": f1,
                    "right": int(f1 >= 0.5),
                }
            )
    return examples, len(asks)


def fit(x: np.ndarray, y: np.ndarray) -> tuple[tuple[float, float], float]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    a, b = (float(c) for c in model.coef_[0])
    return (a, b), float(model.intercept_[0])


def decisions(confidence: np.ndarray, right: np.ndarray, asked: int) -> dict[str, dict]:
    out = {}
    for t in THRESHOLDS:
        chosen = confidence >= t
        out[str(t)] = {
            "answered_share_of_questions": float(chosen.sum() / asked),
            "right_share_of_answers": float(right[chosen].mean()) if chosen.any() else 0.0,
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--squad", type=Path, default=Path("../shared/eval/mrc/korquad1_dev_part_a.json")
    )
    parser.add_argument("--articles", default="48-69", help="articles the model never saw")
    parser.add_argument("--every", type=int, default=1, help="every n-th question only")
    parser.add_argument("--passages", type=int, default=3, help="passages read a question")
    parser.add_argument("--write", action="store_true", help="write the calibration file")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if not args.squad.is_file():
        print(f"skip: {args.squad} not found", file=sys.stderr)
        return 0
    reader = E5Reader()
    reader.warm_up()
    reader.calibration = None  # the raw scores are the inputs
    started = time.time()
    examples, asked = collect(args, reader)
    in_scope = np.array([e["in_scope"] for e in examples], dtype=bool)
    x = np.array([[e["log_score"], e["gap"]] for e in examples], dtype=np.float64)
    y = np.array([e["right"] for e in examples], dtype=np.int_)
    article = np.array([e["article"] for e in examples])
    raw = np.exp(x[:, 0])
    # 2-fold by article: every example is scored by the calibration fitted on the others
    chosen = sorted(set(article.tolist()))
    halves = [set(chosen[0::2]), set(chosen[1::2])]
    held_out = np.zeros(len(examples))
    for half in halves:
        test = np.array([a in half for a in article])
        coef, intercept = fit(x[~test], y[~test])
        logit = x[test] @ np.array(coef) + intercept
        held_out[test] = 1.0 / (1.0 + np.exp(-logit))
    result = {
        "questions": asked,
        "answered": len(examples),
        "right_share_of_answered": float(y.mean()),
        "ece_raw_score": expected_calibration_error(raw, y),
        "ece_calibrated_2fold": expected_calibration_error(held_out, y),
        "mean_raw_score": float(raw.mean()),
        "mean_calibrated_2fold": float(held_out.mean()),
        "answered_out_of_scope": int((~in_scope).sum()),
        "raw_score": decisions(raw, y, asked),
        "calibrated_2fold": decisions(held_out, y, asked),
        "calibrated_2fold_out_of_scope_answered": {
            str(t): float((held_out[~in_scope] >= t).sum() / (asked / 2)) for t in THRESHOLDS
        },
        "raw_score_out_of_scope_answered": {
            str(t): float((raw[~in_scope] >= t).sum() / (asked / 2)) for t in THRESHOLDS
        },
        "seconds": round(time.time() - started),
    }
    coef, intercept = fit(x, y)
    result["fitted_on_all"] = {"coef": coef, "intercept": intercept}
    print(json.dumps(result, indent=1))
    if args.write:
        meta = {
            "data": f"{args.squad.name}, articles {args.articles}, every {args.every}. question",
            "examples": len(examples),
            "label": "F1 >= 0.5 of the best span, 3 passages retrieved; each question asked of its "
            "own article and of the next one",
            "ece_2fold_by_article": round(result["ece_calibrated_2fold"], 4),
            "ece_raw_score": round(result["ece_raw_score"], 4),
        }
        path = Calibration(coef, intercept, meta).save(DEFAULT_MODEL)
        print(f"wrote {path}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps({"result": result, "examples": examples}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
