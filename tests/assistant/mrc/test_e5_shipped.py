"""The span model that ships with the project: small, documented, loadable as `reader: e5`,
and reading a plain question. (Its scores are far below the lexical reader's: see MODEL_CARD.md.)"""

from __future__ import annotations

import pytest

from assistant.mrc.e5.span_model import DEFAULT_MODEL, load_span_model
from assistant.mrc.e5_reader import E5Reader
from assistant.mrc.factory import make_reader
from assistant.mrc.reader import Passage


@pytest.fixture(scope="module")
def shipped() -> E5Reader:
    reader = make_reader("e5")
    assert isinstance(reader, E5Reader) and reader.path == DEFAULT_MODEL
    reader.warm_up()
    return reader


def test_the_shipped_model_is_small_and_documented() -> None:
    assert DEFAULT_MODEL.stat().st_size <= 10_000_000
    card = (DEFAULT_MODEL.parent / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "CC BY-ND 2.0 KR" in card and "MIT" in card
    model = load_span_model(DEFAULT_MODEL)
    assert model.trained_layers == [8, 9, 10, 11]
    assert model.meta["base"]["file"] == "e5-small-q4.bin"
    assert model.meta["training"]["articles"] == list(range(35))


def test_the_shipped_model_reads_a_plain_question(shipped: E5Reader) -> None:
    context = "한빛모터스는 1998년 대전에서 김민호가 설립했다. 본사는 서울 강남구에 있다."
    [found] = shipped.read(
        "한빛모터스를 설립한 사람은 누구인가?", [Passage(id="p", document="d", text=context)]
    )
    assert found.text == "김민호" and context[found.start : found.end] == "김민호"
    assert 0.0 < found.score <= 1.0
