"""Text analysis for matching: normalized text in, a list of comparable tokens out.

Both patterns and utterances go through the same analyzer, so whatever it does to one side it
does to the other. Text is NFKC-normalized (full-width to half-width) and case-folded; runs of a
repeated jamo or punctuation mark are shortened ("ㅋㅋㅋㅋ" and "ㅋㅋ" are one token).

Text with Hangul is split into morphemes by Kiwi (`kiwipiepy`) and reduced to the morphemes that
carry meaning: endings, particles, the copula and punctuation are dropped, and a verb or
adjective made with 하다/되다 keeps only its stem, so 심심해, 심심해요, 심심하네, 심심하다 and
심심 해 all become the one token 심심. Text without Hangul is split into words. Keys are case-folded.

    >>> [t.key for t in analyze(normalize("아 진짜 심심해요!!"))]
    ['아', '진짜', '심심']
    >>> [t.key for t in analyze(normalize("What's UP?"))]
    ['whats', 'up']

Kiwi is created once per process, on first use (it takes a second or two to load), and shared
by every thread behind a lock.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

__all__ = ["Token", "analyze", "has_hangul", "normalize"]

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"\s+")
# Three or more of the same jamo or symbol (ㅋㅋㅋㅋ, ㅠㅠㅠ, !!!, ???) become two.
_REPEATS = re.compile(r"([\u3131-\u318e\u1100-\u11ff!?.~^])\1{2,}")
_HANGUL = re.compile("[\uac00-\ud7a3\u3131-\u318e\u1100-\u11ff]")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_JAMO = re.compile("[\u3131-\u318e\u1100-\u11ff]")

# Kiwi tags of morphemes that carry no meaning for matching.
_DROP_PREFIXES = ("E", "J")  # endings (EF, EC, EP, ETM, ETN) and particles (JKS, JX, ...)
_DROP_TAGS = frozenset({"VCP", "XSA", "XSV", "XSN", "SF", "SP", "SS", "SE", "SO", "Z_CODA"})
_LIGHT_VERBS = ("하", "되")
_NOUNISH = frozenset({"NNG", "NNP", "XR"})


@dataclass(frozen=True, slots=True)
class Token:
    """One comparable unit: `key` is compared, `start`/`end` locate it in the normalized text."""

    key: str
    start: int
    end: int


def normalize(text: str) -> str:
    """NFKC, no zero-width marks, shortened repeats, single spaces; case is kept for captures.

    >>> normalize("  ＨＥＬＬＯ   world!!!!  ")
    'HELLO world!!'
    """
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _REPEATS.sub(r"\1\1", text)
    return _SPACES.sub(" ", text).strip()


def has_hangul(text: str) -> bool:
    return _HANGUL.search(text) is not None


def analyze(text: str) -> list[Token]:
    """Tokens of already `normalize`d text (Kiwi morphemes when it has Hangul, else words)."""
    if has_hangul(text):
        return _analyze_korean(text)
    return [
        Token(m.group().replace("'", "").casefold(), m.start(), m.end())
        for m in _WORD.finditer(text)
    ]


_kiwi_lock = threading.Lock()


def _kiwi() -> Any:
    # One Kiwi per process (it weighs about 450 MB), shared with the FAQ index and the MRC
    # reader; imported here because loading it takes a second or two.
    from faq_index.tokenize import get_kiwi

    return get_kiwi()


def _tokenize(text: str) -> list[Any]:
    with _kiwi_lock:
        return list(_kiwi().tokenize(text))


def _analyze_korean(text: str) -> list[Token]:
    tokens: list[Token] = []
    last_tag = ""
    last_end = -1
    for morph in _tokenize(text):
        form: str = morph.form.casefold()
        tag: str = morph.tag
        start: int = morph.start
        end: int = start + morph.len
        keep = _keep(form, tag, attached_to_noun=last_tag in _NOUNISH and last_end == start)
        last_tag, last_end = tag, end
        if not keep:
            continue
        if tag.startswith(("VA", "VV")) and len(form) > 1 and form.endswith(_LIGHT_VERBS):
            form = form[:-1]  # 심심하 -> 심심, as 심심 + 하 (XSA) reads when split
        if tokens and tokens[-1].end > start:  # a stem fused with its ending: keep one span
            start = tokens[-1].end
        tokens.append(Token(form, start, max(end, start)))
    return tokens


def _keep(form: str, tag: str, *, attached_to_noun: bool) -> bool:
    if tag.startswith(_DROP_PREFIXES) or tag in _DROP_TAGS:
        return False
    if tag == "VX" and form == "주":  # 해 줘, 알려 주세요: the request adds nothing to match on
        return False
    if tag == "SW":  # symbols: keep ㅋㅋ, ㅠㅠ, ㅎㅇ; drop ~, ^ and the like
        return _JAMO.search(form) is not None
    # 걱정돼 reads as 걱정 + 되 (VV) where 걱정된다 reads 되 as a suffix: treat both alike.
    return not (attached_to_noun and tag.startswith("VV") and form in _LIGHT_VERBS)
