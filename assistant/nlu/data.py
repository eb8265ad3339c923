"""NLU training data: intents with example utterances, entities, out-of-scope examples.

One model for the bot's own flows file and for Rasa NLU YAML (`parse_rasa_nlu`): intents and
their examples (with Rasa's entity markup `[서울역](place)`), synonyms, lookup tables and
regular expressions. Retrieval intents (`faq/ask_hours`) are FAQ entries, not tasks: they are
left to `faq_index.formats.rasa`. Examples of `out_of_scope` / `nlu_fallback` teach what is
outside every intent.

    >>> data = parse_rasa_nlu('''
    ... version: "3.1"
    ... nlu:
    ...   - intent: call
    ...     examples: |
    ...       - [엄마](contact)한테 전화해 줘
    ...       - [어머니](contact:엄마)께 전화 걸어 줘
    ...   - lookup: contact
    ...     examples: |
    ...       - 엄마
    ...       - 아빠
    ...   - synonym: 아빠
    ...     examples: |
    ...       - 아버지
    ...   - regex: plate
    ...     examples: |
    ...       - \\\\d{2,3}[가-힣]\\\\s?\\\\d{4}
    ... ''')
    >>> sorted(data.intents), data.entities["contact"].values
    (['call'], {'엄마': ['어머니'], '아빠': ['아버지']})
    >>> data.entities["plate"].patterns
    ['\\\\d{2,3}[가-힣]\\\\s?\\\\d{4}']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from assistant.nlu.entities import BUILTIN_TYPES, EntityExtractor, EntitySpec, parse_annotations

__all__ = ["OUT_OF_SCOPE_INTENTS", "NluData", "NluDataError", "parse_rasa_nlu", "read_examples"]

#: Intent names whose examples are out-of-scope utterances (ours, and Rasa's fallback).
OUT_OF_SCOPE_INTENTS = ("out_of_scope", "nlu_fallback")


class NluDataError(ValueError):
    """NLU data that cannot be used; the message names the file and the item."""


@dataclass
class NluData:
    """Intents (name -> annotated examples), entities, and out-of-scope examples."""

    intents: dict[str, list[str]] = field(default_factory=dict)
    entities: dict[str, EntitySpec] = field(default_factory=dict)
    out_of_scope: list[str] = field(default_factory=list)
    #: synonym -> canonical value, for entities no lookup table lists (Rasa's synonyms)
    synonyms: dict[str, str] = field(default_factory=dict)

    def add_examples(self, intent: str, examples: Iterable[str], source: str) -> None:
        """Add annotated examples; entities they mark become entities of the bot."""
        target = self.out_of_scope if intent in OUT_OF_SCOPE_INTENTS else None
        for example in examples:
            try:
                plain, annotations = parse_annotations(example)
            except ValueError as e:
                raise NluDataError(f"{source}: intent {intent!r}: {e}") from e
            if target is not None:
                target.append(plain)
                continue
            self.intents.setdefault(intent, []).append(example)
            for a in annotations:
                if a.entity in BUILTIN_TYPES:
                    continue
                # an annotated value is a known value from now on; `value` makes it a synonym
                spec = self.entities.setdefault(a.entity, EntitySpec(name=a.entity, free=True))
                synonyms = spec.values.setdefault(a.value or a.text, [])
                if a.value is not None and a.value != a.text and a.text not in synonyms:
                    synonyms.append(a.text)

    def entity(self, name: str) -> EntitySpec:
        return self.entities.setdefault(name, EntitySpec(name=name))

    def extend(self, other: NluData) -> None:
        for intent, examples in other.intents.items():
            self.intents.setdefault(intent, []).extend(examples)
        for name, spec in other.entities.items():
            mine = self.entity(name)
            mine.free = mine.free or spec.free
            mine.patterns.extend(p for p in spec.patterns if p not in mine.patterns)
            for value, synonyms in spec.values.items():
                known = mine.values.setdefault(value, [])
                known.extend(s for s in synonyms if s not in known)
        self.out_of_scope.extend(other.out_of_scope)
        self.synonyms.update(other.synonyms)

    def examples(self) -> list[tuple[str, str]]:
        """(intent, plain text) pairs, markup removed."""
        return [
            (intent, parse_annotations(example)[0])
            for intent, examples in self.intents.items()
            for example in examples
        ]

    def extractor(self) -> EntityExtractor:
        """An entity extractor for these entities, with templates from the examples."""
        annotated = [e for examples in self.intents.values() for e in examples]
        return EntityExtractor(self.entities.values(), examples=annotated, synonyms=self.synonyms)


def read_examples(block: Any) -> list[str]:
    """Examples given as a Rasa `examples: |` block of `- ` lines, or as a YAML list."""
    if block is None:
        return []
    if isinstance(block, list):
        return [
            str(x.get("text", "")).strip() if isinstance(x, dict) else str(x).strip()
            for x in block
            if (x.get("text") if isinstance(x, dict) else x) is not None
        ]
    lines = []
    for line in str(block).splitlines():
        stripped = line.strip()
        if stripped.startswith("- "):
            lines.append(stripped[2:].strip())
        elif stripped == "-":
            continue
        elif stripped:
            lines.append(stripped)
    return [x for x in lines if x]


def parse_rasa_nlu(text: str, source: str = "<rasa nlu>") -> NluData:
    """NLU data from one Rasa NLU YAML document (see the module docstring)."""
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise NluDataError(f"{source}: not valid YAML: {e}") from e
    if not isinstance(document, dict):
        raise NluDataError(f"{source}: expected a mapping with an 'nlu' list")
    items = document.get("nlu") or []
    if not isinstance(items, list):
        raise NluDataError(f"{source}: nlu: expected a list of intents, synonyms, lookups, regexes")
    data = NluData()
    synonyms: dict[str, list[str]] = {}
    for position, item in enumerate(items):
        where = f"{source}: nlu[{position}]"
        if not isinstance(item, dict):
            raise NluDataError(
                f"{where}: expected a mapping such as {{intent: ..., examples: ...}}"
            )
        examples = read_examples(item.get("examples"))
        if "intent" in item:
            name = str(item["intent"])
            if "/" in name:
                continue  # a retrieval intent: FAQ data (faq_index.formats.rasa)
            if not examples:
                raise NluDataError(f"{where} (intent: {name}): no examples")
            data.add_examples(name, examples, source)
        elif "synonym" in item:
            synonyms.setdefault(str(item["synonym"]), []).extend(examples)
        elif "lookup" in item:
            spec = data.entity(str(item["lookup"]))
            for value in examples:
                spec.values.setdefault(value, [])
        elif "regex" in item:
            spec = data.entity(str(item["regex"]))
            spec.patterns.extend(examples)
        else:
            raise NluDataError(f"{where}: expected one of intent, synonym, lookup, regex")
    for canonical, surfaces in synonyms.items():
        owners = [
            spec
            for spec in data.entities.values()
            if canonical in spec.values or any(s in spec.values for s in surfaces)
        ]
        for spec in owners:
            known = spec.values.setdefault(canonical, [])
            known.extend(s for s in surfaces if s not in known and s != canonical)
            for s in surfaces:  # a surface listed as a value of its own is now a synonym
                if s in spec.values and not spec.values[s]:
                    del spec.values[s]
        if not owners:
            data.synonyms.update({s: canonical for s in surfaces})
    for spec in data.entities.values():
        for pattern in spec.patterns:
            try:
                re.compile(pattern)
            except re.error as e:
                raise NluDataError(f"{source}: regex {spec.name!r}: {pattern!r}: {e}") from e
    return data
