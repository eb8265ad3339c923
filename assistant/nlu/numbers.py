"""Numbers written in digits, Korean numerals (sino and native) or English words.

Korean has two sets of numerals: sino-Korean (일 이 삼 ... 십 백 천 만), used for degrees,
dates, minutes and money, and native Korean (하나/한 둘/두 셋/세 ... 열 스물 서른), used for
hours and counting. Both appear in speech recognized text: "이십이 도", "스물두 도", "세 시 반".

    >>> korean_number("이십이"), korean_number("스물두"), korean_number("3만 5천"), korean_number("열두")
    (22, 22, 35000, 12)
    >>> english_number("twenty two"), english_number("one hundred and five"), english_number("7.5")
    (22, 105, 7.5)
    >>> [(n.value, n.text) for n in find_numbers("온도 스물두 도로 맞추고 볼륨은 30으로")]
    [(22, '스물두'), (30, '30')]

Many Korean words contain numeral syllables (이사, 오이, 천천히), so `find_numbers` takes a
sino-Korean run without digits only when it holds a unit (십 백 천 만) or stands before a
counter (도, 시, 분, 월, 일, 퍼센트 ...), and a native numeral only before a counter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "COUNTERS",
    "NumberSpan",
    "english_number",
    "find_numbers",
    "korean_number",
    "number_value",
]

_SINO_DIGITS = {
    "영": 0,
    "공": 0,
    "일": 1,
    "이": 2,
    "삼": 3,
    "사": 4,
    "오": 5,
    "육": 6,
    "륙": 6,
    "칠": 7,
    "팔": 8,
    "구": 9,
}
_SINO_UNITS = {"십": 10, "백": 100, "천": 1000}
_SINO_BIG = {"만": 10_000, "억": 100_000_000, "조": 1_000_000_000_000}

_NATIVE_ONES = {
    "하나": 1,
    "한": 1,
    "둘": 2,
    "두": 2,
    "셋": 3,
    "세": 3,
    "석": 3,
    "넷": 4,
    "네": 4,
    "넉": 4,
    "다섯": 5,
    "여섯": 6,
    "일곱": 7,
    "여덟": 8,
    "아홉": 9,
}
_NATIVE_TENS = {
    "열": 10,
    "스물": 20,
    "스무": 20,
    "서른": 30,
    "마흔": 40,
    "쉰": 50,
    "예순": 60,
    "일흔": 70,
    "여든": 80,
    "아흔": 90,
}

#: Words that count something; a Korean numeral right before one is read as a number.
COUNTERS = (
    "퍼센트",
    "프로",
    "도",
    "시간",
    "시",
    "분",
    "초",
    "월",
    "일",
    "주",
    "년",
    "번",
    "개",
    "명",
    "층",
    "살",
    "단계",
    "칸",
    "곡",
    "원",
    "킬로",
    "키로",
    "%",
    "℃",
    "°",
)

_DIGITS = r"\d+(?:,\d{3})*(?:\.\d+)?"
_SINO_RUN = "[영공일이삼사오육륙칠팔구십백천만억조]+"
_NATIVE = (
    "(?:열|스물|스무|서른|마흔|쉰|예순|일흔|여든|아흔)(?:하나|다섯|여섯|일곱|여덟|아홉|한|둘|두|셋|세|넷|네)?"
    "|하나|다섯|여섯|일곱|여덟|아홉|한|둘|두|셋|세|석|넷|네|넉"
)
#: One numeral: digits (maybe with a unit: 3만, 2.5천), a sino-Korean run or a native numeral.
NUMERAL = rf"(?:{_DIGITS}(?:\s?[만천백억](?:\s?\d+(?:\s?[천백십])?)*)?|{_SINO_RUN}|(?:{_NATIVE}))"
_COUNTER = "|".join(re.escape(c) for c in COUNTERS)
_FIND = re.compile(
    rf"(?<![\w.])(?P<num>{_DIGITS}(?:\s?[만천백억](?:\s?\d+\s?[천백십]?)*)?"
    rf"|{_SINO_RUN}|{_NATIVE})(?P<gap>\s?)(?P<counter>{_COUNTER})?"
)

_EN_ONES = {
    "zero": 0,
    "oh": 0,
    "one": 1,
    "a": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_EN_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_EN_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_EN_WORD = "|".join(sorted([*_EN_ONES, *_EN_TENS, *_EN_SCALES], key=len, reverse=True))
_EN_FIND = re.compile(
    rf"\b(?:{_EN_WORD})(?:(?:[\s-]+|\s+and\s+)(?:{_EN_WORD}))*\b|(?<![\w.]){_DIGITS}(?![\w])",
    re.IGNORECASE,
)


def _plain(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _sino(text: str) -> int | None:
    if not text or any(
        ch not in _SINO_DIGITS and ch not in _SINO_UNITS and ch not in _SINO_BIG for ch in text
    ):
        return None
    if not any(ch in _SINO_UNITS or ch in _SINO_BIG for ch in text):
        if len(text) == 1:
            return _SINO_DIGITS[text]
        return int("".join(str(_SINO_DIGITS[ch]) for ch in text))  # spelled digits: 일이삼
    total = section = 0
    current: int | None = None
    for ch in text:
        if ch in _SINO_DIGITS:
            current = _SINO_DIGITS[ch]
        elif ch in _SINO_UNITS:
            section += (1 if current is None else current) * _SINO_UNITS[ch]
            current = None
        else:
            total += (section + (current or 0) or 1) * _SINO_BIG[ch]
            section, current = 0, None
    return total + section + (current or 0)


def _native(text: str) -> int | None:
    for tens, ten_value in sorted(_NATIVE_TENS.items(), key=lambda kv: -len(kv[0])):
        if text.startswith(tens):
            rest = text[len(tens) :]
            if not rest:
                return ten_value
            one = _NATIVE_ONES.get(rest)
            return None if one is None else ten_value + one
    return _NATIVE_ONES.get(text)


def _digits_with_units(text: str) -> float | None:
    """3만 5천, 2.5천, 1,200, 12: digits, optionally grouped by Korean units."""
    compact = text.replace(" ", "").replace(",", "")
    if re.fullmatch(r"\d+(?:\.\d+)?", compact):
        return float(compact)
    total = 0.0
    section = 0.0
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)([만천백십억]?)", compact):
        value = float(amount)
        if unit in ("만", "억"):
            total += (section + value) * _SINO_BIG[unit]
            section = 0.0
        elif unit:
            section += value * _SINO_UNITS[unit]
        else:
            section += value
    if not re.fullmatch(r"(?:\d+(?:\.\d+)?[만천백십억]?)+", compact):
        return None
    return total + section


def korean_number(text: str) -> int | float | None:
    """The value of a number in digits or Korean numerals, or None when it is none."""
    text = text.strip()
    if not text:
        return None
    if text[0].isdigit():
        found = _digits_with_units(text)
        return None if found is None else _plain(found)
    compact = text.replace(" ", "")
    value = _native(compact)
    if value is not None:
        return value
    return _sino(compact)


def english_number(text: str) -> int | float | None:
    """The value of a number in digits or English words ("twenty-two", "a hundred")."""
    text = text.strip().lower()
    if re.fullmatch(_DIGITS, text):
        return _plain(float(text.replace(",", "")))
    words = [w for w in re.split(r"[\s-]+", text) if w and w != "and"]
    if not words or any(
        w not in _EN_ONES and w not in _EN_TENS and w not in _EN_SCALES for w in words
    ):
        return None
    if words == ["a"]:
        return None
    total = current = 0
    for word in words:
        if word in _EN_ONES:
            current += _EN_ONES[word]
        elif word in _EN_TENS:
            current += _EN_TENS[word]
        elif word == "hundred":
            current = (current or 1) * 100
        else:
            total += (current or 1) * _EN_SCALES[word]
            current = 0
    return total + current


def number_value(text: str) -> int | float | None:
    """A number in any of the supported forms."""
    found = korean_number(text)
    return found if found is not None else english_number(text)


@dataclass(frozen=True, slots=True)
class NumberSpan:
    """A number found in a text: its value, where it is, and the counter after it (도, 시...)."""

    value: int | float
    start: int
    end: int
    text: str
    counter: str | None = None
    counter_end: int | None = None


_SINO_DECIMAL = re.compile(
    r"(?<![\w.])(?P<whole>[영공일이삼사오육륙칠팔구십백천]{2,})\s?점\s?(?P<part>[영공일이삼사오육칠팔구]+)"
    r"(?=$|[^가-힣]|으로|로|도|에|까지|메가|킬로)"
)


def _decimals(text: str) -> list[NumberSpan]:
    """Sino-Korean numbers of two syllables or more with a decimal point said: 구십일점구
    (91.9), 팔십구 점 일 (89.1); "이점이" is no number.

    >>> [(n.value, n.text) for n in _decimals("라디오 구십일점구 틀어 줘")]
    [(91.9, '구십일점구')]
    """
    found = []
    for m in _SINO_DECIMAL.finditer(text):
        whole = _sino(m.group("whole"))
        if whole is None:
            continue
        digits = "".join(str(_SINO_DIGITS[ch]) for ch in m.group("part"))
        found.append(NumberSpan(float(f"{whole}.{digits}"), m.start(), m.end(), m.group(0)))
    return found


def find_numbers(text: str) -> list[NumberSpan]:
    """Every number in the text, left to right (see the module docstring for what counts)."""
    found: list[NumberSpan] = _decimals(text)
    spans = [(n.start, n.end) for n in found]
    taken = 0
    for match in _FIND.finditer(text):
        if match.start() < taken or any(s <= match.start() < e for s, e in spans):
            continue
        num, counter = match.group("num"), match.group("counter")
        gap = match.group("gap")
        if num[0].isdigit():
            value = korean_number(num)
        else:
            after = text[match.end("num") :]
            korean_word_follows = bool(after) and not counter and "\uac00" <= after[0] <= "\ud7a3"
            if counter and gap and len(num) == 1 and _SINO_DIGITS.get(num) is not None:
                counter = None  # "이 도로": a single sino syllable needs its counter attached
            native = _native(num)
            if native is not None:
                value = native if counter else None
            elif korean_word_follows and not counter:
                value = None  # 천천히, 이사를, 오이가: part of a word
            elif counter or (len(num) > 1 and any(c in _SINO_UNITS or c in _SINO_BIG for c in num)):
                value = _sino(num)
            else:
                value = None
        if value is None:
            continue
        end = match.end("num")
        found.append(
            NumberSpan(
                value=value,
                start=match.start("num"),
                end=end,
                text=num,
                counter=counter,
                counter_end=match.end("counter") if counter else None,
            )
        )
        taken = match.end()
    for match in _EN_FIND.finditer(text):
        if any(n.start <= match.start() < n.end for n in found):
            continue
        word = match.group(0)
        if word.lower() in ("a", "oh", "one") and not re.search(r"\d", word):
            continue  # "a", "oh", "one" alone are words far more often than numbers
        value = english_number(word)
        if value is not None:
            found.append(NumberSpan(value, match.start(), match.end(), word))
    return sorted(found, key=lambda n: n.start)
