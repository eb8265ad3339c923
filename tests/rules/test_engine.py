"""The engine: Korean variants, ranking, conditions, follow-ups, responses and the index."""

from __future__ import annotations

import random
from typing import Any

import pytest

from rules.engine import RuleEngine, _Index
from rules.model import RuleSpec


def rule(
    rule_id: str, *patterns: str, responses: tuple[str, ...] = ("ok",), **extra: Any
) -> RuleSpec:
    return RuleSpec.model_validate(
        {"id": rule_id, "patterns": list(patterns), "responses": list(responses), **extra}
    )


def engine(*specs: RuleSpec, seed: int = 7) -> RuleEngine:
    return RuleEngine.from_specs(specs, rng=random.Random(seed))


@pytest.fixture(scope="module")
def bored() -> RuleEngine:
    return engine(rule("bored", "[*] 심심해 [*]"), rule("hungry", "배고파"))


@pytest.mark.parametrize(
    "text",
    ["심심해", "심심해요", "심심하네", "심심하다", "심심 해", "아 진짜 심심해 죽겠다", "심심해!!!"],
)
def test_one_korean_pattern_catches_the_ways_people_type_it(bored: RuleEngine, text: str) -> None:
    match = bored.match(text)
    assert match is not None and match.rule_id == "bored"


def test_no_match_returns_none(bored: RuleEngine) -> None:
    assert bored.match("오늘 회의 몇 시야") is None


def test_spacing_is_forgiven_even_where_the_analyzer_splits_differently(bored: RuleEngine) -> None:
    match = bored.match("배 고파")
    assert match is not None and match.rule_id == "hungry" and match.exact


def test_exact_beats_wildcard_even_against_priority() -> None:
    e = engine(rule("wild", "[*] hello [*]", priority=9), rule("exact", "hello"))
    found = e.match("Hello!")
    assert found is not None and found.rule_id == "exact" and found.exact
    found = e.match("well hello")
    assert found is not None and found.rule_id == "wild" and not found.exact


def test_more_specific_beats_less_specific() -> None:
    e = engine(
        rule("any_weather", "[*] weather [*]"), rule("weather_tomorrow", "[*] weather tomorrow [*]")
    )
    found = e.match("how is the weather tomorrow")
    assert found is not None and found.rule_id == "weather_tomorrow"


def test_priority_breaks_ties_then_load_order() -> None:
    e = engine(
        rule("first", "[*] hi [*]"),
        rule("second", "[*] hi [*]"),
        rule("high", "[*] hi [*]", priority=1),
    )
    found = e.match("oh hi")
    assert found is not None and found.rule_id == "high"
    e = engine(rule("first", "[*] hi [*]"), rule("second", "[*] hi [*]"))
    found = e.match("oh hi")
    assert found is not None and found.rule_id == "first"


def test_captures_fill_responses_with_the_text_as_typed() -> None:
    e = engine(rule("name", "[*] my name is {name}", responses=("Nice to meet you, {name}!",)))
    found = e.match("Hi, my name is Kim Jisoo.")
    assert found is not None
    assert found.captures == {"name": "Kim Jisoo"}
    assert found.response == "Nice to meet you, Kim Jisoo!"


def test_korean_capture_drops_the_ending() -> None:
    e = engine(rule("name", "내 이름은 {name}", responses=("{name}님, 반가워요!",)))
    found = e.match("내 이름은 김지수입니다")
    assert found is not None and found.response == "김지수님, 반가워요!"


def test_regex_escape_hatch() -> None:
    e = engine(
        rule("temp", r"re:(?P<deg>\d+)\s*도로? (맞춰|설정)", responses=("{deg}도로 맞출게요.",))
    )
    found = e.match("실내 온도 22도로 맞춰줘")
    assert found is not None and found.response == "22도로 맞출게요."


def test_when_conditions_on_device_and_slots() -> None:
    e = engine(
        rule(
            "game",
            "[*] 심심해 [*]",
            responses=("게임 한 판 어때요?",),
            when={"device.is_driving": False},
        ),
        rule(
            "radio",
            "[*] 심심해 [*]",
            responses=("라디오를 틀어 드릴게요.",),
            when={"device.is_driving": True},
        ),
    )
    driving = e.match("심심해", facts={"device.is_driving": True})
    parked = e.match("심심해", facts={"device.is_driving": False})
    assert driving is not None and driving.rule_id == "radio"
    assert parked is not None and parked.rule_id == "game"
    assert e.match("심심해") is None  # no device facts: neither condition holds


def test_conditional_rule_beats_equal_unconditional_one() -> None:
    e = engine(
        rule("plain", "hello"),
        rule("vip", "hello", when={"slots.tier": ["gold", "vip"]}),
    )
    assert (e.match("hello", facts={"slots.tier": "vip"}) or pytest.fail()).rule_id == "vip"
    assert (e.match("hello", facts={"slots.tier": "basic"}) or pytest.fail()).rule_id == "plain"


def test_condition_forms() -> None:
    e = engine(
        rule("named", "hello", when={"slots.name": {"exists": True}, "topic": {"not": "sad"}}),
    )
    assert e.match("hello", facts={"slots.name": "Jisoo"}) is not None
    assert e.match("hello", facts={"slots.name": "Jisoo", "topic": "sad"}) is None
    assert e.match("hello") is None


