"""Words for lexical matching: Kiwi morphemes for Korean, lower-cased words for other languages.

Korean is agglutinative: 충전요금은 / 충전 요금이 must both give 충전 + 요금, so Hangul text goes
through Kiwi and only content morphemes (nouns, verb and adjective stems, roots, foreign words,
numbers, adverbs like 안) are kept. Text without Hangul is split into words with a small stop
list and a light plural/possessive strip, which is enough for BM25 on FAQ questions.

    >>> tokenizer = Tokenizer()
    >>> tokenizer.tokens("How do I pair my phones?")
    ['pair', 'phone']
    >>> tokenizer.tokens("충전요금은 얼마인가요?")
    ['충전', '요금', '얼마']

Kiwi is loaded on first use (about a second) and shared by all tokenizers of the process.
"""

from __future__ import annotations

import re
import threading
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Tokenizer", "has_hangul"]

_HANGUL = re.compile("[\uac00-\ud7a3\u3131-\u318e]")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_KEEP_TAGS = ("NNG", "NNP", "NR", "NP", "VV", "VA", "XR", "SL", "SN", "SH", "MAG", "XSN")
_EN_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "doing",
        "have",
        "has",
        "had",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "he",
        "she",
        "it",
        "its",
        "they",
        "them",
        "their",
        "this",
        "that",
        "these",
        "those",
        "there",
        "what",
        "which",
        "who",
        "whom",
        "how",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "so",
        "than",
        "too",
        "very",
        "just",
        "about",
        "into",
        "over",
        "any",
        "some",
        "no",
        "not",
    ]
)
_kiwi_lock = threading.Lock()
_kiwi: Any = None


def has_hangul(text: str) -> bool:
    return _HANGUL.search(text) is not None


def get_kiwi() -> Any:
    """The process's one Kiwi analyser (about 230 MB), loaded on first use and shared by the
    FAQ tokenizer, the small-talk rules and the MRC reader. Two of its dictionaries stay out,
    saving 200 MB (436 against 235 MB once the first text is analysed):

    - the multi-word one (`load_multi_dict=False`, 150 MB): names of several words from
      Wikidata (people, works: "조지 워커 부시"), analysed word by word without it;
    - the default user dictionary (`load_default_dict=False`, 53 MB): 113,000 contractions
      and names added to the model's own lexicon.

    Without both, on the Korean FAQ set (welfare_ko, 4,579 questions) the hybrid search
    answered as well (accuracy@1 0.696 against 0.694, MRR@10 0.763 against 0.762), the lexical
    signals alone a little worse (0.655 against 0.656), and the bundled Korean small-talk rules
    matched as many questions of ChatbotData (37.8 %; 33.7 % answered). And:

    - No thread pool (`num_workers=0`): each text is analysed in the calling thread. That is
      no slower here (one text: 0.55 ms against 1.1 ms through the pool; a batch of 2,000
      questions 1.1 s either way), and the analyser keeps working in processes forked after
      it was loaded (`assistant serve --workers N`), where the pool's threads do not exist.
    """
    global _kiwi
    with _kiwi_lock:
        if _kiwi is None:
            from kiwipiepy import Kiwi

            with warnings.catch_warnings():
                # "behavior of `num_workers=0` is changed since v0.21.0": to this, no pool
                warnings.filterwarnings("ignore", "behavior of `num_workers=0`", DeprecationWarning)
                _kiwi = Kiwi(num_workers=0, load_multi_dict=False, load_default_dict=False)
        return _kiwi


def _strip_suffix(word: str) -> str:
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


class Tokenizer:
    """Splits a text into the terms BM25 counts; `morphemes=False` skips Kiwi (tests, speed)."""

    def __init__(self, *, morphemes: bool = True) -> None:
        self.morphemes = morphemes

    def tokens(self, text: str) -> list[str]:
        if self.morphemes and has_hangul(text):
            return self._korean(text)
        return self._words(text)

    def tokens_many(self, texts: Iterable[str]) -> list[list[str]]:
        """Terms of many texts."""
        return [self.tokens(text) for text in texts]

    def _words(self, text: str) -> list[str]:
        words = (_strip_suffix(w) for w in _WORD.findall(text.lower()))
        return [w for w in words if w not in _EN_STOP]

    def _korean(self, text: str) -> list[str]:
        return self._keep(get_kiwi().tokenize(text))

    def _keep(self, tokens: Iterable[Any]) -> list[str]:
        out: list[str] = []
        for token in tokens:
            tag = str(token.tag).split("-")[0]
            if tag.startswith(_KEEP_TAGS):
                form = str(token.form).lower()
                out.append(_strip_suffix(form) if tag == "SL" else form)
        return out
