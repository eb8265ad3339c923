"""Speed and quality of the e5 reader per window setting, beside a baseline, in one run.

    python bench/mrc_e5_speed.py ../shared/eval/mrc/korquad1_dev_part_a.json \
        [--model assistant/mrc/e5/model/korquad-e5-small.npz] \
        [--variants numpy:256/96,numpy:320/64,onnx:256/96,onnx:320/64] [--articles 48-69] [--every 1]

Scores the questions of articles the span model was not trained on (its meta lists them; or
`--articles`) in reader mode with each variant: the baseline (the model's own windows with the
numpy encoder's previous activation, scipy's float64 erf GELU, and windows of different
lengths padded into one batch as before) and each of `--variants`,
RUNTIME:MAX_LENGTH/STRIDE (the reader's runtime, numpy, onnx (4-bit base matrices and the
model's low-rank updates), onnx-f32 (the merged float32 layers, the graph before the 4-bit
one) or onnx-int8, and its windows). Every question is read by every variant in turn,
rotating the order, so the machine's noise falls on all of them alike; one thread
(OMP_NUM_THREADS=1). Prints one JSON line per variant: EM, F1, answered share, context tokens
read per question (p50), ms p50/p99 and the p50 as a ratio of the baseline's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from scipy.special import erf  # type: ignore[import-untyped]

from assistant.mrc.e5.span_model import DEFAULT_MODEL, load_span_model
from assistant.mrc.e5_reader import E5Reader
from assistant.mrc.metrics import best_scores, language_of
from assistant.mrc.reader import Passage
from assistant.mrc.squad import load_squad, parse_articles
from faq_index.e5.encoder import Encoder
from faq_index.e5.onnx_encoder import OnnxEncoder
from faq_index.e5.weights import load_weights


def _scipy_gelu(x: np.ndarray) -> np.ndarray:
    return np.asarray(x * (0.5 * (1.0 + erf(x * np.float32(0.7071067811865476)))), np.float32)


class _ScipyGeluEncoder(Encoder):
    activation = staticmethod(_scipy_gelu)


def _percentile(values: list[float], q: float) -> float:
    return sorted(values)[int(q * (len(values) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--variants", default="numpy:256/96,numpy:320/64,onnx:256/96,onnx:320/64")
    parser.add_argument("--articles", default=None, help="default: those not trained on")
    parser.add_argument("--every", type=int, default=1, help="score every n-th question")
    args = parser.parse_args()
    if not args.data.exists():
        print(f"skipped: {args.data} is not here (see ../shared/eval/README.md)")
        return 0
    model = load_span_model(args.model)
    trained = set(model.meta.get("training", {}).get("articles", []))
    chosen = parse_articles(args.articles)
    questions = [
        q
        for q in load_squad(args.data)
        if (q.article in chosen if chosen is not None else q.article not in trained)
    ][:: args.every]
    print(f"{len(questions)} questions of articles the model was not trained on", flush=True)

    variants: dict[str, E5Reader] = {}
    # the previous code: scipy's GELU, and windows batched with any padding
    baseline = E5Reader(args.model, runtime="numpy", pad_share=float("inf"))
    baseline.warm_up()
    baseline._encoder = _ScipyGeluEncoder(baseline.encoder.weights, baseline.encoder.layers)
    variants["baseline: numpy, scipy erf GELU, model windows"] = baseline
    for spec in args.variants.split(","):
        runtime, _, window = spec.partition(":")
        length, stride = (int(part) for part in window.split("/"))
        runtime, _, precision = runtime.partition("-")
        reader = E5Reader(
            args.model,
            max_length=length,
            stride=stride,
            runtime=runtime,
            int8=precision == "int8",
        )
        reader.warm_up()
        if precision == "f32":
            reader._encoder = OnnxEncoder(reader.encoder.weights, model.apply(load_weights()))
        variants[spec] = reader

    names = list(variants)
    stats: dict[str, dict[str, Any]] = {
        n: {"em": 0.0, "f1": 0.0, "answered": 0, "ms": [], "tokens": []} for n in names
    }
    for number, q in enumerate(questions):
        passage = Passage(id="p", document="d", text=q.context, locale=language_of(q.context))
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            reader = variants[name]
            started = time.perf_counter()
            answers = reader.read(q.question, [passage])
            stats[name]["ms"].append(1000 * (time.perf_counter() - started))
            text = answers[0].text if answers else ""
            em, f1 = best_scores(text, q.answers, language_of(q.context))
            row = stats[name]
            row["em"] += em
            row["f1"] += f1
            row["answered"] += bool(answers)
            row["tokens"].append(sum(len(w.offsets) for w in reader.windows(q.question, q.context)))
        if number % 100 == 99:
            print(f"  {number + 1} questions", flush=True)

    base_p50 = statistics.median(stats[names[0]]["ms"])
    n = max(1, len(questions))
    for name in names:
        row = stats[name]
        p50 = statistics.median(row["ms"])
        print(
            json.dumps(
                {
                    "variant": name,
                    "questions": len(questions),
                    "exact_match": round(100 * row["em"] / n, 2),
                    "f1": round(100 * row["f1"] / n, 2),
                    "answered": round(row["answered"] / n, 4),
                    "context_tokens_p50": statistics.median(row["tokens"]),
                    "ms_p50": round(p50, 1),
                    "ms_p99": round(_percentile(row["ms"], 0.99), 1),
                    "p50_vs_baseline": round(p50 / base_p50, 3),
                },
                ensure_ascii=False,
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
