"""Response templates: text with `{capture}`, `{slots.name}` and `{@ redirect}` references.

| syntax              | becomes                                                       |
|---------------------|---------------------------------------------------------------|
| `{name}`            | the text captured by `{name}` in the pattern that matched     |
| `{slots.user_name}` | a context value (any dotted name: `slots.*`, `device.*`, ...)  |
| `{name\\|default}`   | the value, or `default` when it is missing                    |
| `{@ text}`          | the response of the rule that `text` matches (AIML's `<srai>`); `text` may hold references |
| `{{` / `}}`         | a literal brace                                               |

    >>> template = parse_template("반가워요, {name}님! {slots.car|차량} 잘 타고 계시죠?")
    >>> sorted(template.captures)
    ['name']
    >>> template.render({"name": "지수"}, {"slots.car": "EV6"})
    '반가워요, 지수님! EV6 잘 타고 계시죠?'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rules.errors import PatternError

__all__ = ["Template", "parse_template"]

Redirect = Callable[[str, int], str | None]


@dataclass(frozen=True, slots=True)
class _Ref:
    name: str
    default: str | None


@dataclass(frozen=True, slots=True)
class _Redirect:
    body: Template


_Part = str | _Ref | _Redirect


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed response; `captures` are the capture names it needs from the pattern."""

    source: str
    parts: tuple[_Part, ...]

    @property
    def captures(self) -> frozenset[str]:
        names: set[str] = set()
        for part in self.parts:
            if isinstance(part, _Ref) and "." not in part.name:
                names.add(part.name)
            elif isinstance(part, _Redirect):
                names |= part.body.captures
        return frozenset(names)

    @property
    def facts(self) -> frozenset[str]:
        """Context values it reads (dotted names) with no default given."""
        names: set[str] = set()
        for part in self.parts:
            if isinstance(part, _Ref) and "." in part.name and part.default is None:
                names.add(part.name)
            elif isinstance(part, _Redirect):
                names |= part.body.facts
        return frozenset(names)

    def render(
        self,
        captures: Mapping[str, str],
        facts: Mapping[str, Any],
        redirect: Redirect | None = None,
        depth: int = 0,
    ) -> str:
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, _Ref):
                value = captures.get(part.name) if "." not in part.name else facts.get(part.name)
                out.append(str(value) if value not in (None, "") else part.default or "")
            else:
                text = part.body.render(captures, facts, redirect, depth)
                answer = redirect(text, depth + 1) if redirect is not None else None
                out.append(answer or "")
        return "".join(out).strip()


def parse_template(source: str) -> Template:
    """Parse a response; raises `PatternError` for unbalanced braces or empty references."""
    parts, _end = _parse(source, 0, nested=False)
    return Template(source, tuple(parts))


def _parse(source: str, pos: int, *, nested: bool) -> tuple[list[_Part], int]:
    parts: list[_Part] = []
    text: list[str] = []
    while pos < len(source):
        char = source[pos]
        if source.startswith(("{{", "}}"), pos):
            text.append(char)
            pos += 2
        elif char == "}":
            if nested:
                break
            raise PatternError(
                f"response {source!r}: unbalanced '}}' at character {pos + 1}; write '}}}}' for a brace"
            )
        elif char == "{":
            if text:
                parts.append("".join(text))
                text = []
            pos = _parse_reference(source, pos, parts)
        else:
            text.append(char)
            pos += 1
    if text:
        parts.append("".join(text))
    return parts, pos


def _parse_reference(source: str, pos: int, parts: list[_Part]) -> int:
    start = pos
    if source.startswith("{@", pos):
        body, end = _parse(source, pos + 2, nested=True)
        if end >= len(source):
            raise PatternError(f"response {source!r}: unbalanced '{{' at character {start + 1}")
        parts.append(_Redirect(Template(source[pos + 2 : end], tuple(body))))
        return end + 1
    end = source.find("}", pos)
    if end < 0 or "{" in source[pos + 1 : end]:
        raise PatternError(
            f"response {source!r}: unbalanced '{{' at character {start + 1}; write '{{{{' for a brace"
        )
    name, bar, default = source[pos + 1 : end].partition("|")
    name = name.strip()
    if not name:
        raise PatternError(f"response {source!r}: empty reference '{{}}' at character {start + 1}")
    parts.append(_Ref(name, default if bar else None))
    return end + 1
