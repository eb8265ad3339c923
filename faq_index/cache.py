"""Embeddings cached on disk, keyed by encoder, kind and the text's content hash.

A restart or a re-index embeds only texts it has not seen with that encoder. The cache is one
SQLite file (safe for several threads and processes); `CachedEncoder` wraps any encoder with it.

    >>> import tempfile
    >>> from faq_index.encoders import HashingEncoder
    >>> inner = HashingEncoder()
    >>> encoder = CachedEncoder(inner, EmbeddingCache(tempfile.mkdtemp()))
    >>> _ = encoder.encode(["a", "b"], kind="passage"); _ = encoder.encode(["b", "c"], kind="passage")
    >>> inner.calls
    3
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from faq_index.encoders import Encoder, Kind, Vectors

__all__ = ["CachedEncoder", "EmbeddingCache"]


def _key(encoder: str, kind: str, text: str) -> str:
    return hashlib.sha256(f"{encoder}\x00{kind}\x00{text}".encode()).hexdigest()


class EmbeddingCache:
    """`directory/embeddings.sqlite3`: content hash -> float32 vector bytes."""

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / "embeddings.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB)")
        self._db.commit()

    def get_many(self, keys: Sequence[str]) -> dict[str, Vectors]:
        found: dict[str, Vectors] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, vec FROM vectors WHERE key IN ({marks})", chunk
                ).fetchall()
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, items: dict[str, Vectors]) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CachedEncoder:
    """An encoder that looks in the cache first and embeds only what is missing."""

    def __init__(self, encoder: Encoder, cache: EmbeddingCache) -> None:
        self.inner = encoder
        self.cache = cache
        self.name = encoder.name

    def encode(self, texts: Sequence[str], *, kind: Kind) -> Vectors:
        keys = [_key(self.name, kind, t) for t in texts]
        found = self.cache.get_many(keys)
        missing = sorted({i for i, k in enumerate(keys) if k not in found}, key=keys.__getitem__)
        unique: dict[str, int] = {}
        for i in missing:
            unique.setdefault(keys[i], i)
        if unique:
            fresh = self.inner.encode([texts[i] for i in unique.values()], kind=kind)
            new = {k: fresh[j] for j, k in enumerate(unique)}
            self.cache.put_many(new)
            found.update(new)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([found[k] for k in keys]).astype(np.float32)
