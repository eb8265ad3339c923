"""Response templates: references, defaults, redirects, escapes and errors."""

from __future__ import annotations

import pytest

from rules.errors import PatternError
from rules.template import parse_template


def test_captures_and_facts_are_told_apart() -> None:
    template = parse_template("{name}님, {slots.car} 어때요? {device.kind|}")
    assert template.captures == {"name"}
    assert template.facts == {"slots.car"}  # device.kind has a default


def test_render_with_defaults_and_escapes() -> None:
    template = parse_template("{{hi}} {slots.name|friend}, {who}")
    assert template.render({"who": "you"}, {}) == "{hi} friend, you"
    assert template.render({"who": "you"}, {"slots.name": "Mina"}) == "{hi} Mina, you"


def test_redirect_body_is_rendered_before_redirecting() -> None:
    template = parse_template("A: {@ weather in {city}}")
    seen: list[str] = []

    def redirect(text: str, depth: int) -> str:
        seen.append(text)
        return "sunny"

    assert template.render({"city": "Seoul"}, {}, redirect) == "A: sunny"
    assert seen == ["weather in Seoul"]
    assert template.captures == {"city"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a {b", "unbalanced '{'"),
        ("a }", "unbalanced '}'"),
        ("{}", "empty reference"),
        ("{@ x", "unbalanced '{'"),
    ],
)
def test_malformed_templates(text: str, message: str) -> None:
    with pytest.raises(PatternError, match=message):
        parse_template(text)
