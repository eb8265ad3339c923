"""The built-in reader on hand-made Korean and English passages, one question of each type."""

from __future__ import annotations

import time

import pytest

from assistant.mrc.lexical import LexicalReader
from assistant.mrc.passage import Passage
from assistant.mrc.question import classify

KO = Passage(
    id="ko#0",
    document="ko",
    section=("회사 소개",),
    text=(
        "한빛모터스는 1998년 김민호가 대전에서 설립했다. "
        "오로라 EV는 77kWh 배터리를 탑재했고 5명이 탈 수 있다. "
        "권장 타이어 공기압은 36 psi이다. "
        "배터리 보증 기간은 8년 또는 16만 km이다. "
        "휴대폰을 연결하려면 블루투스 메뉴에서 기기 추가를 선택한다."
    ),
)
EN = Passage(
    id="en#0",
    document="en",
    text=(
        "Hanbit Motors was founded in 1998 in Daejeon by Kim Minho. "
        "The Aurora EV has a 77 kWh battery and seats five people. "
        "The recommended tyre pressure is 36 psi. "
        "To pair a phone, open the Bluetooth menu and choose Add device."
    ),
)


@pytest.fixture(scope="module")
def reader() -> LexicalReader:
    return LexicalReader()


@pytest.mark.parametrize(
    ("question", "kind", "expected"),
    [
        ("한빛모터스를 설립한 사람은 누구인가?", "person", "김민호"),
        ("한빛모터스는 언제 설립되었나?", "date", "1998년"),
        ("한빛모터스는 어디에서 설립되었나?", "place", "대전"),
        ("오로라 EV에는 몇 명이 탈 수 있나?", "number", "5명"),
        ("권장 타이어 공기압은 얼마인가?", "amount", "36 psi"),
        ("배터리 보증 기간은?", "date", "8년"),
        ("휴대폰을 연결하려면 어떤 메뉴를 열어야 하나?", "thing", "블루투스 메뉴|블루투스"),
    ],
)
def test_korean_question_types(
    reader: LexicalReader, question: str, kind: str, expected: str
) -> None:
    assert classify(question) == kind
    [answer] = reader.read(question, [KO])
    assert answer.text in expected.split("|")
    assert KO.text[answer.start : answer.end] == answer.text
    assert answer.text in answer.sentence
    assert 0.0 < answer.score <= 1.0


@pytest.mark.parametrize(
    ("question", "kind", "expected"),
    [
        ("Who founded Hanbit Motors?", "person", "Kim Minho"),
        ("When was Hanbit Motors founded?", "date", "1998"),
        ("Where was Hanbit Motors founded?", "place", "Daejeon"),
        ("How many people does the Aurora EV seat?", "number", "five people"),
        ("What is the recommended tyre pressure?", "thing", "36 psi"),
        ("Which menu do I open to pair a phone?", "thing", "Bluetooth menu"),
    ],
)
def test_english_question_types(
    reader: LexicalReader, question: str, kind: str, expected: str
) -> None:
    assert classify(question) == kind
    answers = reader.read(question, [EN], k=3)
    assert expected in [a.text for a in answers]
    assert all(EN.text[a.start : a.end] == a.text for a in answers)


@pytest.mark.parametrize("question", ["화성의 수도는 어디인가?", "What is the capital of Mars?"])
def test_no_answer_when_the_passage_does_not_speak_of_it(
    reader: LexicalReader, question: str
) -> None:
    assert reader.read(question, [KO, EN]) == []


def test_best_answer_over_several_passages(reader: LexicalReader) -> None:
    answers = reader.read("권장 타이어 공기압은 얼마인가?", [EN, KO], k=3)
    assert answers[0].passage is KO
    assert [a.score for a in answers] == sorted((a.score for a in answers), reverse=True)


def test_reads_well_under_100_ms(reader: LexicalReader) -> None:
    reader.read("오로라 EV의 배터리 용량은?", [KO])  # Kiwi loaded, passage analysed
    started = time.perf_counter()
    for _ in range(10):
        reader.read("오로라 EV에는 몇 명이 탈 수 있나?", [KO])
    assert (time.perf_counter() - started) / 10 < 0.1


def test_refuses_zero_sentences() -> None:
    with pytest.raises(ValueError, match="sentences"):
        LexicalReader(sentences=0)
