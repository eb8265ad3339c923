"""A follow-up about a detail of the last answer (assistant.details)."""

from __future__ import annotations

from assistant.details import clauses, read_detail
from assistant.mrc.lexical import LexicalReader

WARRANTY_KO = (
    "일반 부품은 3년 또는 6만 km, 엔진과 변속기 등 동력 전달 부품은 5년 또는 10만 km 중 "
    "먼저 도래하는 기준까지 보증합니다."
)
PRICE_KO = "한빛 충전소의 급속 충전 요금은 kWh당 340원, 완속은 kWh당 250원입니다."
PRICE_EN = (
    "At our chargers, fast charging costs 340 won per kWh and slow charging 250 won per kWh. "
    "Other networks charge their own prices."
)


def test_clauses_keep_numbers_and_parentheses_whole() -> None:
    text = "Parts: 3 years or 60,000 km, and the powertrain (engine, gearbox) for 5 years."
    assert clauses(text) == [
        "Parts: 3 years or 60,000 km",
        "and the powertrain (engine, gearbox) for 5 years.",
    ]


def test_the_part_that_holds_the_asked_words_is_the_answer() -> None:
    detail = read_detail("엔진은요?", "보증 기간은?", WARRANTY_KO, LexicalReader(), "ko")
    assert detail is not None and "5년 또는 10만 km" in detail.clause
    assert "3년" not in detail.clause and detail.words == ("엔진",)
    slow = read_detail("and slow charging?", "How much is charging?", PRICE_EN, None, "en")
    assert slow is not None and slow.clause == "slow charging 250 won per kWh."


def test_the_words_of_the_question_again_are_no_detail() -> None:
    detail = read_detail("그럼 완속 충전 요금은 얼마야?", "충전 요금 얼마야?", PRICE_KO, None, "ko")
    assert detail is not None and "250원" in detail.clause and "340원" not in detail.clause


def test_no_detail_when_the_answer_does_not_hold_the_words() -> None:
    assert read_detail("배터리는?", "보증 기간은?", WARRANTY_KO, None, "ko") is None
    # a question of its own (many content words) is no detail
    long = "engine oil change interval for the turbo model"
    assert read_detail(long, "How long is the warranty?", PRICE_EN, None, "en") is None
    # an answer of one clause has no part to pick
    assert read_detail("fast?", "price?", "Fast charging costs 340 won.", None, "en") is None


def test_a_failing_reader_leaves_the_clause() -> None:
    class Broken:
        name = "broken"

        def read(self, question, passages, *, k=1):
            raise RuntimeError("model gone")

    detail = read_detail("slow charging?", "price?", PRICE_EN, Broken(), "en")
    assert detail is not None and detail.span is None and "250 won" in detail.clause
