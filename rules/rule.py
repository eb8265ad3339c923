"""A rule ready to match: its spec with patterns and responses compiled, or its problems.

`compile_rule` never stops at the first problem: it appends every one it finds to `problems`
and returns None if there was any, so a loader can report a whole file at once.

    >>> problems: list[RuleProblem] = []
    >>> spec = RuleSpec(id="name", patterns=("내 이름은 {name}",), responses=("{nmae}님 반가워요",))
    >>> compile_rule(spec, source="a.yaml", problems=problems) is None
    True
    >>> print(problems[0])
    a.yaml: name: responses[0]: uses {nmae}, which pattern '내 이름은 {name}' does not capture (it captures: name)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rules.analyzer import Token, analyze
from rules.errors import PatternError, RuleProblem
from rules.model import Condition, ContextChange, RuleSpec
from rules.pattern import CompiledPattern, compile_pattern
from rules.template import Template, parse_template

__all__ = ["Rule", "compile_rule"]


@dataclass(frozen=True, slots=True, eq=False)
class Rule:
    """A compiled rule. `order` is its position among all loaded rules (earlier wins last ties)."""

    id: str
    source: str
    order: int
    locale: str | None
    priority: int
    pick: str
    patterns: tuple[CompiledPattern, ...]
    responses: tuple[Template, ...]
    when: tuple[tuple[str, Condition], ...]
    that: tuple[CompiledPattern, ...]
    unless: tuple[CompiledPattern, ...]
    set: ContextChange | None
    set_templates: tuple[tuple[str, Template], ...]
    next: tuple[Rule, ...]

    def conditions_hold(self, facts: dict[str, Any]) -> bool:
        return all(condition.test(facts.get(key)) for key, condition in self.when)


def compile_rule(
    spec: RuleSpec,
    *,
    source: str,
    problems: list[RuleProblem],
    order: int = 0,
    locale: str | None = None,
    rule_id: str | None = None,
    analyzer: Callable[[str], list[Token]] = analyze,
) -> Rule | None:
    """Compile `spec`; on any problem, append them all to `problems` and return None."""
    rid = rule_id or spec.id
    found: list[RuleProblem] = []

    def problem(message: str) -> None:
        found.append(RuleProblem(source, rid or "(no id)", message))

    if not rid:
        problem("id: missing; give every rule a unique id such as 'greeting.hello'")
    patterns = _compile_all(spec.patterns, "patterns", problem, analyzer)
    that = _compile_all(spec.that, "that", problem, analyzer)
    unless = _compile_all(spec.unless, "unless", problem, analyzer)
    if not spec.responses:
        problem("responses: empty; give at least one response")
    responses: list[Template] = []
    for i, text in enumerate(spec.responses):
        if not text.strip():
            problem(f"responses[{i}]: empty text; write the reply or remove the entry")
            continue
        template = _template(text, f"responses[{i}]", problem)
        if template is not None:
            _check_captures(template, f"responses[{i}]", patterns, problem)
            responses.append(template)
    set_templates: list[tuple[str, Template]] = []
    if spec.set is not None:
        values = {"topic": spec.set.topic} | {f"slots.{k}": v for k, v in spec.set.slots.items()}
        for key, value in values.items():
            if isinstance(value, str):
                template = _template(value, f"set.{key}", problem)
                if template is not None:
                    _check_captures(template, f"set.{key}", patterns, problem)
                    set_templates.append((key, template))
    follow_ups: list[Rule] = []
    for i, child in enumerate(spec.next):
        child_id = child.id or f"{rid}.next{i + 1}"
        compiled = compile_rule(
            child,
            source=source,
            problems=found,
            order=order,
            locale=child.locale or spec.locale or locale,
            rule_id=child_id,
            analyzer=analyzer,
        )
        if compiled is not None:
            follow_ups.append(compiled)
    problems.extend(found)
    if found:
        return None
    return Rule(
        id=rid,
        source=source,
        order=order,
        locale=spec.locale or locale,
        priority=spec.priority,
        pick=spec.pick,
        patterns=tuple(patterns),
        responses=tuple(responses),
        when=tuple(spec.when.items()),
        that=tuple(that),
        unless=tuple(unless),
        set=spec.set,
        set_templates=tuple(set_templates),
        next=tuple(follow_ups),
    )


def _compile_all(
    sources: tuple[str, ...],
    field: str,
    problem: Callable[[str], None],
    analyzer: Callable[[str], list[Token]],
) -> list[CompiledPattern]:
    compiled: list[CompiledPattern] = []
    for i, text in enumerate(sources):
        try:
            compiled.append(compile_pattern(text, analyzer))
        except PatternError as e:
            problem(f"{field}[{i}]: {e}")
    return compiled


def _template(text: str, where: str, problem: Callable[[str], None]) -> Template | None:
    try:
        return parse_template(text)
    except PatternError as e:
        problem(f"{where}: {e}")
        return None


def _check_captures(
    template: Template,
    where: str,
    patterns: list[CompiledPattern],
    problem: Callable[[str], None],
) -> None:
    for name in sorted(template.captures):
        for pattern in patterns:
            if name not in pattern.captures:
                has = ", ".join(sorted(pattern.captures)) or "nothing"
                problem(
                    f"{where}: uses {{{name}}}, which pattern {pattern.source!r} does not "
                    f"capture (it captures: {has})"
                )
