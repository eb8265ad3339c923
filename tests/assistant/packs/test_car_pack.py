"""The car pack's values and directives: what a driver's command says beyond its intent (on or
off, absolute or relative, °F, seats and zones, message text) and the payloads of the car
directive catalog."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from assistant.nlu.entities import EntityExtractor
from assistant.packs import load_pack
from assistant.packs.car import DIRECTIVES, PACK
from assistant.packs.car.values import FLOW_DIRECTIVES
from assistant.tasks.flows import load_flows

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Seoul"))


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    return load_flows([PACK.flows_file]).nlu.extractor()


def directive(
    extractor: EntityExtractor, flow: str, text: str, locale: str = "ko"
) -> tuple[str, dict[str, Any]]:
    values = PACK.fill(flow, text, extractor.extract(text, now=NOW), locale)
    (found, *_), _said = PACK.finish(flow, values, locale)
    return found.name, found.payload


def test_the_pack_is_registered_and_covers_the_catalog() -> None:
    assert load_pack("car") is PACK
    catalog = {d for names in DIRECTIVES.values() for d in names}
    assert set(FLOW_DIRECTIVES.values()) == catalog
    model = load_flows([PACK.flows_file])
    assert set(model.flows) == set(FLOW_DIRECTIVES)
    with pytest.raises(ValueError, match="unknown pack 'boat'"):
        load_pack("boat")


@pytest.mark.parametrize(
    ("flow", "text", "locale", "payload"),
    [
        ("air_conditioner", "에어컨 꺼줘", "ko", {"on": False}),
        ("air_conditioner", "에어컨켜", "ko", {"on": True}),
        ("set_temperature", "온도 2도 내려", "ko", {"delta": -2, "zone": "all"}),
        ("set_temperature", "온도 22도로 내려", "ko", {"celsius": 22.0, "zone": "all"}),
        ("set_temperature", "좀 더 시원하게", "ko", {"delta": -1, "zone": "all"}),
        ("set_temperature", "조수석 스물세 도로", "ko", {"celsius": 23.0, "zone": "passenger"}),
        ("set_temperature", "set it to 72", "en-US", {"celsius": 22.0, "zone": "all"}),
        (
            "set_temperature",
            "set it to 21 degrees celsius",
            "en-US",
            {"celsius": 21.0, "zone": "all"},
        ),
        ("set_temperature", "make it 75 fahrenheit", "en", {"celsius": 24.0, "zone": "all"}),
        ("set_temperature", "rear to 20", "en", {"celsius": 20.0, "zone": "rear"}),
        ("fan_speed", "풍량 두 단계 올려", "ko", {"delta": 2}),
        ("fan_speed", "fan to max", "en", {"level": 8}),
        ("defrost", "뒷유리 열선 꺼", "ko", {"window": "rear", "on": False}),
        ("seat_heater", "조수석 열선 2단계", "ko", {"seat": "passenger", "level": 2}),
        ("seat_heater", "열선 꺼", "ko", {"seat": "driver", "level": 0}),
        ("seat_ventilation", "passenger seat cooling on", "en", {"seat": "passenger", "level": 3}),
        ("recirculation", "외기로 바꿔", "ko", {"on": False}),
        ("volume", "음소거", "ko", {"mute": True}),
        ("volume", "음소거 해제", "ko", {"mute": False}),
        ("volume", "볼륨 열다섯 칸으로", "ko", {"level": 15}),
        ("volume", "turn it down by 3", "en", {"delta": -3}),
        ("radio", "라디오 구십일점구", "ko", {"band": "FM", "frequency": 91.9}),
        ("radio", "AM 1080", "en", {"band": "AM", "frequency": 1080}),
        (
            "send_message",
            "엄마한테 늦는다고 문자 보내",
            "ko",
            {"contact": "엄마", "text": "늦는다"},
        ),
        ("send_message", "text Mia I'm outside", "en", {"contact": "Mia", "text": "I'm outside"}),
    ],
)
def test_values_become_the_catalog_payload(
    extractor: EntityExtractor, flow: str, text: str, locale: str, payload: dict[str, Any]
) -> None:
    assert directive(extractor, flow, text, locale) == (FLOW_DIRECTIVES[flow], payload)


def test_the_rear_seats_are_both_heated(extractor: EntityExtractor) -> None:
    text = "뒷좌석 열선 켜 줘"
    values = PACK.fill("seat_heater", text, extractor.extract(text, now=NOW), "ko")
    found, said = PACK.finish("seat_heater", values, "ko")
    assert [(d.name, d.payload) for d in found] == [
        ("climate.seat_heat", {"seat": "rear_left", "level": 3}),
        ("climate.seat_heat", {"seat": "rear_right", "level": 3}),
    ]
    assert said == "뒷좌석 왼쪽, 뒷좌석 오른쪽 열선을 3단계로 켤게요."


def test_what_a_car_lacks_is_named() -> None:
    said = PACK.missing("air_conditioner", "에어컨", ["climate.ac"], "ko")
    assert said == "이 차량에는 공조(에어컨·히터) 기능이 없어서 에어컨은 할 수 없어요."
    said = PACK.missing("send_message", "Send a message", ["message.send"], "en-US")
    assert "doesn't have messaging" in said
