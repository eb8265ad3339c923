"""Opening hours: described for the FAQ, checked for bookings, refused with the nearest slots."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from assistant.config import OpeningHours, load_bot
from assistant.tasks.hours import bookable, describe, fill_hours, refusal

WEEK = {d: ("08:30", "17:30") for d in ("mon", "tue", "wed", "thu", "fri")}
HOURS = OpeningHours(open={**WEEK, "sat": ("08:30", "12:30")}, last_booking=30)  # type: ignore[arg-type]


def test_bookable_days_and_times() -> None:
    saturday, sunday, monday = date(2026, 12, 5), date(2026, 12, 6), date(2026, 12, 7)
    assert bookable(HOURS, saturday, "12:00") and not bookable(HOURS, saturday, "12:30")
    assert not bookable(HOURS, sunday) and bookable(HOURS, monday, "17:00")
    assert not bookable(HOURS, monday, "08:00")
    closed = OpeningHours(open=WEEK, holidays=[monday])  # type: ignore[arg-type]
    assert not bookable(closed, monday)


def test_a_closed_day_is_refused_with_the_next_open_one() -> None:
    said = refusal(HOURS, date(2026, 12, 6), None, "ko")
    assert said == "일요일에는 쉬어요. 가장 가까운 예약 가능한 날은 12월 7일 월요일이에요."
    said = refusal(HOURS, date(2026, 12, 5), "16:00", "en")
    assert said.startswith("On Saturdays bookings run from 8:30 AM to 12 PM.")
    assert "Saturday, December 5 at 12 PM and Monday, December 7 at 4 PM" in said


def test_wrong_hours_are_refused_when_the_bot_loads() -> None:
    with pytest.raises(ValidationError, match="opens at 18:00, after it closes"):
        OpeningHours(open={"mon": ("18:00", "09:00")})  # type: ignore[dict-item]
    with pytest.raises(KeyError, match="no opening hours 'shop'"):
        fill_hours("{hours:shop}", {}, "ko")


def test_the_demo_faq_says_the_hours_the_booking_checks() -> None:
    from faq_index.formats import load_entries

    bot = load_bot()
    hours = bot.config.hours["service_center"]
    entries = {e.id: e for e in load_entries([bot.path("faq/ko.yaml"), bot.path("faq/en.yaml")])}
    for entry_id in ("ko-service-hours", "ko-service-weekend", "en-service-hours"):
        answer = fill_hours(entries[entry_id].answer, bot.config.hours, entries[entry_id].locale)
        assert describe(hours, entries[entry_id].locale or "ko") in answer
    assert "{hours:service_center}" in entries["en-service-weekend"].answer
