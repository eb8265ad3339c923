"""A follow-up that asks about a detail of the last answer, answered from that answer's text.

After "보증 기간이 어떻게 돼?" (answered: general parts 3 years, engine and transmission 5
years), "엔진은요?" asks for the part of that answer about the engine. When every content word of
the follow-up ("엔진") is in the last answer, the answer is read as the MRC reader reads a passage
(the process's shared reader, `assistant.mrc.factory.shared_reader`, through the MRC skill that
holds it): the clause that holds those words is the reply, with the span the reader found in it,
and the reply says which part of the earlier answer it is. Otherwise there is no such
candidate and the follow-up is answered from the rewritten question as before.

    >>> clauses("급속은 kWh당 340원, 완속은 kWh당 250원입니다. 다른 곳은 다릅니다.")
    ['급속은 kWh당 340원', '완속은 kWh당 250원입니다.', '다른 곳은 다릅니다.']
    >>> content_words("and the engine?", "en")
    ['engine']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.mrc.passage import Passage
from assistant.mrc.reader import Reader

__all__ = ["Detail", "clauses", "content_words", "read_detail"]

#: A follow-up with more content words than this asks a question of its own.
MAX_WORDS = 3
_SENTENCE = re.compile(r"(?<=[.!?。])\s+|\n+")
_JOIN = re.compile(r"\s+(?:and|but|while|whereas)\s+(?![^()]*\))")
_EN_WORD = re.compile(r"[a-z][a-z0-9'-]*|\d+")
_EN_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "so",
        "then",
        "what",
        "whats",
        "what's",
        "about",
        "how",
        "hows",
        "how's",
        "is",
        "are",
        "was",
        "were",
        "be",
        "do",
        "does",
        "did",
        "for",
        "of",
        "on",
        "in",
        "at",
        "to",
        "with",
        "it",
        "its",
        "it's",
        "that",
        "this",
        "those",
        "these",
        "there",
        "they",
        "them",
        "me",
        "my",
        "i",
        "you",
        "your",
        "we",
        "our",
        "please",
        "also",
        "too",
        "again",
        "just",
        "only",
        "which",
        "when",
        "where",
        "who",
        "why",
        "much",
        "many",
        "long",
        "one",
        "ones",
        "part",
        "case",
        "if",
        "any",
        "some",
        "more",
    ]
)
_KO_KEEP = ("NNG", "NNP", "SL", "SN", "XR", "NR")


@dataclass(frozen=True, slots=True)
class Detail:
    """The part of the last answer a follow-up asks about: `clause` (the reply), `span` (what
    the reader picked in it; None when it picked nothing there), `words` (the follow-up's
    content words) and `confidence`."""

    clause: str
    span: str | None
    words: tuple[str, ...]
    confidence: float


def clauses(text: str) -> list[str]:
    """Sentences split further at a comma followed by a space, outside parentheses."""
    out: list[str] = []
    for sentence in _SENTENCE.split(text.strip()):
        depth, start = 0, 0
        for i, ch in enumerate(sentence):
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth = max(0, depth - 1)
            elif ch == "," and depth == 0 and sentence[i + 1 : i + 2] == " ":
                out.append(sentence[start:i].strip())
                start = i + 1
        out.append(sentence[start:].strip())
    return [part for c in out if c for part in _split_and(c)]


def _split_and(clause: str) -> list[str]:
    """An English clause split at "and" / "but" / "while" when both sides have three words or
    more ("fast charging costs 340 won and slow charging 250 won")."""
    pieces = _JOIN.split(clause)
    if len(pieces) < 2 or any(len(p.split()) < 3 for p in pieces):
        return [clause]
    return [p.strip() for p in pieces]


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def content_words(text: str, locale: str) -> list[str]:
    """The words that carry meaning: Korean nouns, numbers and foreign words (Kiwi), English
    words other than function words (plural s taken off)."""
    if locale == "ko":
        from faq_index.tokenize import get_kiwi

        tokens = get_kiwi().tokenize(text)
        words = [str(t.form).lower() for t in tokens if str(t.tag).startswith(_KO_KEEP)]
        return list(dict.fromkeys(words))
    words = [_stem(w) for w in _EN_WORD.findall(text.lower()) if w not in _EN_STOP]
    return list(dict.fromkeys(words))


def _holds(clause: str, words: Sequence[str], locale: str) -> bool:
    if locale == "ko":
        lowered = clause.lower()
        return all(w in lowered for w in words)
    found = {_stem(w) for w in _EN_WORD.findall(clause.lower())}
    return all(w in found for w in words)


def read_detail(
    fragment: str, question: str, answer: str, reader: Reader | None, locale: str
) -> Detail | None:
    """The part of `answer` that the follow-up `fragment` asks about (`question`: the question
    the answer was for), or None when the answer does not hold every content word of the
    fragment in one clause, or the fragment has none or more than `MAX_WORDS`."""
    words = content_words(fragment, locale)
    # "그럼 완속 충전은 얼마야?" after "충전비 얼마야?": the words of the question again are
    # no detail; what is new is ("완속")
    asked = set(content_words(question, locale))
    lowered = question.lower()
    new = [w for w in words if w not in asked and (locale != "ko" or w not in lowered)]
    words = new or words
    if not words or len(words) > MAX_WORDS:
        return None
    parts = clauses(answer)
    if len(parts) < 2:  # an answer of one clause has no part to pick
        return None
    holding = [c for c in parts if _holds(c, words, locale)]
    if len(holding) != 1:  # no clause, or several: the part asked about is not clear
        return None
    clause = holding[0]
    span: str | None = None
    confidence = 0.75
    if reader is not None:
        passage = Passage(id="last-answer#0", document="last-answer", text=answer)
        try:
            found = reader.read(f"{fragment} {question}".strip(), [passage], k=3)
        except Exception:  # a failing reader leaves the clause, never the turn
            found = []
        start = answer.find(clause)
        for candidate in found:
            if start <= candidate.start and candidate.end <= start + len(clause):
                span = candidate.text
                confidence = 0.8 + 0.15 * max(0.0, min(1.0, candidate.score))
                break
    return Detail(clause=clause, span=span, words=tuple(words), confidence=round(confidence, 4))
