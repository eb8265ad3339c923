"""KorQuAD 1.0 and SQuAD v1.1 answer metrics, on cases the official scripts define."""

from __future__ import annotations

import pytest

from assistant.mrc.metrics import best_scores, exact_match, f1_score, language_of, normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("《토지》", "토지"),
        ("'국무회의'의  심의", "국무회의 의 심의"),
        ("(주)한빛", "주 한빛"),
        ("A.B,C!", "abc"),
    ],
)
def test_korean_normalisation(text: str, expected: str) -> None:
    assert normalize(text, "ko") == expected


def test_korean_f1_counts_characters_without_spaces() -> None:
    assert f1_score("서울 지방 경찰청", "서울지방경찰청", "ko") == 1.0
    assert exact_match("서울 지방 경찰청", "서울지방경찰청", "ko") is False
    # 5 of the gold answer's 10 characters, all 5 predicted ones right
    assert f1_score("1989년", "1989년 2월 15일", "ko") == pytest.approx(2 / 3)
    assert f1_score("", "임수경", "ko") == 0.0


def test_english_drops_articles_and_counts_tokens() -> None:
    assert exact_match("the Eiffel Tower.", "Eiffel tower", "en")
    assert f1_score("an apple pie", "apple", "en") == pytest.approx(2 / 3)


def test_best_over_gold_answers_and_language() -> None:
    assert best_scores("Denver Broncos", ["Broncos", "Denver Broncos"], "en") == (1.0, 1.0)
    assert language_of("KorQuAD 질문") == "ko" and language_of("SQuAD") == "en"
    with pytest.raises(ValueError, match="gold answer"):
        best_scores("x", [], "en")
