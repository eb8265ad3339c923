"""The car connector with the demo bot's car tasks (assistant/demo_bot/tasks/car.yaml): the
directives a car executes, a car without the capability, n-best over task utterances, and a
service booking over several turns with the microphone kept open."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from assistant.config import Bot, SkillSpec, load_bot
from assistant.dialogue import Assistant
from assistant.server import create_app
from assistant.settings import Settings
from assistant.skill import Skill
from assistant.skills import build_skills
from assistant.store import SqlStore

ALL = ["screen", "navigation", "climate", "media", "phone"]
PARKED = {"state": "parked", "capabilities": ALL}
MOVING = {"state": "moving", "speed_kmh": 80, "capabilities": ALL}
#: A Tuesday morning in Seoul, as the demo bot's conversation tests have it.
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Seoul")).timestamp()


@pytest.fixture(scope="module")
def demo_tasks() -> Iterator[tuple[Bot, Sequence[tuple[SkillSpec, Skill]]]]:
    """The demo bot with its task skill only (the FAQ's questions still teach it what is no
    task); built once for the module."""
    bot = load_bot()
    bot.config.skills = [s for s in bot.config.skills if s.type == "task"]
    yield bot, build_skills(bot)


@pytest.fixture
async def client(
    tmp_path: Path, demo_tasks: tuple[Bot, Sequence[tuple[SkillSpec, Skill]]]
) -> AsyncIterator[httpx.AsyncClient]:
    bot, skills = demo_tasks
    store = SqlStore(f"sqlite:///{tmp_path / 'car.db'}")
    await store.open()
    assistant = Assistant(bot, store, skills, clock=lambda: NOW)
    app = create_app(Settings(), assistant=assistant)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        yield c
    await app.state.connectors.aclose()
    await assistant.close()


async def say(
    client: httpx.AsyncClient,
    *hypotheses: str | tuple[str, float],
    vehicle: dict[str, Any] = MOVING,
    session: str = "car-demo",
) -> dict[str, Any]:
    heard = [
        {"text": h, "confidence": 0.9} if isinstance(h, str) else {"text": h[0], "confidence": h[1]}
        for h in hypotheses
    ]
    body = {"session_id": session, "hypotheses": heard, "vehicle": vehicle, "locale": "ko-KR"}
    r = await client.post("/connectors/car/turns", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.mark.parametrize(
    ("text", "name", "payload", "said"),
    [
        (
            "서울역으로 안내해 줘",
            "navigation.set_destination",
            {"destination": "서울역"},
            "서울역으로 안내를 시작할게요.",
        ),
        (
            "에어컨 22도로 맞춰 줘",
            "climate.set_temperature",
            {"celsius": 22.0, "zone": "all"},
            "실내 온도를 22도로 맞출게요.",
        ),
        (
            "아이유 노래 틀어 줘",
            "media.play",
            {"query": "아이유", "kind": "music"},
            "아이유 음악을 틀게요.",
        ),
        ("엄마한테 전화해 줘", "phone.call", {"contact": "엄마"}, "엄마에게 전화를 걸게요."),
    ],
)
async def test_car_tasks_give_directives_while_moving(
    client: httpx.AsyncClient, text: str, name: str, payload: dict[str, Any], said: str
) -> None:
    answer = await say(client, text)
    (directive,) = answer["directives"]
    assert directive["name"] == name
    assert payload.items() <= directive["payload"].items()
    assert answer["speech"]["text"] == said
    assert answer["route"].startswith("task:") and answer["restricted"] is True
    assert answer["keep_listening"] is False


async def test_a_car_without_climate_control_is_told_so(client: httpx.AsyncClient) -> None:
    answer = await say(
        client,
        "에어컨 22도로 맞춰 줘",
        vehicle={"state": "parked", "capabilities": ["screen", "media"]},
    )
    assert answer["directives"] == []
    assert answer["route"] == "task:set_temperature"
    assert answer["speech"]["text"] == (
        "이 차량에는 공조(에어컨·히터) 기능이 없어서 실내 온도 설정은 할 수 없어요."
    )


async def test_a_misheard_first_hypothesis_of_a_task(client: httpx.AsyncClient) -> None:
    answer = await say(client, ("서울 여그로 안네 해조", 0.55), ("서울역으로 안내해 줘", 0.4))
    assert answer["understood"] == "서울역으로 안내해 줘"
    assert answer["directives"][0]["payload"]["destination"] == "서울역"


async def test_a_service_booking_keeps_the_microphone_open(client: httpx.AsyncClient) -> None:
    asked = await say(client, "정비 예약하고 싶어")
    assert asked["route"] == "task:book_service" and asked["keep_listening"] is True
    # moving: the essential sentence of the prompt, not its list of services
    assert asked["speech"]["text"] == "어떤 정비를 예약할까요?"
    parked = await say(client, "정비 예약하고 싶어", vehicle=PARKED, session="car-demo-2")
    assert "엔진오일 교체, 정기 점검" in parked["speech"]["text"]

    assert (await say(client, "엔진오일 교체"))["speech"]["text"] == "며칠로 예약할까요?"
    assert (await say(client, "내일"))["speech"]["text"] == "몇 시로 예약할까요?"
    confirm = await say(client, "오후 3시")
    assert confirm["speech"]["text"] == "12월 2일 수요일 오후 3시에 엔진오일 교체 예약할까요?"
    assert confirm["keep_listening"] is True
    booked = await say(client, "네")
    assert booked["speech"]["text"].startswith(
        "12월 2일 수요일 오후 3시에 엔진오일 교체 예약을 접수했어요."
    )
    assert booked["keep_listening"] is False
