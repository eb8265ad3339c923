"""Text normalization and locale detection applied before any skill sees a turn.

>>> normalize_text("  ＨＥＬＬＯ   world\\u200b!  ")
'HELLO world!'
>>> detect_locale("주문한 거 언제 와요?"), detect_locale("when does it arrive?")
('ko', 'en')
"""

from __future__ import annotations

import csv
import functools
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

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


# --- robust reading ---------------------------------------------------------------------------
#
# What users type is not what the FAQ, the rules and the intent examples were written in:
# slang and abbreviations ("블투 어케 연결해"), common misspellings and typos ("정비 얘약"),
# words run together ("보증기간이어떻게돼"). `read_text` gives the text as it was meant, with
# the changes it made; the dialogue manager puts that reading to the skills beside the text as
# typed (assistant.dialogue), so a correction that makes things worse costs nothing.

#: Korean particles and endings a slang word may carry ("블투가", "어케요").
_PARTICLES = frozenset(
    [
        "은",
        "는",
        "이",
        "가",
        "을",
        "를",
        "도",
        "요",
        "에",
        "에서",
        "에선",
        "으로",
        "로",
        "랑",
        "이랑",
        "하고",
        "만",
        "좀",
        "의",
        "와",
        "과",
        "이요",
        "은요",
        "는요",
        "도요",
        "로요",
        "에요",
        "야",
        "이야",
        "임",
        "는데",
        "인데",
        "부터",
        "까지",
        "처럼",
        "보다",
        "한테",
        "께",
        "이나",
        "나",
    ]
)
_KO_WORD = re.compile(r"[0-9A-Za-z/\uac00-\ud7a3]+|[\u3131-\u318e]+")
_EN_WORD = re.compile(r"[0-9A-Za-z/'\-]+")
_EMOTICON_JAMO = "ㅋㅎㅠㅜ"
#: Conjoining jamo (what NFKC makes of ㄳ, ㅋㅋ) to the compatibility jamo people type.
_COMPATIBILITY_JAMO = {
    ord(unicodedata.normalize("NFKC", chr(c))): chr(c)
    for c in range(0x3131, 0x318F)
    if len(unicodedata.normalize("NFKC", chr(c))) == 1
}
#: A Hangul run this long without a space is read with Kiwi's spacing model.
_UNSPACED = re.compile(r"[\uac00-\ud7a3]{8,}")
#: Kiwi's typo model ("basic": ㅐ/ㅔ, 되/돼, 않/안 ...) and the cost it may spend on a text.
KIWI_TYPOS = "basic"
KIWI_TYPO_COST = 2.5


@dataclass(frozen=True, slots=True)
class Reading:
    """A text as it was meant: `text`, and `changes` as (typed, read) pairs, in order."""

    text: str
    changes: tuple[tuple[str, str], ...] = ()


@functools.cache
def slang_table() -> dict[str, dict[str, str]]:
    """locale -> typed form -> meaning, from the table that ships with the package
    (`assistant/slang.csv`; English forms in lower case)."""
    table: dict[str, dict[str, str]] = {}
    source = resources.files("assistant").joinpath("slang.csv").read_text(encoding="utf-8")
    for row in csv.DictReader(io.StringIO(source)):
        form = row["form"].strip()
        key = form.lower() if row["locale"] == "en" else form
        table.setdefault(row["locale"], {})[key] = (row["meaning"] or "").strip()
    return table


def expand_slang(text: str, locale: str) -> Reading:
    """Slang and abbreviations replaced by what they mean: whole words, in Korean also with a
    particle or ending after them ("블투가" -> "블루투스가"); forms that mean nothing (ㅋㅋ, ㅠㅠ)
    are dropped."""
    table = slang_table().get(locale, {})
    if not table:
        return Reading(text)
    changes: list[tuple[str, str]] = []

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        if locale == "en":
            meaning = table.get(word.lower())
            if meaning is None:
                return word
            changes.append((word, meaning))
            return meaning
        if len(word) >= 2 and not word.strip(_EMOTICON_JAMO):  # ㅋㅋㅋ, ㅠㅠ: no words
            changes.append((word, ""))
            return ""
        for end in range(len(word), 0, -1):
            meaning = table.get(word[:end])
            rest = word[end:]
            if meaning is not None and (not rest or rest in _PARTICLES):
                changes.append((word[:end], meaning))
                return meaning + rest if meaning else rest
        return word

    pattern = _EN_WORD if locale == "en" else _KO_WORD
    expanded = pattern.sub(replace, text)
    return Reading(_SPACES.sub(" ", expanded).strip(), tuple(changes))


