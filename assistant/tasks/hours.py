"""Opening hours: one source of truth for the days and hours a business is open.

A bot declares them once in bot.yaml; the FAQ's answers say them (`{hours:<name>}` in an
answer is replaced by `describe`), and a flow's date and time slots with `hours: <name>`
refuse a closed day or an hour outside them, with the reason and the nearest open slots.

    hours:
      service_center:
        name: {ko: 서비스센터, en: Service centers}
        open:                        # days without hours are closed
          mon: ["08:30", "17:30"]
          ...
          sat: ["08:30", "12:30"]
        holidays: ["2026-12-25"]     # closed on these dates too
        last_booking: 30             # minutes before closing: the last slot that can be booked

    >>> hours = OpeningHours(open={d: ("08:30", "17:30") for d in ("mon", "tue", "wed", "thu", "fri")}
    ...                      | {"sat": ("08:30", "12:30")}, last_booking=30)
    >>> describe(hours, "ko")
    '평일 오전 8시 30분부터 오후 5시 30분까지, 토요일은 오전 8시 30분부터 오후 12시 30분까지 운영합니다. 일요일은 휴무입니다.'
    >>> refusal(hours, date(2026, 12, 5), "16:00", "ko")
    '토요일은 오전 8시 30분부터 오후 12시까지 예약할 수 있어요. 가장 가까운 예약 가능 시간은 12월 5일 토요일 오후 12시, 12월 7일 월요일 오후 4시예요.'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta

from assistant.config import DAYS, OpeningHours

__all__ = ["DAYS", "OpeningHours", "bookable", "describe", "fill_hours", "refusal"]

_KO_DAYS = ("월요일", "화요일", "수요일", "목요일", "금요일", "토요일", "일요일")
_EN_DAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


_PLACEHOLDER = re.compile(r"\{hours:(\w+)\}")


def fill_hours(text: str, hours: Mapping[str, OpeningHours], locale: str) -> str:
    """`{hours:<name>}` in a text (an FAQ answer) replaced by those hours in words;
    `KeyError` naming the hours when the bot has none of that name.

    >>> fill_hours("Centers are {hours:shop}", {"shop": OpeningHours(open={"sat": ("09:00", "12:00")})}, "en")
    'Centers are open 9 AM to 12 PM on Saturdays; closed on weekdays and Sundays.'
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in hours:
            raise KeyError(f"no opening hours {name!r} in bot.yaml (hours: {sorted(hours)})")
        return describe(hours[name], locale)

    return _PLACEHOLDER.sub(replace, text)


def bookable(hours: OpeningHours, day: date, clock: str | None = None) -> bool:
    """Whether the day is open and the time (HH:MM) within what can be booked that day."""
    found = hours.hours_on(day)
    if found is None:
        return False
    last = hours.last_slot(day)
    return clock is None or (last is not None and found[0] <= clock <= last)


def josa(word: str, marker: str) -> str:
    from assistant.tasks.slots import josa as fitted

    return fitted(word, marker)


def _say_clock(clock: str, locale: str) -> str:
    from datetime import time

    from assistant.tasks.slots import say_value

    return say_value("time", time.fromisoformat(clock).isoformat(timespec="minutes"), locale)


def _say_day(day: date, locale: str) -> str:
    from assistant.tasks.slots import say_value

    return say_value("date", day.isoformat(), locale)


def describe(hours: OpeningHours, locale: str) -> str:
    """The opening hours in a sentence, weekdays with the same hours said together."""
    ko = locale != "en"
    groups: list[tuple[list[int], tuple[str, str] | None]] = []
    for i, day in enumerate(DAYS):
        found = hours.open.get(day)  # type: ignore[call-overload]
        if groups and groups[-1][1] == found:
            groups[-1][0].append(i)
        else:
            groups.append(([i], found))
    parts: list[str] = []
    closed: list[str] = []
    for days, found in groups:
        if days == [0, 1, 2, 3, 4]:
            label = "평일" if ko else "weekdays"
        elif len(days) == 1:
            label = _KO_DAYS[days[0]] if ko else _EN_DAYS[days[0]]
        else:
            first, last = days[0], days[-1]
            label = (
                f"{_KO_DAYS[first]}부터 {_KO_DAYS[last]}까지"
                if ko
                else f"{_EN_DAYS[first]} to {_EN_DAYS[last]}"
            )
        if found is None:
            closed.append(label)
            continue
        start, end = (_say_clock(c, locale) for c in found)
        if ko:
            parts.append(
                f"{label}{'' if label == '평일' or not parts else '은'} {start}부터 {end}까지"
            )
        else:
            parts.append(f"{start} to {end} on {label}")
    if hours.holidays:
        closed.append("공휴일" if ko else "public holidays")
    if ko:
        text = ", ".join(parts) + " 운영합니다."
        if closed:
            text += " " + "과 ".join(closed) + "은 휴무입니다."
        return text
    text = "open " + " and ".join(parts)
    if closed:
        text += "; closed on " + " and ".join(closed)
    return text + "."


def _nearest(hours: OpeningHours, day: date, clock: str, today: date) -> list[tuple[date, str]]:
    """Up to two open slots nearest the one asked for: the same day's last (when the day is
    open and the time too late) or first (too early), and the next open day at that time."""
    found: list[tuple[date, str]] = []
    opening = hours.hours_on(day)
    last = hours.last_slot(day)
    if opening is not None and last is not None and day >= today:
        found.append((day, last if clock > last else opening[0]))
    for step in range(1, 15):
        other = day + timedelta(days=step)
        other_hours = hours.hours_on(other)
        other_last = hours.last_slot(other)
        if other_hours is not None and other_last is not None:
            found.append((other, min(max(clock, other_hours[0]), other_last)))
            break
    return found


def refusal(
    hours: OpeningHours, day: date, clock: str | None, locale: str, today: date | None = None
) -> str:
    """Why the day (and time) cannot be booked, and the nearest slots that can."""
    ko = locale != "en"
    weekday = _KO_DAYS[day.weekday()] if ko else _EN_DAYS[day.weekday()][:-1]
    opening = hours.hours_on(day)
    if opening is None:
        if day in hours.holidays:
            reason = "그날은 공휴일이라 쉬어요." if ko else "That day is a public holiday: closed."
        else:
            reason = f"{weekday}에는 쉬어요." if ko else f"{weekday}s are closed."
    else:
        last = hours.last_slot(day) or opening[1]
        start, end = _say_clock(opening[0], locale), _say_clock(last, locale)
        reason = (
            f"{weekday}은 {start}부터 {end}까지 예약할 수 있어요."
            if ko
            else f"On {weekday}s bookings run from {start} to {end}."
        )
    slots = _nearest(hours, day, clock or "10:00", today or day)
    if not slots:
        return reason
    said = [
        f"{_say_day(d, locale)} {_say_clock(c, locale)}"
        if ko
        else f"{_say_day(d, locale)} at {_say_clock(c, locale)}"
        for d, c in slots
    ]
    if clock is None:  # a closed day: the nearest open days
        said = [_say_day(d, locale) for d, _ in slots]
        return reason + (
            f" 가장 가까운 예약 가능한 날은 {', '.join(said)}{josa(said[-1], '(이)에요')}."
            if ko
            else f" The nearest open days are {' and '.join(said)}."
        )
    listed = ", ".join(said)
    return reason + (
        f" 가장 가까운 예약 가능 시간은 {listed}{josa(listed, '(이)에요')}."
        if ko
        else f" The nearest open slots are {' and '.join(said)}."
    )
