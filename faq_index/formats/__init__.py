"""Import and export of FAQ entries: JSON Lines, CSV, YAML and Rasa retrieval-intent data.

Every reader checks the whole file and refuses it with every bad row's line number
(`EntryImportError`), so nothing is ever half-imported.

    >>> from pathlib import Path
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "faq.csv"
    >>> _ = path.write_text("id,question,answer\\nhours,영업시간은?,9시-18시\\n", encoding="utf-8")
    >>> [e.id for e in load_entries(path)]
    ['hours']
    >>> save_entries(load_entries(path), path.with_suffix(".jsonl"))
    >>> detect_format(path.with_suffix(".jsonl"))
    'jsonl'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import yaml

from faq_index.entry import FaqEntry
from faq_index.errors import EntryImportError, Problem
from faq_index.formats.csvfile import format_csv, parse_csv
from faq_index.formats.jsonl import format_jsonl, parse_jsonl
from faq_index.formats.rasa import format_rasa, parse_rasa
from faq_index.formats.yamlfile import format_yaml, parse_yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10x faster

__all__ = [
    "FORMATS",
    "Format",
    "detect_format",
    "dump_entries",
    "load_entries",
    "parse_entries",
    "save_entries",
]

Format = Literal["jsonl", "csv", "yaml", "rasa"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv", "yaml", "rasa")


def _looks_like_rasa(text: str) -> bool:
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError:
        return False
    return isinstance(data, dict) and ("nlu" in data or "responses" in data)


def detect_format(path: Path, text: str | None = None) -> Format:
    """The format of a file from its suffix (and, for YAML, whether it holds Rasa data)."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in (".yaml", ".yml"):
        if text is None:
            text = path.read_text(encoding="utf-8")
        return "rasa" if _looks_like_rasa(text) else "yaml"
    raise EntryImportError(
        str(path),
        [
            Problem(
                None, f"unknown file type {suffix!r}; use .jsonl, .csv, .yaml/.yml or name a format"
            )
        ],
    )


def parse_entries(text: str, format: Format, source: str = "<text>") -> list[FaqEntry]:
    """Entries from the text of one file in the given format."""
    if format == "jsonl":
        return parse_jsonl(text, source)
    if format == "csv":
        return parse_csv(text, source)
    if format == "yaml":
        return parse_yaml(text, source)
    if format == "rasa":
        return parse_rasa([text], source)
    raise ValueError(f"unknown format {format!r}; known: {list(FORMATS)}")


def load_entries(
    paths: Path | str | Sequence[Path | str], format: Format | None = None
) -> list[FaqEntry]:
    """Entries of one or more files; ids must be unique across all of them.

    Rasa files are read together, so NLU examples and responses may be in separate files.
    """
    items = [Path(p) for p in ([paths] if isinstance(paths, Path | str) else paths)]
    texts: list[tuple[Path, str, Format]] = []
    for path in items:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise EntryImportError(str(path), [Problem(None, f"cannot read the file: {e}")]) from e
        texts.append((path, text, format or detect_format(path, text)))
    entries: list[FaqEntry] = []
    rasa = [(p, t) for p, t, f in texts if f == "rasa"]
    if rasa:
        entries.extend(parse_rasa([t for _, t in rasa], ", ".join(str(p) for p, _ in rasa)))
    for path, text, fmt in texts:
        if fmt != "rasa":
            entries.extend(parse_entries(text, fmt, str(path)))
    counts = Counter(e.id for e in entries)
    repeated = sorted(i for i, n in counts.items() if n > 1)
    if repeated:
        raise EntryImportError(
            ", ".join(str(p) for p in items),
            [Problem(None, f"id(s) {repeated} appear in more than one file; ids must be unique")],
        )
    return entries


def dump_entries(entries: Iterable[FaqEntry], format: Format) -> str:
    if format == "jsonl":
        return format_jsonl(entries)
    if format == "csv":
        return format_csv(entries)
    if format == "yaml":
        return format_yaml(entries)
    if format == "rasa":
        return format_rasa(entries)
    raise ValueError(f"unknown format {format!r}; known: {list(FORMATS)}")


def save_entries(
    entries: Iterable[FaqEntry], path: Path | str, format: Format | None = None
) -> None:
    """Write entries to a file; the format comes from the suffix unless given (.yaml means YAML)."""
    path = Path(path)
    suffixes: dict[str, Format] = {".csv": "csv", ".yaml": "yaml", ".yml": "yaml"}
    chosen: Format = format or suffixes.get(path.suffix.lower(), "jsonl")
    path.write_text(dump_entries(entries, chosen), encoding="utf-8")
