"""The three similarity signals, each scoring a query against every indexed text (row).

- `Bm25Signal`: BM25 over `Tokenizer` terms (Kiwi morphemes for Korean, words otherwise).
- `CharSignal`: TF-IDF cosine over character 2-4-grams of the text without spaces, which forgives
  typos and the missing or extra spaces of Korean chat (서비스센터 / 서비스 센터).
- `DenseSignal`: cosine of sentence embeddings (see `faq_index.encoders`), exact, optionally
  less a `Hubness` correction for texts that are near everything;
  `AnnDenseSignal` the same through an approximate HNSW index (`usearch`, extra `ann`) for large
  sets: only the nearest `candidates` texts get their cosine, the others the lowest one found.

Each is built once per index snapshot (`build(rows)`) and then answers `scores(query)` with one
float per row, in row order. They are immutable once built, so searches need no lock.

    >>> rows = [Row(key="a", text="서비스센터 영업시간", field="question"),
    ...         Row(key="b", text="보증 기간", field="question")]
    >>> signal = CharSignal.build(rows)
    >>> [round(float(s), 2) for s in signal.scores("서비스 센터 몇 시")]
    [0.67, 0.0]
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]

from faq_index.bm25 import Bm25
from faq_index.encoders import Encoder, Kind
from faq_index.errors import EncoderError
from faq_index.tokenize import Tokenizer

__all__ = [
    "AnnDenseSignal",
    "Bm25Signal",
    "CharSignal",
    "DenseSignal",
    "Hubness",
    "Row",
    "Scores",
    "hubness_penalty",
]

Scores = npt.NDArray[np.float32]
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Row:
    """One indexed text: the id it belongs to (`key`), the text, and which field it came from."""

    key: str
    text: str
    field: str = "question"


class Bm25Signal:
    def __init__(self, bm25: Bm25, tokenizer: Tokenizer) -> None:
        self._bm25 = bm25
        self._tokenizer = tokenizer

    @classmethod
    def build(
        cls, rows: Sequence[Row], tokenizer: Tokenizer, tokens: Mapping[str, list[str]]
    ) -> Bm25Signal:
        """`tokens` holds the terms of texts already seen, so a rebuild re-tokenizes nothing."""
        docs = [tokens[r.text] if r.text in tokens else tokenizer.tokens(r.text) for r in rows]
        return cls(Bm25.fit(docs), tokenizer)

    def scores(self, query: str) -> Scores:
        return self._bm25.scores(self._tokenizer.tokens(query))


def _compact(text: str) -> str:
    """Lower case, no spaces, and boundary marks so that even a one-letter text has n-grams."""
    return f"^{_SPACE.sub('', text.lower())}$"


def _ngram_counts(text: str, low: int, high: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for n in range(low, high + 1):
        for i in range(len(text) - n + 1):
            gram = text[i : i + n]
            counts[gram] = counts.get(gram, 0) + 1
    return counts


def _tfidf(counts: Sequence[float], idf: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Sublinear TF times IDF, L2-normalized (sklearn's TfidfVectorizer(sublinear_tf=True))."""
    weights = (1.0 + np.log(np.asarray(counts, dtype=np.float32))) * idf
    norm = float(np.linalg.norm(weights))
    return np.asarray(weights / norm if norm > 0 else weights, dtype=np.float32)


class CharSignal:
    """TF-IDF (smoothed IDF, sublinear TF, as sklearn computes it) of character n-grams; kept
    as n-grams x texts so that a query touches only the rows of its own n-grams."""

    def __init__(
        self,
        by_ngram: Any,
        vocabulary: dict[str, int],
        idf: npt.NDArray[np.float32],
        n_rows: int,
        ngrams: tuple[int, int],
    ) -> None:
        self._by_ngram = by_ngram
        self._vocabulary = vocabulary
        self._idf = idf
        self._n_rows = n_rows
        self._ngrams = ngrams

    @classmethod
    def build(cls, rows: Sequence[Row], *, ngrams: tuple[int, int] = (2, 4)) -> CharSignal:
        vocabulary: dict[str, int] = {}
        per_text = [_ngram_counts(_compact(r.text), *ngrams) for r in rows]
        columns: list[int] = []
        values: list[float] = []
        owners: list[int] = []
        for row, counts in enumerate(per_text):
            for gram, count in counts.items():
                columns.append(vocabulary.setdefault(gram, len(vocabulary)))
                values.append(count)
                owners.append(row)
        column_array = np.asarray(columns, dtype=np.intp)
        df = np.bincount(column_array, minlength=len(vocabulary)).astype(np.float32)
        idf = (np.log((1.0 + len(rows)) / (1.0 + df)) + 1.0).astype(np.float32)
        data = np.empty(len(values), dtype=np.float32)
        start = 0
        for counts in per_text:  # normalize each text's vector
            stop = start + len(counts)
            data[start:stop] = _tfidf(values[start:stop], idf[column_array[start:stop]])
            start = stop
        by_ngram = sparse.csr_matrix(
            (data, (column_array, np.asarray(owners, dtype=np.intp))),
            shape=(len(vocabulary), len(rows)),
        )
        return cls(by_ngram, vocabulary, idf, len(rows), ngrams)

    def scores(self, query: str) -> Scores:
        counts: dict[int, int] = {}
        for gram, count in _ngram_counts(_compact(query), *self._ngrams).items():
            column = self._vocabulary.get(gram)
            if column is not None:
                counts[column] = count
        if not counts:
            return np.zeros(self._n_rows, dtype=np.float32)
        columns = np.fromiter(counts, dtype=np.intp, count=len(counts))
        weights = _tfidf(list(counts.values()), self._idf[columns])
        return np.asarray(self._by_ngram[columns].T @ weights, dtype=np.float32).ravel()


