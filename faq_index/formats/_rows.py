"""Turning raw rows (line number + mapping) into entries, refusing the file on any bad row."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from faq_index.entry import FaqEntry
from faq_index.errors import EntryImportError, Problem

Row = tuple[int | None, Mapping[str, Any]]


def entries_from_rows(rows: Iterable[Row], source: str, problems: list[Problem]) -> list[FaqEntry]:
    """Validate every row; raise `EntryImportError` listing all problems (earlier ones included)."""
    entries: list[FaqEntry] = []
    first_line: dict[str, int | None] = {}
    for line, row in rows:
        try:
            entry = FaqEntry.model_validate(dict(row))
        except ValidationError as e:
            for item in e.errors():
                field = ".".join(str(p) for p in item["loc"]) or "row"
                problems.append(Problem(line, f"{field}: {item['msg']}"))
            continue
        if entry.id in first_line:
            where = first_line[entry.id]
            problems.append(
                Problem(
                    line, f"id {entry.id!r} repeats the entry of line {where}; ids must be unique"
                )
            )
            continue
        first_line[entry.id] = line
        entries.append(entry)
    if problems:
        problems.sort(key=lambda p: -1 if p.line is None else p.line)
        raise EntryImportError(source, problems)
    return entries


def entry_to_row(entry: FaqEntry) -> dict[str, Any]:
    """The entry as a plain mapping without empty optional fields (for JSON and YAML)."""
    data = entry.model_dump(mode="json", exclude_none=True)
    return {k: v for k, v in data.items() if v not in ("", [], ())}
