"""CSV with a header row, as spreadsheets export it.

Columns: `id, question, answer` (required) and `alternatives, category, tags, locale, link_url,
link_label, image_url, image_alt, quick_replies`. List columns hold items separated by `|`.

    >>> text = "id,question,answer,alternatives\\nhours,영업시간은?,9시-18시,몇 시까지 해요?|언제 열어요?\\n"
    >>> parse_csv(text)[0].alternatives
    ('몇 시까지 해요?', '언제 열어요?')
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from faq_index.entry import FaqEntry
from faq_index.errors import EntryImportError, Problem
from faq_index.formats._rows import Row, entries_from_rows

__all__ = ["COLUMNS", "format_csv", "parse_csv"]

COLUMNS = (
    "id",
    "question",
    "answer",
    "alternatives",
    "category",
    "tags",
    "locale",
    "link_url",
    "link_label",
    "image_url",
    "image_alt",
    "quick_replies",
)
_LISTS = ("alternatives", "tags", "quick_replies")
_SEPARATOR = "|"


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(_SEPARATOR) if item.strip()]


def _row_to_entry_data(row: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in ("id", "question", "answer", "category"):
        if key in row:
            data[key] = row[key] or ""
    for key in _LISTS:
        if row.get(key):
            data[key] = _split(row[key])
    if row.get("locale"):
        data["locale"] = row["locale"]
    if row.get("link_url"):
        data["link"] = {"url": row["link_url"], "label": row.get("link_label") or ""}
    if row.get("image_url"):
        data["image"] = {"url": row["image_url"], "alt_text": row.get("image_alt") or ""}
    return data


def parse_csv(text: str, source: str = "<csv>") -> list[FaqEntry]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = reader.fieldnames or []
    missing = [c for c in ("id", "question", "answer") if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        message = []
        if missing:
            message.append(f"header lacks column(s) {missing}")
        if unknown:
            message.append(f"unknown column(s) {unknown}; known: {list(COLUMNS)}")
        raise EntryImportError(source, [Problem(1, "; ".join(message))])
    problems: list[Problem] = []
    rows: list[Row] = []
    start = reader.line_num + 1
    for raw in reader:
        line = start
        start = reader.line_num + 1
        if None in raw:
            problems.append(
                Problem(line, f"more fields than the {len(header)} columns of the header")
            )
            continue
        values = {k: (v or "") for k, v in raw.items()}
        if not any(values.values()):
            continue
        rows.append((line, _row_to_entry_data(values)))
    return entries_from_rows(rows, source, problems)


def format_csv(entries: Iterable[FaqEntry]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for e in entries:
        for item in (*e.alternatives, *e.tags, *e.quick_replies):
            if _SEPARATOR in item:
                raise ValueError(
                    f"entry {e.id!r}: {item!r} contains '|', which CSV uses between list items; "
                    "export to JSON Lines or YAML instead"
                )
        writer.writerow(
            {
                "id": e.id,
                "question": e.question,
                "answer": e.answer,
                "alternatives": _SEPARATOR.join(e.alternatives),
                "category": e.category,
                "tags": _SEPARATOR.join(e.tags),
                "locale": e.locale or "",
                "link_url": e.link.url if e.link else "",
                "link_label": e.link.label if e.link else "",
                "image_url": e.image.url if e.image else "",
                "image_alt": e.image.alt_text if e.image else "",
                "quick_replies": _SEPARATOR.join(e.quick_replies),
            }
        )
    return out.getvalue()
