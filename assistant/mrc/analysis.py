"""Tokens with part-of-speech tags and character offsets, for Korean and English text.

Korean goes through Kiwi (shared with `faq_index.tokenize`, loaded once per process). English
gets a light tagger (and a light stem: plural and third-person -s dropped) with Kiwi-style tags so that the reader treats both alike: numbers `SN`,
capitalised words `NNP`, other content words `NNG`, function words `FN`, punctuation `SP`.

    >>> [(t.form, t.tag) for t in analyse("The tyre holds 36 psi.")]
    [('the', 'FN'), ('tyre', 'NNG'), ('hold', 'NNG'), ('36', 'SN'), ('psi', 'NNG'), ('.', 'SP')]
    >>> [(t.form, t.tag) for t in analyse("한빛모터스는 1998년에 세워졌다.")][:3]
    [('한빛', 'NNP'), ('모터스', 'NNP'), ('는', 'JX')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from faq_index.tokenize import get_kiwi, has_hangul

__all__ = ["CONTENT_TAGS", "Token", "analyse", "word_set"]


def word_set(text: str) -> frozenset[str]:
    """The white-space separated words of `text` (for word lists written as one string)."""
    return frozenset(text.split())


#: Tags of morphemes that carry content (what overlap between question and text counts).
CONTENT_TAGS = frozenset(["NNG", "NNP", "NR", "SN", "SL", "SH", "VV", "VA", "XR", "NNB"])

_EN_TOKEN = re.compile(r"\d+(?:[.,:]\d+)*(?:st|nd|rd|th)?|[A-Za-z]+(?:['’][a-z]+)?|[^\w\s]")
_EN_FUNCTION = word_set(
    """a an the and or but if of to in on at by for with from as is are was were be been being am
    do does did have has had i me my we our you your he she it its they them their this that these
    those there what which who whom whose when where why how can could would should will shall may
    might must not no so than then too very just about into over also after before during while
    until since because such only both each other any some all most more many much"""
)
#: Kiwi's tags for serial numbers (080-700-0000), URLs, e-mail addresses and hashtags.
_SPECIAL = {"W_SERIAL": "SN", "W_URL": "SL", "W_EMAIL": "SL", "W_HASHTAG": "SL", "W_MENTION": "SL"}
_EN_NUMBERS = word_set(
    """one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty
    hundred thousand million billion"""
)


@dataclass(frozen=True, slots=True)
class Token:
    """A morpheme (Korean) or word (English): lower-cased `form`, `tag`, offsets [start, end)."""

    form: str
    tag: str
    start: int
    end: int


def _stem(word: str) -> str:
    """A light English stem, so that pressures / pressure and takes / take match."""
    if word.endswith(("'s", "’s")):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@lru_cache(maxsize=4096)
def analyse(text: str) -> tuple[Token, ...]:
    """Tokens of `text` (cached: passages are read again and again)."""
    if has_hangul(text):
        return _korean(text)
    return _english(text)


def _korean(text: str) -> tuple[Token, ...]:
    tokens: list[Token] = []
    for t in get_kiwi().tokenize(text):
        start = int(t.start)
        tag = str(t.tag).split("-")[0]
        tag = _SPECIAL.get(tag, tag)
        tokens.append(Token(str(t.form).lower(), tag, start, start + int(t.len)))
    return tuple(tokens)


def _english(text: str) -> tuple[Token, ...]:
    tokens: list[Token] = []
    sentence_start = True
    for match in _EN_TOKEN.finditer(text):
        word = match.group()
        lower = word.lower()
        if word[0].isdigit() or lower in _EN_NUMBERS:
            tag = "SN"
        elif not word[0].isalpha():
            tag = "SP"
        elif lower in _EN_FUNCTION:
            tag = "FN"
        elif word[0].isupper() and not sentence_start:
            tag = "NNP"
        elif len(lower) > 4 and lower.endswith(("ed", "ing")):
            tag = "VV"
        else:
            tag = "NNG"
        form = _stem(lower) if tag in ("NNG", "NNP", "VV") else lower
        tokens.append(Token(form, tag, match.start(), match.end()))
        sentence_start = word in (".", "?", "!")
    return tuple(tokens)