def correct_korean(text: str) -> Reading:
    """Typos and misspellings corrected by Kiwi's typo-tolerant analysis (the shared analyser,
    `faq_index.tokenize.get_kiwi`; typo model `KIWI_TYPOS`), and runs of eight syllables or
    more without a space spaced by Kiwi's spacing model. Only whole syllables are replaced."""
    from faq_index.tokenize import get_kiwi

    kiwi = get_kiwi()
    changes: list[tuple[str, str]] = []
    tokens = kiwi.tokenize(text, typos=KIWI_TYPOS, typo_cost_threshold=KIWI_TYPO_COST)
    fixed = text
    for token in reversed(tokens):
        if token.typo_cost <= 0:
            continue
        typed = text[token.start : token.start + token.len]
        form = str(token.form)
        if not form or not all("\uac00" <= ch <= "\ud7a3" for ch in form) or form == typed:
            continue
        if len(form) != len(typed):  # a syllable merged with an ending: leave it
            continue
        fixed = fixed[: token.start] + form + fixed[token.start + token.len :]
        changes.append((typed, form))
    changes.reverse()

    def space(match: re.Match[str]) -> str:
        run = match.group(0)
        spaced = str(kiwi.space(run, reset_whitespace=False))
        if spaced != run:
            changes.append((run, spaced))
        return spaced

    fixed = _UNSPACED.sub(space, fixed)
    return Reading(fixed, tuple(changes))


_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]{2,}")


def _is_syllables(text: str) -> bool:
    return all("\uac00" <= ch <= "\ud7a3" for ch in text)


def _jamo_variants(word: str) -> set[str]:
    """Every word one jamo away: one syllable's initial, vowel or final changed."""
    found: set[str] = set()
    for i, ch in enumerate(word):
        code = ord(ch) - 0xAC00
        cho, jung, jong = code // 588, (code % 588) // 28, code % 28
        for c in range(19):
            if c != cho:
                found.add(word[:i] + chr(0xAC00 + c * 588 + jung * 28 + jong) + word[i + 1 :])
        for v in range(21):
            if v != jung:
                found.add(word[:i] + chr(0xAC00 + cho * 588 + v * 28 + jong) + word[i + 1 :])
        for f in range(28):
            if f != jong:
                found.add(word[:i] + chr(0xAC00 + cho * 588 + jung * 28 + f) + word[i + 1 :])
    return found


#: Kiwi's score of a word it knows (a noun, a verb and its ending) is above this; a typo's
#: is below (-12 to -18 against -22 to -36 for two syllables).
_UNLIKELY_SCORE = -20.0
_NOUNISH = ("NN", "XR", "XSN", "NP")


@functools.lru_cache(maxsize=4096)
def _analysis(word: str) -> tuple[tuple[str, ...], float]:
    from faq_index.tokenize import get_kiwi

    tokens, score = get_kiwi().analyze(word, top_n=1)[0][:2]
    return tuple(str(t.tag) for t in tokens), float(score)


def _looks_mistyped(window: str, meant: str) -> bool:
    """A window Kiwi reads only as nouns (two syllables: unlikely ones), where the noun it
    would be reads much better: "김면" (NNP+XR, -25) for "감면" (-16); not "수있" (수 있),
    "하고", "신청하" (신청 + 하)."""
    tags, score = _analysis(window)
    if len(window) == 2 and score >= _UNLIKELY_SCORE:
        return False
    if not all(t.startswith(_NOUNISH) for t in tags):
        return False
    return _analysis(meant)[1] > score + 4.0


_WORD = re.compile(r"[A-Za-z][a-z]+")


