"""Does fine-tuning e5 on labelled queries of some FAQ entries help with the others?

    OMP_NUM_THREADS=1 .venv/bin/python bench/faq_finetune_bench.py \\
        --data /work/shared/eval/faq --cache /tmp/faq_cache [--datasets welfare_ko] \\
        [--epochs 2] [--layers 4] [--json OUT]

Needs torch (`pip install torch==2.13.0`). The protocol of bench/faq_bench.py's 2-fold rows:
the entries are split in two halves at random (seed 7); for each half, the top `--layers` layers
of e5 are fine-tuned on the dev queries of that half's entries (contrastive: each query against
its entry's question, answer and category, the other entries of the batch as negatives; one
entry at most once a batch), and the other half's queries are reported. Nothing of the reported
half is seen in training. Reported, beside the same system with the shipped e5 in the same run:

- `dense`: e5 alone (hubness correction on, as the FAQ index);
- `fused`: the fusion fitted as bench/faq_bench.py fits it (on the training half's queries),
  once with the shipped e5 and once with the tuned e5's scores under the same weights;
- `fused, refitted`: the fusion fitted again on the tuned e5's scores of the training half's
  queries (which that e5 was trained on, so its weights lean on e5 too much).

This measures a feature the project does not have (an FAQ encoder adapted to an operator's
logged queries); bench/faq_results.md says why it was not built.
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

import numpy as np
from faq_bench import fold_examples, only, ranks, read_queries, run_datasets

from faq_index.cache import CachedEncoder, EmbeddingCache
from faq_index.e5.encoder import padded
from faq_index.encoders import Kind, make_encoder
from faq_index.faq import FIELDS, HUBNESS, KINDS, entry_rows
from faq_index.formats import load_entries
from faq_index.index import SimilarityIndex
from faq_index.training import Example, fit_fusion

BATCH = 32
TEMPERATURE = 0.05
MAX_TOKENS = 128


class Tuned:
    """The Encoder protocol over vectors computed beforehand (every text the run embeds)."""

    name = "e5-tuned"

    def __init__(self, vectors: np.ndarray, position: dict[tuple[str, Kind], int]) -> None:
        self.vectors = vectors
        self.position = position

    def encode(self, texts: list[str], *, kind: Kind) -> np.ndarray:
        return np.stack([self.vectors[self.position[(t, kind)]] for t in texts])


def run_dataset(name: str, data: Path, args: argparse.Namespace, cache: EmbeddingCache) -> dict:
    import torch
    from torch.nn import functional as F

    from assistant.mrc.e5.torch_model import TorchSpanModel
    from faq_index.e5.weights import load_weights

    torch.set_num_threads(args.threads)
    entries = load_entries(data / f"{name}.entries.jsonl")
    queries = read_queries(data / f"{name}.queries.dev.jsonl", None)
    texts, gold = [q for q, _ in queries], [g for _, g in queries]
    rows = [r for e in entries for r in entry_rows(e)]
    t0 = time.time()
    encoder = CachedEncoder(make_encoder("e5"), cache)
    index = SimilarityIndex(encoder=encoder, fields=FIELDS, kinds=KINDS, hubness=HUBNESS)
    index.reset(rows)
    signals = index._snapshot.signals
    vectors = encoder.encode(texts, kind="query")
    scores = [
        {
            **{n: s.scores(q) for n, s in signals.items() if n != "dense"},
            "dense": signals["dense"].scores_for(v),
        }  # type: ignore[union-attr]
        for q, v in zip(texts, vectors, strict=True)
    ]
    by_text = dict(zip(texts, scores, strict=True))

    # Every text embedded in the run, tokenized once; the frozen layers run once per text.
    weights = load_weights()
    vocabulary = weights.vocabulary
    tokenizer = encoder.inner._load().tokenizer  # type: ignore[attr-defined]
    items = sorted({(r.text, KINDS[r.field]) for r in rows} | {(t, "query") for t in texts})
    position = {item: i for i, item in enumerate(items)}
    sequences = [
        [vocabulary.bos, *tokenizer.encode(f"{kind}: {text}").ids[: MAX_TOKENS - 2], vocabulary.eos]
        for text, kind in items
    ]
    by_length = sorted(range(len(items)), key=lambda i: len(sequences[i]))
    frozen_model = TorchSpanModel(weights, trained=args.layers)
    initial = {k: v.clone() for k, v in frozen_model.state_dict().items()}
    bottoms: list[Any] = [None] * len(items)
    with torch.no_grad():
        for start in range(0, len(by_length), 64):
            batch = by_length[start : start + 64]
            ids = torch.from_numpy(padded([sequences[i] for i in batch], vocabulary.pad))
            lengths = torch.tensor([len(sequences[i]) for i in batch])
            hidden = frozen_model.bottom(ids, lengths)
            for j, i in enumerate(batch):
                bottoms[i] = hidden[j, : len(sequences[i])].clone()
    print(
        f"{name}: {len(items)} texts through the frozen layers in {time.time() - t0:.0f} s",
        file=sys.stderr,
    )

    def embed(model: Any, members: list[int]) -> Any:
        longest = max(len(sequences[i]) for i in members)
        x = torch.zeros(len(members), longest, bottoms[0].shape[1])
        lengths = torch.tensor([len(sequences[i]) for i in members])
        for j, i in enumerate(members):
            x[j, : len(sequences[i])] = bottoms[i]
        mask = model.attention_mask(lengths, longest)
        for layer in model.layers[model.frozen :]:
            x = layer(x, mask)
        keep = (torch.arange(longest)[None, :] < lengths[:, None]).float()
        return F.normalize((x * keep[..., None]).sum(1) / keep.sum(1, keepdim=True), dim=-1)

    first_text = {f: {} for f in FIELDS}  # the text of each entry's field the loss reads
    for r in rows:
        first_text[r.field].setdefault(r.key, r.text)

    def tune(train_ids: set[str], seed: int) -> Any:
        model = TorchSpanModel(weights, trained=args.layers)
        model.load_state_dict(initial)
        trained = [p for p in model.layers.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(trained, lr=args.lr, weight_decay=0.01)
        examples = [(q, g) for q, g in queries if g in train_ids]
        steps = max(1, int(args.epochs * len(examples) / BATCH))
        warm = max(1, steps // 10)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / steps)
        )
        rng = random.Random(seed)
        done = 0
        while done < steps:
            pool = list(examples)
            rng.shuffle(pool)
            while pool and done < steps:
                batch, seen, rest = [], set(), []
                for q, g in pool:  # one query an entry a batch: no false negatives
                    if g not in seen and len(batch) < BATCH:
                        batch.append((q, g))
                        seen.add(g)
                    else:
                        rest.append((q, g))
                pool = rest
                if len(batch) < 8:
                    break
                asked = embed(model, [position[(q, "query")] for q, _ in batch])
                loss = 0.0
                for f in FIELDS:
                    present = [g in first_text[f] for _, g in batch]
                    if not all(present):
                        continue
                    found = embed(model, [position[(first_text[f][g], KINDS[f])] for _, g in batch])
                    target = torch.arange(len(batch))
                    loss = loss + F.cross_entropy(asked @ found.T / TEMPERATURE, target)
                optimizer.zero_grad()
                loss.backward()  # type: ignore[union-attr]
                optimizer.step()
                schedule.step()
                done += 1
        return model

    ids = [e.id for e in entries]
    random.Random(7).shuffle(ids)
    halves = [set(ids[: len(ids) // 2]), set(ids[len(ids) // 2 :])]
    hits = {"dense": [0.0, 0.0], "fused": [0.0, 0.0], "fused, refitted": [0.0, 0.0]}

    for fold in (0, 1):
        train_ids, test_ids = halves[fold], halves[1 - fold]
        model = tune(train_ids, fold)
        tuned_vectors = np.zeros((len(items), vectors.shape[1]), dtype=np.float32)
        with torch.no_grad():
            for start in range(0, len(by_length), 64):
                batch = by_length[start : start + 64]
                tuned_vectors[batch] = embed(model, batch).numpy()
        tuned = SimilarityIndex(
            encoder=Tuned(tuned_vectors, position), fields=FIELDS, kinds=KINDS, hubness=HUBNESS
        )
        tuned.reset(rows)
        dense = tuned._snapshot.signals["dense"]
        tuned_scores = [
            {**s, "dense": dense.scores_for(tuned_vectors[position[(q, "query")]])}  # type: ignore[union-attr]
            for q, s in zip(texts, scores, strict=True)
        ]
        tuned_by_text = dict(zip(texts, tuned_scores, strict=True))
        examples = fold_examples(queries, train_ids, random.Random(fold))
        fitted = fit_fusion(index, examples, name=f"2-fold {fold}", features=scored(index, by_text))
        refitted = fit_fusion(
            tuned,
            examples,
            name=f"2-fold {fold}, tuned e5",
            features=scored(tuned, tuned_by_text),
        )
        test = [i for i, g in enumerate(gold) if g in test_ids]
        expected = [gold[i] for i in test]
        shipped_feats = [index.features(texts[i], row_scores=scores[i]) for i in test]
        tuned_feats = [tuned.features(texts[i], row_scores=tuned_scores[i]) for i in test]
        for label, model_pair in (
            ("dense", (only(index.fusion, "dense"), only(tuned.fusion, "dense"))),
            ("fused", (fitted, fitted)),
            ("fused, refitted", (fitted, refitted)),
        ):
            for j, (used, feats) in enumerate(
                zip(model_pair, (shipped_feats, tuned_feats), strict=True)
            ):
                hits[label][j] += ranks(used, feats, expected)[0] * len(test)
        print(f"{name}: fold {fold} done at {time.time() - t0:.0f} s", file=sys.stderr)
    return {
        "entries": len(entries),
        "queries": len(queries),
        "settings": {"epochs": args.epochs, "layers": args.layers, "lr": args.lr},
        "acc1": {
            k: {"shipped e5": v[0] / len(gold), "tuned e5": v[1] / len(gold)}
            for k, v in hits.items()
        },
        "seconds": time.time() - t0,
    }


def scored(index: SimilarityIndex, by_text: dict[str, Any]) -> Any:
    """`fit_fusion`'s features from scores computed beforehand (the example's text's)."""

    def features(example: Example) -> Any:
        return index.features(
            example.text, exclude_keys=example.exclude_keys, row_scores=by_text.get(example.text)
        )

    return features


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/eval/faq"))
    parser.add_argument("--cache", type=Path, default=Path(".cache/faq_bench"))
    parser.add_argument("--datasets", nargs="*", default=["welfare_ko"])
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--layers", type=int, default=4, help="top layers fine-tuned")
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--threads", type=int, default=2, help="torch threads for training")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    results = run_datasets(args, run_dataset)
    print("| data | retriever | shipped e5 acc@1 | tuned e5 acc@1 |")
    print("|---|---|---|---|")
    for name, result in results.items():
        for label, pair in result["acc1"].items():
            print(f"| {name} | {label} | {pair['shipped e5']:.3f} | {pair['tuned e5']:.3f} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
