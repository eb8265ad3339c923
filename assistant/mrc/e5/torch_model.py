"""The same encoder and span head in torch, for training (`pip install torch==2.13.0`).

Built from the numpy weights (`E5Weights`): the bottom layers are frozen and run once per
window (training caches their output), the top `trained` layers are fine-tuned — wholly, or
through low-rank (LoRA) updates when `lora_rank` is given — and a linear span head maps each
token to a start and an end logit. `span_model()` turns the trained state into the `SpanModel`
that the numpy reader loads; the tests check that both compute the same logits.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from assistant.mrc.e5.span_model import MATRICES, VECTORS, SpanModel
from faq_index.e5.weights import E5Weights, LayerWeights

__all__ = ["LoraLinear", "TorchLayer", "TorchSpanModel"]


def _tensor(array: np.ndarray[Any, Any]) -> torch.Tensor:
    """A float32 copy: the numpy weights are shared by the process and must not be trained."""
    return torch.tensor(np.asarray(array, dtype=np.float32))


class LoraLinear(nn.Module):
    """A frozen linear map plus a trainable low-rank update: W x + b + scale · B A x."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, rank: int, alpha: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight, requires_grad=False)
        self.bias = nn.Parameter(bias)
        out_features, in_features = weight.shape
        self.lora_a = nn.Parameter(torch.empty(rank, in_features))
        self.lora_b = nn.Parameter(torch.zeros(out_features, rank))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
        self.scale = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (
            F.linear(x, self.weight, self.bias)
            + F.linear(F.linear(x, self.lora_a), self.lora_b) * self.scale
        )

    def update(self) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """(A, B · scale) as float32 arrays."""
        a = self.lora_a.detach().float().numpy()
        b = (self.lora_b.detach().float() * self.scale).numpy()
        return a, b


class TorchLayer(nn.Module):
    """One post-LayerNorm BERT layer (the numpy `Encoder.layer`, in torch)."""

    def __init__(
        self,
        weights: LayerWeights,
        *,
        heads: int,
        eps: float,
        trainable: bool = False,
        lora_rank: int | None = None,
        lora_alpha: float = 16.0,
    ) -> None:
        super().__init__()
        self.heads = heads
        self.eps = eps
        self.lora = trainable and lora_rank is not None
        self.linears = nn.ModuleDict()
        for name in MATRICES:
            weight, bias = (
                _tensor(getattr(weights, name)),
                _tensor(getattr(weights, f"{name}_bias")),
            )
            module: nn.Module
            if self.lora:
                assert lora_rank is not None
                module = LoraLinear(weight, bias, lora_rank, lora_alpha)
            else:
                module = nn.Linear(weight.shape[1], weight.shape[0])
                with torch.no_grad():
                    module.weight.copy_(weight)
                    module.bias.copy_(bias)
            self.linears[name] = module
        hidden = weights.attention_norm.shape[0]
        self.attention_norm = nn.LayerNorm(hidden, eps=eps)
        self.output_norm = nn.LayerNorm(hidden, eps=eps)
        with torch.no_grad():
            self.attention_norm.weight.copy_(_tensor(weights.attention_norm))
            self.attention_norm.bias.copy_(_tensor(weights.attention_norm_bias))
            self.output_norm.weight.copy_(_tensor(weights.output_norm))
            self.output_norm.bias.copy_(_tensor(weights.output_norm_bias))
        self.base = weights
        for parameter in self.parameters():
            parameter.requires_grad_(trainable)
        if self.lora:
            for name in MATRICES:
                self.linear(name).weight.requires_grad_(False)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        batch, length, hidden = x.shape
        size = hidden // self.heads

        def split(y: torch.Tensor) -> torch.Tensor:
            return y.view(batch, length, self.heads, size).transpose(1, 2)

        q = split(self.linear("query")(x))
        k = split(self.linear("key")(x))
        v = split(self.linear("value")(x))
        context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        context = context.transpose(1, 2).reshape(batch, length, hidden)
        x = self.attention_norm(x + self.linear("attention_out")(context))
        middle = F.gelu(self.linear("intermediate")(x))
        out: torch.Tensor = self.output_norm(x + self.linear("output")(middle))
        return out

    def linear(self, name: str) -> nn.Linear | LoraLinear:
        module = self.linears[name]
        assert isinstance(module, nn.Linear | LoraLinear)
        return module

    def export(self, prefix: str, rank: int | None = None) -> dict[str, np.ndarray[Any, Any]]:
        """This layer's changes, named as in the span model file. A layer trained whole
        stores its updates in int8, or, given `rank`, as their best rank-`rank` approximation
        (truncated SVD) in the LoRA form, which keeps twelve whole layers within a few MB."""
        arrays: dict[str, np.ndarray[Any, Any]] = {}
        for name in MATRICES:
            module = self.linear(name)
            if isinstance(module, LoraLinear):
                a, b = module.update()
                arrays[f"{prefix}.{name}.lora_a"] = a.astype(np.float16)
                arrays[f"{prefix}.{name}.lora_b"] = b.astype(np.float16)
            elif rank is not None:
                delta = module.weight.detach().double().numpy() - getattr(self.base, name)
                u, s, vt = np.linalg.svd(delta, full_matrices=False)
                arrays[f"{prefix}.{name}.lora_a"] = (s[:rank, None] * vt[:rank]).astype(np.float16)
                arrays[f"{prefix}.{name}.lora_b"] = u[:, :rank].astype(np.float16)
            else:
                delta = module.weight.detach().float().numpy() - getattr(self.base, name)
                scale = np.abs(delta).max(axis=1) / 127.0
                scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
                arrays[f"{prefix}.{name}.delta_q8"] = np.round(delta / scale[:, None]).astype(
                    np.int8
                )
                arrays[f"{prefix}.{name}.delta_scale"] = scale
        vectors = {
            **{f"{name}_bias": self.linear(name).bias for name in MATRICES},
            "attention_norm": self.attention_norm.weight,
            "attention_norm_bias": self.attention_norm.bias,
            "output_norm": self.output_norm.weight,
            "output_norm_bias": self.output_norm.bias,
        }
        for name in VECTORS:
            arrays[f"{prefix}.{name}"] = vectors[name].detach().float().numpy().copy()
        return arrays


