"""Matching one compiled sequence against tokens: wildcards, captures, laziness."""

from __future__ import annotations

from rules.matcher import match_sequence
from rules.pattern import compile_pattern


def fit(pattern: str, text: str) -> dict[str, tuple[int, int]] | None:
    seq = compile_pattern(pattern).sequences[0]
    found = match_sequence(seq, text.split())
    return None if found is None else found.captures


def test_exact_sequence_must_cover_the_whole_utterance() -> None:
    assert fit("good morning", "good morning") == {}
    assert fit("good morning", "good morning sir") is None


def test_star_needs_at_least_one_token() -> None:
    assert fit("hello *", "hello") is None
    assert fit("hello *", "hello there") == {}


def test_bracket_star_accepts_none() -> None:
    assert fit("hello [*]", "hello") == {}
    assert fit("[*] hello [*]", "well hello there friend") == {}


def test_captures_are_lazy_and_the_last_takes_the_rest() -> None:
    assert fit("{a} and {b}", "salt and pepper and oil") == {"a": (0, 1), "b": (2, 5)}


def test_wildcard_tokens_are_counted() -> None:
    seq = compile_pattern("[*] hello [*]").sequences[0]
    found = match_sequence(seq, ["oh", "hello", "there", "you"])
    assert found is not None and found.wildcard_tokens == 3
