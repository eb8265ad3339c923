"""The pattern language: parse a pattern, expand its choices, compile it to token sequences.

| syntax        | matches                                                      |
|---------------|--------------------------------------------------------------|
| `심심해`      | the words (for Korean: the morphemes that carry meaning)    |
| `*`           | one or more words                                            |
| `[*]`         | zero or more words                                           |
| `[정말]`      | the word or nothing (any pattern fits inside `[...]`)        |
| `(a\\|b\\|c)`   | one of the alternatives                                      |
| `{name}`      | one or more words, captured as `name`                        |
| `re:<regex>`  | a Python regex searched in the normalized text (case-insensitive); named groups capture |

Choices (`[...]`, `(...)`) are expanded when the pattern is compiled, so that each alternative is
analyzed in its context: `(심심|지루)해` compiles to the two sequences of 심심해 and 지루해.

    >>> pattern = compile_pattern("[*] (심심|지루)해 [*]")
    >>> [seq.literals for seq in pattern.sequences]
    [('심심',), ('지루',)]
    >>> compile_pattern("my name is {name}").captures
    frozenset({'name'})
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rules.analyzer import Token, analyze, has_hangul, normalize
from rules.errors import PatternError

__all__ = [
    "CAPTURE",
    "LITERAL",
    "MAX_EXPANSIONS",
    "WILDCARD",
    "CompiledPattern",
    "Sequence",
    "compile_pattern",
    "parse_pattern",
]

#: A pattern may expand to at most this many sequences (choices multiply).
MAX_EXPANSIONS = 256

LITERAL, WILDCARD, CAPTURE = 0, 1, 2
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SPECIAL = set("*[](){}|")

Analyzer = Callable[[str], list[Token]]


# --- syntax tree ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Text:
    text: str


@dataclass(frozen=True, slots=True)
class _Star:
    minimum: int  # 1 for `*`, 0 for `[*]`


@dataclass(frozen=True, slots=True)
class _Capture:
    name: str


@dataclass(frozen=True, slots=True)
class _Choice:
    options: tuple[tuple[_Node, ...], ...]
    optional: bool


_Node = _Text | _Star | _Capture | _Choice


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.pos = 0

    def fail(self, message: str) -> PatternError:
        return PatternError(f"pattern {self.pattern!r}: {message} (at character {self.pos + 1})")

    def parse(self) -> tuple[_Node, ...]:
        nodes = self.sequence(closers="")
        if self.pos < len(self.pattern):
            char = self.pattern[self.pos]
            if char == "|":
                raise self.fail("'|' outside a group; write alternatives as (a|b)")
            raise self.fail(f"unbalanced {char!r}: no matching opening bracket")
        return nodes

    def sequence(self, closers: str) -> tuple[_Node, ...]:
        nodes: list[_Node] = []
        text: list[str] = []
        while self.pos < len(self.pattern):
            char = self.pattern[self.pos]
            if char in closers or char in ")]}|":
                break
            if char not in _SPECIAL:
                text.append(char)
                self.pos += 1
                continue
            if text:
                nodes.append(_Text("".join(text)))
                text = []
            if char == "*":
                self.pos += 1
                nodes.append(_Star(1))
            elif char == "{":
                nodes.append(self.capture())
            else:
                nodes.append(self.choice(optional=char == "["))
        if text:
            nodes.append(_Text("".join(text)))
        return tuple(nodes)

    def capture(self) -> _Capture:
        end = self.pattern.find("}", self.pos)
        if end < 0:
            raise self.fail("unbalanced '{': capture is not closed with '}'")
        name = self.pattern[self.pos + 1 : end].strip()
        if not _NAME.match(name):
            raise self.fail(
                f"capture name {name!r} must be a letter or _ followed by letters, digits or _"
            )
        self.pos = end + 1
        return _Capture(name)

    def choice(self, *, optional: bool) -> _Node:
        opener, closer = ("[", "]") if optional else ("(", ")")
        start = self.pos
        self.pos += 1
        options = [self.sequence(closers=closer)]
        while self.pos < len(self.pattern) and self.pattern[self.pos] == "|":
            self.pos += 1
            options.append(self.sequence(closers=closer))
        if self.pos >= len(self.pattern) or self.pattern[self.pos] != closer:
            self.pos = start
            raise self.fail(f"unbalanced {opener!r}: no matching {closer!r}")
        self.pos += 1
        if any(not _has_content(option) for option in options):
            self.pos = start
            hint = "" if optional else "; write an optional word as [word]"
            raise self.fail(f"empty alternative in {opener}...{closer}{hint}")
        if optional and options == [(_Star(1),)]:
            return _Star(0)
        return _Choice(tuple(options), optional)


def _has_content(nodes: tuple[_Node, ...]) -> bool:
    return any(not isinstance(n, _Text) or n.text.strip() for n in nodes)


def parse_pattern(pattern: str) -> tuple[_Node, ...]:
    """The syntax tree of a (non-regex) pattern, or `PatternError` saying what is wrong."""
    return _Parser(pattern).parse()


# --- expansion and compilation -------------------------------------------------------------

_FlatNode = _Text | _Star | _Capture


def _expand(nodes: tuple[_Node, ...], pattern: str) -> list[list[_FlatNode]]:
    results: list[list[_FlatNode]] = [[]]
    for node in nodes:
        if isinstance(node, _Choice):
            branches: list[list[_FlatNode]] = [[]] if node.optional else []
            for option in node.options:
                branches.extend(_expand(option, pattern))
            results = [r + b for r in results for b in branches]
        else:
            results = [[*r, node] for r in results]
        if len(results) > MAX_EXPANSIONS:
            raise PatternError(
                f"pattern {pattern!r}: its choices expand to more than {MAX_EXPANSIONS} "
                "sequences; split it into several patterns"
            )
    return results


@dataclass(frozen=True, slots=True)
class Sequence:
    """One expansion of a pattern: `elements` are (kind, value) with kind LITERAL (value: key),
    WILDCARD (value: minimum number of tokens, 0 or 1) or CAPTURE (value: name)."""

    elements: tuple[tuple[int, str | int], ...]
    literals: tuple[str, ...]
    captures: frozenset[str]

    @property
    def exact(self) -> bool:
        """True when the sequence has no wildcard or capture: it matches whole utterances only."""
        return len(self.literals) == len(self.elements)


@dataclass(frozen=True, slots=True)
class CompiledPattern:
    """A pattern ready to match: token sequences, or a regex for `re:` patterns."""

    source: str
    sequences: tuple[Sequence, ...] = ()
    regex: re.Pattern[str] | None = None
    captures: frozenset[str] = field(default_factory=frozenset)


def _compile_sequence(flat: list[_FlatNode], pattern: str, analyzer: Analyzer) -> Sequence:
    elements: list[tuple[int, str | int]] = []
    captures: set[str] = set()
    text: list[str] = []

    def flush() -> None:
        if text:
            elements.extend((LITERAL, t.key) for t in analyzer(normalize("".join(text))))
            text.clear()

    for node in flat:
        if isinstance(node, _Text):
            text.append(node.text)
            continue
        flush()
        if isinstance(node, _Star):
            elements.append((WILDCARD, node.minimum))
        else:
            if node.name in captures:
                raise PatternError(f"pattern {pattern!r}: capture {{{node.name}}} appears twice")
            captures.add(node.name)
            elements.append((CAPTURE, node.name))
    flush()
    literals = tuple(str(v) for k, v in elements if k == LITERAL)
    if not literals and not any(k == CAPTURE or v == 1 for k, v in elements):
        raise PatternError(
            f"pattern {pattern!r}: has no words to match (punctuation and endings are ignored); "
            "write at least one word, '*' or a capture"
        )
    return Sequence(tuple(elements), literals, frozenset(captures))


def _solid(flat: list[_FlatNode]) -> list[_FlatNode]:
    """The expansion with Korean words written without spaces (배 고파 -> 배고파).

    People space Korean freely and the analyzer can read the two spellings differently; the
    pattern carries both, and the engine retries a spaced utterance solid when nothing matched.
    """
    return [
        _Text(n.text.replace(" ", "")) if isinstance(n, _Text) and has_hangul(n.text) else n
        for n in flat
    ]


def compile_pattern(pattern: str, analyzer: Analyzer = analyze) -> CompiledPattern:
    """Compile one pattern; raises `PatternError` naming the pattern and the problem."""
    if pattern.startswith("re:"):
        try:
            regex = re.compile(pattern[3:], re.IGNORECASE)
        except re.error as e:
            raise PatternError(f"pattern {pattern!r}: not a valid regex: {e}") from e
        return CompiledPattern(pattern, regex=regex, captures=frozenset(regex.groupindex))
    if not pattern.strip():
        raise PatternError("pattern is empty; write at least one word, '*' or a capture")
    nodes = parse_pattern(pattern)
    sequences: list[Sequence] = []
    for flat in _expand(nodes, pattern):
        spaced = _compile_sequence(flat, pattern, analyzer)
        solid = _compile_sequence(_solid(flat), pattern, analyzer)
        for sequence in (spaced, solid):
            # A solid reading that loses or changes letters is a misreading (날씨안좋아 -> 날씨 좋).
            if sequence is solid and "".join(solid.literals) != "".join(spaced.literals):
                continue
            if sequence not in sequences:
                sequences.append(sequence)
    # A capture that only some expansions have cannot be relied on in a response.
    common = frozenset.intersection(*(s.captures for s in sequences))
    return CompiledPattern(pattern, sequences=tuple(sequences), captures=common)
