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

`fit_fusion` first fits the ranking weights (non-negative weights of the z-score columns that
rank each example's right id above its hardest wrong ones), then the calibrator (a logistic
regression predicting whether the top id is right, from its fused score, margin and raw
signal scores).

Fitting the ranking is kept safe by construction (issue 22):

- `separating_defaults` starts from the default weights and weighs each column of a field other
  than the questions (answer, category) by how well it separates on this index: the share of
  ids whose own text in that field that column alone ranks strictly first, asked with the id's
  question (how many of the other ids its own id beats there). A field at half the question's
  separation or more keeps its weight, one below loses weight in proportion; a stock answer
  ("-", the same reply for every entry) gets none.
- Ranking weights are fitted only where there are ranking examples (alternative questions or
  labelled queries: paraphrase evidence); without them the weights stay the defaults.
- A fit is trusted only when it does at least as well as its starting weights on examples held
  back from it (a third of the ids; `hold_out`); otherwise the starting weights stay. What was
  decided is in the model's `notes["ranking"]`.
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

import dataclasses
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Literal

import numpy as np

from faq_index.errors import CalibrationError
from faq_index.fusion import BALANCED_SIGNAL_WEIGHT, FAQ_SIGNAL_WEIGHT, FusionModel
from faq_index.index import QueryFeatures, SimilarityIndex, calibration_rows

__all__ = [
    "Example",
    "Ranker",
    "field_separation",
    "fit_fusion",
    "fit_lexical",
    "query_examples",
    "self_examples",
    "separating_defaults",
]

#: How `fit_fusion` fits the ranking weights.
Ranker = Literal["listwise", "coordinate"]


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


def query_examples(
    queries: Sequence[tuple[str, str | None]],
    *,
    rng: random.Random | None = None,
    hide_share: float = 1 / 3,
) -> list[Example]:
    """Examples from labelled queries: (text, the id that answers it, or None when nothing
    does). The queries of a random `hide_share` of the ids (drawn with `rng`) become
    out-of-scope examples with their id hidden, so the calibrator also learns what a query
    looks like when its answer is missing, even from a log that has no unanswerable queries.
    Fit them with `fit_fusion(..., ranker="listwise")`."""
    rng = rng or random.Random(0)
    labelled = sorted({g for _, g in queries if g is not None})
    hidden = set(rng.sample(labelled, int(len(labelled) * hide_share + 1e-9)))
    return [
        Example(text, None, exclude_keys=(expected,))
        if expected in hidden
        else Example(text, expected)
        for text, expected in queries
    ]


def _drop_words(text: str, rng: random.Random, share: float = 0.4) -> str | None:
    """The text with about `share` of its words left out (None when too short to tell)."""
    words = text.split()
    if len(words) < 3:
        return None
    drop = set(rng.sample(range(len(words)), max(1, round(len(words) * share))))
    return " ".join(w for i, w in enumerate(words) if i not in drop)


def field_separation(
    index: SimilarityIndex,
    *,
    field: str = "question",
    sample: int = 300,
    seed: int = 13,
    signals: Sequence[str] | None = None,
) -> dict[str, float]:
    """How well each column of the other fields separates the ids, from the index alone.

    For up to `sample` ids (drawn with `seed`), the id's first text in `field` is the query;
    for each rank feature `signal.other_field`, over those ids that have a text in that field:
    the share of the other ids that the id's own score in that column beats (ties count half),
    averaged and put on a scale from 0 (chance: a text shared by every id, or noise) to 1
    (the own id above all others): 2 x share - 1, at least 0. A category shared by a few
    entries still separates them from the rest (the demo FAQ's: 0.9); strictly first, as
    measured at first, it scored 0 and its weight was lost (demo FAQ 0.930 -> 0.907 on its
    eval queries). `field`'s own columns are not measured (1.0)."""
    names = tuple(signals) if signals is not None else index.signal_names
    fields = index.fields
    rng = random.Random(seed)
    keys = [k for k in index.ids() if any(r.field == field for r in index.texts(k))]
    rng.shuffle(keys)
    keys = keys[:sample]
    has = {f: {k for k in index.ids() for r in index.texts(k) if r.field == f} for f in fields}
    right = np.zeros(len(names) * len(fields))
    asked = np.zeros(len(names) * len(fields))
    for key in keys:
        text = next(r.text for r in index.texts(key) if r.field == field)
        found = index.features(text, signals=names)
        own = found.keys.index(key)
        for s in range(len(names)):
            for f, other in enumerate(fields):
                if other == field or key not in has[other]:
                    continue
                j = s * len(fields) + f
                column = found.columns[:, j]
                rest = np.delete(column, own)
                asked[j] += 1
                if rest.size == 0:
                    right[j] += 1.0
                    continue
                beaten = (rest < column[own]).sum() + 0.5 * (rest == column[own]).sum()
                right[j] += float(beaten) / rest.size
    out: dict[str, float] = {}
    for s, name in enumerate(names):
        for f, other in enumerate(fields):
            j = s * len(fields) + f
            share = float(right[j] / asked[j]) if asked[j] else 0.5
            out[f"{name}.{other}"] = 1.0 if other == field else max(0.0, 2.0 * share - 1.0)
    return out


