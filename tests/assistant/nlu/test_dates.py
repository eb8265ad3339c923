from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from assistant.nlu.dates import find_datetimes

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=SEOUL)  # Tuesday morning


def one(text: str, now: datetime = NOW) -> tuple[str, str]:
    (entity,) = find_datetimes(text, now)
    return entity.type, entity.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("내일 오후 3시에 예약해 줘", ("datetime", "2026-12-02T15:00:00+09:00")),
        ("모레 아침 9시 반", ("datetime", "2026-12-03T09:30:00+09:00")),
        ("내일모레 저녁 7시", ("datetime", "2026-12-03T19:00:00+09:00")),
        ("다음 주 금요일", ("date", "2026-12-11")),
        ("이번 주 토요일 오후 두 시", ("datetime", "2026-12-05T14:00:00+09:00")),
        ("금요일 세 시 반", ("datetime", "2026-12-04T15:30:00+09:00")),
        ("12월 24일 오전 10시", ("datetime", "2026-12-24T10:00:00+09:00")),
        ("삼월 이십일일", ("date", "2027-03-21")),  # passed this year: next year's
        ("이십오일", ("date", "2026-12-25")),
        ("3일 뒤", ("date", "2026-12-04")),
        ("2시간 뒤에 알려줘", ("datetime", "2026-12-01T12:00:00+09:00")),
        ("주말에는?", ("date", "2026-12-05")),
        ("오후 4시로 바꿔줘", ("time", "16:00")),
        ("4시", ("time", "16:00")),  # 1-7 without a marker: afternoon
        ("9시", ("time", "09:00")),
        ("열두 시", ("time", "12:00")),
        ("정오", ("time", "12:00")),
        ("2026-12-25", ("date", "2026-12-25")),
    ],
)
def test_korean(text: str, expected: tuple[str, str]) -> None:
    assert one(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tomorrow at 3pm", ("datetime", "2026-12-02T15:00:00+09:00")),
        ("next friday at 10am", ("datetime", "2026-12-11T10:00:00+09:00")),
        ("on friday", ("date", "2026-12-04")),
        ("December 3rd at 3:30 pm", ("datetime", "2026-12-03T15:30:00+09:00")),
        ("in 2 days", ("date", "2026-12-03")),
        ("this weekend", ("date", "2026-12-05")),
        ("12/24", ("date", "2026-12-24")),
        ("tonight at 8", ("datetime", "2026-12-01T20:00:00+09:00")),
        ("the day after tomorrow", ("date", "2026-12-03")),
        ("at noon", ("time", "12:00")),
        ("in 30 minutes", ("datetime", "2026-12-01T10:30:00+09:00")),
    ],
)
def test_english(text: str, expected: tuple[str, str]) -> None:
    assert one(text) == expected


def test_values_are_in_the_users_timezone() -> None:
    # 23:30 UTC on 1 December is already 2 December in Seoul: "tomorrow" is the 3rd there.
    utc_now = datetime(2026, 12, 1, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert one("tomorrow at 9am", utc_now.astimezone(SEOUL)) == (
        "datetime",
        "2026-12-03T09:00:00+09:00",
    )
    assert one("tomorrow at 9am", utc_now.astimezone(ZoneInfo("America/New_York"))) == (
        "datetime",
        "2026-12-02T09:00:00-05:00",
    )


def test_a_weekday_alone_is_the_next_one_today_included() -> None:
    assert one("화요일") == ("date", "2026-12-01")
    assert one("월요일") == ("date", "2026-12-07")


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        find_datetimes("내일", datetime(2026, 12, 1))


def test_text_without_dates_has_none() -> None:
    assert find_datetimes("서비스센터 영업시간 알려줘", NOW) == []
    assert find_datetimes("what time do you open", NOW) == []
