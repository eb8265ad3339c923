"""Errors raised by `faq_index`.

FaqIndexError
├── EntryImportError      a file of FAQ entries was refused; `problems` lists every bad row
├── DuplicateEntryError   an entry id that must be new is already in the index or the file
├── UnknownEntryError     an entry id that must exist is not in the index
├── EncoderError          an embedding encoder could not be loaded or failed to encode
└── CalibrationError      fusion weights or a calibrator could not be fitted or loaded

    >>> try:
    ...     raise EntryImportError("faq.csv", [Problem(line=3, message="question is empty")])
    ... except FaqIndexError as e:
    ...     print(e)
    faq.csv: 1 problem, nothing imported:
      line 3: question is empty
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CalibrationError",
    "DuplicateEntryError",
    "EncoderError",
    "EntryImportError",
    "FaqIndexError",
    "Problem",
    "UnknownEntryError",
]


class FaqIndexError(Exception):
    """Base class of the errors of `faq_index`."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One bad row of an import: where it is (1-based line, or None for the whole file) and why."""

    line: int | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line is not None else self.message


class EntryImportError(FaqIndexError):
    """A file of entries was refused as a whole; nothing of it was imported."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = "\n".join(f"  {p}" for p in self.problems[:50])
        more = f"\n  ... and {count - 50} more" if count > 50 else ""
        super().__init__(f"{source}: {count} {noun}, nothing imported:\n{lines}{more}")


class DuplicateEntryError(FaqIndexError):
    """An entry id is already taken; use update to change an existing entry."""


class UnknownEntryError(FaqIndexError, KeyError):
    """No entry has this id; list the entries to see which ids exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class EncoderError(FaqIndexError):
    """An embedding encoder could not be loaded or could not encode."""


class CalibrationError(FaqIndexError):
    """Fusion weights or a calibrator could not be fitted or loaded."""