class Vocabulary:
    """The words a bot's content uses (FAQ questions and answers...), to correct English
    typos against: a word of five letters or more that the content does not use is replaced
    by the most frequent content word one edit away (a letter dropped, added, changed, or two
    swapped), when there is one.

        >>> Vocabulary(["How long is the warranty?"]).correct("how long is the waranty")
        Reading(text='how long is the warranty', changes=(('waranty', 'warranty'),))
    """

    def __init__(self, texts: Iterable[str]) -> None:
        self.counts: dict[str, int] = {}
        self._korean_texts: list[str] = []
        for text in texts:
            for word in _WORD.findall(text.lower()):
                self.counts[word] = self.counts.get(word, 0) + 1
            if _HANGUL_RUN.search(text):
                self._korean_texts.append(text)

    def __len__(self) -> int:
        return len(self.counts) + len(self._korean_texts)

    @functools.cached_property
    def nouns(self) -> dict[str, int]:
        """Korean nouns of two to four syllables in the texts (Kiwi), with their counts."""
        if not self._korean_texts:
            return {}
        from faq_index.tokenize import get_kiwi

        counts: dict[str, int] = {}
        kiwi = get_kiwi()
        for tokens in (kiwi.tokenize(text) for text in self._korean_texts):
            for token in tokens:
                form = str(token.form)
                noun = str(token.tag) in ("NNG", "NNP") and 2 <= len(form) <= 4
                if noun and _is_syllables(form):
                    counts[form] = counts.get(form, 0) + 1
        return counts

    def correct_korean(self, text: str) -> Reading:
        """Syllable windows that are no noun of the texts but one jamo away from exactly one
        that is (used twice or more), replaced by it when the window looks mistyped to Kiwi
        (`_looks_mistyped`): "김면해주나요" -> "감면해주나요"."""
        nouns = self.nouns
        if not nouns:
            return Reading(text)
        changes: list[tuple[str, str]] = []
        out = list(text)
        i = 0
        while i < len(out):
            fixed = 0
            for size in (4, 3, 2):
                window = "".join(out[i : i + size])
                if len(window) < size or not _is_syllables(window) or window in nouns:
                    if window in nouns:
                        fixed = size
                        break
                    continue
                near = [v for v in _jamo_variants(window) if nouns.get(v, 0) >= 2]
                if len(near) == 1 and _looks_mistyped(window, near[0]):
                    out[i : i + size] = list(near[0])
                    changes.append((window, near[0]))
                    fixed = size
                    break
            i += fixed or 1
        return Reading("".join(out), tuple(changes))

    def _near(self, word: str) -> str | None:
        splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
        edits = {a + b[1:] for a, b in splits if b}
        edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        edits |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
        edits |= {a + c + b for a, b in splits for c in _LETTERS}
        known = [(self.counts[e], e) for e in edits if e in self.counts]
        return max(known)[1] if known else None

    def correct(self, text: str) -> Reading:
        changes: list[tuple[str, str]] = []

        def replace(match: re.Match[str]) -> str:
            word = match.group(0)
            lower = word.lower()
            if len(lower) < 5 or lower in self.counts:
                return word
            near = self._near(lower)
            if near is None:
                return word
            changes.append((word, near))
            return near

        return Reading(_WORD.sub(replace, text), tuple(changes))


def read_text(text: str, locale: str, vocabulary: Vocabulary | None = None) -> Reading:
    """The text as it was meant (see above): slang expanded, then, in Korean, typos corrected
    and long runs spaced, in English typos corrected against `vocabulary` when given.
    Normalized text in, normalized text out; a text left empty (it was only ㅋㅋ) reads as
    typed."""
    typed = text
    text = text.translate(_COMPATIBILITY_JAMO)  # NFKC made ㄳ a conjoining jamo: back
    slang = expand_slang(text, locale)
    changes = list(slang.changes)
    read = slang.text
    if locale == "ko" and read:
        corrected = correct_korean(read)
        read, changes = corrected.text, changes + list(corrected.changes)
        if vocabulary is not None and len(vocabulary):
            corrected = vocabulary.correct_korean(read)
            read, changes = corrected.text, changes + list(corrected.changes)
    elif read and vocabulary is not None and len(vocabulary):
        corrected = vocabulary.correct(read)
        read, changes = corrected.text, changes + list(corrected.changes)
    if not read or not changes:
        return Reading(typed)
    return Reading(read, tuple(changes))
