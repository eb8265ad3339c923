"""Exact match and F1 as the official scripts compute them.

Korean (KorQuAD 1.0): quotes and brackets become spaces, lower-case, punctuation removed, and
F1 is counted over characters (white space dropped). English (SQuAD v1.1): lower-case,
punctuation and articles removed, F1 over white-space tokens. Each question scores its best
match over the gold answers.

    >>> round(f1_score("1989년 2월", "1989년 2월 15일", "ko"), 3)
    0.824
    >>> exact_match("The Eiffel Tower", "eiffel tower!", "en")
    True
    >>> round(f1_score("in the tower", "eiffel tower", "en"), 3)
    0.5
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from typing import Literal

__all__ = ["Language", "best_scores", "exact_match", "f1_score", "language_of", "normalize"]

Language = Literal["ko", "en"]

_PUNCTUATION = frozenset(string.punctuation)
_KO_QUOTES = re.compile(r"['\"《》<>〈〉()‘’]")
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def language_of(text: str) -> Language:
    """`ko` when the text holds Hangul, else `en`."""
    return "ko" if re.search("[가-힣]", text) else "en"


def normalize(text: str, language: Language) -> str:
    """The official normalisation of an answer string."""
    if language == "ko":
        text = _KO_QUOTES.sub(" ", text)
        text = "".join(c for c in text.lower() if c not in _PUNCTUATION)
    else:
        text = "".join(c for c in text.lower() if c not in _PUNCTUATION)
        text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _units(text: str, language: Language) -> list[str]:
    normalized = normalize(text, language)
    if language == "ko":
        return list("".join(normalized.split()))
    return normalized.split()


def f1_score(prediction: str, gold: str, language: Language) -> float:
    """Character F1 (ko) or token F1 (en) of one prediction against one gold answer."""
    predicted, expected = _units(prediction, language), _units(gold, language)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, gold: str, language: Language) -> bool:
    return normalize(prediction, language) == normalize(gold, language)


def best_scores(prediction: str, golds: Sequence[str], language: Language) -> tuple[float, float]:
    """(exact match, F1) of a prediction, each the best over the gold answers."""
    if not golds:
        raise ValueError("a question needs at least one gold answer")
    em = max(float(exact_match(prediction, g, language)) for g in golds)
    f1 = max(f1_score(prediction, g, language) for g in golds)
    return em, f1
