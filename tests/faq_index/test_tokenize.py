from __future__ import annotations

from faq_index.tokenize import Tokenizer


def test_korean_spacing_and_particles_give_the_same_terms() -> None:
    tokenizer = Tokenizer()
    assert tokenizer.tokens("충전요금은 얼마예요")[:2] == tokenizer.tokens("충전 요금이 얼마죠")[:2]


def test_english_words_lose_stop_words_and_plurals() -> None:
    assert Tokenizer().tokens("How do I pair the phones?") == ["pair", "phone"]


def test_without_morphemes_korean_is_split_on_words() -> None:
    assert Tokenizer(morphemes=False).tokens("충전 요금, OK?") == ["충전", "요금", "ok"]
