"""AIML import: the written fixture in tests/rules/data/sample.aiml, through the loader."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from rules.aiml import read_aiml
from rules.engine import RuleEngine
from rules.errors import RuleProblem
from rules.loader import load_rules

SAMPLE = Path(__file__).parent / "data" / "sample.aiml"


@pytest.fixture(scope="module")
def engine() -> RuleEngine:
    return load_rules(SAMPLE, rng=random.Random(3))


def answer(engine: RuleEngine, text: str, **kwargs: object) -> str | None:
    found = engine.match(text, **kwargs)  # type: ignore[arg-type]
    return None if found is None else found.response


def test_every_category_becomes_a_rule(engine: RuleEngine) -> None:
    assert len(engine) == 10


def test_random_becomes_several_responses(engine: RuleEngine) -> None:
    assert answer(engine, "hello") in ("Hi there!", "Hello!")


def test_srai_redirects(engine: RuleEngine) -> None:
    assert answer(engine, "Hi!") in ("Hi there!", "Hello!")


def test_star_and_indexed_stars(engine: RuleEngine) -> None:
    assert answer(engine, "my name is Mina") == "Nice to meet you, Mina."
    assert answer(engine, "I like tea and cake") == "cake and tea, good taste."


def test_set_inside_think_becomes_a_context_change(engine: RuleEngine) -> None:
    found = engine.match("my name is Mina")
    assert found is not None and found.slots == {"name": "Mina"}
    found = engine.match("let us talk about driving")
    assert found is not None and found.topic == "driving"


def test_underscore_wildcard_gets_priority(engine: RuleEngine) -> None:
    assert answer(engine, "electric car") == "Cars are my favourite topic."


def test_that_needs_the_previous_reply(engine: RuleEngine) -> None:
    assert (
        answer(engine, "yes", previous_reply="Do you want a joke?")
        == "Why did the car stop? It was tyred."
    )
    assert answer(engine, "yes") is None


def test_topic_becomes_a_condition_and_get_a_context_value(engine: RuleEngine) -> None:
    assert answer(engine, "are we there yet") is None
    facts = {"topic": "driving", "slots.name": "Mina"}
    assert (
        answer(engine, "are we there yet", facts=facts)
        == "Almost. Mina, keep your eyes on the road."
    )


def test_zero_or_more_wildcards(engine: RuleEngine) -> None:
    assert answer(engine, "weather") == "I cannot see the sky, but I hope it is nice."
    assert answer(engine, "nice weather today") == "I cannot see the sky, but I hope it is nice."


def test_unsupported_pattern_elements_are_reported_and_template_markup_keeps_its_text() -> None:
    problems: list[RuleProblem] = []
    text = (
        "<aiml><category><pattern>WHAT IS YOUR <bot name='name'/></pattern><template>x</template></category>"
        "<category><pattern>SHOUT *</pattern><template><uppercase><star/></uppercase>!</template></category></aiml>"
    )
    [spec] = read_aiml(text, "x.aiml", problems)
    assert spec.responses == ("{star1}!",)
    assert [(p.rule_id, p.message.split(",")[0]) for p in problems] == [
        ("aiml.x.1", "<pattern> holds <bot>")
    ]


def test_broken_aiml_is_reported() -> None:
    problems: list[RuleProblem] = []
    assert read_aiml("<aiml><category><pattern>X</pattern>", "x.aiml", problems) == []
    assert "not valid AIML" in problems[0].message
    problems.clear()
    read_aiml("<aiml><category><pattern>X</pattern></category></aiml>", "x.aiml", problems)
    assert (
        problems[0].rule_id == "aiml.x.1"
        and "needs a <pattern> and a <template>" in problems[0].message
    )
