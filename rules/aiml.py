"""Import AIML 1.0/2.0 category files into the rule model.

What is carried over:

| AIML                                   | rule model                                        |
|----------------------------------------|---------------------------------------------------|
| `<pattern>` words, `*` `_`             | words, `{star1}`, `{star2}`... (`_` gets priority 1) |
| `<pattern>` `^` `#` (AIML 2.0)         | `[*]` (zero or more words, not captured)          |
| `<that>`                               | `that` (patterns the previous reply must match)   |
| `<topic name="x">`                     | `when: {topic: x}`                                |
| `<star/>`, `<star index="2"/>`         | `{star1}`, `{star2}`                              |
| `<random><li>`                         | several responses (chosen at random)              |
| `<srai>`, `<sr/>`                      | `{@ ...}` redirects                               |
| `<set name="topic">` / `<set name="x">`| `set: {topic: ...}` / `set: {slots: {x: ...}}`    |
| `<get name="x"/>`, `<bot name="x"/>`   | `{slots.x\\|}`, `{bot.x\\|}`                        |
| `<think>`                              | its `<set>`s are kept, its text is dropped       |

Other template elements (`<condition>`, `<person>`, `<uppercase>`, ...) keep their text content
only. Elements inside a `<pattern>` (`<set>`, `<bot>`) are reported as problems. AIML files are trusted input (they are parsed with the standard library's XML parser).

    >>> text = '''<aiml version="2.0"><category><pattern>MY NAME IS *</pattern>
    ... <template>Nice to meet you, <star/>.</template></category></aiml>'''
    >>> [spec] = read_aiml(text, "names.aiml", [])
    >>> spec.patterns, spec.responses
    (('my name is {star1}',), ('Nice to meet you, {star1}.',))
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import PurePath

from rules.errors import RuleProblem
from rules.model import Condition, ContextChange, RuleSpec

__all__ = ["read_aiml"]

#: A template whose <random>s multiply to more responses than this keeps only the first ones.
MAX_RESPONSES = 32
_SPECIAL = re.compile(r"[\[\](){}|]")
_SPACES = re.compile(r"\s+")


def _tag(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1].lower()


def read_aiml(text: str, source: str, problems: list[RuleProblem]) -> list[RuleSpec]:
    """Rule specs for every category of an AIML document; problems are appended."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        problems.append(RuleProblem(source, "-", f"not valid AIML (XML): {e}"))
        return []
    stem = PurePath(source).stem
    specs: list[RuleSpec] = []
    counter = itertools.count(1)
    for topic, category in _categories(root, topic=None):
        rid = f"aiml.{stem}.{next(counter)}"
        spec = _category(category, topic, rid, source, problems)
        if spec is not None:
            specs.append(spec)
    return specs


def _categories(element: ET.Element, topic: str | None) -> list[tuple[str | None, ET.Element]]:
    found: list[tuple[str | None, ET.Element]] = []
    for child in element:
        tag = _tag(child)
        if tag == "category":
            found.append((topic, child))
        elif tag == "topic":
            name = (child.get("name") or "").strip()
            found.extend(_categories(child, None if name in ("", "*") else name.lower()))
    return found


def _category(
    category: ET.Element, topic: str | None, rid: str, source: str, problems: list[RuleProblem]
) -> RuleSpec | None:
    parts = {_tag(child): child for child in category}
    if "pattern" not in parts or "template" not in parts:
        problems.append(RuleProblem(source, rid, "a category needs a <pattern> and a <template>"))
        return None
    inside = sorted({f"<{_tag(e)}>" for e in parts["pattern"].iter() if e is not parts["pattern"]})
    if inside:
        problems.append(
            RuleProblem(
                source,
                rid,
                f"<pattern> holds {', '.join(inside)}, which the importer does not support; "
                "write the words out or remove the category",
            )
        )
        return None
    pattern, _stars, zero_stars, underscore = _pattern(parts["pattern"])
    if not pattern:
        problems.append(RuleProblem(source, rid, "<pattern> is empty"))
        return None
    that: tuple[str, ...] = ()
    if "that" in parts:
        that_pattern = _pattern(parts["that"])[0]
        if that_pattern and that_pattern != "{star1}":
            that = (_uncaptured(that_pattern),)
    converter = _Template(zero_stars)
    responses = converter.convert(parts["template"])
    responses = [r for r in dict.fromkeys(_SPACES.sub(" ", r).strip() for r in responses) if r]
    if not responses:
        problems.append(RuleProblem(source, rid, "<template> produces no text"))
        return None
    change = None
    if converter.topic is not None or converter.slots:
        change = ContextChange(topic=converter.topic, slots=converter.slots)
    return RuleSpec(
        id=rid,
        patterns=(pattern,),
        responses=tuple(responses[:MAX_RESPONSES]),
        priority=1 if underscore else 0,
        when={"topic": Condition.model_validate(topic)} if topic else {},
        that=that,
        set=change,
    )


def _pattern(element: ET.Element) -> tuple[str, int, set[int], bool]:
    """The pattern string, how many captures it has, which star indices match zero words."""
    words: list[str] = []
    stars = 0
    zero: set[int] = set()
    underscore = False
    for word in "".join(element.itertext()).split():
        if word in ("*", "_"):
            stars += 1
            underscore = underscore or word == "_"
            words.append(f"{{star{stars}}}")
        elif word in ("^", "#"):
            stars += 1
            zero.add(stars)
            words.append("[*]")
        else:
            cleaned = _SPECIAL.sub(" ", word.lower()).strip()
            if cleaned:
                words.append(cleaned)
    return " ".join(words), stars, zero, underscore


def _uncaptured(pattern: str) -> str:
    return re.sub(r"\{star\d+\}", "*", pattern)


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


class _Template:
    """Converts one <template> to response strings, collecting <set>s on the way."""

    def __init__(self, zero_stars: set[int]) -> None:
        self.zero_stars = zero_stars
        self.topic: str | None = None
        self.slots: dict[str, str] = {}

    def convert(self, element: ET.Element) -> list[str]:
        return self._children(element)

    def _children(self, element: ET.Element) -> list[str]:
        results = [_escape(element.text or "")]
        for child in element:
            options = self._element(child)
            results = [r + o for r in results for o in options][:MAX_RESPONSES]
            tail = _escape(child.tail or "")
            results = [r + tail for r in results]
        return results

    def _text(self, element: ET.Element) -> str:
        return self._children(element)[0]

    def _element(self, element: ET.Element) -> list[str]:
        tag = _tag(element)
        if tag == "star":
            index = int(element.get("index", "1") or 1)
            return [""] if index in self.zero_stars else [f"{{star{index}}}"]
        if tag == "random":
            options = [o for li in element if _tag(li) == "li" for o in self._children(li)]
            return options or [""]
        if tag == "srai":
            return [f"{{@ {self._text(element).strip()}}}"]
        if tag == "sr":
            return ["{@ {star1}}"]
        if tag == "think":
            self._children(element)  # for its <set>s
            return [""]
        if tag == "set":
            name = (element.get("name") or "").strip().lower()
            value = self._text(element).strip()
            if name == "topic":
                self.topic = value.lower()
            elif name:
                self.slots[name] = value
            return [value]
        if tag == "get":
            return [f"{{slots.{(element.get('name') or 'x').strip().lower()}|}}"]
        if tag == "bot":
            return [f"{{bot.{(element.get('name') or 'name').strip().lower()}|}}"]
        if tag == "br":
            return [" "]
        if tag in ("that", "input", "date", "size", "version", "id", "thatstar", "topicstar"):
            return [""]
        return self._children(element)
