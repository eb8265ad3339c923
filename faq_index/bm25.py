"""Okapi BM25 over token lists, as one sparse matrix product per query.

>>> bm25 = Bm25.fit([["충전", "요금"], ["보증", "기간"], ["충전", "장소"]])
>>> [round(float(s), 3) for s in bm25.scores(["충전", "요금"])]
[1.451, 0.0, 0.47]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]

__all__ = ["Bm25"]


class Bm25:
    """Term weights of every text precomputed, so scoring a query is one sparse dot product."""

    def __init__(self, weights: sparse.csr_matrix, vocabulary: dict[str, int]) -> None:
        self._weights = weights  # terms x texts: idf * saturated tf
        self._vocabulary = vocabulary

    @classmethod
    def fit(cls, documents: Sequence[Sequence[str]], *, k1: float = 1.2, b: float = 0.75) -> Bm25:
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        for doc, tokens in enumerate(documents):
            for token in tokens:
                rows.append(vocabulary.setdefault(token, len(vocabulary)))
                cols.append(doc)
        n_docs = len(documents)
        tf = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)),
            shape=(len(vocabulary), n_docs),
        )
        tf.sum_duplicates()
        lengths = np.array([len(d) for d in documents], dtype=np.float32)
        average = float(lengths.mean()) if n_docs and lengths.sum() > 0 else 1.0
        df = np.diff(tf.indptr).astype(np.float32)
        idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        coo = tf.tocoo()
        norm = k1 * (1.0 - b + b * lengths[coo.col] / average)
        data = idf[coo.row] * coo.data * (k1 + 1.0) / (coo.data + norm)
        weights = sparse.csr_matrix((data.astype(np.float32), (coo.row, coo.col)), shape=tf.shape)
        return cls(weights, vocabulary)

    def scores(self, query: Sequence[str]) -> npt.NDArray[np.float32]:
        """BM25 of the query against every text, in the order they were fitted."""
        ids = sorted({self._vocabulary[t] for t in query if t in self._vocabulary})
        n_docs = self._weights.shape[1]
        if not ids:
            return np.zeros(n_docs, dtype=np.float32)
        return np.asarray(self._weights[ids].sum(axis=0), dtype=np.float32).ravel()