def separating_defaults(
    index: SimilarityIndex,
    *,
    field: str = "question",
    sample: int = 300,
    seed: int = 13,
    signals: Sequence[str] | None = None,
) -> FusionModel:
    """The default fusion model with each column's weight scaled by its `field_separation`
    (full weight at 0.5 and above, in proportion below): the starting point of every fit, and
    what an index without paraphrase evidence keeps."""
    names = tuple(signals) if signals is not None else index.signal_names
    base = FusionModel.default(names, index.fields, signal_weights=FAQ_SIGNAL_WEIGHT)
    separation = field_separation(index, field=field, sample=sample, seed=seed, signals=names)
    # a field at half the question's separation (1.0) or more keeps its weight, one below
    # loses weight in proportion (scaled by the separation itself, welfare_ko's answers and
    # categories were scaled down for nothing: 0.700 -> 0.692 accuracy@1)
    scale = np.minimum(1.0, np.array([separation[n] for n in base.rank_features]) / 0.5)
    balanced = np.array(
        [BALANCED_SIGNAL_WEIGHT.get(n.split(".")[0], 1.0) for n in base.rank_features]
    )
    return dataclasses.replace(
        base,
        weights=base.weights * scale,
        calib_weights=balanced * scale,
        trained_on="defaults weighed by field separation",
        notes={"separation": {n: round(v, 3) for n, v in separation.items()}},
    )


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
    ranker: Ranker = "coordinate",
    hold_out: float = 0.0,
    seed: int = 0,
    by_signal: bool = False,
) -> FusionModel:
    """A `FusionModel` for this index learned from `examples`.

    Needs at least a few in-scope examples; with fewer than 20 it keeps the current ranking
    weights and only fits the calibrator. Raises `CalibrationError` when the examples
    cannot teach anything (for instance all right or all wrong). `features` computes an
    example's features (default: `index.features`); a benchmark passes precomputed scores.
    `base` is the model to start from (default: the index's `fusion`). `ranker` picks how
    the ranking weights are fitted (see `_fit_ranker`): `coordinate` (default) for examples
    made from the index itself, `listwise` for labelled queries (`query_examples`).
    With `hold_out` > 0 the ranking weights are first fitted without the examples of that
    share of the ids (drawn with `seed`), and kept only when they rank those held-back
    examples at least as well as `base`'s weights (accuracy@1, then MRR@10); otherwise
    `base`'s weights stay. The model's `notes["ranking"]` says what was decided.
    With `by_signal` the fit scales each signal's columns by one factor and keeps `base`'s
    balance between the fields (three numbers to fit, not one per column).
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
    decided = "base weights: fewer than 20 ranking examples (no paraphrase evidence)"
    if not fit_ranker:
        decided = "base weights: ranking not fitted"
    elif len(in_scope) >= 20:
        weights, decided = _checked_fit(
            in_scope,
            base,
            candidates,
            partial(_fit_ranker, method=ranker, by_signal=by_signal),
            hold_out,
            seed,
        )
    calib_weights = base.calib_weights
    if calib_weights is not None and weights is not base.weights:
        # a column the fit turned from keeps that much less say in the calibration score
        kept = np.divide(weights, base.weights, out=np.ones_like(weights), where=base.weights > 0)
        calib_weights = calib_weights * np.clip(kept, 0.0, 1.0)
    ranked = dataclasses.replace(base, weights=weights, calib_weights=calib_weights)
    rows: list[np.ndarray] = []
    labels: list[int] = []
    for example, found in computed:
        fused = ranked.fused(found.columns)
        fused[~found.alive] = -np.inf
        if not found.alive.any():
            continue
        top = int(np.argmax(fused))
        if ranked.calib_weights is not None:
            fused = ranked.calibration_score(found.columns)
            fused[~found.alive] = -np.inf
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
        {
            **base.notes,
            "examples": len(labels),
            "top1_right": int(sum(labels)),
            "ranking": decided,
        },
        calib_weights,
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
        base=separating_defaults(index, signals=signals),
    )


def _rank_quality(
    examples: Sequence[tuple[Example, QueryFeatures]], weights: np.ndarray
) -> tuple[float, float]:
    """Accuracy@1 and MRR@10 of the examples' right ids under `weights` (ties count against)."""
    top1 = mrr = 0.0
    for example, found in examples:
        fused = found.columns @ weights
        fused[~found.alive] = -np.inf
        target = found.keys.index(str(example.expected))
        rank = int((fused >= fused[target]).sum())
        top1 += rank == 1
        mrr += 1.0 / rank if rank <= 10 else 0.0
    return top1 / len(examples), mrr / len(examples)