def test_responses_using_known_context_values_win_and_others_are_the_fallback() -> None:
    e = engine(rule("hi", "hello", responses=("Hello, {slots.name}!", "Hello!", "Hi!")))
    for _ in range(5):
        found = e.match("hello", facts={"slots.name": "Mina"})
        assert (found or pytest.fail()).response == "Hello, Mina!"
        assert (e.match("hello") or pytest.fail()).response in ("Hello!", "Hi!")


def test_rotation_cycles_through_responses() -> None:
    e = engine(rule("r", "hello", responses=("one", "two", "three"), pick="rotation"))
    answers = [(e.match("hello") or pytest.fail()).response for _ in range(4)]
    assert answers == ["one", "two", "three", "one"]


def test_random_pick_uses_the_given_generator() -> None:
    spec = rule("r", "hello", responses=tuple(f"answer {i}" for i in range(20)))
    first = [(engine(spec, seed=1).match("hello") or pytest.fail()).response for _ in range(3)]
    assert len(set(first)) == 1  # same seed, same first choice
    e = engine(spec, seed=1)
    assert len({(e.match("hello") or pytest.fail()).response for _ in range(30)}) > 3


def test_set_renders_captures_into_context_changes() -> None:
    e = engine(
        rule(
            "name",
            "call me {name}",
            set={"topic": "intro", "slots": {"name": "{name}", "known": True}},
        )
    )
    found = e.match("call me Mina")
    assert found is not None
    assert found.topic == "intro" and found.slots == {"name": "Mina", "known": True}


def test_next_rules_match_only_when_expected() -> None:
    e = engine(
        rule(
            "joke",
            "[*] 농담 [*]",
            responses=("자동차가 제일 좋아하는 음악은?",),
            next=[{"patterns": ["[*] (몰라|뭔데|글쎄) [*]"], "responses": ["카~ 오디오!"]}],
        ),
        rule("dunno", "[*] 몰라 [*]", responses=("괜찮아요.",)),
    )
    first = e.match("농담 해줘")
    assert first is not None and first.expects_follow_up and not first.follow_up
    answer = e.match("몰라요", expecting=first.rule_id)
    assert answer is not None
    assert (answer.rule_id, answer.response, answer.follow_up) == (
        "joke.next1",
        "카~ 오디오!",
        True,
    )
    assert (e.match("몰라요") or pytest.fail()).rule_id == "dunno"


def test_that_matches_the_previous_reply() -> None:
    e = engine(
        rule("yes_coffee", "(yes|sure)", responses=("Brewing!",), that=["[*] coffee [*]"]),
        rule("yes", "(yes|sure)", responses=("Okay.",)),
    )
    assert (
        e.match("yes", previous_reply="Would you like some coffee?") or pytest.fail()
    ).rule_id == "yes_coffee"
    assert (e.match("yes", previous_reply="Shall I go on?") or pytest.fail()).rule_id == "yes"
    assert (e.match("yes") or pytest.fail()).rule_id == "yes"


def test_unless_keeps_a_rule_from_matching() -> None:
    e = engine(
        rule("happy", "[*] 행복해 [*]", unless=["[*] (않아|없어|안|못) [*]"]),
        rule("any", "[*] 행복 [*]", responses=("fallback",), priority=-1),
    )
    assert (e.match("너무 행복해요") or pytest.fail()).rule_id == "happy"
    assert (e.match("행복하지 않아") or pytest.fail()).rule_id == "any"
    assert (e.match("행복할 수가 없어") or pytest.fail()).rule_id == "any"


def test_locale_skips_rules_of_another_locale() -> None:
    e = engine(
        rule("ko_hi", "hi", responses=("안녕!",), locale="ko"), rule("en_hi", "hi", locale="en")
    )
    assert (e.match("hi", locale="en") or pytest.fail()).rule_id == "en_hi"
    assert (e.match("hi", locale="ko") or pytest.fail()).rule_id == "ko_hi"


def test_redirects_answer_with_another_rules_response_and_stop_loops() -> None:
    e = engine(
        rule("hi", "hello", responses=("Hello there!",)),
        rule("hey", "hey {who}", responses=("{@ hello} ({who})",)),
        rule("loop_a", "ping", responses=("{@ pong}",)),
        rule("loop_b", "pong", responses=("{@ ping}",)),
    )
    assert (e.match("hey you") or pytest.fail()).response == "Hello there! (you)"
    assert (e.match("ping") or pytest.fail()).response == ""


def test_coverage_reflects_how_much_of_the_utterance_was_literal() -> None:
    e = engine(rule("hi", "[*] hello [*]"))
    assert (e.match("hello") or pytest.fail()).coverage == 1.0
    assert (e.match("well hello there friend") or pytest.fail()).coverage == 0.25


def test_index_checks_only_rules_sharing_the_utterances_words() -> None:
    specs = [rule(f"r{i}", f"[*] word{i} topic{i % 50} [*]") for i in range(2000)]
    index = _Index(RuleEngine.from_specs(specs).rules)
    assert len(list(index.candidates(["word7", "topic7"]))) == 1
    assert len(list(index.candidates(["topic7", "nothing"]))) == 0
