"""Learning the fusion weights and the calibrator from examples.

An example is a query with the id it should find (`expected=None`: nothing in the index answers
it, the system should decline), plus ids or texts to hide while it is scored. Hiding makes
examples out of the index itself, with no labelled queries at all (`self_examples`):

- each alternative question, hidden, is a query for its own id (leave-one-out);
- an id's only question, hidden, is a query found through its other fields (the answer),
  and the same question with about 40% of its words left out is a query for its id (a crude
  paraphrase: without it an FAQ with no alternatives would teach only the hard, hidden case,
  and its calibrator would doubt every real paraphrase);
- a question with its whole id hidden is a query that nothing answers (simulated out-of-scope).

`fit_fusion` first fits the ranking weights (non-negative weights of the z-score columns found
by coordinate search for the best MRR@10), then the calibrator (a logistic regression predicting
whether the top id is right, from its fused score, margin and raw signal scores).
`fit_lexical` fits the same two parts over the lexical signals alone, for the cascade of
`SimilarityIndex` (answer without embedding the query when the lexical signals are sure).

    >>> from faq_index.encoders import HashingEncoder
    >>> from faq_index.index import Row, SimilarityIndex
    >>> index = SimilarityIndex(encoder=HashingEncoder())
    >>> index.add([Row(f"e{i}", t) for i, t in enumerate(["영업시간", "보증 기간", "충전 요금"])])
    >>> index.add([Row("e0", "몇 시까지 해요"), Row("e1", "보증 몇 년"), Row("e2", "충전 얼마")])
    >>> examples = self_examples(index, seed=0)
    >>> model = fit_fusion(index, examples, name="doctest")
    >>> model.trained_on
    'doctest'
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from faq_index.errors import CalibrationError
from faq_index.fusion import FusionModel
from faq_index.index import QueryFeatures, SimilarityIndex, calibration_rows

__all__ = ["Example", "fit_fusion", "fit_lexical", "self_examples"]


@dataclass(frozen=True)
class Example:
    text: str
    expected: str | None
    exclude_keys: tuple[str, ...] = ()
    exclude_texts: tuple[tuple[str, str], ...] = ()
    #: False when hiding left the expected id without a text in some field: such an example
    #: would teach the ranker that a missing field is a good sign, so it only calibrates.
    rank: bool = True


def self_examples(
    index: SimilarityIndex,
    *,
    field: str = "question",
    max_examples: int = 2000,
    out_of_scope: float = 0.5,
    seed: int = 13,
) -> list[Example]:
    """Examples made from the index's own texts in `field` (see the module docstring).

    `out_of_scope` is the share of out-of-scope examples relative to the in-scope ones.
    """
    rng = random.Random(seed)
    in_scope: list[Example] = []
    sources: list[tuple[str, str]] = []
    for key in index.ids():
        texts = [r.text for r in index.texts(key) if r.field == field]
        others = [r for r in index.texts(key) if r.field != field]
        if not texts:
            continue
        sources.append((key, texts[0]))
        if len(texts) > 1:
            for text in texts:
                in_scope.append(Example(text, key, exclude_texts=((key, text),)))
        else:
            if others:
                hidden = ((key, texts[0]),)
                in_scope.append(Example(texts[0], key, exclude_texts=hidden, rank=False))
            partial_question = _drop_words(texts[0], rng)
            if partial_question:  # calibration only: as a ranking lesson it overrates questions
                in_scope.append(Example(partial_question, key, rank=False))
    rng.shuffle(in_scope)
    in_scope = in_scope[:max_examples]
    rng.shuffle(sources)
    n_oos = min(len(sources), int(len(in_scope) * out_of_scope))
    oos = [Example(text, None, exclude_keys=(key,)) for key, text in sources[:n_oos]]
    return in_scope + oos


def _drop_words(text: str, rng: random.Random, share: float = 0.4) -> str | None:
    """The text with about `share` of its words left out (None when too short to tell)."""
    words = text.split()
    if len(words) < 3:
        return None
    drop = set(rng.sample(range(len(words)), max(1, round(len(words) * share))))
    return " ".join(w for i, w in enumerate(words) if i not in drop)


def _features(index: SimilarityIndex, example: Example) -> QueryFeatures:
    return index.features(
        example.text, exclude_keys=example.exclude_keys, exclude_texts=example.exclude_texts
    )


def fit_fusion(
    index: SimilarityIndex,
    examples: Sequence[Example],
    *,
    name: str = "examples",
    candidates: int = 50,
    fit_ranker: bool = True,
    progress: Callable[[int], None] | None = None,
    features: Callable[[Example], QueryFeatures] | None = None,
    base: FusionModel | None = None,
) -> FusionModel:
    """A `FusionModel` for this index learned from `examples`.

    Needs at least a few in-scope examples; with fewer than 20 it keeps the current ranking
    weights and only fits the calibrator. Raises `CalibrationError` when the examples
    cannot teach anything (for instance all right or all wrong). `features` computes an
    example's features (default: `index.features`); a benchmark passes precomputed scores.
    `base` is the model to start from (default: the index's `fusion`).
    """
    base = base or index.fusion
    computed: list[tuple[Example, QueryFeatures]] = []
    for i, example in enumerate(examples):
        computed.append((example, (features or partial(_features, index))(example)))
        if progress is not None:
            progress(i + 1)
    in_scope = [
        (e, f) for e, f in computed if e.rank and e.expected is not None and e.expected in f.keys
    ]
    weights = base.weights
    if fit_ranker and len(in_scope) >= 20:
        weights = _fit_ranker(in_scope, base, candidates)
    ranked = FusionModel(
        base.rank_features,
        weights,
        base.calibration_features,
        base.calib_mean,
        base.calib_scale,
        base.calib_coef,
        base.calib_intercept,
    )
    rows: list[np.ndarray] = []
    labels: list[int] = []
    for example, found in computed:
        fused = ranked.fused(found.columns)
        fused[~found.alive] = -np.inf
        if not found.alive.any():
            continue
        top = int(np.argmax(fused))
        rows.append(calibration_rows(found, fused, np.array([top]), base.calibration_features)[0])
        labels.append(int(found.keys[top] == example.expected))
    if len(set(labels)) < 2:
        raise CalibrationError(
            f"cannot calibrate on {len(labels)} examples that are all "
            f"{'right' if labels and labels[0] else 'wrong'}; give examples of both kinds"
        )
    from sklearn.linear_model import LogisticRegression  # only when fitting: a slow import

    x = np.vstack(rows)
    mean = x.mean(axis=0)
    scale = np.where(x.std(axis=0) > 1e-9, x.std(axis=0), 1.0)
    calibrator = LogisticRegression(C=1.0, max_iter=1000)
    calibrator.fit((x - mean) / scale, np.array(labels))
    return FusionModel(
        base.rank_features,
        weights,
        base.calibration_features,
        mean,
        scale,
        np.asarray(calibrator.coef_[0], dtype=np.float64),
        float(calibrator.intercept_[0]),
        name,
        {"examples": len(labels), "top1_right": int(sum(labels))},
    )


def fit_lexical(
    index: SimilarityIndex,
    examples: Sequence[Example],
    *,
    name: str = "examples, lexical",
    features: Callable[[Example], QueryFeatures] | None = None,
) -> FusionModel:
    """The cascade's model: `fit_fusion` over the index's lexical signals only (BM25 and
    character n-grams), from the same examples. `features`, when given, must return the
    features of those signals only (`index.features(..., signals=index.lexical_signals)`)."""
    signals = index.lexical_signals
    if not signals:
        raise CalibrationError(
            f"a cascade needs lexical signals and the dense one; the index has "
            f"{list(index.signal_names)}"
        )

    def lexical(example: Example) -> QueryFeatures:
        return index.features(
            example.text,
            exclude_keys=example.exclude_keys,
            exclude_texts=example.exclude_texts,
            signals=signals,
        )

    return fit_fusion(
        index,
        examples,
        name=name,
        features=features or lexical,
        base=FusionModel.default(signals, index.fields),
    )


def _fit_ranker(
    in_scope: Sequence[tuple[Example, QueryFeatures]], base: FusionModel, candidates: int
) -> np.ndarray:
    """Non-negative column weights that maximise MRR@10 on the examples.

    Each example keeps its right id and the `candidates` best wrong ids under the base weights;
    the weights are then improved one at a time by coordinate search over a few multiplicative
    steps. A direct search is used rather than a logistic regression because the columns are
    strongly correlated (the same signal on question and answer): regression then gives
    negative weights that rank well on hard negatives and badly on everything else.
    """
    stacks: list[np.ndarray] = []
    for example, found in in_scope:
        target = found.keys.index(str(example.expected))
        fused = base.fused(found.columns)
        fused[~found.alive] = -np.inf
        fused[target] = -np.inf
        n = min(candidates, int(found.alive.sum()) - 1)
        if n <= 0:
            continue
        wrong = np.argpartition(-fused, n - 1)[:n]
        stacks.append(found.columns[np.concatenate(([target], wrong))])
    width = max(len(x) for x in stacks)
    columns = np.full((len(stacks), width, base.weights.size), np.nan)
    for i, x in enumerate(stacks):
        columns[i, : len(x)] = x

    def mrr(weights: np.ndarray) -> float:
        scores = np.nan_to_num(columns @ weights, nan=-np.inf)
        rank = (scores[:, 1:] >= scores[:, :1]).sum(axis=1) + 1  # ties count against
        return float(np.where(rank <= 10, 1.0 / rank, 0.0).mean())

    weights = np.clip(base.weights.astype(np.float64), 0.0, None)
    best = mrr(weights)
    for _ in range(4):
        improved = False
        for j in range(weights.size):
            for step in (0.0, 0.5, 0.8, 1.25, 2.0, None):
                trial = weights.copy()
                trial[j] = 0.5 if step is None else weights[j] * step
                score = mrr(trial)
                if score > best + 1e-6:
                    best, weights, improved = score, trial, True
        if not improved:
            break
    total = float(weights.sum())
    return weights / total * float(np.abs(base.weights).sum()) if total > 0 else base.weights
