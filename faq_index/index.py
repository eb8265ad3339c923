"""The generic hybrid similarity index: texts grouped by id in, ids with scores out.

Each id (an FAQ entry, a document passage, an intent) has one or more texts in named fields
(`question`, `answer`, ...). A query is scored by every signal against every text; an id's score
in a field is the best of its texts there (so alternative questions count as the entry); the
columns are fused and calibrated by a `FusionModel`.

Writes (`add`, `replace`, `delete`, `reset`) build a new immutable snapshot and swap it in, so
searches running in other threads are never blocked and never see a half-built index.

    >>> from faq_index.encoders import HashingEncoder
    >>> index = SimilarityIndex(encoder=HashingEncoder())
    >>> index.add([Row("hours", "서비스센터 영업시간이 어떻게 되나요?"),
    ...            Row("hours", "몇 시까지 해요?"),
    ...            Row("hours", "평일 9시부터 18시까지 운영합니다.", field="answer"),
    ...            Row("warranty", "보증 기간은 얼마나 되나요?"),
    ...            Row("charging", "충전소는 어디에 있나요?")])
    >>> hits = index.search("서비스 센터 몇시까지 해요", k=2)
    >>> hits[0].key, 0.0 <= hits[0].confidence <= 1.0
    ('hours', True)
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from faq_index.encoders import Encoder, Kind
from faq_index.errors import CalibrationError
from faq_index.fusion import FusionModel
from faq_index.signals import (
    AnnDenseSignal,
    Bm25Signal,
    CharSignal,
    DenseSignal,
    Hubness,
    Row,
    Scores,
)
from faq_index.tokenize import Tokenizer

__all__ = ["LEXICAL_SIGNALS", "Hit", "Hubness", "QueryFeatures", "Row", "SimilarityIndex"]

SIGNALS = ("bm25", "char", "dense")
#: The signals a cascade scores first, before deciding whether the query needs the dense one.
LEXICAL_SIGNALS = ("bm25", "char")
DEFAULT_KINDS: Mapping[str, Kind] = {"question": "query", "answer": "passage"}


@dataclass(frozen=True, slots=True)
class Hit:
    """One id found for a query: fused `score` (for ranking) and calibrated `confidence`."""

    key: str
    score: float
    confidence: float
    signals: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class QueryFeatures:
    """Everything fusion needs for one query: z-score columns and raw scores per id."""

    keys: tuple[str, ...]
    alive: npt.NDArray[np.bool_]
    columns: npt.NDArray[np.float32]  # ids x (signal.field)
    raw: npt.NDArray[np.float32]  # ids x signal: best raw score over fields
    signals: tuple[str, ...] = SIGNALS  # the signal of each `raw` column


@dataclass(frozen=True)
class _Snapshot:
    keys: tuple[str, ...]
    position: dict[str, int]
    rows: tuple[Row, ...]
    row_key: npt.NDArray[np.intp]
    row_field: npt.NDArray[np.intp]
    #: per field: its rows grouped by id, where each id's group starts, and which id it is
    segments: tuple[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]], ...]
    signals: dict[str, Bm25Signal | CharSignal | DenseSignal | AnnDenseSignal]


class SimilarityIndex:
    """Hybrid lexical + dense index over ids with texts in fields.

    `signals` picks any of `bm25`, `char`, `dense` (dense needs an `encoder`); `fields` lists
    the fields fusion knows, and `kinds` how each field is embedded (e5 embeds questions as
    queries, answers as passages). `fusion` defaults to the untuned z-score sum; fit one with
    `faq_index.training.fit_fusion`. `dense_index` picks exact cosine search or an approximate
    usearch HNSW index; `auto` uses usearch (when installed) above `ann_above` texts.
    `hubness` corrects dense scores of texts that are near everything (see `Hubness`; off
    unless given: the FAQ index turns it on for its questions).

    Cascade (early exit): with a `lexical_fusion` model (fusion and calibrator over the lexical
    signals only, fitted like `fusion`: `faq_index.training.fit_lexical`) and `skip_dense_at`
    set, `search` scores BM25 and character n-grams first and answers from them alone when
    their calibrated confidence in the top id reaches `skip_dense_at`, without embedding the
    query; otherwise it adds the dense signal and fuses all of them as usual. With either
    unset the dense signal is always computed, exactly as without a cascade.
    """

    def __init__(
        self,
        *,
        encoder: Encoder | None = None,
        signals: Sequence[str] | None = None,
        fields: Sequence[str] = ("question", "answer"),
        kinds: Mapping[str, Kind] = DEFAULT_KINDS,
        tokenizer: Tokenizer | None = None,
        fusion: FusionModel | None = None,
        dense_index: Literal["exact", "usearch", "auto"] = "auto",
        ann_above: int = 50_000,
        hubness: Hubness | None = None,
        lexical_fusion: FusionModel | None = None,
        skip_dense_at: float | None = None,
    ) -> None:
        chosen = tuple(signals) if signals is not None else SIGNALS
        if encoder is None:
            chosen = tuple(s for s in chosen if s != "dense")
        unknown = [s for s in chosen if s not in SIGNALS]
        if unknown or not chosen:
            raise ValueError(f"signals must be some of {list(SIGNALS)}, got {list(chosen)}")
        self.encoder = encoder
        self.signal_names = chosen
        self.fields = tuple(fields)
        self.kinds = dict(kinds)
        self.tokenizer = tokenizer or Tokenizer()
        self.dense_index = dense_index
        self.ann_above = ann_above
        self.hubness = hubness
        self._fusion = fusion or FusionModel.default(self.signal_names, self.fields)
        self._fusion.check(self.signal_names, self.fields)
        self.skip_dense_at = skip_dense_at
        self._lexical_fusion: FusionModel | None = None
        if lexical_fusion is not None:
            self.lexical_fusion = lexical_fusion
        self._texts: dict[str, tuple[Row, ...]] = {}
        self._tokens: dict[str, list[str]] = {}
        self._vectors: dict[tuple[str, Kind], npt.NDArray[np.float32]] = {}
        self._write = threading.Lock()
        self._snapshot = self._build({})

    # --- writes ----------------------------------------------------------------------------

    @property
    def fusion(self) -> FusionModel:
        return self._fusion

    @fusion.setter
    def fusion(self, model: FusionModel) -> None:
        model.check(self.signal_names, self.fields)
        self._fusion = model

    @property
    def lexical_signals(self) -> tuple[str, ...]:
        """The signals a cascade scores before the dense one (empty: no cascade possible)."""
        if "dense" not in self.signal_names:
            return ()
        return tuple(s for s in self.signal_names if s in LEXICAL_SIGNALS)

    @property
    def lexical_fusion(self) -> FusionModel | None:
        return self._lexical_fusion

    @lexical_fusion.setter
    def lexical_fusion(self, model: FusionModel | None) -> None:
        if model is not None:
            if not self.lexical_signals:
                raise CalibrationError(
                    f"a cascade needs lexical signals and the dense one; the index has "
                    f"{list(self.signal_names)}"
                )
            model.check(self.lexical_signals, self.fields)
        self._lexical_fusion = model

    def add(self, rows: Iterable[Row]) -> None:
        """Add texts; texts of an id already present are added to it."""
        with self._write:
            texts = dict(self._texts)
            for row in rows:
                self._check_field(row)
                texts[row.key] = (*texts.get(row.key, ()), row)
            self._swap(texts)

    def replace(self, key: str, rows: Iterable[Row]) -> None:
        """Make `rows` the only texts of `key` (added when new)."""
        new = tuple(rows)
        for row in new:
            self._check_field(row)
            if row.key != key:
                raise ValueError(f"row of {row.key!r} given to replace {key!r}")
        with self._write:
            self._swap({**self._texts, key: new})

    def delete(self, keys: Collection[str]) -> None:
        """Remove ids and all their texts; unknown ids are ignored."""
        with self._write:
            self._swap({k: v for k, v in self._texts.items() if k not in keys})

    def reset(self, rows: Iterable[Row]) -> None:
        """Replace the whole content (texts seen before are not tokenized or embedded again)."""
        texts: dict[str, tuple[Row, ...]] = {}
        for row in rows:
            self._check_field(row)
            texts[row.key] = (*texts.get(row.key, ()), row)
        with self._write:
            self._swap(texts)

    def _check_field(self, row: Row) -> None:
        if row.field not in self.fields:
            raise ValueError(f"field {row.field!r} of {row.key!r} is not one of {self.fields}")

    def _swap(self, texts: dict[str, tuple[Row, ...]]) -> None:
        snapshot = self._build(texts)
        self._texts = texts
        self._snapshot = snapshot  # one reference assignment: readers see old or new, whole

    def _build(self, texts: dict[str, tuple[Row, ...]]) -> _Snapshot:
        keys = tuple(texts)
        position = {k: i for i, k in enumerate(keys)}
        rows = tuple(r for k in keys for r in texts[k])
        field_pos = {f: i for i, f in enumerate(self.fields)}
        built: dict[str, Bm25Signal | CharSignal | DenseSignal | AnnDenseSignal] = {}
        if "bm25" in self.signal_names:
            new = list(dict.fromkeys(r.text for r in rows if r.text not in self._tokens))
            for text, tokens in zip(new, self.tokenizer.tokens_many(new), strict=True):
                self._tokens[text] = tokens
            built["bm25"] = Bm25Signal.build(rows, self.tokenizer, self._tokens)
        if "char" in self.signal_names:
            built["char"] = CharSignal.build(rows)
        if "dense" in self.signal_names and self.encoder is not None:
            dense = DenseSignal.build(
                rows,
                self.encoder,
                self.kinds,
                self._vectors,
                query_encoder=getattr(self.encoder, "inner", self.encoder),
                hubness=self.hubness,
            )
            built["dense"] = AnnDenseSignal.build(dense) if self._use_ann(len(rows)) else dense
        row_key = np.array([position[r.key] for r in rows], dtype=np.intp)
        row_field = np.array([field_pos[r.field] for r in rows], dtype=np.intp)
        segments = []
        for f in range(len(self.fields)):
            of_field = np.flatnonzero(row_field == f)  # rows are in id order already
            owners_all = row_key[of_field]
            starts = np.flatnonzero(np.r_[True, owners_all[1:] != owners_all[:-1]])
            if of_field.size == 0:
                starts = np.zeros(0, dtype=np.intp)
            segments.append((of_field, starts.astype(np.intp), owners_all[starts]))
        return _Snapshot(keys, position, rows, row_key, row_field, tuple(segments), built)

    def _use_ann(self, n_rows: int) -> bool:
        if self.dense_index == "usearch":
            return True
        if self.dense_index == "exact" or n_rows <= self.ann_above:
            return False
        return importlib.util.find_spec("usearch") is not None

    # --- reads -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._snapshot.keys)

    def __contains__(self, key: object) -> bool:
        return key in self._texts

    def ids(self) -> tuple[str, ...]:
        return self._snapshot.keys

    def texts(self, key: str) -> tuple[Row, ...]:
        return self._texts.get(key, ())

    def row_scores(
        self, query: str, vector: npt.NDArray[np.float32] | None = None
    ) -> dict[str, Scores]:
        """Raw scores of every signal against every text of the current snapshot; `vector`, the
        query's embedding when it is at hand (encoded in a batch), spares the dense signals
        embedding it again."""
        snapshot = self._snapshot
        return {
            name: signal.scores_for(vector)
            if vector is not None and hasattr(signal, "scores_for")
            else signal.scores(query)
            for name, signal in snapshot.signals.items()
        }

    def features(
        self,
        query: str,
        *,
        exclude_keys: Collection[str] = (),
        exclude_texts: Collection[tuple[str, str]] = (),
        row_scores: Mapping[str, Scores] | None = None,
        signals: Sequence[str] | None = None,
        _snapshot: _Snapshot | None = None,
    ) -> QueryFeatures:
        """Fusion inputs for a query; excluded ids and texts act as if not indexed (apart
        from the document frequencies of the lexical signals). `row_scores` (from
        `row_scores`, same snapshot) saves scoring the query again. `signals` keeps only
        those signals (default: all of the index's), as `lexical_fusion` reads them."""
        snapshot = _snapshot or self._snapshot
        names = tuple(signals) if signals is not None else self.signal_names
        n_keys, n_fields = len(snapshot.keys), len(self.fields)
        alive = np.ones(n_keys, dtype=bool)
        for key in exclude_keys:
            if key in snapshot.position:
                alive[snapshot.position[key]] = False
        row_alive: npt.NDArray[np.bool_] | None = None
        if exclude_keys or exclude_texts:
            row_alive = alive[snapshot.row_key]
        if exclude_texts:
            gone = set(exclude_texts)
            row_alive &= np.array([(r.key, r.text) not in gone for r in snapshot.rows], dtype=bool)
        columns = np.zeros((n_keys, len(names) * n_fields), dtype=np.float32)
        raw = np.zeros((n_keys, len(names)), dtype=np.float32)
        for s, name in enumerate(names):
            scores = (
                row_scores[name] if row_scores is not None else snapshot.signals[name].scores(query)
            )
            if row_alive is not None:
                scores = np.where(row_alive, scores, -np.inf).astype(np.float32)
            best_any = np.full(n_keys, -np.inf, dtype=np.float32)
            for f, (rows, starts, owners) in enumerate(snapshot.segments):
                best = np.full(n_keys, -np.inf, dtype=np.float32)
                if rows.size:  # rows of field f, grouped by id: the best text of each id
                    best[owners] = np.maximum.reduceat(scores[rows], starts)
                np.maximum(best_any, best, out=best_any)
                columns[:, s * n_fields + f] = _zscore(best, alive)
            raw[:, s] = np.where(np.isfinite(best_any), best_any, 0.0)
        return QueryFeatures(snapshot.keys, alive, columns, raw, names)

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        exclude_keys: Collection[str] = (),
        exclude_texts: Collection[tuple[str, str]] = (),
    ) -> list[Hit]:
        """The best `k` ids for the query, best first, with calibrated confidences."""
        snapshot = self._snapshot
        if not snapshot.keys or not query.strip():
            return []
        lexical_model, skip_at = self._lexical_fusion, self.skip_dense_at
        row_scores: dict[str, Scores] | None = None
        if lexical_model is not None and skip_at is not None:
            lexical = self.lexical_signals
            row_scores = {name: snapshot.signals[name].scores(query) for name in lexical}
            early = rank(
                self.features(
                    query,
                    exclude_keys=exclude_keys,
                    exclude_texts=exclude_texts,
                    row_scores=row_scores,
                    signals=lexical,
                    _snapshot=snapshot,
                ),
                lexical_model,
                k,
            )
            if early and early[0].confidence >= skip_at:
                return early
            row_scores.update(
                (name, signal.scores(query))
                for name, signal in snapshot.signals.items()
                if name not in row_scores
            )
        found = self.features(
            query,
            exclude_keys=exclude_keys,
            exclude_texts=exclude_texts,
            row_scores=row_scores,
            _snapshot=snapshot,
        )
        return rank(found, self._fusion, k)