def _checked_fit(
    in_scope: Sequence[tuple[Example, QueryFeatures]],
    base: FusionModel,
    candidates: int,
    fit: Callable[[Sequence[tuple[Example, QueryFeatures]], FusionModel, int], np.ndarray],
    hold_out: float,
    seed: int,
) -> tuple[np.ndarray, str]:
    """Ranking weights fitted on all of `in_scope`, when a fit without a held-back `hold_out`
    share of the ids ranks their examples at least as well as `base`; else `base`'s weights."""
    if hold_out <= 0.0:
        start = _separating_start(in_scope, base)
        return fit(in_scope, start, candidates), "fitted (no held-back check)"
    ids = sorted({str(e.expected) for e, _ in in_scope})
    held_ids = set(random.Random(seed).sample(ids, int(len(ids) * hold_out)))
    fitting = [x for x in in_scope if x[0].expected not in held_ids]
    held = [x for x in in_scope if x[0].expected in held_ids]
    if len(held) < 5 or len(fitting) < 20:
        return base.weights, (
            f"base weights: too few examples to check a fit ({len(fitting)} to fit, "
            f"{len(held)} held back)"
        )
    trial = fit(fitting, _separating_start(fitting, base), candidates)
    before, after = _rank_quality(held, base.weights), _rank_quality(held, trial)
    shown = (
        f"{len(held)} held-back examples: acc@1 {before[0]:.3f} -> {after[0]:.3f}, "
        f"MRR@10 {before[1]:.3f} -> {after[1]:.3f}"
    )
    if after < before:  # accuracy@1 first, then MRR@10
        return base.weights, f"base weights: the fit lost on {shown}"
    start = _separating_start(in_scope, base)
    return fit(in_scope, start, candidates), f"fitted: {shown}"


def _separating_start(
    examples: Sequence[tuple[Example, QueryFeatures]], base: FusionModel
) -> FusionModel:
    """`base` with each column's weight scaled down where that column alone ranks the
    examples' right ids first less than half as often as the best column does (in proportion;
    a column of noise gets about none): where a fit starts, and what the listwise ranker's
    prior pulls towards, so that neither leans on a signal that does not separate."""
    accuracy = np.zeros(base.weights.size)
    for example, found in examples:
        target = found.keys.index(str(example.expected))
        columns = np.where(found.alive[:, None], found.columns, -np.inf)
        own = columns[target]
        others = np.delete(columns, target, axis=0)
        accuracy += own > others.max(axis=0) if len(others) else 1.0
    accuracy /= max(len(examples), 1)
    best = float(accuracy.max())
    if best <= 0.0:
        return base
    scale = np.minimum(1.0, accuracy / (0.5 * best))
    return dataclasses.replace(base, weights=base.weights * scale)


def _hard_negatives(
    in_scope: Sequence[tuple[Example, QueryFeatures]], weights: np.ndarray, candidates: int
) -> np.ndarray:
    """Per example, the z-score columns of its right id (first) and of the `candidates` best
    wrong ids under `weights`: examples x (1 + candidates) x columns, NaN where an example
    has fewer live ids."""
    stacks: list[np.ndarray] = []
    for example, found in in_scope:
        target = found.keys.index(str(example.expected))
        fused = found.columns @ weights
        fused[~found.alive] = -np.inf
        fused[target] = -np.inf
        n = min(candidates, int(found.alive.sum()) - 1)
        if n <= 0:
            continue
        wrong = np.argpartition(-fused, n - 1)[:n]
        stacks.append(found.columns[np.concatenate(([target], wrong))])
    width = max((len(x) for x in stacks), default=1)
    columns = np.full((len(stacks), width, weights.size), np.nan)
    for i, x in enumerate(stacks):
        columns[i, : len(x)] = x
    return columns


