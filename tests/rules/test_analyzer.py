"""The analyzer makes the Korean variants of one phrase into the same tokens."""

from __future__ import annotations

import pytest

from rules.analyzer import analyze, normalize


def keys(text: str) -> list[str]:
    return [t.key for t in analyze(normalize(text))]


@pytest.mark.parametrize(
    "text", ["심심해", "심심해요", "심심하네", "심심하다", "심심 해", "심심했어"]
)
def test_korean_variants_reduce_to_one_stem(text: str) -> None:
    assert keys(text) == ["심심"]


def test_particles_endings_and_punctuation_are_dropped() -> None:
    assert keys("너는 누구야?") == keys("너 누구니") == ["너", "누구"]


def test_light_verb_after_a_noun_is_dropped_both_ways() -> None:
    assert keys("걱정돼") == keys("걱정된다") == ["걱정"]


def test_english_is_case_and_punctuation_insensitive() -> None:
    assert keys("What's UP?!") == keys("whats up") == ["whats", "up"]


def test_width_and_repeats_are_normalized() -> None:
    assert normalize("ＨＩ  there!!!!") == "HI there!!"
    assert keys("ㅋㅋㅋㅋㅋ") == keys("ㅋㅋ")
    assert keys("ㅋㅋ") != []


def test_offsets_point_into_the_normalized_text() -> None:
    text = normalize("내 이름은 김민수입니다")
    tokens = analyze(text)
    assert [text[t.start : t.end] for t in tokens][-1] == "김민수"
