"""Documents split into passages that respect headings and paragraphs.

Each heading opens a section; the path of headings above a paragraph (`("Tyres", "Pressure")`)
goes with every passage cut from it, so retrieval sees the section title. Paragraphs of one
section are packed into a passage up to `max_chars`; a paragraph longer than that is cut at
sentence ends. A passage never spans two sections. `Passage.start`/`end` point into the
document's text, and `passage.text == document.text[start:end]`.

    >>> from assistant.mrc.documents import parse_markdown
    >>> doc = parse_markdown("# 타이어\\n## 공기압\\n권장 공기압은 36 psi입니다.\\n\\n"
    ...                      "# 와이퍼\\n레버를 내리세요.", id="manual")
    >>> [(p.id, p.section, p.text) for p in split_document(doc)]
    [('manual#0', ('타이어', '공기압'), '권장 공기압은 36 psi입니다.'), ('manual#1', ('와이퍼',), '레버를 내리세요.')]
"""

from __future__ import annotations

from collections.abc import Iterable

from assistant.mrc.documents import Document
from assistant.mrc.passage import Passage
from assistant.mrc.sentences import split_sentences

__all__ = ["split_document", "split_documents"]


def split_document(document: Document, *, max_chars: int = 600) -> list[Passage]:
    """The passages of one document, in order; see the module docstring."""
    if max_chars < 50:
        raise ValueError("max_chars must be at least 50")
    text = document.text
    headings: list[tuple[int, str]] = []  # (level, title) of the open sections
    pieces: list[tuple[tuple[str, ...], int, int]] = []
    run: list[tuple[int, int]] = []  # paragraphs packed into the current passage

    def close() -> None:
        if run:
            pieces.append((tuple(t for _, t in headings), run[0][0], run[-1][1]))
            run.clear()

    for block in document.blocks:
        if block.kind == "heading":
            close()
            while headings and headings[-1][0] >= block.level:
                headings.pop()
            headings.append((block.level, " ".join(text[block.start : block.end].split())))
            continue
        for start, end in _cut(text, block.start, block.end, max_chars):
            if run and end - run[0][0] > max_chars:
                close()
            run.append((start, end))
    close()
    return [
        Passage(
            id=f"{document.id}#{n}",
            document=document.id,
            text=text[start:end],
            section=section,
            start=start,
            end=end,
            title=document.title,
            locale=document.locale,
        )
        for n, (section, start, end) in enumerate(pieces)
    ]


def _cut(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """A paragraph as one piece, or cut at sentence ends into pieces of at most max_chars
    (a single longer sentence stays whole)."""
    if end - start <= max_chars:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    for s, e in split_sentences(text[start:end]):
        s, e = s + start, e + start
        if pieces and e - pieces[-1][0] <= max_chars:
            pieces[-1] = (pieces[-1][0], e)
        else:
            pieces.append((s, e))
    return pieces


def split_documents(documents: Iterable[Document], *, max_chars: int = 600) -> list[Passage]:
    """The passages of several documents, in order."""
    return [p for d in documents for p in split_document(d, max_chars=max_chars)]
