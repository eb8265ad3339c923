"""JSON Lines: one entry object a line, the format of the evaluation data.

>>> text = '{"id": "a", "question": "Q?", "answer": "A."}\\n'
>>> [e.id for e in parse_jsonl(text)]
['a']
>>> format_jsonl(parse_jsonl(text))
'{"id": "a", "question": "Q?", "answer": "A."}\\n'
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from faq_index.entry import FaqEntry
from faq_index.errors import Problem
from faq_index.formats._rows import Row, entries_from_rows, entry_to_row

__all__ = ["format_jsonl", "parse_jsonl"]


def parse_jsonl(text: str, source: str = "<jsonl>") -> list[FaqEntry]:
    problems: list[Problem] = []
    rows: list[Row] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data: Any = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(Problem(number, f"not valid JSON ({e.msg} at column {e.colno})"))
            continue
        if not isinstance(data, dict):
            problems.append(Problem(number, "expected a JSON object with id, question and answer"))
            continue
        rows.append((number, data))
    return entries_from_rows(rows, source, problems)


def format_jsonl(entries: Iterable[FaqEntry]) -> str:
    return "".join(json.dumps(entry_to_row(e), ensure_ascii=False) + "\n" for e in entries)
