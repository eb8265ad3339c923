"""Parsing, expanding and compiling patterns, and the errors for malformed ones."""

from __future__ import annotations

import pytest

from rules.errors import PatternError
from rules.pattern import CAPTURE, LITERAL, WILDCARD, compile_pattern


def elements(pattern: str) -> list[list[tuple[int, str | int]]]:
    return [list(seq.elements) for seq in compile_pattern(pattern).sequences]


def test_literal_words() -> None:
    assert elements("hello there") == [[(LITERAL, "hello"), (LITERAL, "there")]]


def test_star_is_one_or_more_and_bracket_star_zero_or_more() -> None:
    assert elements("* hi [*]") == [[(WILDCARD, 1), (LITERAL, "hi"), (WILDCARD, 0)]]


def test_optional_word_expands_to_with_and_without() -> None:
    assert elements("[really] bored") == [
        [(LITERAL, "bored")],
        [(LITERAL, "really"), (LITERAL, "bored")],
    ]


def test_alternatives_are_analyzed_in_context() -> None:
    # 해 alone would read as the verb 하다; attached to each alternative it is a suffix.
    pattern = compile_pattern("(심심|지루)해")
    assert [seq.literals for seq in pattern.sequences] == [("심심",), ("지루",)]


def test_korean_phrases_also_compile_written_solid() -> None:
    # Kiwi reads 배 고파 as 배 + 고프 but 배고파 as 배고프: the pattern keeps both readings.
    assert [seq.literals for seq in compile_pattern("배 고파").sequences] == [
        ("배", "고프"),
        ("배고프",),
    ]
    assert len(compile_pattern("심심 해").sequences) == 1  # same reading: no duplicate
    # Written solid, 날씨안좋아 loses its 안: a misreading, so it is not kept.
    assert [seq.literals for seq in compile_pattern("날씨 안 좋아").sequences] == [
        ("날씨", "안", "좋")
    ]


def test_nested_choices() -> None:
    pattern = compile_pattern("(good [morning|evening]|hi)")
    assert sorted(seq.literals for seq in pattern.sequences) == [
        ("good",),
        ("good", "evening"),
        ("good", "morning"),
        ("hi",),
    ]


def test_capture() -> None:
    pattern = compile_pattern("call me {name}")
    assert elements("call me {name}") == [[(LITERAL, "call"), (LITERAL, "me"), (CAPTURE, "name")]]
    assert pattern.captures == {"name"}


def test_capture_only_in_some_expansions_is_not_reliable() -> None:
    assert compile_pattern("(call me {name}|hello)").captures == frozenset()


def test_regex_pattern_captures_named_groups() -> None:
    pattern = compile_pattern(r"re:(?P<temp>\d+) ?도")
    assert pattern.regex is not None and pattern.captures == {"temp"}


def test_exact_sequence_flag() -> None:
    assert compile_pattern("hi there").sequences[0].exact
    assert not compile_pattern("hi *").sequences[0].exact


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(a|b", "unbalanced '('"),
        ("a]", "unbalanced ']'"),
        ("[a", "unbalanced '['"),
        ("{name", "unbalanced '{'"),
        ("{1x}", "capture name '1x'"),
        ("(a|)", "empty alternative"),
        ("a|b", "'|' outside a group"),
        ("{x} and {x}", "appears twice"),
        ("re:(", "not a valid regex"),
        ("", "pattern is empty"),
        ("?!", "has no words"),
        ("(a|b|c|d) " * 5, "expand to more than"),
    ],
)
def test_malformed_patterns_say_what_is_wrong(pattern: str, message: str) -> None:
    with pytest.raises(PatternError, match=message.replace("(", r"\(").replace("[", r"\[")):
        compile_pattern(pattern)