@dataclass(frozen=True, slots=True)
class Hubness:
    """Hubness correction of dense scores (CSLS, Conneau et al. 2018, one-sided).

    Some texts sit in a crowded part of the embedding space and come out near the top for many
    unrelated queries (on Welfare-QA, a generic "government job support" entry). Each text's
    score is lowered by `weight` times its mean cosine to its `k` nearest *probe* texts of other
    ids; the probes are the indexed texts of `field` (the questions of an FAQ), which stand in
    for the queries the index will get. Texts of other fields (answers) are compared with the
    probes of every id, their own entry's included: so identical texts get identical
    corrections. Leaving out each entry's own question made an answer shared by many entries
    ("-", or a copy of a stock reply) score a little differently in each, and z-scoring blew
    that up into a ranking of noise (welfare_ko questions with the answer "-": 0.006 accuracy@1
    fused, 0.531 with this; the full welfare_ko and stackfaq_en sets unchanged or +0.4 points). With 20 neighbours and weight 0.5, e5 alone found the
    right entry for 0.883 -> 0.899 of StackFAQ's queries (bench/faq_results.md).
    """

    field: str = "question"
    k: int = 20
    weight: float = 0.5
    #: Below this many probes there is no neighbourhood to speak of (k is then a good share of
    #: the whole FAQ), and the correction is left out.
    min_probes: int = 100
    #: Above this many probes a seeded sample of this size stands in for them (k scaled down).
    max_probes: int = 5000


def hubness_penalty(
    matrix: npt.NDArray[np.float32],
    rows: Sequence[Row],
    hubness: Hubness,
    *,
    chunk: int = 4096,
) -> npt.NDArray[np.float32]:
    """`weight` x the mean cosine of each row to its `k` nearest probes (of other ids, for rows
    of the probes' own field)."""
    penalty = np.zeros(len(rows), dtype=np.float32)
    probes = np.array([i for i, r in enumerate(rows) if r.field == hubness.field], dtype=np.intp)
    if probes.size < max(2, hubness.min_probes) or hubness.weight == 0.0:
        return penalty
    k = hubness.k
    if probes.size > hubness.max_probes:
        rng = np.random.default_rng(0)
        k = max(2, round(k * hubness.max_probes / probes.size))
        probes = np.sort(rng.choice(probes, hubness.max_probes, replace=False))
    owner = {key: i for i, key in enumerate(dict.fromkeys(r.key for r in rows))}
    row_owner = np.array([owner[r.key] for r in rows], dtype=np.intp)
    probe_owner = row_owner[probes]
    k = min(k, probes.size - 1)
    probe_matrix = matrix[probes].T
    is_probe_field = np.array([r.field == hubness.field for r in rows], dtype=bool)
    for start in range(0, len(rows), chunk):
        sims = matrix[start : start + chunk] @ probe_matrix
        own = row_owner[start : start + chunk, None] == probe_owner[None, :]
        sims[own & is_probe_field[start : start + chunk, None]] = -np.inf
        nearest = np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:]
        found = np.isfinite(nearest)  # fewer than k probes of other ids: the mean of those
        count = found.sum(axis=1)
        total = np.where(found, nearest, 0.0).sum(axis=1)
        mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
        penalty[start : start + chunk] = hubness.weight * mean
    return penalty


