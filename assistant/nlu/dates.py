"""Dates and times in Korean and English, resolved against the user's clock.

`find_datetimes(text, now)` finds each date and time expression and resolves it against `now`
(an aware datetime in the user's timezone). A date and a time next to each other ("내일 오후
3시", "tomorrow at 3pm") make one `datetime` entity with an ISO 8601 value and the user's UTC
offset; a date alone is a `date` (`2026-12-04`), a time alone a `time` (`15:00`).

    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> now = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Seoul"))  # a Tuesday
    >>> [(e.type, e.value) for e in find_datetimes("내일 오후 3시에 예약해 줘", now)]
    [('datetime', '2026-12-02T15:00:00+09:00')]
    >>> [(e.type, e.value) for e in find_datetimes("다음 주 금요일", now)]
    [('date', '2026-12-11')]
    >>> [(e.type, e.value) for e in find_datetimes("tomorrow at 3pm", now)]
    [('datetime', '2026-12-02T15:00:00+09:00')]

Choices (documented because users depend on them):

- An hour from 1 to 7 without 오전/오후, am/pm, 아침/저녁 or morning/evening is read as
  afternoon ("3시" is 15:00): people book and meet in the afternoon far more often than before
  dawn. 8 to 11 is morning; 12 is noon.
- A month and day without a year that has already passed this year is next year's; a day of
  the month alone ("15일") that has passed is next month's.
- A weekday alone ("금요일", "on friday") is the next one, today included; "다음 주 금요일"
  and "next friday" are the Friday of next week (weeks start on Monday); "이번 주 금요일" and
  "this friday" the Friday of this week.
- English numeric dates are month/day (12/3 is December 3), as in the US.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dateutil import parser as dateutil_parser
from dateutil.relativedelta import relativedelta

from assistant.nlu.entity import Entity
from assistant.nlu.numbers import NUMERAL, english_number, korean_number

__all__ = ["find_datetimes"]

_KO_DAYS = {"오늘": 0, "금일": 0, "내일모레": 2, "내일": 1, "명일": 1, "모레": 2, "글피": 3}
_KO_DAYS.update({"어제": -1, "그저께": -2, "그제": -2})
_KO_WEEKDAYS = "월화수목금토일"
_EN_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_EN_WD = r"(?P<wd>mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:rs|rsday)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)"
_MONTHS = r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t|tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
_EN_NUM = r"\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"

_KO_DATE = re.compile(
    "|".join(
        [
            r"(?P<rel>내일모레|오늘|금일|내일|명일|모레|글피|어제|그저께|그제)",
            rf"(?:(?P<year>\d{{4}})\s?년\s?|(?P<yword>올해|내년)\s?)?(?P<month>{NUMERAL})\s?월\s?(?P<day>{NUMERAL})\s?일",
            r"(?P<iso>\d{4})[-./]\s?(?P<iso_m>\d{1,2})[-./]\s?(?P<iso_d>\d{1,2})\.?",
            r"(?P<slash_m>\d{1,2})/(?P<slash_d>\d{1,2})(?!\d)",
            rf"(?P<nextmonth>다음\s?달|담달|이번\s?달)\s?(?P<nm_day>{NUMERAL})\s?일",
            r"(?P<week>이번\s?주|금주|다음\s?주|담주|다다음\s?주|지난\s?주|저번\s?주)?\s?"
            rf"(?P<wd>[{_KO_WEEKDAYS}])(?:요일|욜)",
            r"(?P<weekend>이번\s?|다음\s?)?주말",
            rf"(?P<after_n>{NUMERAL})\s?(?P<after_unit>일|주|주일|달|개월)\s?(?:뒤|후|있다가)",
            r"(?<![\w])(?P<dom>\d{1,2}|[일이삼사오육칠팔구십]+)\s?일(?!\s?(?:뒤|후|동안|간|째))(?=\s|$|[에로은는까부,.?!])",
        ]
    )
)
_KO_TIME = re.compile(
    "|".join(
        [
            # an hour inside a word is none ("조수석 시트" holds no 3 o'clock)
            r"(?:(?P<ap>오전|오후|아침|저녁|밤|새벽|낮|점심)\s?|(?<![가-힣A-Za-z]))"
            rf"(?P<hour>{NUMERAL})\s?시(?!간)(?:\s?(?P<half>반)|\s?(?P<minute>{NUMERAL})\s?분)?",
            r"(?P<ap2>오전|오후)?\s?(?P<hh>\d{1,2}):(?P<mm>\d{2})",
            r"(?P<noon>정오|자정)",
            rf"(?P<in_n>{NUMERAL})\s?(?P<in_unit>시간|분)\s?(?:반\s?)?(?:뒤|후|있다가)",
        ]
    )
)
_EN_DATE = re.compile(
    "|".join(
        [
            r"\b(?P<rel>the\s+day\s+after\s+tomorrow|day\s+after\s+tomorrow|today|tonight|tomorrow|yesterday)\b",
            rf"\b(?P<mname>(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?)\b",
            rf"\b(?P<dname>\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})(?:,?\s+\d{{4}})?)\b",
            r"\b(?P<iso>\d{4})-(?P<iso_m>\d{1,2})-(?P<iso_d>\d{1,2})\b",
            r"\b(?P<slash_m>\d{1,2})/(?P<slash_d>\d{1,2})(?:/(?P<slash_y>\d{2,4}))?\b",
            rf"\b(?:(?P<which>this|next|coming)\s+)?{_EN_WD}\b",
            r"\b(?:(?P<wkwhich>this|next)\s+)?(?P<weekend>weekend)\b",
            r"\bin\s+(?P<after_n>\d+|a|an|one|two|three|four|five|six|seven|ten)\s+(?P<after_unit>days?|weeks?|months?)\b",
        ]
    ),
    re.IGNORECASE,
)
_EN_TIME = re.compile(
    "|".join(
        [
            rf"\b(?P<hour>{_EN_NUM})(?::(?P<minute>\d{{2}}))?\s*(?P<ap>am|pm|a\.m\.|p\.m\.)(?!\w)",
            rf"\bat\s+(?P<at_hour>{_EN_NUM})(?::(?P<at_minute>\d{{2}}))?(?:\s*o'?clock)?\b",
            r"\b(?P<hh>\d{1,2}):(?P<mm>\d{2})\b",
            rf"\b(?P<oc_hour>{_EN_NUM})\s*o'?clock\b",
            r"\b(?P<noon>noon|midday|midnight)\b",
            r"\bin\s+(?P<in_n>\d+|an|a|one|two|three|half\s+an)\s+(?P<in_unit>hours?|minutes?|mins?)\b",
        ]
    ),
    re.IGNORECASE,
)
_MORNING = re.compile(r"오전|아침|새벽|\bmorning\b|\bam\b|a\.m\.", re.IGNORECASE)
_EVENING = re.compile(
    r"오후|저녁|밤|\bafternoon\b|\bevening\b|\btonight\b|\bpm\b|p\.m\.", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class _Found:
    start: int
    end: int
    day: date | None = None
    clock: time | None = None
    moment: datetime | None = None  # relative times ("2시간 뒤") resolve to an instant


def _num(text: str | None) -> int | None:
    if text is None:
        return None
    value = korean_number(text)
    if value is None:
        value = english_number(text)
    if value is None:
        lowered = text.lower().strip()
        value = {"a": 1, "an": 1, "half an": 0.5}.get(lowered)
    return None if value is None else int(value) if float(value).is_integer() else None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _upcoming(today: date, month: int, day: int) -> date | None:
    found = _safe_date(today.year, month, day)
    if found is not None and found < today:
        found = _safe_date(today.year + 1, month, day)
    return found


def _week_day(today: date, weekday: int, which: str | None) -> date:
    monday = today - timedelta(days=today.weekday())
    if which is None:
        return today + timedelta(days=(weekday - today.weekday()) % 7)
    which = which.replace(" ", "")
    offset = {"이번주": 0, "금주": 0, "this": 0, "다음주": 7, "담주": 7, "next": 7, "다다음주": 14}
    offset.update({"지난주": -7, "저번주": -7})
    if which == "coming":
        return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
    return monday + timedelta(days=offset.get(which, 0) + weekday)


def _hour(hour: int, minute: int, marker: str | None, text: str) -> time | None:
    """24-hour clock from what was said; see the module docstring for hours without a marker."""
    if not (0 <= hour <= 24 and 0 <= minute < 60):
        return None
    evening = bool(marker and _EVENING.search(marker))
    morning = bool(marker and _MORNING.search(marker))
    if marker is None:
        evening = bool(_EVENING.search(text))
        morning = bool(_MORNING.search(text)) and not evening
    if hour == 24:
        hour = 0
    elif hour == 12:
        hour = 0 if (morning and marker in ("오전", "am", "a.m.")) or marker == "자정" else 12
        if marker == "밤":
            hour = 0
    elif hour < 12 and (evening or (not morning and 1 <= hour <= 7)):
        hour += 12
    return time(hour, minute)


def _korean(text: str, now: datetime) -> list[_Found]:
    today = now.date()
    found: list[_Found] = []
    for m in _KO_DATE.finditer(text):
        day: date | None = None
        g = m.groupdict()
        if g["rel"]:
            day = today + timedelta(days=_KO_DAYS[g["rel"]])
        elif g["month"]:
            month, dom = _num(g["month"]), _num(g["day"])
            if month is None or dom is None:
                continue
            if g["year"]:
                day = _safe_date(int(g["year"]), month, dom)
            elif g["yword"]:
                day = _safe_date(today.year + (g["yword"] == "내년"), month, dom)
            else:
                day = _upcoming(today, month, dom)
        elif g["iso"]:
            day = _safe_date(int(g["iso"]), int(g["iso_m"]), int(g["iso_d"]))
        elif g["slash_m"]:
            day = _upcoming(today, int(g["slash_m"]), int(g["slash_d"]))
        elif g["nextmonth"]:
            dom = _num(g["nm_day"])
            if dom is None:
                continue
            base = today + relativedelta(months=0 if "이번" in g["nextmonth"] else 1)
            day = _safe_date(base.year, base.month, dom)
        elif g["wd"]:
            day = _week_day(today, _KO_WEEKDAYS.index(g["wd"]), g["week"])
        elif m.group(0).strip().endswith("주말"):
            saturday = _week_day(today, 5, None)
            if g["weekend"] and "다음" in g["weekend"]:
                saturday = _week_day(today, 5, "다음주")
            day = saturday
        elif g["after_n"]:
            n = _num(g["after_n"])
            if n is None:
                continue
            unit = g["after_unit"]
            if unit == "일":
                day = today + timedelta(days=n)
            elif unit.startswith("주"):
                day = today + timedelta(weeks=n)
            else:
                day = today + relativedelta(months=n)
        elif g["dom"]:
            dom = _num(g["dom"])
            if dom is None or not 1 <= dom <= 31:
                continue
            day = _safe_date(today.year, today.month, dom)
            if day is None or day < today:
                nxt = today + relativedelta(months=1)
                day = _safe_date(nxt.year, nxt.month, dom)
        if day is not None:
            start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
            found.append(_Found(start, m.end(), day=day))
    for m in _KO_TIME.finditer(text):
        g = m.groupdict()
        start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
        if any(f.start <= start < f.end for f in found):
            continue
        if g["hour"]:
            hour = _num(g["hour"])
            minute = 30 if g["half"] else _num(g["minute"]) if g["minute"] else 0
            if hour is None or minute is None:
                continue
            clock = _hour(hour, minute, g["ap"], text)
        elif g["hh"]:
            clock = _hour(int(g["hh"]), int(g["mm"]), g["ap2"], text)
        elif g["noon"]:
            clock = time(12, 0) if g["noon"] == "정오" else time(0, 0)
        else:
            n = _num(g["in_n"])
            if n is None:
                continue
            half = "반" in m.group(0)
            minutes = n * 60 + (30 if half else 0) if g["in_unit"] == "시간" else n
            found.append(_Found(start, m.end(), moment=now + timedelta(minutes=minutes)))
            continue
        if clock is not None:
            found.append(_Found(start, m.end(), clock=clock))
    return found


def _english(text: str, now: datetime) -> list[_Found]:
    today = now.date()
    found: list[_Found] = []
    for m in _EN_DATE.finditer(text):
        g = m.groupdict()
        day: date | None = None
        if g["rel"]:
            rel = " ".join(g["rel"].lower().split())
            offsets = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}
            day = today + timedelta(days=offsets.get(rel, 2))
        elif g["mname"] or g["dname"]:
            phrase = g["mname"] or g["dname"]
            try:
                parsed = dateutil_parser.parse(phrase, default=datetime(today.year, 1, 1))
            except (ValueError, OverflowError):
                continue
            day = parsed.date()
            if not re.search(r"\d{4}", phrase) and day < today:
                day = day + relativedelta(years=1)
        elif g["iso"]:
            day = _safe_date(int(g["iso"]), int(g["iso_m"]), int(g["iso_d"]))
        elif g["slash_m"]:
            if g["slash_y"]:
                year = int(g["slash_y"])
                day = _safe_date(
                    year + 2000 if year < 100 else year, int(g["slash_m"]), int(g["slash_d"])
                )
            else:
                day = _upcoming(today, int(g["slash_m"]), int(g["slash_d"]))
        elif g["wd"]:
            index = next(
                i for i, name in enumerate(_EN_WEEKDAYS) if name.startswith(g["wd"][:3].lower())
            )
            day = _week_day(today, index, g["which"].lower() if g["which"] else None)
        elif g["weekend"]:
            which = (g["wkwhich"] or "").lower()
            day = _week_day(today, 5, "next" if which == "next" else None)
        elif g["after_n"]:
            n = _num(g["after_n"])
            if n is None:
                continue
            unit = g["after_unit"].lower()
            if unit.startswith("day"):
                day = today + timedelta(days=n)
            elif unit.startswith("week"):
                day = today + timedelta(weeks=n)
            else:
                day = today + relativedelta(months=n)
        if day is not None:
            found.append(_Found(m.start(), m.end(), day=day))
    for m in _EN_TIME.finditer(text):
        g = m.groupdict()
        if any(f.start <= m.start() < f.end for f in found):
            continue
        clock: time | None = None
        if g["hour"]:
            hour = _num(g["hour"])
            if hour is not None:
                clock = _hour(hour, int(g["minute"] or 0), g["ap"].lower(), text)
        elif g["at_hour"]:
            hour = _num(g["at_hour"])
            if hour is not None:
                clock = _hour(hour, int(g["at_minute"] or 0), None, text)
        elif g["hh"]:
            clock = _hour(int(g["hh"]), int(g["mm"]), None, text)
        elif g["oc_hour"]:
            hour = _num(g["oc_hour"])
            if hour is not None:
                clock = _hour(hour, 0, None, text)
        elif g["noon"]:
            clock = time(0, 0) if g["noon"].lower() == "midnight" else time(12, 0)
        else:
            amount = g["in_n"].lower()
            count: float | None = 0.5 if amount.startswith("half") else _num(amount)
            if count is None:
                continue
            minutes = count * 60 if g["in_unit"].lower().startswith("hour") else count
            found.append(_Found(m.start(), m.end(), moment=now + timedelta(minutes=minutes)))
            continue
        if clock is not None:
            found.append(_Found(m.start(), m.end(), clock=clock))
    return found


_JOINER = re.compile(r"^\s*(?:,|at|on|에|의)?\s*$", re.IGNORECASE)


def find_datetimes(text: str, now: datetime) -> list[Entity]:
    """Date and time entities in the text, resolved against `now` (aware, user's timezone)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (the user's timezone)")
    found = sorted(_korean(text, now) + _english(text, now), key=lambda f: (f.start, -f.end))
    kept: list[_Found] = []
    for item in found:  # overlapping matches: the first and longest wins
        if kept and item.start < kept[-1].end:
            continue
        kept.append(item)
    entities: list[Entity] = []
    i = 0
    while i < len(kept):
        item = kept[i]
        nxt = kept[i + 1] if i + 1 < len(kept) else None
        day = item.day or (nxt.day if nxt is not None else None)
        clock = item.clock or (nxt.clock if nxt is not None else None)
        if (
            nxt is not None
            and day is not None
            and clock is not None
            and _JOINER.match(text[item.end : nxt.start])
            and ((item.day and nxt.clock) or (item.clock and nxt.day))
        ):
            moment = datetime.combine(day, clock, tzinfo=now.tzinfo)
            entities.append(_entity("datetime", moment.isoformat(), text, item.start, nxt.end))
            i += 2
            continue
        if item.moment is not None:
            moment = item.moment.replace(second=0, microsecond=0)
            entities.append(_entity("datetime", moment.isoformat(), text, item.start, item.end))
        elif item.day is not None:
            entities.append(_entity("date", item.day.isoformat(), text, item.start, item.end))
        elif item.clock is not None:
            value = item.clock.strftime("%H:%M")
            entities.append(_entity("time", value, text, item.start, item.end))
        i += 1
    return entities


def _entity(kind: str, value: str, text: str, start: int, end: int) -> Entity:
    return Entity(type=kind, value=value, text=text[start:end].strip(), start=start, end=end)
