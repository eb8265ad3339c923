"""Sentence boundaries with character offsets, for Korean and English prose.

A sentence ends at `.`, `?`, `!` or `。` followed by white space (so 3.5 and e.g.x stay whole),
or at a line break. Offsets index the text given, so evidence can be pointed at exactly.

    >>> text = "타이어 공기압은 36 psi입니다. 매달 점검하세요!\\nCheck it monthly."
    >>> [text[s:e] for s, e in split_sentences(text)]
    ['타이어 공기압은 36 psi입니다.', '매달 점검하세요!', 'Check it monthly.']
"""

from __future__ import annotations

import re

__all__ = ["sentence_at", "split_sentences"]

_END = re.compile(r"(?<=[.?!。])[\"'”’)\]]*\s+|\n+")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank sentence, leading and trailing spaces excluded."""
    spans: list[tuple[int, int]] = []
    position = 0
    for match in _END.finditer(text):
        _add(text, position, match.start() + len(match.group().rstrip()), spans)
        position = match.end()
    _add(text, position, len(text), spans)
    return spans


def _add(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def sentence_at(spans: list[tuple[int, int]], offset: int) -> tuple[int, int]:
    """The sentence span holding `offset` (the last one starting at or before it)."""
    chosen = spans[0] if spans else (0, 0)
    for span in spans:
        if span[0] <= offset:
            chosen = span
        else:
            break
    return chosen