def _zscore(best: npt.NDArray[np.float32], alive: npt.NDArray[np.bool_]) -> Scores:
    """z-scores over the live ids that have a text in this field; others get the lowest z."""
    present = alive & np.isfinite(best)
    out = np.zeros_like(best)
    if not present.any():
        return out
    values = best[present]
    std = float(values.std())
    z = (values - float(values.mean())) / (std if std > 1e-9 else 1.0)
    out[present] = z
    out[~present] = float(z.min()) if z.size else 0.0
    return out


def calibration_rows(
    found: QueryFeatures,
    fused: npt.NDArray[np.float64],
    order: npt.NDArray[np.intp],
    features: Sequence[str],
) -> npt.NDArray[np.float64]:
    """Calibration `features` of the ids in `order`: `fused` score, `margin` to the best
    other id, and `raw.<signal>` scores."""
    live = fused[found.alive]
    top_two = np.sort(live)[-2:] if live.size >= 2 else np.array([-np.inf, *live])
    raw_column = {f"raw.{name}": s for s, name in enumerate(found.signals)}
    out = np.zeros((len(order), len(features)))
    for i, idx in enumerate(order):
        other = top_two[-2] if fused[idx] >= top_two[-1] else top_two[-1]
        margin = fused[idx] - other if np.isfinite(other) else 10.0
        for j, name in enumerate(features):
            if name == "fused":
                out[i, j] = fused[idx]
            elif name == "margin":
                out[i, j] = margin
            elif name in raw_column:
                out[i, j] = found.raw[idx, raw_column[name]]
            else:
                raise CalibrationError(f"unknown calibration feature {name!r}")
    return out


def rank(found: QueryFeatures, model: FusionModel, k: int) -> list[Hit]:
    """Fuse, sort and calibrate: the best `k` live ids."""
    fused = model.fused(found.columns)
    fused[~found.alive] = -np.inf
    n_live = int(found.alive.sum())
    k = min(k, n_live)
    if k <= 0:
        return []
    top = np.argpartition(-fused, k - 1)[:k]
    order = top[np.argsort(-fused[top], kind="stable")]
    calibrated = fused
    if model.calib_weights is not None:
        calibrated = model.calibration_score(found.columns)
        calibrated[~found.alive] = -np.inf
    confidence = model.confidence(
        calibration_rows(found, calibrated, order, model.calibration_features)
    )
    return [
        Hit(
            found.keys[idx],
            float(fused[idx]),
            float(confidence[i]),
            {n: float(v) for n, v in zip(found.signals, found.raw[idx], strict=True)},
        )
        for i, idx in enumerate(order)
    ]