class TorchSpanModel(nn.Module):
    """Embeddings and `frozen` bottom layers (no gradients), `trained` top layers, span head."""

    def __init__(
        self,
        weights: E5Weights,
        *,
        trained: int = 4,
        lora_rank: int | None = None,
        lora_alpha: float = 16.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        config = weights.config
        if not 1 <= trained <= config.layers:
            raise ValueError(f"trained layers must be 1..{config.layers}, not {trained}")
        self.weights = weights
        self.frozen = config.layers - trained
        self.eps = config.layer_norm_eps
        generator = torch.Generator().manual_seed(seed)
        self.layers = nn.ModuleList(
            TorchLayer(
                layer,
                heads=config.heads,
                eps=config.layer_norm_eps,
                trainable=i >= self.frozen,
                lora_rank=lora_rank,
                lora_alpha=lora_alpha,
            )
            for i, layer in enumerate(weights.layers)
        )
        self.head = nn.Linear(config.hidden, 2)
        with torch.no_grad():
            self.head.weight.copy_(torch.randn(2, config.hidden, generator=generator) * 0.02)
            self.head.bias.zero_()
        self.lora_rank = lora_rank

    @staticmethod
    def attention_mask(lengths: torch.Tensor, length: int) -> torch.Tensor | None:
        """Additive [batch, 1, 1, length] mask hiding the padding (None without padding)."""
        if int(lengths.min()) == length:
            return None
        keep = torch.arange(length)[None, :] < lengths[:, None]
        mask = torch.zeros(keep.shape, dtype=torch.float32).masked_fill(~keep, -1e9)
        return mask[:, None, None, :]

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        w = self.weights
        length = ids.shape[1]
        x = _tensor(w.word_embeddings(ids.numpy()))
        x = x + _tensor(w.positions[:length]) + _tensor(w.token_types[0])
        return F.layer_norm(
            x, (x.shape[-1],), _tensor(w.embedding_norm), _tensor(w.embedding_norm_bias), self.eps
        )

    @torch.no_grad()
    def bottom(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Hidden states after the frozen layers, [batch, length, hidden]."""
        mask = self.attention_mask(lengths, ids.shape[1])
        x = self.embed(ids)
        for layer in self.layers[: self.frozen]:
            x = layer(x, mask)
        return x

    def top(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Start and end logits [batch, length] from the frozen layers' output."""
        mask = self.attention_mask(lengths, x.shape[1])
        for layer in self.layers[self.frozen :]:
            x = layer(x, mask)
        logits = self.head(x)
        return logits[..., 0], logits[..., 1]

    def forward(
        self, ids: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.top(self.bottom(ids, lengths), lengths)

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """What training changes (checkpoints hold only this)."""
        names = {n for n, p in self.named_parameters() if p.requires_grad}
        return {n: t for n, t in self.state_dict().items() if n in names}

    def span_model(self, meta: dict[str, Any], export_rank: int | None = None) -> SpanModel:
        """The trained state as the numpy reader's `SpanModel` (`export_rank`: see
        `TorchLayer.export`)."""
        arrays: dict[str, np.ndarray[Any, Any]] = {}
        trained = list(range(self.frozen, len(self.layers)))
        for i in trained:
            layer = self.layers[i]
            assert isinstance(layer, TorchLayer)
            arrays.update(layer.export(f"l{i}", export_rank))
        return SpanModel(
            head_weight=self.head.weight.detach().float().numpy().copy(),
            head_bias=self.head.bias.detach().float().numpy().copy(),
            arrays=arrays,
            meta={**meta, "trained_layers": trained},
        )
