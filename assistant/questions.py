"""Several questions in one message, split into the sentences and clauses that ask them.

"영수증을 다시 받고 싶어요. 그리고 보증 기간도 궁금해요" asks two things; answered as one text,
neither question is found. The dialogue manager (`assistant.dialogue`) splits such a message
with `split_questions`, puts every part to the skills and answers each part it can, offering
the others as quick replies.

Korean sentences are found by Kiwi (`split_into_sents`, which also finds sentences that end
without punctuation), English ones at . ? ! and line breaks; a sentence is split again where a
conjunction starts a new question ("그리고", "또한", "and how ...", "also, ...").

    >>> split_questions("How long is the warranty? And how much does charging cost?", "en")
    ['How long is the warranty?', 'how much does charging cost?']
    >>> split_questions("how long is the warranty and how much does charging cost", "en")
    ['how long is the warranty', 'how much does charging cost']
    >>> split_questions("What is the warranty?", "en")
    ['What is the warranty?']
"""

from __future__ import annotations

import re

__all__ = ["MAX_PARTS", "split_questions"]

#: At most this many parts are answered; the rest of a long message is left to the first ones.
MAX_PARTS = 6
#: A part needs this many letters to be asked on its own.
MIN_LETTERS = 4

_EN_SENTENCE = re.compile(r"(?<=[.?!])\s+|\n+")
_KO_CONJUNCTION = re.compile(
    r"(?:^|\s)(?:그리고요?|또한|아울러|그리고\s?또|그 외에도|추가로|그리구)[\s,]+"
)
_EN_CONJUNCTION = re.compile(
    r"^(?:and|also|plus|besides)[\s,]+"
    r"|[\s,]+(?:and|also|plus)(?:\s+also)?[\s,]+(?=(?:how|what|when|where|why|which|who|can|could|"
    r"do|does|is|are|will|should|may|i|my)\b)",
    re.IGNORECASE,
)


#: A part that asks or requests something (it is kept first when a message has too many).
_ASKS = re.compile(
    r"[?？]|(?:나요|까요|가요|을까|ㄹ까|는지|ㄴ지|은지|려면|주세요|줘요|줘|알려|궁금|어떻게|어디|언제|얼마|"
    r"몇|무엇|뭐)|\b(?:how|what|when|where|why|which|who|can|could|do|does|is|are|please)\b",
    re.IGNORECASE,
)


def _letters(text: str) -> int:
    return sum(1 for ch in text if ch.isalpha())


def _sentences(text: str, locale: str) -> list[str]:
    if locale == "ko":
        from faq_index.tokenize import get_kiwi

        return [str(s.text).strip() for s in get_kiwi().split_into_sents(text)]
    return [s.strip() for s in _EN_SENTENCE.split(text)]


def split_questions(text: str, locale: str) -> list[str]:
    """The parts of `text` that ask something on their own, in order (the text alone when it
    has one; parts with fewer than `MIN_LETTERS` letters joined to the part before; at most
    `MAX_PARTS`, those that ask or request something kept first)."""
    conjunction = _KO_CONJUNCTION if locale == "ko" else _EN_CONJUNCTION
    parts: list[str] = []
    for sentence in _sentences(text, locale):
        for piece in conjunction.split(sentence):
            piece = piece.strip(" ,")
            if not piece:
                continue
            if parts and _letters(piece) < MIN_LETTERS:
                parts[-1] = f"{parts[-1]} {piece}"
            else:
                parts.append(piece)
    if len(parts) > 1 and _letters(parts[0]) < MIN_LETTERS:
        parts[:2] = [f"{parts[0]} {parts[1]}"]
    if len(parts) <= 1:
        return [text]
    if len(parts) > MAX_PARTS:  # a long message: the parts that ask first, then the others
        asking = sorted(range(len(parts)), key=lambda i: (not _ASKS.search(parts[i]), i))
        parts = [parts[i] for i in sorted(asking[:MAX_PARTS])]
    return parts
