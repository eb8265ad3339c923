"""The FAQ cascade (answer from the lexical signals alone when they are sure) beside the system
without it, in the protocol of bench/faq_bench.py.

    OMP_NUM_THREADS=1 .venv/bin/python bench/faq_cascade_bench.py \\
        --data /work/shared/eval/faq --cache /tmp/faq_cache [--limit N] [--json OUT]

For each data set the entries alone are indexed (with the hubness correction, as the FAQ index
does) and every dev query is scored once. Two ways of fitting, each for the full fusion model
and for the lexical-only one of the cascade (`faq_index.training.fit_lexical`), from the same
examples:

- `2-fold`: fitted on the dev queries of half of the entries (a third of those entries removed,
  their queries out of scope, as bench/faq_bench.py does), reported on the other half;
- `self-fitted`: fitted on the FAQ itself (`self_examples`, no dev query), reported on all.

For each skip threshold (lexical P(top is right) at or above it: the query is answered without
e5) it reports the share of queries that skip e5, accuracy@1 and MRR@10, accuracy@1 of the
skipped queries, and, with a third of the reported half's entries removed from the index
(their queries out of scope), the decisions at the default thresholds, the ECE of the
confidence that the system returns, the share of out-of-scope queries that skip e5 (each
answered wrongly), and the share of skipped queries whose answer is right. `off` is the system
without the cascade.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faq_bench import calibration_summary, read_queries, run_datasets

from faq_index.cache import CachedEncoder, EmbeddingCache
from faq_index.encoders import make_encoder
from faq_index.faq import FIELDS, HUBNESS, KINDS, entry_rows
from faq_index.formats import load_entries
from faq_index.fusion import FusionModel
from faq_index.index import Hit, QueryFeatures, SimilarityIndex, rank
from faq_index.signals import Scores
from faq_index.training import Example, fit_fusion, fit_lexical, self_examples

THRESHOLDS = (None, 0.99, 0.97, 0.95, 0.9, 0.8, 0.7)


def cascade(
    full: QueryFeatures,
    lexical: QueryFeatures,
    model: FusionModel,
    lexical_model: FusionModel,
    skip_at: float | None,
    k: int = 10,
) -> tuple[list[Hit], bool]:
    """What `SimilarityIndex.search` returns with this cascade, and whether e5 was skipped."""
    if skip_at is not None:
        early = rank(lexical, lexical_model, k)
        if early and early[0].confidence >= skip_at:
            return early, True
    return rank(full, model, k), False


class Tally:
    """Ranking figures of the full index, and calibration figures with entries removed."""

    def __init__(self) -> None:
        self.top1 = self.mrr = 0.0
        self.n = self.skipped = self.skipped_right = 0
        self.calibration: list[tuple[float, int, bool]] = []  # confidence, right, out of scope
        self.calibration_skipped: list[bool] = []

    def ranked(self, hits: list[Hit], skipped: bool, expected: str) -> None:
        ids = [h.key for h in hits]
        right = bool(ids) and ids[0] == expected
        self.n += 1
        self.top1 += right
        self.mrr += 1.0 / (ids.index(expected) + 1) if expected in ids else 0.0
        self.skipped += skipped
        self.skipped_right += skipped and right

    def summary(self) -> dict[str, object]:
        out: dict[str, object] = {
            "acc@1": self.top1 / self.n,
            "mrr@10": self.mrr / self.n,
            "skipped_e5": self.skipped / self.n,
            "acc@1_of_skipped": self.skipped_right / self.skipped if self.skipped else None,
        }
        calibration: dict[str, float] = calibration_summary(self.calibration)
        oos = [o for _, _, o in self.calibration]
        skipped_oos = [s for s, o in zip(self.calibration_skipped, oos, strict=True) if o]
        calibration["skipped_e5_out_of_scope"] = sum(skipped_oos) / max(1, len(skipped_oos))
        right_of_skipped = [
            r for (_, r, _), s in zip(self.calibration, self.calibration_skipped, strict=True) if s
        ]
        calibration["skipped_e5"] = len(right_of_skipped) / len(self.calibration)
        calibration["right_of_skipped"] = (
            sum(right_of_skipped) / len(right_of_skipped) if right_of_skipped else float("nan")
        )
        out["calibration"] = calibration
        return out


def run_dataset(
    name: str, data: Path, args: argparse.Namespace, cache: EmbeddingCache
) -> dict[str, Any]:
    entries = load_entries(data / f"{name}.entries.jsonl")
    queries = read_queries(data / f"{name}.queries.dev.jsonl", args.limit)
    texts = [q for q, _ in queries]
    gold = [g for _, g in queries]
    t0 = time.time()
    encoder = CachedEncoder(make_encoder("e5"), cache)
    index = SimilarityIndex(encoder=encoder, fields=FIELDS, kinds=KINDS, hubness=HUBNESS)
    index.reset(r for e in entries for r in entry_rows(e))
    vectors = encoder.encode(texts, kind="query")  # batched, and cached for the next run
    signals = index._snapshot.signals
    lexical_names = index.lexical_signals
    scores: list[dict[str, Scores]] = []
    for q, v in zip(texts, vectors, strict=True):
        row = {n: s.scores(q) for n, s in signals.items() if n != "dense"}
        row["dense"] = signals["dense"].scores_for(v)  # type: ignore[union-attr]
        scores.append(row)
    by_text = dict(zip(texts, scores, strict=True))

    def features(example: Example, names: tuple[str, ...] | None = None) -> QueryFeatures:
        return index.features(
            example.text,
            exclude_keys=example.exclude_keys,
            exclude_texts=example.exclude_texts,
            row_scores=by_text.get(example.text),
            signals=names,
        )

    def lexical_features(example: Example) -> QueryFeatures:
        return features(example, lexical_names)

    print(f"{name}: indexed and scored in {time.time() - t0:.0f} s", file=sys.stderr)
    own = self_examples(index, seed=3)
    self_model = fit_fusion(index, own, name="self")
    self_lexical = fit_lexical(index, own, name="self, lexical")

    ids = [e.id for e in entries]
    random.Random(7).shuffle(ids)
    halves = [set(ids[: len(ids) // 2]), set(ids[len(ids) // 2 :])]
    tallies = {(fit, t): Tally() for fit in ("2-fold", "self-fitted") for t in THRESHOLDS}
    for fold in (0, 1):
        train_ids, test_ids = halves[fold], halves[1 - fold]
        rng = random.Random(fold)
        train_removed = set(rng.sample(sorted(train_ids), len(train_ids) // 3))
        examples = [
            Example(q, None, exclude_keys=(g,)) if g in train_removed else Example(q, g)
            for q, g in queries
            if g in train_ids
        ]
        models = {
            "2-fold": (
                fit_fusion(index, examples, name=f"2-fold {fold}", features=features),
                fit_lexical(
                    index, examples, name=f"2-fold {fold}, lexical", features=lexical_features
                ),
            ),
            "self-fitted": (self_model, self_lexical),
        }
        removed = set(rng.sample(sorted(test_ids), len(test_ids) // 3))
        for i in (i for i, g in enumerate(gold) if g in test_ids):
            query = Example(texts[i], gold[i])
            hidden = Example(texts[i], None, exclude_keys=tuple(removed))
            full, lexical = features(query), lexical_features(query)
            full_oos, lexical_oos = features(hidden), lexical_features(hidden)
            oos = gold[i] in removed
            for (fit, skip_at), tally in tallies.items():
                model, lexical_model = models[fit]
                hits, skipped = cascade(full, lexical, model, lexical_model, skip_at)
                tally.ranked(hits, skipped, gold[i])
                hits, skipped = cascade(full_oos, lexical_oos, model, lexical_model, skip_at, 1)
                right = int(not oos and hits[0].key == gold[i])
                tally.calibration.append((hits[0].confidence, right, oos))
                tally.calibration_skipped.append(skipped)
    return {
        "entries": len(entries),
        "queries": len(queries),
        "results": {
            f"{fit}, {'off' if t is None else f'skip at {t}'}": tally.summary()
            for (fit, t), tally in tallies.items()
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/eval/faq"))
    parser.add_argument("--cache", type=Path, default=Path(".cache/faq_bench"))
    parser.add_argument("--datasets", nargs="*", default=["stackfaq_en", "welfare_ko"])
    parser.add_argument("--limit", type=int, default=None, help="at most N dev queries a set")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()
    results = run_datasets(args, run_dataset)
    if not results:
        return 0
    for n, result in results.items():
        print(f"\n{n}: {result['entries']} entries, {result['queries']} queries")
        print(
            "| system | skipped e5 | acc@1 | MRR@10 | acc@1 of skipped | ECE | answered OOS "
            "| answered answerable | precision of answers | OOS skipping e5 "
            "| skipped e5, OOS run | right of skipped, OOS run |"
        )
        print("|---|" + "---|" * 11)
        for label, s in result["results"].items():
            c = s["calibration"]
            skipped = s["acc@1_of_skipped"]
            print(
                f"| {label} | {s['skipped_e5']:.3f} | {s['acc@1']:.3f} | {s['mrr@10']:.3f} | "
                f"{'-' if skipped is None else f'{skipped:.3f}'} | {c['ece']:.3f} | "
                f"{c['answered_out_of_scope']:.3f} | {c['answered_answerable']:.3f} | "
                f"{c['precision_of_answers']:.3f} | {c['skipped_e5_out_of_scope']:.3f} | "
                f"{c['skipped_e5']:.3f} | {c['right_of_skipped']:.3f} |"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
