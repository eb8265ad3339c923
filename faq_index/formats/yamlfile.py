"""YAML: a list of entries, or a mapping with an `entries:` list (the demo bot's format).

>>> text = '''
... entries:
...   - id: hours
...     question: 영업시간이 어떻게 되나요?
...     alternatives:
...       - 몇 시까지 해요?
...     answer: 평일 9시부터 18시까지입니다.
... '''
>>> parse_yaml(text)[0].id
'hours'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from faq_index.entry import FaqEntry
from faq_index.errors import EntryImportError, Problem
from faq_index.formats._rows import Row, entries_from_rows, entry_to_row

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10x faster

__all__ = ["format_yaml", "parse_yaml"]


def _entry_nodes(root: yaml.Node | None) -> list[yaml.Node] | None:
    if isinstance(root, yaml.SequenceNode):
        return list(root.value)
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == "entries" and isinstance(value, yaml.SequenceNode):
                return list(value.value)
    return None


def parse_yaml(text: str, source: str = "<yaml>") -> list[FaqEntry]:
    try:
        root = yaml.compose(text, Loader=_LOADER)
        data: Any = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise EntryImportError(source, [Problem(line, f"not valid YAML: {e}")]) from e
    nodes = _entry_nodes(root)
    items = data.get("entries") if isinstance(data, dict) else data
    if nodes is None or not isinstance(items, list):
        raise EntryImportError(
            source,
            [Problem(None, "expected a list of entries, or a mapping with an 'entries' list")],
        )
    problems: list[Problem] = []
    rows: list[Row] = []
    for node, item in zip(nodes, items, strict=True):
        line = node.start_mark.line + 1
        if not isinstance(item, dict):
            problems.append(Problem(line, "expected a mapping with id, question and answer"))
            continue
        rows.append((line, {k: ("" if v is None else v) for k, v in item.items()}))
    return entries_from_rows(rows, source, problems)


def format_yaml(entries: Iterable[FaqEntry]) -> str:
    rows = [entry_to_row(e) for e in entries]
    return yaml.safe_dump({"entries": rows}, allow_unicode=True, sort_keys=False, width=100)
