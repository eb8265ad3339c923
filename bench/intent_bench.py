"""Intent recognition benchmark on CLINC150 (150 intents plus out-of-scope queries).

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/intent_bench.py \\
        /work/shared/eval/intents/clinc150_oos.json [--cache /tmp/intent_bench_cache] [--limit N]

Both systems are trained on `train` + `oos_train` (the out-of-scope examples as one more class)
in the same run:

- `baseline`: plain TF-IDF (words, 1-2 grams) + logistic regression, the usual first try;
- `ours`: `assistant.nlu.IntentClassifier` — the shared similarity index (BM25 over
  morphemes/words, character n-grams, e5 embeddings) over the examples plus a logistic
  regression on character n-gram TF-IDF and the e5 embedding, averaged.

An utterance is out of scope when the out-of-scope class wins or the best intent's score is
below a threshold. Reported for the test split (`test` in scope, `oos_test` out of scope):
in-scope accuracy (right intent and not declined), out-of-scope recall, and out-of-scope
precision, once with the threshold chosen on `val` + `oos_val` (the one maximizing the mean of
in-scope accuracy and out-of-scope recall; both systems the same way) and once with no
threshold (only the out-of-scope class declines). Also: fit seconds and ms per query.
A missing data file is skipped with a message.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

OOS = "oos"


def scores_ours(
    train: list[list[str]], oos_train: list[str], queries: list[str], cache: Path
) -> tuple[list[tuple[str, float, bool]], float, float]:
    """(top intent, its score, out-of-scope class won) per query; fit s; ms per query."""
    from assistant.nlu.intents import IntentClassifier
    from faq_index.cache import CachedEncoder, EmbeddingCache
    from faq_index.encoders import make_encoder

    encoder = CachedEncoder(make_encoder("e5"), EmbeddingCache(cache / "embeddings"))
    started = time.perf_counter()
    classifier = IntentClassifier(encoder=encoder, out_of_scope_threshold=0.0)
    classifier.fit([(intent, text) for text, intent in train], out_of_scope=oos_train)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    predictions = classifier.predict_many(queries, k=1)
    per_query = (time.perf_counter() - started) * 1000 / max(len(queries), 1)
    found = []
    for p in predictions:
        top = p.ranking[0]
        found.append((top.intent, top.score, p.out_of_scope))
    return found, fit_s, per_query


def scores_baseline(
    train: list[list[str]], oos_train: list[str], queries: list[str]
) -> tuple[list[tuple[str, float, bool]], float, float]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = [t for t, _ in train] + oos_train
    labels = [i for _, i in train] + [OOS] * len(oos_train)
    started = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    model = LogisticRegression(C=10.0, max_iter=2000)
    model.fit(vectorizer.fit_transform(texts), labels)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    probabilities = model.predict_proba(vectorizer.transform(queries))
    per_query = (time.perf_counter() - started) * 1000 / max(len(queries), 1)
    classes = list(model.classes_)
    oos_column = classes.index(OOS)
    found = []
    for row in probabilities:
        intent_row = row.copy()
        intent_row[oos_column] = -1.0
        best = int(np.argmax(intent_row))
        found.append((classes[best], float(row[best]), bool(row[oos_column] > row[best])))
    return found, fit_s, per_query


def metrics(
    found: list[tuple[str, float, bool]], gold: list[str], threshold: float
) -> dict[str, float]:
    declined = [oos_won or score < threshold for _, score, oos_won in found]
    in_scope = [i for i, g in enumerate(gold) if g != OOS]
    out = [i for i, g in enumerate(gold) if g == OOS]
    accuracy = sum(not declined[i] and found[i][0] == gold[i] for i in in_scope) / len(in_scope)
    recall = sum(declined[i] for i in out) / len(out) if out else 0.0
    precision = sum(declined[i] for i in out) / max(sum(declined), 1)
    return {"in_scope_accuracy": accuracy, "oos_recall": recall, "oos_precision": precision}


def tuned(found: list[tuple[str, float, bool]], gold: list[str]) -> float:
    best, best_score = 0.0, -1.0
    for threshold in np.linspace(0.0, 0.95, 96):
        m = metrics(found, gold, float(threshold))
        score = (m["in_scope_accuracy"] + m["oos_recall"]) / 2
        if score > best_score:
            best, best_score = float(threshold), score
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="clinc150_oos.json (data_full.json)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/intent_bench_cache"))
    parser.add_argument("--limit", type=int, default=None, help="at most N queries per split")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"skipped: {args.data} not found (evaluation data is not part of the project)")
        return
    data = json.loads(args.data.read_text(encoding="utf-8"))
    train = data["train"]
    oos_train = [t for t, _ in data["oos_train"]]
    splits = {}
    for name, parts in (("val", ("val", "oos_val")), ("test", ("test", "oos_test"))):
        rows = [r for part in parts for r in data[part][: args.limit]]
        splits[name] = ([t for t, _ in rows], [i for _, i in rows])
    queries = splits["val"][0] + splits["test"][0]
    n_val = len(splits["val"][0])
    report: dict[str, dict[str, object]] = {}
    for system in ("baseline", "ours"):
        if system == "ours":
            found, fit_s, per_query = scores_ours(train, oos_train, queries, args.cache)
        else:
            found, fit_s, per_query = scores_baseline(train, oos_train, queries)
        threshold = tuned(found[:n_val], splits["val"][1])
        report[system] = {
            "threshold_from_val": round(threshold, 3),
            "test_tuned": metrics(found[n_val:], splits["test"][1], threshold),
            "test_no_threshold": metrics(found[n_val:], splits["test"][1], 0.0),
            "fit_s": round(fit_s, 1),
            "ms_per_query": round(per_query, 2),
        }
        print(system, json.dumps(report[system]), flush=True)
    ours, base = report["ours"]["test_tuned"], report["baseline"]["test_tuned"]
    assert isinstance(ours, dict) and isinstance(base, dict)
    print(
        f"\ntest, thresholds from val ({len(splits['test'][0])} queries):\n"
        f"  in-scope accuracy  ours {ours['in_scope_accuracy']:.3f}  baseline "
        f"{base['in_scope_accuracy']:.3f}  ratio {ours['in_scope_accuracy'] / base['in_scope_accuracy']:.3f}\n"
        f"  out-of-scope recall ours {ours['oos_recall']:.3f}  baseline {base['oos_recall']:.3f}"
    )
    if args.out is not None:
        args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
