"""The span model that ships with the project: small, documented, loadable as `reader: e5`,
reading plain Korean questions, and answering nothing from a passage without the answer.
(Its scores on KorQuAD are in MODEL_CARD.md.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.mrc.e5.span_model import DEFAULT_MODEL, load_span_model
from assistant.mrc.e5_reader import E5Reader
from assistant.mrc.factory import make_reader
from assistant.mrc.reader import Passage
from faq_index.e5.onnx_encoder import OnnxEncoder, runtime_available


@pytest.fixture(scope="module", params=["onnx", "onnx-int8", "numpy"])
def shipped(request: pytest.FixtureRequest) -> E5Reader:
    """The shipped reader on each runtime (ONNX Runtime, the default install's, in float32 and
    in 8 bits; numpy)."""
    runtime, _, precision = request.param.partition("-")
    if runtime == "onnx" and not runtime_available():
        pytest.skip("onnxruntime and onnx are not installed")
    reader = make_reader("e5")
    assert isinstance(reader, E5Reader) and reader.path == DEFAULT_MODEL
    reader.runtime = runtime
    reader.int8 = precision == "int8"
    reader.warm_up()
    assert isinstance(reader.encoder, OnnxEncoder) == (runtime == "onnx")
    return reader


def test_the_shipped_model_is_small_and_documented() -> None:
    assert DEFAULT_MODEL.stat().st_size <= 10_000_000
    card = (DEFAULT_MODEL.parent / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "CC BY-ND 2.0 KR" in card and "MIT" in card
    model = load_span_model(DEFAULT_MODEL)
    assert model.trained_layers == list(range(12))
    assert model.meta["base"]["file"] == "e5-small-q4.bin"
    # trained on articles 0-47 only: 48-69 are the held-out articles of the card's scores
    assert model.meta["training"]["articles"] == list(range(48))
    assert model.meta["training"]["complete"] is True


def test_the_shipped_model_reads_a_plain_question(shipped: E5Reader) -> None:
    context = "한빛모터스는 1998년 대전에서 김민호가 설립했다. 본사는 서울 강남구에 있다."
    [found] = shipped.read(
        "한빛모터스를 설립한 사람은 누구인가?", [Passage(id="p", document="d", text=context)]
    )
    assert found.text == "김민호" and context[found.start : found.end] == "김민호"
    assert 0.0 < found.score <= 1.0


def test_the_shipped_model_reads_the_project_manual(shipped: E5Reader) -> None:
    context = (
        "오로라 EV의 배터리 용량은 77kWh이며, 완전히 충전하면 최대 480km를 달린다. "
        "급속 충전기로 10%에서 80%까지 충전하는 데 약 18분이 걸린다."
    )
    passage = [Passage(id="p", document="d", text=context)]
    [found] = shipped.read("오로라 EV의 배터리 용량은 얼마인가?", passage)
    assert found.text == "77kWh"
    [found] = shipped.read("급속 충전으로 80%까지 충전하는 데 얼마나 걸리나요?", passage)
    assert "18분" in found.text


def test_the_shipped_model_answers_nothing_where_the_answer_is_not(shipped: E5Reader) -> None:
    context = "한빛모터스는 1998년 대전에서 김민호가 설립했다. 본사는 서울 강남구에 있다."
    passage = [Passage(id="p", document="d", text=context)]
    assert shipped.read("오로라 EV의 타이어 권장 공기압은 얼마인가?", passage) == []


def test_reader_names_choose_the_precision(tmp_path: Path) -> None:
    plain = make_reader("e5")
    assert isinstance(plain, E5Reader) and not plain.int8
    int8 = make_reader("e5-int8")
    assert isinstance(int8, E5Reader) and int8.int8 and int8.path == DEFAULT_MODEL
    own = make_reader("e5-int8:mine.npz", base=tmp_path)
    assert isinstance(own, E5Reader) and own.int8 and own.path == tmp_path / "mine.npz"
