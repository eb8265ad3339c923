"""The rule file format, as pydantic models.

A rule file is YAML: a list of rules, or a mapping with a default `locale` and `rules`.

    locale: ko
    rules:
      - id: boredom.basic
        patterns: ["[*] 심심해 [*]", "[*] (지루해|따분해) [*]"]
        responses: ["노래 한 곡 틀어 드릴까요?", "드라이브 가기 좋은 날이에요."]
        pick: rotation              # or random (the default)
        priority: 0                 # breaks ties between equally specific matches
        when:                       # every condition must hold
          device.is_driving: false  # a value: equal; a list: any of; {not: x}; {exists: true}
        set: {topic: boredom, slots: {mood: bored}}
        next:                       # rules that only match on the following turn
          - patterns: ["(응|좋아|그래)"]
            responses: ["좋아요, 신나는 곡으로 골라 볼게요!"]

`that` (AIML's `<that>`) lists patterns the assistant's previous reply must match; `unless`
lists patterns that keep the rule from matching (negations: `unless: ["[*] (않아|없어|안|못) [*]"]`
keeps 행복해 from answering 행복하지 않아).

    >>> spec = RuleSpec.model_validate({"id": "hi", "patterns": ["안녕"], "responses": ["안녕하세요!"]})
    >>> spec.pick, spec.priority
    ('random', 0)
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Condition", "ContextChange", "RuleFile", "RuleSpec"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Condition(_Strict):
    """A test of one context value. In YAML: a value, a list, or {in|not|exists: ...}."""

    in_: tuple[Any, ...] | None = Field(default=None, alias="in")
    not_: tuple[Any, ...] | None = Field(default=None, alias="not")
    exists: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            value = dict(value)
            for key in ("in", "not"):
                if key in value and not isinstance(value[key], list | tuple):
                    value[key] = [value[key]]
            return value
        if isinstance(value, list | tuple):
            return {"in": list(value)}
        return {"in": [value]}

    def test(self, value: Any) -> bool:
        if self.exists is not None and (value is not None) != self.exists:
            return False
        if self.in_ is not None and not any(_same(value, v) for v in self.in_):
            return False
        return not (self.not_ is not None and any(_same(value, v) for v in self.not_))


def _same(a: Any, b: Any) -> bool:
    # YAML's `false` must not equal a fact of 0, nor `1` equal True.
    return bool(a == b and isinstance(a, bool) == isinstance(b, bool))


class ContextChange(_Strict):
    """Context changes a rule makes when chosen; string values may use `{capture}` references."""

    topic: str | None = None
    slots: dict[str, Any] = Field(default_factory=dict)


class RuleSpec(_Strict):
    """One rule as written. Follow-up rules under `next` may leave `id` out."""

    id: str = ""
    patterns: tuple[str, ...] = Field(min_length=1)
    responses: tuple[str, ...] = ()
    locale: str | None = None
    priority: int = 0
    pick: Literal["random", "rotation"] = "random"
    when: dict[str, Condition] = Field(default_factory=dict)
    that: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    set: ContextChange | None = None
    next: tuple[RuleSpec, ...] = ()


class RuleFile(_Strict):
    """The top level of a rule file in its mapping form; rules are validated one by one."""

    locale: str | None = None
    rules: list[Any] = Field(default_factory=list)
