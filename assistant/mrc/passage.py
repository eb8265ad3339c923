"""A passage: the unit that is indexed, retrieved and read.

`text` is what the reader reads; `start`/`end` place it in the document's text, `section` is the
path of headings above it (kept with the passage, so "Tyres > Pressure" is part of what is
retrieved). `id` is `<document>#<n>`, the route's tail: `mrc:owner-manual-ko#12`.
`locale` (`ko`, `en` or "" when unknown) lets retrieval keep to the question's language.

    >>> p = Passage(id="manual#0", document="manual", section=("Tyres", "Pressure"),
    ...             text="Keep 36 psi.", start=20, end=32)
    >>> p.heading, p.indexed_text()
    ('Tyres > Pressure', 'Tyres > Pressure\\nKeep 36 psi.')
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Passage"]


@dataclass(frozen=True, slots=True)
class Passage:
    id: str
    document: str
    text: str
    section: tuple[str, ...] = ()
    start: int = 0
    end: int = 0
    title: str = ""
    locale: str = ""

    @property
    def heading(self) -> str:
        """The section path as one line ("" for a passage outside any section)."""
        return " > ".join(self.section)

    def indexed_text(self) -> str:
        """What retrieval sees: the headings, then the passage."""
        return f"{self.heading}\n{self.text}" if self.section else self.text
