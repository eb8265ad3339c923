"""Text normalization and locale detection applied before any skill sees a turn.

>>> normalize_text("  ＨＥＬＬＯ   world\\u200b!  ")
'HELLO world!'
>>> detect_locale("주문한 거 언제 와요?"), detect_locale("when does it arrive?")
('ko', 'en')
"""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFKC (full-width to half-width, composed Hangul), no zero-width marks, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    return _SPACES.sub(" ", text).strip()


def _is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3" or "\u3131" <= ch <= "\u318e" or "\u1100" <= ch <= "\u11ff"


def detect_locale(text: str, *, default: str = "ko") -> str:
    """`ko` when Hangul makes up at least a fifth of the letters, `en` when only Latin letters do.

    Mixed Korean text often carries English product names ("블루투스 pairing 안돼요"), hence
    the low Hangul share needed. Text without letters gets `default`.
    """
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return default
    hangul = sum(1 for ch in letters if _is_hangul(ch))
    if hangul * 5 >= len(letters):
        return "ko"
    latin = sum(1 for ch in letters if ch.isascii())
    return "en" if latin * 2 >= len(letters) else default
