from __future__ import annotations

import pytest

from assistant.nlu.numbers import english_number, find_numbers, korean_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("이십이", 22),
        ("스물두", 22),
        ("스물", 20),
        ("열두", 12),
        ("서른다섯", 35),
        ("다섯", 5),
        ("십", 10),
        ("백이십", 120),
        ("이천이십육", 2026),
        ("삼만 오천", 35000),
        ("3만 5천", 35000),
        ("1,200", 1200),
        ("2.5", 2.5),
        ("일이삼사", 1234),  # digits spelled one by one
    ],
)
def test_korean_numbers(text: str, value: float) -> None:
    assert korean_number(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("twenty two", 22), ("seventy-two", 72), ("one hundred and five", 105), ("a hundred", 100)],
)
def test_english_numbers(text: str, value: int) -> None:
    assert english_number(text) == value


def test_numbers_in_text_keep_their_counter() -> None:
    found = [(n.value, n.counter) for n in find_numbers("온도 스물두 도로, 풍량 3단계, 볼륨 50%")]
    assert found == [(22, "도"), (3, "단계"), (50, "%")]


@pytest.mark.parametrize(
    "text", ["천천히 가자", "이사를 가요", "오이가 싱싱해", "네 알겠어요", "이 도로로 가자"]
)
def test_words_made_of_numeral_syllables_are_not_numbers(text: str) -> None:
    assert find_numbers(text) == []


def test_native_numerals_need_a_counter() -> None:
    assert [n.value for n in find_numbers("세 시 반")] == [3]
    assert find_numbers("세 사람") == []  # 사람 is no counter we know: not read as 3
