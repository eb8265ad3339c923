"""The rule engine: rules compiled into an anchor index, one utterance in, the best match out.

Every pattern sequence is filed under its rarest literal token (its anchor). Matching an
utterance looks up the utterance's own tokens in that index and checks only the sequences filed
there, so its cost depends on the utterance and on how many rules share its words, not on how
many rules there are. Sequences without any literal (`*`, `{x}`) and `re:` patterns are checked
for every utterance: keep them few.

Ranking, best first: an exact match (no wildcard) beats a wildcard match; then more literal
tokens matched; then longer literal text (헤어지 says more than 친구); then fewer tokens taken by
wildcards; then more conditions (`when`, `that`)
satisfied; then higher `priority`; then the rule loaded first.

    >>> from rules.model import RuleSpec
    >>> engine = RuleEngine.from_specs([
    ...     RuleSpec(id="bored", patterns=("[*] 심심해 [*]",), responses=("노래 틀어 드릴까요?",)),
    ...     RuleSpec(id="name", patterns=("내 이름은 {name}",), responses=("{name}님, 반가워요!",)),
    ... ])
    >>> engine.match("아 진짜 심심하네요").rule_id
    'bored'
    >>> engine.match("내 이름은 김지수야").response
    '김지수님, 반가워요!'
"""

from __future__ import annotations

import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from rules.analyzer import Token, analyze, has_hangul, normalize
from rules.errors import RuleLoadError, RuleProblem
from rules.matcher import match_sequence
from rules.model import RuleSpec
from rules.pattern import CompiledPattern, Sequence
from rules.rule import Rule, compile_rule

__all__ = ["RuleEngine", "RuleMatch"]

#: How deep `{@ ...}` redirects may nest before they give up (AIML sets loop on each other).
MAX_REDIRECT_DEPTH = 8


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """The answer of the engine for one utterance.

    `exact`: the utterance is the pattern word for word (no wildcard). `coverage`: the share of
    the utterance's tokens matched by literal words (1.0 for an exact match). `follow_up`: the
    rule is a `next` rule of the rule given as `expecting`. `expects_follow_up`: the rule has
    `next` rules, so the caller should pass its id as `expecting` on the next turn.
    """

    rule_id: str
    response: str
    captures: dict[str, str]
    pattern: str
    exact: bool
    coverage: float
    priority: int
    topic: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    follow_up: bool = False
    expects_follow_up: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "response": self.response, "captures": self.captures}


@dataclass(frozen=True, slots=True)
class _Fit:
    rank: tuple[int, int, int, int, int, int, int]
    rule: Rule
    pattern: CompiledPattern
    captures: dict[str, str]
    exact: bool
    literals: int


