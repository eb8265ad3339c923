"""Reading JSON that strangers send: what `json.loads` accepts but the rest of the server cannot
carry is refused here, once, with the reason.

Refused, besides malformed JSON:
- nesting deeper than `MAX_DEPTH` (Python's parser fails with RecursionError near 1,000 levels);
- integers of more than `MAX_INT_DIGITS` digits (Python refuses to convert more than 4,300, and
  no field of ours holds more than a turn number);
- `NaN`, `Infinity` and numbers that overflow to infinity (no JSON encoder writes them back);
- unpaired UTF-16 surrogates (`"\\ud800"`): valid JSON escapes, but not text; they cannot be
  encoded as UTF-8, so storing or answering them fails.

    >>> loads('{"text": "안녕", "turn": 3}'.encode())
    {'text': '안녕', 'turn': 3}
    >>> try:
    ...     loads('{"text": "\\\\ud800"}')
    ... except JsonInputError as e:
    ...     print(e.problem)
    text: contains an unpaired surrogate (\\ud800); send UTF-8 text
    >>> try:
    ...     loads("[" * 100 + "]" * 100)
    ... except JsonInputError as e:
    ...     print(e.problem)
    is nested deeper than 32 levels
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

__all__ = ["MAX_DEPTH", "MAX_INT_DIGITS", "JsonInputError", "loads", "lone_surrogate"]

MAX_DEPTH = 32
MAX_INT_DIGITS = 30
_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonInputError(ValueError):
    """A body that is not JSON we accept; `problem` says why (without the word "body")."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise JsonInputError(f"holds a number of {len(digits)} digits; at most {MAX_INT_DIGITS}")
    return int(digits)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonInputError(f"holds a number too large to use ({text[:20]}...)")
    return value


def _constant(name: str) -> float:
    raise JsonInputError(f"holds {name}, which is not a JSON number")


def loads(data: bytes | str) -> Any:
    """The JSON value of `data`, or `JsonInputError` saying what is wrong with it."""
    try:
        value = json.loads(data, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except JsonInputError:
        raise
    except RecursionError as e:
        raise JsonInputError(f"is nested deeper than {MAX_DEPTH} levels") from e
    except UnicodeDecodeError as e:
        raise JsonInputError(f"is not UTF-8 ({e.reason} at byte {e.start})") from e
    except json.JSONDecodeError as e:
        raise JsonInputError(f"is not valid JSON ({e})") from e
    _check(value)
    return value


def _check(value: Any) -> None:
    for item, path, depth in _walk(value):
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise JsonInputError(_surrogate_problem(path, item))
        elif depth >= MAX_DEPTH and isinstance(item, dict | list):
            raise JsonInputError(f"is nested deeper than {MAX_DEPTH} levels")


def _walk(value: Any) -> Iterator[tuple[Any, str, int]]:
    """Every value in `value` (dict keys too, at their object's path) with its dotted path and
    depth, without recursion."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        yield item, path, depth
        if isinstance(item, dict):
            for key, child in item.items():
                yield key, path, depth
                stack.append((child, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(item, list | tuple):
            stack.extend(
                (child, f"{path}.{i}" if path else str(i), depth + 1)
                for i, child in enumerate(item)
            )


def _surrogate_problem(path: str, text: str) -> str:
    found = _SURROGATE.search(text)
    code = f"\\u{ord(found.group()):04x}" if found else ""
    where = f"{path}: " if path else ""
    return f"{where}contains an unpaired surrogate ({code}); send UTF-8 text"


def lone_surrogate(value: Any) -> str | None:
    """The dotted path of the first string (or key) in `value` holding an unpaired surrogate,
    `""` for `value` itself, or None when there is none.

    >>> lone_surrogate({"a": ["ok", "x\\udc80"]})
    'a.1'
    """
    for item, path, _ in _walk(value):
        if isinstance(item, str) and _SURROGATE.search(item):
            return path
    return None
