"""Noisy copies of questions, as people type them: for evaluating how robust reading is.

`add_noise(text, rng)` returns the text with a few of the mistakes users make on a phone
keyboard, chosen at random (a seeded `random.Random`, so a noisy copy of a data set is the same
every run):

- dropped spaces ("보증 기간이 어떻게 돼" -> "보증기간이 어떻게돼");
- jamo-level typos in Korean: a vowel swapped for the one it is confused with (ㅐ/ㅔ, ㅒ/ㅖ,
  ㅚ/ㅙ/ㅞ), a plain consonant for its tense twin (ㄱ/ㄲ, ㄷ/ㄸ, ㅂ/ㅃ, ㅅ/ㅆ, ㅈ/ㅉ), a jamo for
  its neighbour on the two-set (두벌식) keyboard, a final consonant dropped;
- letter-level typos in English: two letters swapped, one dropped, doubled, or replaced by a
  keyboard neighbour;
- common misspellings (되/돼, 안/않, 며칠/몇일; receive/recieve, definitely/definately).

    >>> import random
    >>> add_noise("보증 기간은 얼마나 되나요?", random.Random(3)) != "보증 기간은 얼마나 되나요?"
    True
    >>> jamo_typo("예약", random.Random(0), kinds=("vowel",))
    '얘약'
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from assistant.normalize import detect_locale

__all__ = ["add_noise", "jamo_typo", "letter_typo"]

_CHO = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_JUNG = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_JONG = " ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"

#: Vowels people confuse (they sound alike in Seoul speech).
_VOWEL_CONFUSION = {
    "ㅐ": "ㅔ",
    "ㅔ": "ㅐ",
    "ㅒ": "ㅖ",
    "ㅖ": "ㅒ",
    "ㅚ": "ㅙ",
    "ㅙ": "ㅚ",
    "ㅞ": "ㅚ",
    "ㅢ": "ㅣ",
}
_TENSE = {"ㄱ": "ㄲ", "ㄷ": "ㄸ", "ㅂ": "ㅃ", "ㅅ": "ㅆ", "ㅈ": "ㅉ"}
_TENSE.update({v: k for k, v in list(_TENSE.items())})
#: Neighbours on the two-set keyboard (두벌식), left and right of each jamo key.
_ROWS = ("ㅂㅈㄷㄱㅅㅛㅕㅑㅐㅔ", "ㅁㄴㅇㄹㅎㅗㅓㅏㅣ", "ㅋㅌㅊㅍㅠㅜㅡ")
_KEY_NEIGHBOURS = {
    ch: row[max(0, i - 1) : i] + row[i + 1 : i + 2] for row in _ROWS for i, ch in enumerate(row)
}
_QWERTY = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_LETTER_NEIGHBOURS = {
    ch: row[max(0, i - 1) : i] + row[i + 1 : i + 2] for row in _QWERTY for i, ch in enumerate(row)
}

#: Common misspellings: (correct, misspelt), matched on word parts.
_MISSPELLINGS_KO = (
    ("돼", "되"),
    ("되", "돼"),
    ("안 ", "않 "),
    ("않", "안"),
    ("며칠", "몇일"),
    ("어떻게", "어떡게"),
    ("할게", "할께"),
    ("거예요", "거에요"),
    ("왠지", "웬지"),
    ("웬만", "왠만"),
    ("금세", "금새"),
    ("바라요", "바래요"),
    ("있대요", "있데요"),
    ("어떡해", "어떻해"),
)
_MISSPELLINGS_EN = (
    ("receive", "recieve"),
    ("definitely", "definately"),
    ("separate", "seperate"),
    ("necessary", "neccessary"),
    ("occurred", "occured"),
    ("their", "there"),
    ("you're", "your"),
    ("it's", "its"),
    ("a lot", "alot"),
    ("until", "untill"),
    ("which", "wich"),
    ("because", "becuase"),
    ("address", "adress"),
    ("beginning", "begining"),
    ("environment", "enviroment"),
    ("existing", "exsisting"),
    ("possible", "possibel"),
)

_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3


def _split(ch: str) -> tuple[int, int, int] | None:
    code = ord(ch) - _HANGUL_FIRST
    if not 0 <= code <= _HANGUL_LAST - _HANGUL_FIRST:
        return None
    return code // 588, (code % 588) // 28, code % 28


def _join(cho: int, jung: int, jong: int) -> str:
    return chr(_HANGUL_FIRST + cho * 588 + jung * 28 + jong)


def jamo_typo(
    text: str,
    rng: random.Random,
    *,
    kinds: Sequence[str] = ("vowel", "tense", "keyboard", "final"),
) -> str:
    """One jamo of one syllable changed (see the module docstring); the text unchanged when no
    syllable allows any of `kinds`."""
    positions = [i for i, ch in enumerate(text) if _split(ch) is not None]
    rng.shuffle(positions)
    for i in positions:
        split = _split(text[i])
        assert split is not None
        cho, jung, jong = split
        options: list[tuple[int, int, int]] = []
        if "vowel" in kinds and _JUNG[jung] in _VOWEL_CONFUSION:
            options.append((cho, _JUNG.index(_VOWEL_CONFUSION[_JUNG[jung]]), jong))
        if "tense" in kinds and _CHO[cho] in _TENSE:
            options.append((_CHO.index(_TENSE[_CHO[cho]]), jung, jong))
        if "keyboard" in kinds:
            for near in _KEY_NEIGHBOURS.get(_CHO[cho], ""):
                if near in _CHO:
                    options.append((_CHO.index(near), jung, jong))
            for near in _KEY_NEIGHBOURS.get(_JUNG[jung], ""):
                if near in _JUNG:
                    options.append((cho, _JUNG.index(near), jong))
        if "final" in kinds and jong:
            options.append((cho, jung, 0))
        if options:
            return text[:i] + _join(*rng.choice(options)) + text[i + 1 :]
    return text


def letter_typo(text: str, rng: random.Random) -> str:
    """One letter of a word of four letters or more swapped with the next, dropped, doubled
    or replaced by a keyboard neighbour; the text unchanged when it has no such word."""
    words = [m for m in re.finditer(r"[A-Za-z]{4,}", text)]
    if not words:
        return text
    word = rng.choice(words)
    i = rng.randrange(word.start() + 1, word.end() - 1)  # first and last letters stay
    kind = rng.choice(("swap", "drop", "double", "neighbour"))
    if kind == "swap":
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == "drop":
        return text[:i] + text[i + 1 :]
    if kind == "double":
        return text[:i] + text[i] + text[i:]
    near = _LETTER_NEIGHBOURS.get(text[i].lower(), "")
    return text[:i] + rng.choice(near) + text[i + 1 :] if near else text


def _misspell(text: str, rng: random.Random, table: Sequence[tuple[str, str]]) -> str:
    found = [(right, wrong) for right, wrong in table if right in text]
    if not found:
        return text
    right, wrong = rng.choice(found)
    starts = [m.start() for m in re.finditer(re.escape(right), text)]
    at = rng.choice(starts)
    return text[:at] + wrong + text[at + len(right) :]


def _drop_spaces(text: str, rng: random.Random, share: float) -> str:
    return re.sub(" ", lambda _: "" if rng.random() < share else " ", text)


def add_noise(text: str, rng: random.Random, *, locale: str | None = None) -> str:
    """The text with typing mistakes: in Korean, spaces dropped (each with probability 0.5),
    one jamo typo for every twelve syllables (at least one) and a common misspelling where one
    applies; in English, one letter typo for every six words (at least one) and a common
    misspelling where one applies, spaces dropped rarely (0.05)."""
    locale = locale or detect_locale(text)
    if locale == "ko":
        syllables = sum(1 for ch in text if _split(ch) is not None)
        for _ in range(max(1, syllables // 12)):
            text = jamo_typo(text, rng)
        if rng.random() < 0.5:
            text = _misspell(text, rng, _MISSPELLINGS_KO)
        return _drop_spaces(text, rng, 0.5)
    for _ in range(max(1, len(text.split()) // 6)):
        text = letter_typo(text, rng)
    if rng.random() < 0.5:
        text = _misspell(text, rng, _MISSPELLINGS_EN)
    return _drop_spaces(text, rng, 0.05)
