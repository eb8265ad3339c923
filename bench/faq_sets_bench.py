"""Is the fused FAQ ranking at or above its best single signal on every kind of FAQ? (issue 22)

    OMP_NUM_THREADS=1 .venv/bin/python bench/faq_sets_bench.py \\
        --eval /work/shared/eval --cache /tmp/faq_cache [--sets qp1000 welfare_ko ...] \\
        [--json out.json]

The sets are built at run time from the public evaluation data (never copied into the
repository); a set whose files are absent is skipped:

- `welfare_ko`, `stackfaq_en`: the FAQ sets as they are (question, answer, category) and their
  dev queries;
- `welfare_ko_q`, `stackfaq_en_q`: the same entries, questions only: the answer is the question
  itself (an FAQ a customer-centre pastes together on day one); `..._q-` with the answer `-`
  for every entry instead (a stock answer that tells no entry apart);
- `qp1000`, `qp1000-`: a Korean paraphrase FAQ from `paraphrase/question_pair_ko.*`: pairs of
  the same meaning (`is_duplicate` 0), the first question an entry of its own (no
  alternatives), the second its query; 1,000 entries drawn with a fixed seed, answer = the
  question (`qp1000`) or `-` (`qp1000-`); `qp_all`: every such first question (about 4,100
  entries), answer = the question.

Each set gets one table, rows BM25, char n-grams, e5 and fused, columns:

- `self-fitted`: the FAQ fitted on itself, exactly `FaqIndex.calibrate` (no query used). A
  single signal's row is that signal's columns at the weights the fit starts from.
- `trained`: 2-fold by entry on the dev queries, as `assistant train faq` fits
  (`FaqIndex.fit_queries`: listwise, checked on a held-back third of the fitting entries):
  fitted on the queries of one half of the entries, reported on the other half's, and the
  other way round. A single signal's row is the same fit over that signal's columns only.

Also, as the baseline of the same run: `fused, old weights` = the former default z-score sum
(BM25 1, char 1, e5 2 on every field), nothing fitted.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from faq_index.cache import CachedEncoder, EmbeddingCache
from faq_index.encoders import make_encoder
from faq_index.entry import FaqEntry
from faq_index.faq import HOLD_OUT, FaqIndex
from faq_index.formats import load_entries
from faq_index.fusion import FusionModel
from faq_index.index import QueryFeatures
from faq_index.training import Example, fit_fusion, query_examples, separating_defaults

SIGNALS = ("bm25", "char", "dense")
LABELS = {"bm25": "BM25", "char": "char n-grams", "dense": "e5", "fused": "**fused**"}
ALL_SETS = (
    "welfare_ko",
    "stackfaq_en",
    "qp1000",
    "qp1000-",
    "qp_all",
    "welfare_ko_q",
    "welfare_ko_q-",
    "stackfaq_en_q",
    "stackfaq_en_q-",
)

Queries = list[tuple[str, str]]


def faq_set(eval_dir: Path, name: str) -> tuple[list[FaqEntry], Queries] | None:
    base = name.split("_q")[0] if name.startswith(("welfare_ko_q", "stackfaq_en_q")) else name
    if base.startswith("qp"):
        return question_pairs(eval_dir / "paraphrase", name)
    entries_path = eval_dir / "faq" / f"{base}.entries.jsonl"
    queries_path = eval_dir / "faq" / f"{base}.queries.dev.jsonl"
    if not entries_path.is_file() or not queries_path.is_file():
        return None
    entries = load_entries(entries_path)
    rows = [json.loads(line) for line in queries_path.read_text(encoding="utf-8").splitlines()]
    queries = [(r["text"], r["expected_id"]) for r in rows if r.get("expected_id")]
    if name != base:  # questions only
        stock = name.endswith("-")
        entries = [
            FaqEntry(id=e.id, question=e.question, answer="-" if stock else e.question)
            for e in entries
        ]
    return entries, queries


def question_pairs(directory: Path, name: str) -> tuple[list[FaqEntry], Queries] | None:
    pairs: dict[str, list[str]] = {}
    for split in ("train", "test"):
        path = directory / f"question_pair_ko.{split}.csv"
        if not path.is_file():
            return None
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                first, second = row["question1"].strip(), row["question2"].strip()
                if row["is_duplicate"].strip() == "0" and first and second and first != second:
                    pairs.setdefault(first, []).append(second)
    items = sorted(pairs.items())
    random.Random(0).shuffle(items)
    if name.startswith("qp1000"):
        items = items[:1000]
    entries: list[FaqEntry] = []
    queries: Queries = []
    for i, (question, paraphrases) in enumerate(items):
        answer = "-" if name.endswith("-") else question
        entries.append(FaqEntry(id=f"p{i}", question=question, answer=answer))
        queries += [(p, f"p{i}") for p in paraphrases]
    return entries, queries


def only(features: QueryFeatures, names: tuple[str, ...], signal: str) -> QueryFeatures:
    keep = np.array([n.startswith(signal + ".") for n in names])
    return dataclasses.replace(features, columns=np.where(keep, features.columns, 0.0))


def restricted(model: FusionModel, signal: str) -> FusionModel:
    keep = np.array([n.startswith(signal + ".") for n in model.rank_features])
    return dataclasses.replace(model, weights=np.where(keep, model.weights, 0.0))


def top1(weights: np.ndarray, feats: list[QueryFeatures], gold: list[str]) -> float:
    right = 0
    for found, expected in zip(feats, gold, strict=True):
        fused = found.columns @ weights
        fused[~found.alive] = -np.inf
        right += found.keys[int(np.argmax(fused))] == expected
    return right / len(gold) if gold else 0.0


def run_set(name: str, data: tuple[list[FaqEntry], Queries], encoder: CachedEncoder) -> dict:
    entries, queries = data
    t0 = time.time()
    faq = FaqIndex(entries, encoder=encoder)
    index = faq.index
    texts = [q for q, _ in queries]
    gold = [g for _, g in queries]
    vectors = encoder.encode(texts, kind="query")  # batched, cached for the next run
    by_text = {t: index.row_scores(t, v) for t, v in zip(texts, vectors, strict=True)}
    feats = [index.features(q, row_scores=by_text[q]) for q in texts]
    names = index.fusion.rank_features
    print(f"{name}: indexed and scored in {time.time() - t0:.0f} s", file=sys.stderr)

    def precomputed(example: Example) -> QueryFeatures:
        return index.features(
            example.text,
            exclude_keys=example.exclude_keys,
            exclude_texts=example.exclude_texts,
            row_scores=by_text.get(example.text),
        )

    out: dict = {"entries": len(entries), "queries": len(queries), "self": {}, "trained": {}}
    old = FusionModel.default(SIGNALS, index.fields)
    old_weights = np.array([2.0 if n.startswith("dense.") else 1.0 for n in old.rank_features])
    out["old_default"] = top1(old_weights, feats, gold)

    # self-fitted: exactly what `assistant eval faq` does by default
    model = faq.calibrate()
    start = separating_defaults(index)
    out["self"]["fused"] = top1(model.weights, feats, gold)
    for signal in SIGNALS:
        out["self"][signal] = top1(restricted(start, signal).weights, feats, gold)
    out["self_model"] = {"weights": dict(zip(names, model.weights.round(3).tolist(), strict=True))}
    out["self_model"]["notes"] = model.notes

    # trained: 2-fold by entry on the dev queries, as `assistant train faq`
    ids = [e.id for e in entries]
    random.Random(7).shuffle(ids)
    halves = [set(ids[: len(ids) // 2]), set(ids[len(ids) // 2 :])]
    right = {k: 0.0 for k in ("fused", *SIGNALS)}
    decisions = []
    for fold in (0, 1):
        train_ids, test_ids = halves[fold], halves[1 - fold]
        examples = query_examples(
            [(q, g) for q, g in queries if g in train_ids], rng=random.Random(fold)
        )
        test = [i for i, g in enumerate(gold) if g in test_ids]
        for key in right:
            feature_fn: Callable[[Example], QueryFeatures] = precomputed
            base = start
            if key != "fused":

                def feature_fn(e: Example, key: str = key) -> QueryFeatures:
                    return only(precomputed(e), names, key)

                base = restricted(start, key)
            fitted = fit_fusion(
                index,
                examples,
                name=f"fold {fold}",
                ranker="listwise",
                base=base,
                hold_out=HOLD_OUT,
                seed=0,
                features=feature_fn,
            )
            if key == "fused":
                decisions.append(fitted.notes["ranking"])
            share = top1(fitted.weights, [feats[i] for i in test], [gold[i] for i in test])
            right[key] += share * len(test)  # every query is reported once, by one fold
    out["trained"] = {k: v / len(gold) for k, v in right.items()}
    out["trained_decisions"] = decisions
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--cache", type=Path, default=Path(".cache/faq_bench"))
    parser.add_argument("--sets", nargs="*", default=list(ALL_SETS))
    parser.add_argument("--encoder", default="e5")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    encoder = CachedEncoder(make_encoder(args.encoder), EmbeddingCache(args.cache))
    results = {}
    for name in args.sets:
        data = faq_set(args.eval, name)
        if data is None:
            print(f"skip {name}: its files are not under {args.eval}", file=sys.stderr)
            continue
        results[name] = run_set(name, data, encoder)
        print_table(name, results[name])
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


def print_table(name: str, result: dict) -> None:
    print(f"\n### {name}: {result['entries']} entries, {result['queries']} queries\n")
    print("| top-1 | self-fitted | trained (2-fold on dev) |")
    print("|---|---|---|")
    for key in (*SIGNALS, "fused"):
        print(f"| {LABELS[key]} | {result['self'][key]:.3f} | {result['trained'][key]:.3f} |")
    print(f"| fused, old default weights (before) | {result['old_default']:.3f} | |")
    print(
        f"\nself-fit: {result['self_model']['notes'].get('ranking')}; trained: "
        + " / ".join(result["trained_decisions"])
    )
    sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())
