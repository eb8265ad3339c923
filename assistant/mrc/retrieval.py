"""Passage retrieval through the shared similarity index of `faq_index`.

Each passage is one id of a `SimilarityIndex` with one text in the field `passage` (its section
path, then its text; embedded as an e5 "passage"). The section titles are part of that text:
indexed apart as a field of their own, they outweighed the text (on the demo manual's dev
questions recall@1 fell from 0.98 to 0.91 with e5, 0.97 to 0.87 without). `search` can keep to one locale, so a Korean
question is answered from the Korean manual.

    >>> from faq_index.encoders import HashingEncoder
    >>> index = PassageIndex(encoder=HashingEncoder())
    >>> index.add([Passage(id="m#0", document="m", section=("타이어",), text="공기압은 36 psi.",
    ...                    locale="ko"),
    ...            Passage(id="m#1", document="m", section=("와이퍼",), text="레버를 내리세요.",
    ...                    locale="ko")])
    >>> [hit.passage.id for hit in index.search("타이어 공기압", k=1)]
    ['m#0']
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from assistant.mrc.passage import Passage
from faq_index.encoders import Encoder
from faq_index.index import Row, SimilarityIndex

__all__ = ["PassageHit", "PassageIndex"]

FIELD = "passage"


@dataclass(frozen=True, slots=True)
class PassageHit:
    """A retrieved passage: fused `score` (ranking) and the index's `confidence` in [0, 1]."""

    passage: Passage
    score: float
    confidence: float


class PassageIndex:
    """Passages by id in a `SimilarityIndex` (BM25 over morphemes, character n-grams and,
    with an `encoder`, dense embeddings)."""

    def __init__(
        self, *, encoder: Encoder | None = None, signals: Sequence[str] | None = None
    ) -> None:
        self.index = SimilarityIndex(
            encoder=encoder, signals=signals, fields=(FIELD,), kinds={FIELD: "passage"}
        )
        self._passages: dict[str, Passage] = {}

    def __len__(self) -> int:
        return len(self._passages)

    def add(self, passages: Iterable[Passage]) -> None:
        """Index passages (a passage with a known id replaces the old one)."""
        new = list(passages)
        self._passages.update({p.id: p for p in new})
        self.index.add(Row(p.id, p.indexed_text(), field=FIELD) for p in new)

    def reset(self, passages: Iterable[Passage]) -> None:
        """Make `passages` the whole content."""
        new = list(passages)
        self.index.reset(Row(p.id, p.indexed_text(), field=FIELD) for p in new)
        self._passages = {p.id: p for p in new}

    def passages(self) -> list[Passage]:
        return list(self._passages.values())

    def get(self, passage_id: str) -> Passage | None:
        return self._passages.get(passage_id)

    def search(
        self,
        question: str,
        k: int = 3,
        *,
        locale: str | None = None,
        exclude: Collection[str] = (),
    ) -> list[PassageHit]:
        """The `k` passages most like the question, best first; with `locale`, only passages
        of that locale (and those whose locale is unknown); never those in `exclude`."""
        exclude = [*exclude] + (
            [pid for pid, p in self._passages.items() if p.locale and p.locale != locale]
            if locale
            else []
        )
        return [
            PassageHit(self._passages[hit.key], hit.score, hit.confidence)
            for hit in self.index.search(question, k, exclude_keys=exclude)
            if hit.key in self._passages
        ]
