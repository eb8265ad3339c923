"""Fit the built-in reader's span weights on part of a SQuAD-format file; report on the rest.

    python bench/mrc_train_lexical.py ../shared/eval/mrc/korquad1_dev_part_a.json \
        [--train-articles 35] [--write assistant/mrc/lexical_weights.py]

Articles [0, N) are used for fitting, articles N.. are held out and only scored. Every
candidate of the reader becomes one example, labelled positive when its F1 against a gold
answer is at least 0.5; a logistic regression gives the weights. Skips when the file is absent.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from assistant.mrc.lexical import LexicalReader
from assistant.mrc.metrics import best_scores, language_of
from assistant.mrc.passage import Passage
from assistant.mrc.squad import SquadQuestion, load_squad


def _passage(q: SquadQuestion) -> Passage:
    return Passage(id=f"p{q.paragraph}", document=f"a{q.article}", text=q.context)


def evaluate(reader: LexicalReader, questions: list[SquadQuestion]) -> dict[str, float]:
    em = f1 = hit = 0.0
    started = time.perf_counter()
    for q in questions:
        answers = reader.read(q.question, [_passage(q)])
        text = answers[0].text if answers else ""
        e, f = best_scores(text, q.answers, language_of(q.context))
        em, f1 = em + e, f1 + f
        if answers and any(g in answers[0].sentence for g in q.answers):
            hit += 1
    n = max(1, len(questions))
    return {
        "n": len(questions),
        "em": 100 * em / n,
        "f1": 100 * f1 / n,
        "sentence_hit": hit / n,
        "ms": 1000 * (time.perf_counter() - started) / n,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path)
    parser.add_argument("--train-articles", type=int, default=35)
    parser.add_argument("--C", type=float, default=0.3)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    if not args.data.exists():
        print(f"skipped: {args.data} not found")
        return 0
    import numpy as np
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    questions = load_squad(args.data)
    train = [q for q in questions if q.article < args.train_articles]
    held = [q for q in questions if q.article >= args.train_articles]
    reader = LexicalReader()
    rows: list[dict[str, float]] = []
    labels: list[int] = []
    for q in train:
        for c in reader.candidates(q.question, [_passage(q)]):
            _, f = best_scores(q.context[c.start : c.end], q.answers, language_of(q.context))
            rows.append(c.features)
            labels.append(int(f >= args.threshold))
    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform(rows)
    model = LogisticRegression(C=args.C, max_iter=2000)
    model.fit(x, np.array(labels))
    weights = {"bias": float(model.intercept_[0])}
    for name, w in zip(vectorizer.get_feature_names_out(), model.coef_[0], strict=True):
        weights[str(name)] = weights.get(str(name), 0.0) + float(w)
    print(f"fitted on {len(train)} questions, {len(rows)} candidates, {sum(labels)} positive")
    if args.write:
        lines = [
            '"""Weights of the built-in reader\'s linear span model.',
            "",
            "Fitted by `bench/mrc_train_lexical.py` (logistic regression over candidate spans) on",
            f"articles 0-{args.train_articles - 1} of KorQuAD 1.0 dev part A; articles",
            f"{args.train_articles}.. were held out for the figures reported.",
            '"""',
            "",
            "from __future__ import annotations",
            "",
            '__all__ = ["WEIGHTS"]',
            "",
            "WEIGHTS: dict[str, float] = {",
            *(f'    "{k}": {v:.4f},' for k, v in sorted(weights.items()) if abs(v) >= 1e-4),
            "}",
            "",
        ]
        args.write.write_text("\n".join(lines), encoding="utf-8")
    import assistant.mrc.lexical as lexical

    lexical.WEIGHTS.clear()
    lexical.WEIGHTS.update(weights)
    for name, part in (("train", train), ("held-out", held)):
        result = evaluate(reader, part)
        print(name, {k: round(v, 3) for k, v in result.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
