"""Robust reading (assistant.normalize.read_text), the noise generator (assistant.noise) and
the split of a message into its questions (assistant.questions)."""

from __future__ import annotations

import random

import pytest

from assistant.noise import add_noise, jamo_typo, letter_typo
from assistant.normalize import Vocabulary, expand_slang, normalize_text, read_text, slang_table
from assistant.questions import MAX_PARTS, split_questions


def test_slang_table_ships_with_both_languages() -> None:
    table = slang_table()
    assert {"ko", "en"} <= set(table)
    assert table["ko"]["블투"] == "블루투스" and table["en"]["pls"] == "please"
    assert 100 <= sum(len(forms) for forms in table.values()) <= 1000


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("블투가 안 돼요", "블루투스가 안 돼요"),  # a particle after the slang word
        ("어케 해요 ㅠㅠ", "어떻게 해요"),  # a sigh carries no words
        ("ㄱㄱ", "가자"),
        ("블투스피커", "블투스피커"),  # not a word of its own: left alone
    ],
)
def test_korean_slang_is_expanded_as_whole_words(typed: str, read: str) -> None:
    assert expand_slang(typed, "ko").text == read


def test_jamo_slang_is_read_after_normalization() -> None:
    # NFKC (normalize_text, before every turn) turns typed ㄳ into a conjoining jamo
    assert read_text(normalize_text("ㄳ"), "ko").text == "감사합니다"
    assert read_text(normalize_text("ㅁㄴㅇㄹ"), "ko").text == normalize_text("ㅁㄴㅇㄹ")


def test_english_abbreviations_are_whole_words_only() -> None:
    assert (
        expand_slang("Pair my phone w/ BT pls", "en").text == "Pair my phone with bluetooth please"
    )
    assert expand_slang("bus routes", "en").text == "bus routes"  # "u", "r" inside words


def test_korean_typos_and_run_together_words_are_read_with_kiwi() -> None:
    typo = read_text("정비 얘약 어떻게 해", "ko")
    assert typo.text == "정비 예약 어떻게 해" and ("얘약", "예약") in typo.changes
    spaced = read_text("보증기간이어떻게돼", "ko").text
    assert spaced.replace(" ", "") == "보증기간이어떻게돼" and spaced.count(" ") >= 2


def test_correct_text_reads_as_typed() -> None:
    for text in ("서울역으로 안내해 줘", "충전 요금은 얼마인가요?", "아이유 노래 틀어 줘"):
        assert read_text(text, "ko").text == text and not read_text(text, "ko").changes
    assert read_text("ㅋㅋ", "ko").text == "ㅋㅋ"  # nothing left: as typed


def test_english_typos_are_corrected_towards_the_bots_words() -> None:
    words = Vocabulary(["How long is the warranty?", "How much does charging cost?"])
    read = read_text("how much does chargnig cost", "en", words)
    assert read.text == "how much does charging cost"
    assert read_text("how much does chargnig cost", "en").text == "how much does chargnig cost"
    assert words.correct("a brand new phone").text == "a brand new phone"  # short or unknown


def test_noise_is_seeded_and_changes_the_text() -> None:
    text = "정비 예약을 다음 주 화요일로 바꾸고 싶어요"
    first = add_noise(text, random.Random(5))
    assert first == add_noise(text, random.Random(5)) and first != text
    assert jamo_typo("가", random.Random(0), kinds=("tense",)) == "까"
    assert letter_typo("abc", random.Random(0)) == "abc"  # no word long enough
    english = add_noise("How long is the vehicle warranty coverage?", random.Random(2), locale="en")
    assert english != "How long is the vehicle warranty coverage?"


def test_noisy_copies_are_read_back_to_the_original_often() -> None:
    # Kiwi's typo model undoes the vowel and spelling confusions the generator makes
    rng = random.Random(11)
    texts = ["정비 예약은 어떻게 하나요", "보증 기간이 어떻게 돼요", "충전 요금은 얼마예요"]
    noisy = [jamo_typo(t, rng, kinds=("vowel",)) for t in texts for _ in range(3)]
    back = [read_text(n, "ko").text for n in noisy]
    restored = sum(b in texts for b in back)
    assert restored >= len(noisy) // 2, list(zip(noisy, back, strict=True))


def test_a_message_is_split_into_its_questions() -> None:
    assert split_questions("영수증을 다시 받고 싶어요. 그리고 보증 기간도 궁금해요", "ko") == [
        "영수증을 다시 받고 싶어요.",
        "보증 기간도 궁금해요",
    ]
    assert split_questions("where do I charge and how much does it cost", "en") == [
        "where do I charge",
        "how much does it cost",
    ]
    assert split_questions("충전 요금은 얼마인가요?", "ko") == ["충전 요금은 얼마인가요?"]


def test_a_long_message_keeps_the_parts_that_ask() -> None:
    sentences = [f"문장 {i}번은 그냥 이야기예요." for i in range(8)]
    message = " ".join([*sentences, "보증 기간은 얼마인가요?"])
    parts = split_questions(message, "ko")
    assert len(parts) == MAX_PARTS and parts[-1] == "보증 기간은 얼마인가요?"
