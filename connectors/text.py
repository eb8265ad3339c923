"""Fitting text into a channel's limits: split long text at natural breaks, shorten with "…".

>>> shorten("주문하신 상품은 내일 도착합니다", 10)
'주문하신 상품은…'
>>> split("첫 문장입니다. 두 번째 문장입니다.", 12)
['첫 문장입니다.', '두 번째 문장입니다.']
>>> sentences("평일 9시에 엽니다. 주말엔 쉬어요! Why? Because.")
['평일 9시에 엽니다.', '주말엔 쉬어요!', 'Why?', 'Because.']
"""

from __future__ import annotations

import re

ELLIPSIS = "…"
#: Where a long text is best cut, best first: paragraphs, lines, sentences, words.
_BREAKS = ("\n\n", "\n", ". ", "? ", "! ", "다. ", "요. ", " ")


def shorten(text: str, limit: int) -> str:
    """`text` itself when it fits, else cut at a word boundary (when one is near) plus "…"."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return text[:limit]
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space >= limit * 0.6:
        head = head[:space]
    return head.rstrip() + ELLIPSIS


#: A sentence ends at . ! ? (or their full-width forms) and white space, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n+")


def sentences(text: str) -> list[str]:
    """`text` cut into sentences (numbers like 8.5 stay whole: a break needs white space)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def split(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut at the most natural break available."""
    if limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = limit
        for sep in _BREAKS:
            at = window.rfind(sep)
            if at >= limit // 3:
                cut = at + len(sep.rstrip()) if sep.strip() else at
                break
        piece = rest[:cut].rstrip()
        if not piece:  # nothing but a break in the window: cut hard
            piece, cut = rest[:limit], limit
        pieces.append(piece)
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


__all__ = ["sentences", "shorten", "split"]