def _fit_ranker(
    in_scope: Sequence[tuple[Example, QueryFeatures]],
    base: FusionModel,
    candidates: int,
    method: Ranker = "coordinate",
    by_signal: bool = False,
) -> np.ndarray:
    """Non-negative column weights, scaled to the base weights' sum, fitted on the examples'
    right ids against their hardest wrong ones (with `by_signal`: one factor per signal on
    `base`'s weights of its columns).

    Which method fits better depends on the examples (measured in bench/faq_results.md):
    - labelled queries: `listwise` generalised better to unseen entries (StackFAQ 2-fold
      accuracy@1 0.892 -> 0.903 over 6 splits; Welfare-QA 0.716 -> 0.718);
    - examples made from the index itself (`self_examples`): `coordinate`, which moves only
      where a step improves MRR@10 and so stays near the default weights (demo FAQ 0.953
      against 0.884; CLINC150 intents, mean of in-scope accuracy and out-of-scope recall
      0.901 against 0.891). Left-out alternative questions are near copies written by the
      FAQ's author, a poor guide to how far to move from the default.
    """
    if method not in ("listwise", "coordinate"):
        raise ValueError(f"ranker must be 'listwise' or 'coordinate', got {method!r}")
    start = np.clip(base.weights.astype(np.float64), 0.0, None)
    columns = _hard_negatives(in_scope, start, candidates)
    if not len(columns):
        return base.weights
    if by_signal:
        signals = list(dict.fromkeys(n.split(".")[0] for n in base.rank_features))
        masks = [np.array([n.split(".")[0] == s for n in base.rank_features]) for s in signals]
        parts = [np.where(m, start, 0.0) for m in masks]
        grouped = np.stack([columns @ p for p in parts], axis=-1)  # NaN rows stay NaN
        ones = np.ones(len(signals))
        factors = (
            _coordinate(grouped, ones) if method == "coordinate" else _listwise(grouped, ones, ones)
        )
        weights = np.sum([f * p for f, p in zip(factors, parts, strict=True)], axis=0)
    elif method == "coordinate":
        weights = _coordinate(columns, start)
    else:  # fit, mine the hardest wrong ids again under the fitted weights, fit again
        weights = _listwise(columns, start, start)
        weights = _listwise(_hard_negatives(in_scope, weights, candidates), weights, start)
    total = float(weights.sum())
    return weights / total * float(np.abs(base.weights).sum()) if total > 0 else base.weights


def _listwise(columns: np.ndarray, start: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Weights that maximise the mean log-probability of the right id under a softmax over
    each example's candidates (ListNet's top-one loss), non-negative, with a small pull
    towards `prior` (weight 1 against the examples' mean loss times their number), by
    L-BFGS-B.

    A smooth loss over every candidate learns from all the examples, where a search for the
    best MRR@10 moves only on the few whose rank a step changes. The bounds keep the weights
    non-negative, as the columns are strongly correlated (the same signal on question and
    answer) and free weights would trade them off against each other on hard negatives.
    """
    from scipy.optimize import minimize  # type: ignore[import-untyped]

    present = ~np.isnan(columns[:, :, 0])
    x = np.nan_to_num(columns)
    n = len(columns)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        scores = np.where(present, x @ w, -np.inf)
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        p /= p.sum(axis=1, keepdims=True)
        value = -np.log(p[:, 0] + 1e-12).mean() + float(((w - prior) ** 2).sum()) / n
        grad = ((p[:, :, None] * x).sum(axis=1) - x[:, 0]).mean(axis=0) + 2 * (w - prior) / n
        return value, grad

    found = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * start.size)
    return np.asarray(found.x, dtype=np.float64)


def _coordinate(columns: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weights improved one at a time by a few multiplicative steps, for the best MRR@10."""

    def mrr(weights: np.ndarray) -> float:
        scores = np.nan_to_num(columns @ weights, nan=-np.inf)
        rank = (scores[:, 1:] >= scores[:, :1]).sum(axis=1) + 1  # ties count against
        return float(np.where(rank <= 10, 1.0 / rank, 0.0).mean())

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
    return weights