class DenseSignal:
    def __init__(
        self,
        matrix: npt.NDArray[np.float32],
        encoder: Encoder,
        known: Mapping[tuple[str, Kind], npt.NDArray[np.float32]] | None = None,
        penalty: npt.NDArray[np.float32] | None = None,
    ) -> None:
        self._matrix = matrix
        self._encoder = encoder
        self._known = known if known is not None else {}
        self._penalty = penalty

    @classmethod
    def build(
        cls,
        rows: Sequence[Row],
        encoder: Encoder,
        kinds: Mapping[str, Kind],
        vectors: dict[tuple[str, Kind], npt.NDArray[np.float32]],
        *,
        query_encoder: Encoder | None = None,
        hubness: Hubness | None = None,
    ) -> DenseSignal:
        """Embed the rows; `vectors` (text, kind) -> vector is reused and filled in.

        `query_encoder` embeds search queries (default: `encoder`); the index passes the
        encoder without its disk cache, since user queries rarely repeat. `hubness` lowers the
        scores of texts in crowded regions (see `Hubness`)."""
        wanted = [(r.text, kinds.get(r.field, "passage")) for r in rows]
        for kind in ("query", "passage"):
            missing = sorted({t for t, k in wanted if k == kind and (t, k) not in vectors})
            if missing:
                fresh = encoder.encode(missing, kind=kind)
                for text, vector in zip(missing, fresh, strict=True):
                    vectors[(text, kind)] = vector
        for_queries = query_encoder or encoder
        if not wanted:
            return cls(np.zeros((0, 1), dtype=np.float32), for_queries, vectors)
        matrix = np.vstack([vectors[w] for w in wanted]).astype(np.float32)
        penalty = hubness_penalty(matrix, rows, hubness) if hubness is not None else None
        return cls(matrix, for_queries, vectors, penalty)

    @property
    def matrix(self) -> npt.NDArray[np.float32]:
        return self._matrix

    @property
    def penalty(self) -> npt.NDArray[np.float32] | None:
        """What `scores` subtracts from each row's cosine (None: nothing)."""
        return self._penalty

    def embed_query(self, query: str) -> npt.NDArray[np.float32]:
        known = self._known.get((query, "query"))  # an indexed question asked as a query
        if known is not None:
            return known
        return np.asarray(self._encoder.encode([query], kind="query")[0], dtype=np.float32)

    def scores(self, query: str) -> Scores:
        return self.scores_for(self.embed_query(query))

    def scores_for(self, vector: npt.NDArray[np.float32]) -> Scores:
        if self._matrix.shape[0] == 0:
            return np.zeros(0, dtype=np.float32)
        cosines = np.asarray(self._matrix @ vector, dtype=np.float32)
        return cosines - self._penalty if self._penalty is not None else cosines


class AnnDenseSignal:
    """Dense cosine through a usearch HNSW index: exact for the nearest `candidates` texts,
    the smallest of those for every other text (they cannot be near the top anyway)."""

    def __init__(self, index: Any, n_rows: int, dense: DenseSignal, candidates: int) -> None:
        self._index = index
        self._n_rows = n_rows
        self._dense = dense
        self._candidates = candidates

    @classmethod
    def build(cls, dense: DenseSignal, *, candidates: int = 256) -> AnnDenseSignal:
        try:
            from usearch.index import Index
        except ImportError as e:
            raise EncoderError(
                "approximate dense search needs usearch: pip install 'kakao-style-assistant[ann]'"
            ) from e
        matrix = dense.matrix
        index = Index(ndim=matrix.shape[1], metric="cos", dtype="f16")
        if matrix.shape[0]:
            index.add(np.arange(matrix.shape[0], dtype=np.uint64), matrix, threads=0)  # all cores
        return cls(index, matrix.shape[0], dense, candidates)

    def embed_query(self, query: str) -> npt.NDArray[np.float32]:
        return self._dense.embed_query(query)

    def scores(self, query: str) -> Scores:
        return self.scores_for(self.embed_query(query))

    def scores_for(self, vector: npt.NDArray[np.float32]) -> Scores:
        if self._n_rows == 0:
            return np.zeros(0, dtype=np.float32)
        found = self._index.search(vector, min(self._candidates, self._n_rows), threads=1)
        rows = np.asarray(found.keys, dtype=np.intp)
        cosines = (1.0 - np.asarray(found.distances, dtype=np.float32)).astype(np.float32)
        penalty = self._dense.penalty
        if penalty is not None:
            cosines = cosines - penalty[rows]
        out = np.full(self._n_rows, float(cosines.min()) if cosines.size else 0.0, np.float32)
        out[rows] = cosines
        return out
