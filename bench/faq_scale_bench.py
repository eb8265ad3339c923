"""Search latency on a large synthetic FAQ (default 100,000 entries): exact vs usearch dense.

    .venv/bin/python bench/faq_scale_bench.py [--entries 100000] [--queries 200]

Entries are made-up word sequences (question + answer), embedded with the `hashing` test encoder
(384 dimensions) so that no model time is measured: the figures are the index's own cost per
query (BM25 + character n-grams + dense search + fusion), on one thread. Reported: build time,
p50/p99 ms per query and top-1 agreement of the approximate index with the exact one.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from faq_index.encoders import HashingEncoder
from faq_index.index import Row, SimilarityIndex


def words(rng: random.Random, n: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 8))) for _ in range(n)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--modes", nargs="+", default=["exact", "usearch"])
    args = parser.parse_args()
    rng = random.Random(5)
    vocabulary = words(rng, 20_000)
    questions = [
        " ".join(rng.choices(vocabulary, k=rng.randint(5, 10))) for _ in range(args.entries)
    ]
    rows = [Row(f"e{i}", q) for i, q in enumerate(questions)] + [
        Row(f"e{i}", " ".join(rng.choices(vocabulary, k=20)), "answer") for i in range(args.entries)
    ]
    encoder = HashingEncoder(dim=384)
    targets = rng.sample(range(args.entries), args.queries)
    queries = []
    for t in targets:  # drop a word and add a stranger: a paraphrase of sorts
        parts = questions[t].split()
        parts.pop(rng.randrange(len(parts)))
        queries.append(" ".join([*parts, rng.choice(vocabulary)]))
    results = {}
    for mode in args.modes:
        index = SimilarityIndex(encoder=encoder, dense_index=mode)  # type: ignore[arg-type]
        start = time.perf_counter()
        index.reset(rows)
        build = time.perf_counter() - start
        times, tops = [], []
        for q in queries:
            start = time.perf_counter()
            hits = index.search(q, 10)
            times.append((time.perf_counter() - start) * 1000)
            tops.append(hits[0].key)
        right = sum(t == f"e{i}" for t, i in zip(tops, targets, strict=True)) / len(queries)
        results[mode] = tops
        print(
            f"{mode:8} entries {args.entries} build {build:.0f} s  p50 {np.percentile(times, 50):.1f} ms"
            f"  p99 {np.percentile(times, 99):.1f} ms  acc@1 {right:.3f}"
        )
    if len(results) == 2:
        a, b = results.values()
        same = np.mean([x == y for x, y in zip(a, b, strict=True)])
        print(f"top-1 agreement usearch vs exact: {same:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
