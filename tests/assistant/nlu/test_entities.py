from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from assistant.nlu.entities import EntityExtractor, EntitySpec, parse_annotations

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Seoul"))


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    return EntityExtractor(
        [
            EntitySpec(name="contact", values={"엄마": ["어머니", "mom"], "회사": ["office"]}),
            EntitySpec(name="place", values={"서울역": ["Seoul Station"]}, free=True),
            EntitySpec(name="music", free=True),
            EntitySpec(name="plate", patterns=[r"\d{2,3}[가-힣]\s?\d{4}"]),
        ],
        examples=[
            "[서울역](place)으로 안내해 줘",
            "[부산](place)까지 가자",
            "take me to [Seoul Station](place)",
            "[아이유](music) 노래 틀어 줘",
            "play some [Beatles](music) songs",
        ],
    )


def found(extractor: EntityExtractor, text: str) -> list[tuple[str, object]]:
    return [(e.type, e.value) for e in extractor.extract(text, now=NOW)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("에어컨 스물두 도로 맞춰 줘", [("temperature", {"value": 22, "unit": "C"})]),
        ("온도 이십이도", [("temperature", {"value": 22, "unit": "C"})]),
        ("set it to 72 degrees fahrenheit", [("temperature", {"value": 72, "unit": "F"})]),
        ("21°C please", [("temperature", {"value": 21, "unit": "C"})]),
        ("볼륨 삼십 퍼센트", [("percentage", 30)]),
        ("fan at forty percent", [("percentage", 40)]),
        ("010-1234-5678로 전화해 줘", [("phone", "01012345678")]),
        ("call +82 10 1234 5678", [("phone", "01012345678")]),
        ("1588-0000 연결해 줘", [("phone", "15880000")]),
        ("어머니한테 전화해 줘", [("contact", "엄마")]),
        ("call the office", [("contact", "회사")]),
        ("서울 역으로 가자", [("place", "서울역")]),  # spaces inside Korean words forgiven
        ("강남역으로 안내해 줘", [("place", "강남역")]),  # a template from the examples
        ("대전으로 가자", [("place", "대전")]),  # 으로 and 로 are one particle
        ("take me to Gangnam Station", [("place", "Gangnam Station")]),
        ("play some Coldplay songs", [("music", "Coldplay")]),
        ("뉴진스 노래 틀어 줘", [("music", "뉴진스")]),
        ("12가 3456 차량", [("plate", "12가 3456")]),
        ("세 명 예약", [("number", 3)]),
        (
            "내일 오후 3시에 엄마한테 전화",
            [("datetime", "2026-12-02T15:00:00+09:00"), ("contact", "엄마")],
        ),
    ],
)
def test_extraction(
    extractor: EntityExtractor, text: str, expected: list[tuple[str, object]]
) -> None:
    assert found(extractor, text) == expected


def test_offsets_point_at_the_words(extractor: EntityExtractor) -> None:
    text = "내일 어머니한테 전화"
    entities = extractor.extract(text, now=NOW)
    assert [text[e.start : e.end] for e in entities] == ["내일", "어머니"]


def test_annotations_in_rasa_markup() -> None:
    plain, (a, b) = parse_annotations(
        '[서울 역](place:서울역)에서 [빨리]{"entity": "speed", "role": "x"}'
    )
    assert plain == "서울 역에서 빨리"
    assert (a.entity, a.value, a.text, plain[a.start : a.end]) == (
        "place",
        "서울역",
        "서울 역",
        "서울 역",
    )
    assert (b.entity, b.role) == ("speed", "x")


def test_an_annotation_without_an_entity_is_refused() -> None:
    with pytest.raises(ValueError, match="names no entity"):
        parse_annotations("[서울역]()으로")
