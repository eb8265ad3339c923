"""Entity extraction for Korean and English: built-in types plus the bot's own entities.

Built-in types, always extracted:

| type | examples | value |
|---|---|---|
| `datetime`, `date`, `time` | 내일 오후 3시, 다음 주 금요일, tomorrow at 3pm | ISO 8601 in the user's timezone (`assistant.nlu.dates`) |
| `temperature` | 22도, 스물두 도, 이십이도, 72°F, 21 degrees | `{"value": 22, "unit": "C"}` (`F` when said in Fahrenheit) |
| `percentage` | 50%, 오십 퍼센트, 30프로, forty percent | number |
| `phone` | 010-1234-5678, 02 123 4567, 1588-0000, +82 10 1234 5678 | digits (with a leading + when international) |
| `number` | 3, 스물두, 이십이, 3만 5천, twenty two | number, for numbers that are none of the above |

The bot's own entities (`EntitySpec`): lookup tables with synonyms (`서울역`, `서울 역`,
`Seoul Station` -> `서울역`), regular expressions, and templates learned from annotated
examples ("[강남역](place)으로 안내해 줘" teaches that the word before 으로/로 is a place), for
values no table lists.

    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> extractor = EntityExtractor([EntitySpec(name="contact", values={"엄마": ["어머니", "mom"]})])
    >>> now = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Seoul"))
    >>> [(e.type, e.value) for e in extractor.extract("어머니한테 전화해 줘", now=now)]
    [('contact', '엄마')]
    >>> [(e.type, e.value) for e in extractor.extract("에어컨 스물두 도로 맞춰 줘", now=now)]
    [('temperature', {'value': 22, 'unit': 'C'})]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from assistant.nlu.dates import find_datetimes
from assistant.nlu.entity import Entity
from assistant.nlu.numbers import NumberSpan, find_numbers

__all__ = [
    "BUILTIN_TYPES",
    "Annotation",
    "EntityExtractor",
    "EntitySpec",
    "Template",
    "parse_annotations",
    "strip_particle",
]

BUILTIN_TYPES = ("datetime", "date", "time", "temperature", "percentage", "phone", "number")

# [text](entity), [text](entity:value), [text]{"entity": "x", "value": "y", "role": "z"}
_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<paren>[^)]*)\)|(?P<brace>\{[^}]*\}))")
_HANGUL = re.compile("[\uac00-\ud7a3]")
_PHONE = re.compile(
    r"(?<![\d+])(?:"
    r"(?P<intl>\+\s?82[\s.-]?\(?0?\)?(?P<intl_rest>1\d[\s.-]?\d{3,4}[\s.-]?\d{4}|[2-6]\d?[\s.-]?\d{3,4}[\s.-]?\d{4}))"
    r"|(?P<mobile>01[016789][\s.-]?\d{3,4}[\s.-]?\d{4})"
    r"|(?P<area>0(?:2|[3-6][1-5])[\s.-]?\d{3,4}[\s.-]?\d{4})"
    r"|(?P<service>1[5-9]\d{2}[\s.-]?\d{4})"
    r"|(?P<other>\+\d{1,3}[\s.-]?\(?\d{1,4}\)?(?:[\s.-]?\d{2,4}){2,3})"
    r"|(?P<us>\(\d{3}\)\s?\d{3}[\s.-]\d{4})"
    r")(?!\d)"
)
_CELSIUS_WORDS = re.compile(r"섭씨|celsius|°c|℃|\bc\b", re.IGNORECASE)
_FAHRENHEIT_WORDS = re.compile(r"화씨|fahrenheit|°f|\bf\b", re.IGNORECASE)
_DEGREE_AFTER = re.compile(
    r"^\s?(?:도씨|도|℃|°\s?[cCfF]?|degrees?(?:\s+(?:celsius|fahrenheit|c|f))?|deg\b)", re.IGNORECASE
)
_PERCENT_AFTER = re.compile(r"^\s?(?:%|퍼센트|프로|percent|per\s?cent)", re.IGNORECASE)
_KO_PARTICLES = (
    "에서부터",
    "까지",
    "부터",
    "에서",
    "으로",
    "에게",
    "한테",
    "께",
    "로",
    "을",
    "를",
    "은",
    "는",
    "이",
    "가",
    "에",
    "와",
    "과",
    "랑",
    "이랑",
    "의",
    "도",
)
_PARTICLE_PAIRS = {
    "으로": "(?:으로|로)",
    "로": "(?:으로|로)",
    "을": "(?:을|를)",
    "를": "(?:을|를)",
    "은": "(?:은|는)",
    "는": "(?:은|는)",
    "이": "(?:이|가)",
    "가": "(?:이|가)",
    "와": "(?:와|과|랑|이랑)",
    "과": "(?:와|과|랑|이랑)",
    "한테": "(?:한테|에게|께)",
    "에게": "(?:한테|에게|께)",
}
_FILLER_TAIL = re.compile(r"[\s,.!?~]+$|\s+(?:please|now|thanks|for me)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Annotation:
    """An entity marked in an example: `[서울역](place)`."""

    entity: str
    text: str
    start: int
    end: int
    value: str | None = None
    role: str | None = None


def parse_annotations(example: str) -> tuple[str, list[Annotation]]:
    """The example's plain text and its entity annotations (Rasa's markup).

    >>> parse_annotations("[서울역](place)으로 [빨리]{\\"entity\\": \\"speed\\", \\"value\\": \\"fast\\"} 가자")
    ('서울역으로 빨리 가자', [Annotation(entity='place', text='서울역', start=0, end=3, value=None, role=None), Annotation(entity='speed', text='빨리', start=6, end=8, value='fast', role=None)])
    """
    import json

    plain: list[str] = []
    found: list[Annotation] = []
    position = last = 0
    for m in _ANNOTATION.finditer(example):
        plain.append(example[last : m.start()])
        position += m.start() - last
        text = m.group("text")
        value = role = None
        if m.group("brace"):
            try:
                spec = json.loads(m.group("brace"))
            except json.JSONDecodeError as e:
                raise ValueError(f"annotation {m.group(0)!r} is not valid JSON: {e}") from e
            if not isinstance(spec, dict) or "entity" not in spec:
                raise ValueError(f"annotation {m.group(0)!r} names no entity")
            entity = str(spec["entity"])
            value = None if spec.get("value") is None else str(spec["value"])
            role = None if spec.get("role") is None else str(spec["role"])
        else:
            entity, _, value_text = (m.group("paren") or "").partition(":")
            value = value_text or None
            if not entity:
                raise ValueError(f"annotation {m.group(0)!r} names no entity")
        found.append(Annotation(entity, text, position, position + len(text), value, role))
        plain.append(text)
        position += len(text)
        last = m.end()
    plain.append(example[last:])
    return "".join(plain), found


@dataclass
class EntitySpec:
    """One of the bot's entities.

    `values` maps each canonical value to its synonyms (a lookup table); `patterns` are regular
    expressions whose match is the value (group `value` when the pattern has one); `free`
    allows values no table lists, found by templates from annotated examples or taken whole
    as the answer to a slot's prompt.
    """

    name: str
    values: dict[str, list[str]] = field(default_factory=dict)
    patterns: list[str] = field(default_factory=list)
    free: bool = False


@dataclass(frozen=True)
class Template:
    """Where an annotated example puts its entity: after the word before it and/or before
    the word or particle after it. `anchors` (1 or 2) says how much context it needs: the
    ones that need more are tried first."""

    entity: str
    pattern: re.Pattern[str]
    anchors: int = 1


def strip_particle(value: str) -> str:
    """The word without the Korean particle it ends in.

    A one-syllable particle (이, 가, 도...) is taken only from words of three syllables or
    more, since many nouns end in those syllables (아이, 오이, 정도):

    >>> strip_particle("서울역으로"), strip_particle("집으로"), strip_particle("아이")
    ('서울역', '집', '아이')
    """
    for particle in _KO_PARTICLES:
        keep = 1 if len(particle) > 1 else 2
        if value.endswith(particle) and len(value) - len(particle) >= keep:
            return value[: -len(particle)]
    return value


def _surface_pattern(surface: str) -> str:
    """A lookup surface form as a regex: spaces optional inside Korean, flexible elsewhere."""
    parts = []
    for ch in surface.strip():
        if ch.isspace():
            parts.append(r"\s*")
        else:
            parts.append(re.escape(ch) + (r"\s?" if _HANGUL.match(ch) else ""))
    pattern = "".join(parts).removesuffix(r"\s?")
    if re.match(r"\w", surface, re.ASCII):
        pattern = r"(?<![A-Za-z0-9])" + pattern
    if re.search(r"\w$", surface, re.ASCII):
        pattern += r"(?![A-Za-z0-9])"
    return pattern


def _template(entity: str, plain: str, start: int, end: int) -> Template | None:
    before, after = plain[:start], plain[end:]
    left = before.split()[-1] if before.strip() else ""
    left_attached = bool(before) and not before[-1].isspace()
    right_attached = bool(after) and not after[0].isspace()
    right = after.split()[0] if after.strip() else ""
    if left_attached:
        return None  # an entity glued to the word before it teaches nothing reliable
    korean = bool(_HANGUL.search(plain))
    value = r"(?P<value>\S+)" if korean else r"(?P<value>[\w'&.-]+(?:\s+[\w'&.-]+){0,3}?)"
    if right and right_attached:
        suffix = re.sub(r"[^\w]+$", "", right)
        if not suffix:
            return None
        particle = next(
            (p for p in sorted(_PARTICLE_PAIRS, key=len, reverse=True) if suffix.startswith(p)),
            None,
        )
        suffix_re = (
            _PARTICLE_PAIRS[particle] + re.escape(suffix[len(particle) :])
            if particle
            else re.escape(suffix)
        )
        if left and not korean:
            pattern = rf"(?<!\w){re.escape(left)}\s+{value}{suffix_re}"
        else:
            lazy = value.replace("\\S+", "\\S+?")
            pattern = rf"(?<![\w]){lazy}{suffix_re}"
    elif right:
        word = re.escape(re.sub(r"[^\w]+$", "", right) or right)
        if left:
            pattern = rf"(?<!\w){re.escape(left)}\s+{value}\s+{word}"
        else:
            pattern = rf"(?<![\w]){value}\s+{word}"
    elif left:
        tail = r"(?P<value>.+?)" if not korean else r"(?P<value>\S+)"
        pattern = rf"(?<!\w){re.escape(left)}\s+{tail}\s*$"
    else:
        return None
    anchors = 2 if left and right else 1
    return Template(entity, re.compile(pattern, re.IGNORECASE), anchors)


class EntityExtractor:
    """Finds built-in and bot entities in a text; see the module docstring."""

    def __init__(
        self,
        specs: Iterable[EntitySpec] = (),
        *,
        examples: Iterable[str] = (),
        synonyms: Mapping[str, str] | None = None,
    ) -> None:
        self.specs = {s.name: s for s in specs}
        self._global_synonyms = {k.replace(" ", "").lower(): v for k, v in (synonyms or {}).items()}
        self._lookups: list[tuple[re.Pattern[str], str, str]] = []
        surfaces: list[tuple[str, str, str]] = []
        for spec in self.specs.values():
            for canonical, aliases in spec.values.items():
                for surface in dict.fromkeys([canonical, *aliases]):
                    if surface.strip():
                        surfaces.append((surface, spec.name, canonical))
        for surface, name, canonical in sorted(surfaces, key=lambda s: -len(s[0])):
            self._lookups.append(
                (re.compile(_surface_pattern(surface), re.IGNORECASE), name, canonical)
            )
        self._patterns = [
            (re.compile(p, re.IGNORECASE), spec.name)
            for spec in self.specs.values()
            for p in spec.patterns
        ]
        self._synonyms = {
            (name, surface.replace(" ", "").lower()): canonical
            for surface, name, canonical in surfaces
        }
        self.templates: list[Template] = []
        for example in examples:
            self.learn(example)

    def learn(self, example: str) -> None:
        """Learn lookup values and templates from an annotated example."""
        plain, annotations = parse_annotations(example)
        for a in annotations:
            if a.entity in BUILTIN_TYPES:
                continue
            spec = self.specs.get(a.entity)
            if spec is not None and (spec.free or not spec.values):
                found = _template(a.entity, plain, a.start, a.end)
                if found is not None and all(
                    t.pattern.pattern != found.pattern.pattern for t in self.templates
                ):
                    self.templates.append(found)
                    self.templates.sort(key=lambda t: -t.anchors)

    def canonical(self, entity: str, text: str) -> str:
        """The canonical value of `text` for an entity (through its synonyms), else the text."""
        cleaned = strip_particle(text.strip())
        for candidate in (text.strip(), cleaned):
            key = candidate.replace(" ", "").lower()
            found = self._synonyms.get((entity, key)) or self._global_synonyms.get(key)
            if found is not None:
                return found
        return cleaned

    def extract(self, text: str, *, now: datetime) -> list[Entity]:
        """Every entity in the text, left to right; overlapping ones resolved by priority
        (dates, phone numbers, temperatures, percentages, lookups, patterns, templates,
        numbers)."""
        found: list[Entity] = []
        taken: list[tuple[int, int]] = []

        def free(start: int, end: int) -> bool:
            return all(end <= s or start >= e for s, e in taken)

        def add(entity: Entity) -> None:
            if free(entity.start, entity.end):
                found.append(entity)
                taken.append((entity.start, entity.end))

        for entity in _phones(text):
            add(entity)
        for entity in find_datetimes(text, now):
            add(entity)
        numbers = find_numbers(text)
        for entity in _measures(text, numbers):
            add(entity)
        for pattern, name, canonical in self._lookups:
            for m in pattern.finditer(text):
                add(Entity(name, canonical, m.group(0), m.start(), m.end(), "lookup"))
        for pattern, name in self._patterns:
            for m in pattern.finditer(text):
                group = "value" if "value" in pattern.groupindex else 0
                start, end = m.span(group)
                if end > start:
                    add(Entity(name, m.group(group), m.group(group), start, end, "regex"))
        for template in self.templates:
            for m in template.pattern.finditer(text):
                start, end = m.span("value")
                raw = _FILLER_TAIL.sub("", m.group("value"))
                if not raw or not free(start, start + len(raw)):
                    continue
                if any(start <= n.start < start + len(raw) for n in numbers):
                    continue  # "4단계로", "to level 12": a number said, not a name
                value = self.canonical(template.entity, raw)
                add(Entity(template.entity, value, raw, start, start + len(raw), "template"))
        for n in numbers:
            add(Entity("number", n.value, n.text, n.start, n.end, "builtin"))
        return sorted(found, key=lambda e: e.start)


def _phones(text: str) -> list[Entity]:
    found = []
    for m in _PHONE.finditer(text):
        raw = m.group(0)
        digits = re.sub(r"\D", "", raw)
        if m.group("intl"):
            rest = re.sub(r"\D", "", m.group("intl_rest"))
            value = "0" + rest
        elif raw.strip().startswith("+"):
            value = "+" + digits
        else:
            value = digits
        found.append(Entity("phone", value, raw, m.start(), m.end()))
    return found


def _measures(text: str, numbers: Sequence[NumberSpan]) -> list[Entity]:
    """Temperatures (a number with 도/degrees) and percentages (with %/퍼센트/percent)."""
    found = []
    for n in numbers:
        tail = text[n.end :]
        if n.counter in ("도", "℃", "°") or (n.counter is None and _DEGREE_AFTER.match(tail)):
            degree = _DEGREE_AFTER.match(tail)
            end = n.end + (degree.end() if degree else 0)
            if n.counter_end is not None:
                end = max(end, n.counter_end)
                more = re.match(r"^\s?(?:[cCfF]\b|씨)", text[end:])
                end += more.end() if more else 0
            said = text[max(0, n.start - 4) : end + 12]
            unit = (
                "F"
                if _FAHRENHEIT_WORDS.search(said) and not _CELSIUS_WORDS.search(text[n.end : end])
                else "C"
            )
            found.append(
                Entity(
                    "temperature",
                    {"value": n.value, "unit": unit},
                    text[n.start : end],
                    n.start,
                    end,
                )
            )
        elif n.counter in ("퍼센트", "프로", "%") or _PERCENT_AFTER.match(tail):
            percent = _PERCENT_AFTER.match(tail)
            end = (
                n.counter_end
                if n.counter_end is not None
                else n.end + (percent.end() if percent else 0)
            )
            found.append(Entity("percentage", n.value, text[n.start : end], n.start, end))
    return found
