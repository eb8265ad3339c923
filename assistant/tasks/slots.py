"""Slot values: from entities to stored values, validation, and how a value is said.

A slot's `type` decides what fills it and how its value is kept (JSON):

| type | filled by | kept as | said (ko / en) |
|---|---|---|---|
| `number` | number | number | 3 |
| `temperature` | temperature, a number when asked | degrees Celsius | 22도 / 22°C |
| `percentage` | percentage, a number when asked | number | 50% |
| `date` | date, datetime | `2026-12-02` | 12월 2일 수요일 / Wednesday, December 2 |
| `time` | time, datetime | `15:00` | 오후 3시 / 3 PM |
| `datetime` | datetime, a date and a time | ISO 8601 with offset | both |
| `phone` | phone | digits | 010-1234-5678 |
| `text` | the answer to its prompt | text | as said |
| an entity's name | that entity (lookup, pattern, template; the answer when asked) | canonical value | as kept |

    >>> fill_template("{place}(으)로 안내할게요. {name}(이)가 기다려요.", {"place": "서울역", "name": "민수"})
    '서울역으로 안내할게요. 민수가 기다려요.'
    >>> say_value("time", "15:30", "ko"), say_value("date", "2026-12-02", "en")
    ('오후 3시 30분', 'Wednesday, December 2')
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

__all__ = ["BUILTIN_SLOT_TYPES", "fill_template", "josa", "say_value", "temperature_celsius"]

BUILTIN_SLOT_TYPES = (
    "text",
    "number",
    "temperature",
    "percentage",
    "date",
    "time",
    "datetime",
    "phone",
)

_KO_WEEKDAYS = ("월요일", "화요일", "수요일", "목요일", "금요일", "토요일", "일요일")
_JOSA = {
    "(으)로": ("으로", "로"),
    "(이)가": ("이", "가"),
    "(을)를": ("을", "를"),
    "(은)는": ("은", "는"),
    "(과)와": ("과", "와"),
    "(와)과": ("과", "와"),
    "(이)에요": ("이에요", "예요"),
    "(이)야": ("이야", "야"),
    "(이)랑": ("이랑", "랑"),
}
_PLACEHOLDER = re.compile(
    r"\{(?P<name>[\w.]+)\}(?P<josa>" + "|".join(re.escape(j) for j in _JOSA) + ")?"
)
_DIGIT_BATCHIM = {"0": True, "1": True, "3": True, "6": True, "7": True, "8": True}


def _batchim(word: str) -> tuple[bool, bool]:
    """Whether the word ends in a final consonant, and whether that consonant is ㄹ."""
    last = word.rstrip()[-1:] if word.strip() else ""
    if "가" <= last <= "힣":
        final = (ord(last) - 0xAC00) % 28
        return final != 0, final == 8
    if last.isdigit():
        return _DIGIT_BATCHIM.get(last, False), last in "178"
    return last.lower() in ("l", "m", "n"), last.lower() == "l"


def josa(word: str, marker: str) -> str:
    """The particle form that follows `word`: josa("서울역", "(으)로") == "으로"."""
    with_final, form = _JOSA[marker]
    has_final, is_rieul = _batchim(word)
    if marker == "(으)로":
        return with_final if has_final and not is_rieul else form
    return with_final if has_final else form


def fill_template(template: str, values: dict[str, str]) -> str:
    """`{name}` replaced by its value, with a Korean particle marker after it fitted to it."""

    def replace(match: re.Match[str]) -> str:
        value = values.get(match.group("name"), "")
        marker = match.group("josa")
        return value + (josa(value, marker) if marker and value else "")

    return _PLACEHOLDER.sub(replace, template)


def temperature_celsius(value: Any) -> float | None:
    """Degrees Celsius from a temperature entity's value (Fahrenheit converted)."""
    if isinstance(value, dict):
        amount = value.get("value")
        if not isinstance(amount, int | float):
            return None
        if value.get("unit") == "F":
            return round((amount - 32) * 5 / 9 * 2) / 2  # to the half degree
        return float(amount)
    if isinstance(value, int | float):
        return float(value)
    return None


def _plain_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _say_time(clock: time, locale: str) -> str:
    if locale == "ko":
        half = "오전" if clock.hour < 12 else "오후"
        hour = clock.hour % 12 or 12
        return f"{half} {hour}시" + (f" {clock.minute}분" if clock.minute else "")
    hour = clock.hour % 12 or 12
    suffix = "AM" if clock.hour < 12 else "PM"
    return f"{hour}:{clock.minute:02d} {suffix}" if clock.minute else f"{hour} {suffix}"


def _say_date(day: date, locale: str) -> str:
    if locale == "ko":
        return f"{day.month}월 {day.day}일 {_KO_WEEKDAYS[day.weekday()]}"
    return day.strftime("%A, %B ") + str(day.day)


def say_value(kind: str, value: Any, locale: str) -> str:
    """How a slot value of this type is said in the locale."""
    if value is None:
        return ""
    try:
        if kind == "date":
            return _say_date(date.fromisoformat(str(value)), locale)
        if kind == "time":
            return _say_time(time.fromisoformat(str(value)), locale)
        if kind == "datetime":
            moment = datetime.fromisoformat(str(value))
            joiner = " " if locale == "ko" else " at "
            return _say_date(moment.date(), locale) + joiner + _say_time(moment.time(), locale)
    except ValueError:
        return str(value)
    if kind == "temperature" and isinstance(value, int | float):
        return f"{_plain_number(value)}도" if locale == "ko" else f"{_plain_number(value)}°C"
    if kind == "percentage" and isinstance(value, int | float):
        return f"{_plain_number(value)}%"
    if kind == "number" and isinstance(value, int | float):
        return _plain_number(value)
    if kind == "phone":
        digits = str(value)
        if re.fullmatch(r"01\d{8,9}", digits):
            return f"{digits[:3]}-{digits[3:-4]}-{digits[-4:]}"
        if re.fullmatch(r"02\d{7,8}", digits):
            return f"02-{digits[2:-4]}-{digits[-4:]}"
        if re.fullmatch(r"1\d{7}", digits):
            return f"{digits[:4]}-{digits[4:]}"
        return digits
    return str(value)
