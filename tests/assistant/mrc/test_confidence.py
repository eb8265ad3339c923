"""The open-mode confidence: what a span's evidence covers of the question, and its calibration."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.mrc.confidence import FEATURES, OpenCalibration, overlap, question_terms
from assistant.mrc.errors import ReaderError
from assistant.mrc.open_mode import read_retrieved
from assistant.mrc.passage import Passage
from assistant.mrc.reader import Answer


def test_question_words_are_not_what_the_question_is_about() -> None:
    assert question_terms("시동 끄려면 기어를 어디에 둬야 돼?") >= {"시동", "끄", "기어"}
    assert "어디" not in question_terms("시동 끄려면 기어를 어디에 둬야 돼?")
    assert question_terms("When does automatic high beam work?") >= {"automatic", "high", "beam"}
    assert not question_terms("how many?") & {"how", "many"}


def test_overlap_is_the_share_of_the_questions_terms_in_the_evidence() -> None:
    terms = question_terms("트렁크 용량은 몇 리터야?")
    assert overlap(terms, "워셔액 탱크는 보닛을 열면 오른쪽 앞에 있으며 4리터가 들어갑니다.") < 0.5
    # a longer word of the text counts for the question's (충전 / 충전량)
    assert overlap(question_terms("목표 충전 얼마로 해?"), "목표 충전량은 80%를 권장합니다.") == 1.0
    assert overlap(frozenset(), "anything") == 0.0


def test_the_calibration_is_read_beside_the_span_model_and_checked(tmp_path: Path) -> None:
    model = tmp_path / "reader.npz"
    assert OpenCalibration.beside(model) is None
    written = OpenCalibration((0.5, 0.2, 3.0, 1.0, -0.3), -1.0, FEATURES, {"data": "x"})
    written.save(model)
    loaded = OpenCalibration.beside(model)
    assert loaded == written
    values = dict.fromkeys(FEATURES, 0.0)
    assert loaded is not None and loaded.probability(values) == pytest.approx(1 / (1 + math.e))
    OpenCalibration.path_for(model).write_text(
        json.dumps({"features": ["log_score", "nonsense"], "coef": [1, 2], "intercept": 0})
    )
    with pytest.raises(ReaderError, match="open-mode calibration"):
        OpenCalibration.beside(model)


@dataclass(frozen=True)
class FakeSpan:
    passage: Passage
    start: int
    end: int
    log_score: float
    gap: float


class SpanReader:
    """Proposes fixed spans, as the e5 reader does, with an open-mode calibration that trusts
    only the share of the question found in the span's sentence."""

    name = "fake"

    def __init__(self, spans: list[FakeSpan]) -> None:
        self._spans = spans
        coef = tuple(8.0 if f == "sentence_overlap" else 0.0 for f in FEATURES)
        self.open_calibration = OpenCalibration(coef, -4.0)

    def spans(self, question: str, passages: object, *, null_margin: float) -> list[FakeSpan]:
        assert null_margin == math.inf  # every window's spans: the calibration decides
        return self._spans

    def read(self, question: str, passages: object, *, k: int = 1) -> list[Answer]:
        raise AssertionError("read in open mode")


def test_the_span_whose_sentence_is_about_the_question_wins() -> None:
    washer = Passage(
        id="m#1", document="m", section=("워셔액",), text="탱크에는 4리터가 들어갑니다."
    )
    wipers = Passage(
        id="m#2",
        document="m",
        section=("와이퍼 작동",),
        text="레버를 한 칸 내리면 자동입니다. 두 칸 내리면 저속으로 작동합니다.",
    )
    strong_but_unrelated = FakeSpan(washer, 5, 8, log_score=-0.5, gap=3.0)
    right = FakeSpan(wipers, 27, 29, log_score=-4.0, gap=-2.0)
    reader = SpanReader([strong_but_unrelated, right])
    [answer] = read_retrieved(reader, "와이퍼 레버 두 칸 내리면 어떻게 돼?", [washer, wipers])  # type: ignore[arg-type]
    assert answer.text == "저속" and answer.passage is wipers
    assert answer.sentence == "두 칸 내리면 저속으로 작동합니다."
    assert answer.score > 0.5
    [unrelated] = read_retrieved(reader, "트렁크 용량은 몇 리터야?", [washer, wipers])  # type: ignore[arg-type]
    assert unrelated.score < 0.05  # nothing the question is about: no answer worth giving