class _Index:
    """Sequences filed under their anchor token; the unanchored ones kept apart."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        entries = [
            (rule, pattern, seq)
            for rule in rules
            for pattern in rule.patterns
            for seq in pattern.sequences
        ]
        frequency = Counter(key for _, _, seq in entries for key in set(seq.literals))
        self.postings: dict[str, list[tuple[Rule, CompiledPattern, Sequence]]] = defaultdict(list)
        self.unanchored: list[tuple[Rule, CompiledPattern, Sequence]] = []
        for rule, pattern, seq in entries:
            if seq.literals:
                anchor = min(seq.literals, key=lambda k: (frequency[k], k))
                self.postings[anchor].append((rule, pattern, seq))
            else:
                self.unanchored.append((rule, pattern, seq))
        self.postings = dict(self.postings)
        self.regexes = [(r, p) for r in rules for p in r.patterns if p.regex is not None]

    def candidates(self, keys: list[str]) -> Iterator[tuple[Rule, CompiledPattern, Sequence]]:
        present = set(keys)
        for key in present:
            for entry in self.postings.get(key, ()):
                if present.issuperset(entry[2].literals):
                    yield entry
        yield from self.unanchored


class RuleEngine:
    """Compiled rules and their index. Build with `from_specs`, or `rules.load_rules`.

    `rng` picks random responses (pass a seeded `random.Random` in tests); rotation counters
    are kept per rule for the life of the engine.
    """

    def __init__(
        self,
        rules: Iterable[Rule],
        *,
        analyzer: Callable[[str], list[Token]] = analyze,
        rng: random.Random | None = None,
    ) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self._analyzer = analyzer
        self._rng = rng or random.Random()
        self._index = _Index(self.rules)
        self._by_id: dict[str, Rule] = {}
        self._rotation: dict[str, Iterator[int]] = {}
        self._follow_ups: dict[str, _Index] = {}
        self._register(self.rules)

    def _register(self, rules: Iterable[Rule]) -> None:
        for rule in rules:
            self._by_id[rule.id] = rule
            if rule.pick == "rotation":
                self._rotation[rule.id] = itertools.count()
            if rule.next:
                self._follow_ups[rule.id] = _Index(rule.next)
                self._register(rule.next)

    @classmethod
    def from_specs(
        cls,
        specs: Iterable[RuleSpec],
        *,
        source: str = "<rules>",
        rng: random.Random | None = None,
    ) -> RuleEngine:
        """Compile rule specs (handy in tests and for rules built in code)."""
        problems: list[RuleProblem] = []
        compiled = [
            compile_rule(spec, source=source, problems=problems, order=i)
            for i, spec in enumerate(specs)
        ]
        if problems:
            raise RuleLoadError(problems)
        return cls([r for r in compiled if r is not None], rng=rng)

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, rule_id: str) -> Rule | None:
        return self._by_id.get(rule_id)

    def match(
        self,
        text: str,
        *,
        facts: Mapping[str, Any] | None = None,
        locale: str | None = None,
        expecting: str | None = None,
        previous_reply: str | None = None,
    ) -> RuleMatch | None:
        """The best match for `text`, or None.

        `facts` are context values by dotted name (`slots.x`, `device.is_driving`, `topic`),
        read by `when` conditions and `{slots.x}` references. `locale` skips rules written for
        another locale. `expecting` is the id of the rule whose `next` rules apply to this turn;
        `previous_reply` is what the assistant said last (for `that`).
        """
        return self._match(text, dict(facts or {}), locale, expecting, previous_reply, 0)

    def _match(
        self,
        text: str,
        facts: dict[str, Any],
        locale: str | None,
        expecting: str | None,
        previous_reply: str | None,
        depth: int,
    ) -> RuleMatch | None:
        normalized = normalize(text)
        tokens = self._analyzer(normalized)
        context = (facts, locale, previous_reply, depth)
        if expecting is not None and expecting in self._follow_ups:
            found = self._best(self._follow_ups[expecting], normalized, tokens, *context)
            if found is not None:
                return self._result(found, tokens, facts, locale, depth, follow_up=True)
        found = self._best(self._index, normalized, tokens, *context)
        if found is None and " " in normalized and has_hangul(normalized):
            # Spacing differs between people ("배고파" / "배 고파"): try it written solid.
            normalized = normalized.replace(" ", "")
            tokens = self._analyzer(normalized)
            found = self._best(self._index, normalized, tokens, *context)
        if found is None:
            return None
        return self._result(found, tokens, facts, locale, depth, follow_up=False)

    def _best(
        self,
        index: _Index,
        normalized: str,
        tokens: list[Token],
        facts: dict[str, Any],
        locale: str | None,
        previous_reply: str | None,
        depth: int,
    ) -> _Fit | None:
        keys = [t.key for t in tokens]
        fits = list(self._fits(index, normalized, tokens))
        fits.sort(key=lambda f: f.rank, reverse=True)
        for fit in fits:
            rule = fit.rule
            if locale is not None and rule.locale is not None and rule.locale != locale:
                continue
            if not rule.conditions_hold(facts):
                continue
            if rule.that and not self._that_holds(rule, previous_reply):
                continue
            if rule.unless and _any_matches(rule.unless, normalized, keys):
                continue
            return fit
        return None

    def _fits(self, index: _Index, normalized: str, tokens: list[Token]) -> Iterator[_Fit]:
        keys = [t.key for t in tokens]
        for rule, pattern, seq in index.candidates(keys):
            fit = match_sequence(seq, keys)
            if fit is None:
                continue
            captures = {
                name: normalized[tokens[i].start : tokens[j - 1].end]
                for name, (i, j) in fit.captures.items()
            }
            literals = len(seq.literals)
            chars = sum(len(k) for k in seq.literals)
            yield self._fit(
                rule, pattern, captures, seq.exact, literals, fit.wildcard_tokens, chars
            )
        for rule, pattern in index.regexes:
            assert pattern.regex is not None
            found = pattern.regex.search(normalized)
            if found is None:
                continue
            captured = {k: v for k, v in found.groupdict().items() if v is not None}
            inside = [t for t in tokens if found.start() <= t.start and t.end <= found.end()]
            in_groups = [
                t
                for t in inside
                if any(found.start(g) <= t.start and t.end <= found.end(g) for g in captured)
            ]
            literals = len(inside) - len(in_groups)
            chars = found.end() - found.start() - sum(len(v) for v in captured.values())
            yield self._fit(rule, pattern, captured, False, literals, len(tokens) - literals, chars)

    @staticmethod
    def _fit(
        rule: Rule,
        pattern: CompiledPattern,
        captures: dict[str, str],
        exact: bool,
        literals: int,
        wildcard: int,
        chars: int,
    ) -> _Fit:
        conditions = len(rule.when) + (1 if rule.that else 0)
        rank = (int(exact), literals, chars, -wildcard, conditions, rule.priority, -rule.order)
        return _Fit(rank, rule, pattern, captures, exact, literals)

    def _that_holds(self, rule: Rule, previous_reply: str | None) -> bool:
        if not previous_reply:
            return False
        normalized = normalize(previous_reply)
        keys = [t.key for t in self._analyzer(normalized)]
        return _any_matches(rule.that, normalized, keys)

    def _result(
        self,
        fit: _Fit,
        tokens: list[Token],
        facts: dict[str, Any],
        locale: str | None,
        depth: int,
        *,
        follow_up: bool,
    ) -> RuleMatch:
        rule = fit.rule

        def redirect(text: str, _: int) -> str | None:
            if depth >= MAX_REDIRECT_DEPTH:
                return None
            found = self._match(text, facts, locale, None, None, depth + 1)
            return found.response if found is not None else None

        response = self._respond(rule, fit.captures, facts, redirect)
        topic: str | None = None
        slots: dict[str, Any] = dict(rule.set.slots) if rule.set is not None else {}
        if rule.set is not None:
            topic = rule.set.topic
        for key, template in rule.set_templates:
            value = template.render(fit.captures, facts)
            if key == "topic":
                topic = value
            else:
                slots[key.removeprefix("slots.")] = value
        return RuleMatch(
            rule_id=rule.id,
            response=response,
            captures=fit.captures,
            pattern=fit.pattern.source,
            exact=fit.exact,
            coverage=min(1.0, fit.literals / len(tokens)) if tokens else 0.0,
            priority=rule.priority,
            topic=topic,
            slots=slots,
            follow_up=follow_up,
            expects_follow_up=bool(rule.next),
        )

    def _respond(
        self,
        rule: Rule,
        captures: dict[str, str],
        facts: dict[str, Any],
        redirect: Callable[[str, int], str | None],
    ) -> str:
        # Responses that use context values win when those are all known ("{slots.name}님");
        # the others are the fallback for when they are not.
        usable = [t for t in rule.responses if all(facts.get(f) for f in t.facts)]
        personal = [t for t in usable if t.facts]
        choices = personal or usable or list(rule.responses)
        if rule.pick == "rotation":
            chosen = choices[next(self._rotation[rule.id]) % len(choices)]
        else:
            chosen = self._rng.choice(choices)
        return chosen.render(captures, facts, redirect)


def _any_matches(patterns: tuple[CompiledPattern, ...], normalized: str, keys: list[str]) -> bool:
    for pattern in patterns:
        if pattern.regex is not None and pattern.regex.search(normalized):
            return True
        if any(match_sequence(seq, keys) is not None for seq in pattern.sequences):
            return True
    return False
