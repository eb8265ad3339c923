"""The reader interface: a question and passages in, answer spans with evidence out.

A reader returns answers best first; an empty list means "no answer" (a valid result: the
passages do not say). Each `Answer` points into its passage: `passage.text[start:end] == text`,
and `sentence` is the span of the sentence around it (what a voice reply reads out).

    >>> from assistant.mrc.lexical import LexicalReader
    >>> passage = Passage(id="m#0", document="m", text="권장 공기압은 36 psi입니다.")
    >>> [answer] = LexicalReader().read("권장 공기압은 얼마인가요?", [passage])
    >>> answer.text, passage.text[answer.start:answer.end] == answer.text
    ('36 psi', True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from assistant.mrc.passage import Passage

__all__ = ["Answer", "Passage", "Reader"]


@dataclass(frozen=True, slots=True)
class Answer:
    """A span of `passage.text`: [start, end), its `score` in [0, 1] (higher is better) and the
    sentence [sentence_start, sentence_end) that holds it."""

    text: str
    start: int
    end: int
    score: float
    passage: Passage
    sentence_start: int
    sentence_end: int

    @property
    def sentence(self) -> str:
        return self.passage.text[self.sentence_start : self.sentence_end]


@runtime_checkable
class Reader(Protocol):
    """Anything that reads answers out of passages; `name` goes into logs and details."""

    name: str

    def read(self, question: str, passages: Sequence[Passage], *, k: int = 1) -> list[Answer]:
        """The best `k` answers over all passages, best first; [] when there is none."""
        ...
