"""In-vehicle voice client: parked and moving answers, n-best choice, directives, the time
budget, refusals of bad requests, and a voice session over a real WebSocket."""

from __future__ import annotations

import asyncio
import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from assistant.dialogue import Assistant
from assistant.server import create_app
from assistant.settings import Settings
from assistant.types import (
    CardPart,
    DirectivePart,
    QuickRepliesPart,
    QuickReply,
    Reply,
    SpeechPart,
    TextPart,
)
from connectors import car

from .helpers import ADMIN, SERVICE_HOURS, car_skills, make_assistant, served

ALL = ["screen", "navigation", "climate", "media", "phone"]
PARKED = {"state": "parked", "speed_kmh": 0, "capabilities": ALL}
MOVING = {
    "state": "moving",
    "speed_kmh": 62.5,
    "location": {"lat": 37.5, "lon": 127.03, "heading": 90},
    "capabilities": ALL,
}


def turn(text: str, vehicle: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "session_id": extra.pop("session_id", "car-1"),
        "trigger": "wake_word",
        "hypotheses": [{"text": text, "confidence": 0.9}],
        "vehicle": vehicle,
    }
    body.update(extra)
    return body


@pytest.fixture
async def car_assistant(tmp_path: Path) -> AsyncIterator[Assistant]:
    a = await make_assistant(tmp_path, car_skills())
    yield a
    await a.close()


@pytest.fixture
async def client(car_assistant: Assistant) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(), assistant=car_assistant)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        yield c
    await app.state.connectors.aclose()


class TestParkedAndMoving:
    async def test_parked_gets_the_whole_answer(self, client: httpx.AsyncClient) -> None:
        r = await client.post(
            "/connectors/car/turns", json=turn("서비스센터 몇 시까지 해?", PARKED)
        )
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["route"] == "faq:서비스센터" and answer["restricted"] is False
        assert answer["speech"]["text"].startswith(SERVICE_HOURS)
        assert answer["display"]["text"] == SERVICE_HOURS
        assert [c["title"] for c in answer["display"]["cards"]] == ["가까운 서비스센터"]
        assert len(answer["display"]["options"]) == 5
        assert answer["keep_listening"] is True  # it offered choices

    async def test_moving_gets_the_essential_sentence_and_no_card(
        self, client: httpx.AsyncClient
    ) -> None:
        parked = (
            await client.post(
                "/connectors/car/turns", json=turn("서비스센터 몇 시까지 해?", PARKED)
            )
        ).json()
        r = await client.post(
            "/connectors/car/turns",
            json=turn("서비스센터 몇 시까지 해?", MOVING, session_id="car-2"),
        )
        moving = r.json()
        assert moving["restricted"] is True and moving["route"] == parked["route"]
        first = "한빛모터스 서비스센터는 평일 오전 8시 30분부터 오후 5시 30분까지 운영합니다."
        assert moving["speech"]["text"].startswith(first)
        assert "토요일은" not in moving["speech"]["text"]
        assert len(moving["speech"]["text"]) < len(parked["speech"]["text"]) / 2
        display = moving["display"]
        assert display["cards"] == [] and display["images"] == []
        assert len(display["text"]) <= car.LIMITS.moving_display
        assert [o["label"] for o in display["options"]] == ["정비 예약", "토요일 운영", "긴급출동"]
        # the options are said, so the driver can answer without looking
        assert moving["speech"]["text"].endswith("정비 예약, 토요일 운영 또는 긴급출동")

    async def test_rolling_while_parked_counts_as_moving(self, client: httpx.AsyncClient) -> None:
        vehicle = {**PARKED, "speed_kmh": 4}
        answer = (
            await client.post("/connectors/car/turns", json=turn("서비스센터", vehicle))
        ).json()
        assert answer["restricted"] is True and answer["display"]["cards"] == []

    async def test_speech_has_well_formed_ssml(self, client: httpx.AsyncClient) -> None:
        answer = (
            await client.post("/connectors/car/turns", json=turn("서비스센터", PARKED))
        ).json()
        root = ET.fromstring(answer["speech"]["ssml"])
        ns = "{http://www.w3.org/2001/10/synthesis}"
        assert (
            root.tag == f"{ns}speak"
            and root.get("{http://www.w3.org/XML/1998/namespace}lang") == "ko-KR"
        )
        said = root.findall(f"{ns}s")
        assert len(said) == 4  # three sentences, then the options
        phone = root.find(f".//{ns}say-as")
        assert phone is not None and phone.text == "080-700-0000"

    async def test_a_car_without_a_screen_gets_speech_only(self, client: httpx.AsyncClient) -> None:
        vehicle = {"state": "parked", "capabilities": ["navigation"]}
        answer = (
            await client.post("/connectors/car/turns", json=turn("서비스센터", vehicle))
        ).json()
        assert answer["display"] is None and answer["speech"]["text"].startswith(SERVICE_HOURS)


class TestNBest:
    async def test_the_hypothesis_understood_best_is_answered(
        self, client: httpx.AsyncClient, car_assistant: Assistant
    ) -> None:
        body = turn("", PARKED)
        body["hypotheses"] = [
            {"text": "서비스 쎈타 몇 시까지 해", "confidence": 0.71},
            {"text": "서비스센터 몇 시까지 해", "confidence": 0.22},
            {"text": "서비스 센타 몇 시", "confidence": -1},
        ]
        answer = (await client.post("/connectors/car/turns", json=body)).json()
        assert answer["route"] == "faq:서비스센터"
        assert answer["understood"] == "서비스센터 몇 시까지 해"
        view = await car_assistant.store.get_session("car:car-1")
        assert view is not None and [t.text for t in view.turns] == ["서비스센터 몇 시까지 해"]

    async def test_the_first_stands_when_nothing_is_understood(
        self, client: httpx.AsyncClient
    ) -> None:
        body = turn("", PARKED)
        body["hypotheses"] = [{"text": "음 그러니까"}, {"text": "음 그러니"}]
        answer = (await client.post("/connectors/car/turns", json=body)).json()
        assert answer["route"] == "fallback" and answer["understood"] == "음 그러니까"


class TestDirectives:
    async def test_a_directive_the_car_can_execute(self, client: httpx.AsyncClient) -> None:
        answer = (
            await client.post("/connectors/car/turns", json=turn("강남역 안내해 줘", MOVING))
        ).json()
        assert answer["route"] == "task:안내해"
        (directive,) = answer["directives"]
        assert directive["name"] == "navigation.set_destination"
        assert directive["payload"] == {"name": "강남역", "lat": 37.4979, "lon": 127.0276}
        assert answer["speech"]["text"] == "강남역으로 안내를 시작할게요."
        assert answer["keep_listening"] is False

    async def test_a_car_without_the_capability_is_told_so(self, client: httpx.AsyncClient) -> None:
        vehicle = {"state": "parked", "capabilities": ["screen", "media"]}
        answer = (
            await client.post("/connectors/car/turns", json=turn("강남역 안내해 줘", vehicle))
        ).json()
        assert answer["directives"] == []
        assert "지원하지 않는 기능" in answer["speech"]["text"]

    async def test_the_car_tells_the_core_what_it_can_do(self, car_assistant: Assistant) -> None:
        request = car.read_model(car.CarRequest, turn("안내해", MOVING))
        utterance = car.parse(request, time_budget_ms=1500)
        assert utterance.device.is_driving and utterance.device.has_voice
        assert "navigation.set_destination" in utterance.device.supported_directives
        assert utterance.metadata["car"]["trigger"] == "wake_word"
        assert utterance.metadata["car"]["vehicle"]["location"]["lat"] == 37.5
        assert utterance.time_budget_ms == 1500


class TestTimeBudget:
    async def test_over_the_budget_the_ready_answer_is_given(
        self, client: httpx.AsyncClient
    ) -> None:
        started = time.perf_counter()
        r = await client.post(
            "/connectors/car/turns", json=turn("타이어 공기압 얼마야", PARKED, time_budget_ms=400)
        )
        # the manual skill needs 10 s; the budget is 0.4 s, and the margin is wide because a
        # busy 2-core CI machine once took 1.9 s for this turn
        assert time.perf_counter() - started < 5.0
        answer = r.json()
        assert answer["route"] == "smalltalk:타이어"
        assert answer["speech"]["text"] == "타이어 점검은 서비스센터에서 해 드려요."


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hypotheses": []}, "hypotheses"),
        ({"hypotheses": "서비스센터"}, "hypotheses"),
        ({"hypotheses": [{"confidence": 0.5}]}, "hypotheses.0.text"),
        ({"hypotheses": [{"text": "   "}]}, "hypotheses.0.text"),
        ({"hypotheses": [{"text": "a", "confidence": 1.5}]}, "hypotheses.0.confidence"),
        (
            {"hypotheses": [{"text": "a"}, {"text": "b", "confidence": -0.2}]},
            "hypotheses.1.confidence",
        ),
        ({"hypotheses": [{"text": "a", "confidence": "high"}]}, "hypotheses.0.confidence"),
        ({"hypotheses": ["a", "b"]}, "hypotheses.0"),
        ({"vehicle": {**PARKED, "state": "flying"}}, "vehicle.state"),
        ({"vehicle": {**PARKED, "speed_kmh": -3}}, "vehicle.speed_kmh"),
        ({"vehicle": {**PARKED, "capabilities": ["screen", "jetpack"]}}, "vehicle.capabilities.1"),
        ({"vehicle": {**PARKED, "location": {"lat": 91, "lon": 0}}}, "vehicle.location.lat"),
        ({"vehicle": None}, "vehicle"),
        ({"trigger": "telepathy"}, "trigger"),
        ({"locale": "fr"}, "locale"),
    ],
)
async def test_a_bad_request_is_refused_naming_the_field(
    client: httpx.AsyncClient, change: dict[str, Any], field: str
) -> None:
    body = {**turn("서비스센터", PARKED), **change}
    r = await client.post("/connectors/car/turns", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["fields"][0]["field"] == field
    # nothing was stored, and the session still works
    ok = await client.post("/connectors/car/turns", json=turn("서비스센터", PARKED))
    assert ok.status_code == 200 and ok.json()["route"] == "faq:서비스센터"


async def test_missing_vehicle_is_refused(client: httpx.AsyncClient) -> None:
    body = turn("서비스센터", PARKED)
    del body["vehicle"]
    r = await client.post("/connectors/car/turns", json=body)
    assert r.status_code == 400 and r.json()["error"]["message"] == "vehicle: is required"


class TestRender:
    def test_a_speech_part_with_ssml_is_kept_when_parked(self) -> None:
        ssml = '<speak><prosody rate="slow">천천히</prosody></speak>'
        reply = Reply(
            parts=(TextPart(text="천천히 말할게요."), SpeechPart(text="천천히", ssml=ssml)),
            route="smalltalk",
        )
        answer = car.render(reply, car.Vehicle.model_validate(PARKED), session_id="s")
        assert answer["speech"] == {"text": "천천히", "ssml": ssml}
        assert answer["display"]["text"] == "천천히 말할게요."
        moving = car.render(reply, car.Vehicle.model_validate(MOVING), session_id="s")
        assert moving["speech"]["ssml"].startswith("<speak version")  # rebuilt from the short text

    def test_text_is_escaped_in_ssml(self) -> None:
        ssml = car.to_ssml("A&B <주차장> 위치.", "en")
        assert ET.fromstring(ssml).get("{http://www.w3.org/XML/1998/namespace}lang") == "en-US"
        assert "A&amp;B &lt;주차장&gt;" in ssml

    def test_a_directive_alone_says_what_it_does(self) -> None:
        reply = Reply(
            parts=(
                DirectivePart(name="media.play", payload={"query": "재즈"}, text="재즈를 틀게요."),
            ),
            route="task:play_music",
        )
        answer = car.render(reply, car.Vehicle.model_validate(MOVING), session_id="s")
        assert answer["speech"]["text"] == "재즈를 틀게요."
        assert answer["directives"][0]["payload"] == {"query": "재즈"}

    def test_a_clarification_keeps_the_microphone_open(self) -> None:
        reply = Reply(
            parts=(
                TextPart(text="혹시 이런 질문이신가요?"),
                QuickRepliesPart(
                    options=(QuickReply(label="정비 예약"), QuickReply(label="정비 비용"))
                ),
            ),
            route="clarify",
            expects_reply=True,
        )
        answer = car.render(reply, car.Vehicle.model_validate(MOVING), session_id="s")
        assert answer["keep_listening"] is True
        assert answer["speech"]["text"] == "혹시 이런 질문이신가요? 정비 예약 또는 정비 비용"

    def test_cards_are_shown_parked(self) -> None:
        reply = Reply(parts=(CardPart(title="충전소", description="1km"),), route="faq:x")
        parked = car.render(reply, car.Vehicle.model_validate(PARKED), session_id="s")
        assert parked["display"]["cards"][0]["title"] == "충전소"


# --- a voice session over a real WebSocket ---------------------------------------------------


async def test_a_voice_session_of_several_turns(tmp_path: Path) -> None:
    async with served(tmp_path, car_skills) as base:
        url = base.replace("http://", "ws://") + "/connectors/car/voice"
        async with connect(url, open_timeout=10) as ws:

            async def ask(message: dict[str, Any]) -> dict[str, Any]:
                await ws.send(json.dumps(message, ensure_ascii=False))
                return dict(json.loads(await ws.recv()))

            assert await ask({"type": "turn", "hypotheses": [{"text": "x"}]}) == {
                "type": "error",
                "error": {
                    "code": "invalid_payload",
                    "message": "type: the session has not started: send 'start' first",
                    "fields": [
                        {
                            "field": "type",
                            "problem": "the session has not started: send 'start' first",
                        }
                    ],
                },
            }
            ready = await ask({"type": "start", "session_id": "car-ws-1", "vehicle": MOVING})
            assert ready == {"type": "ready", "session_id": "car-ws-1"}

            assert await ask(
                {"type": "turn", "hypotheses": [{"text": "서비스센터 몇 시까지 해"}]}
            ) == {"type": "thinking"}
            moving = json.loads(await ws.recv())
            assert moving["type"] == "reply" and moving["restricted"] is True
            assert moving["display"]["cards"] == []

            # a broken turn is refused; the session goes on
            bad = await ask({"type": "turn", "hypotheses": [{"text": "a", "confidence": 7}]})
            assert bad["type"] == "error"
            assert bad["error"]["fields"][0]["field"] == "hypotheses.0.confidence"
            assert (await ask({"type": "wave"}))["error"]["fields"][0]["field"] == "type"
            await ws.send("{not json")
            assert json.loads(await ws.recv())["error"]["fields"][0]["field"] == "body"

            assert await ask({"type": "vehicle", "vehicle": PARKED}) == {
                "type": "vehicle",
                "restricted": False,
            }
            await ask({"type": "turn", "hypotheses": [{"text": "서비스센터 몇 시까지 해"}]})
            parked = json.loads(await ws.recv())
            assert parked["restricted"] is False and parked["display"]["cards"]
            assert len(parked["speech"]["text"]) > len(moving["speech"]["text"])

            await ask(
                {
                    "type": "turn",
                    "trigger": "follow_up",
                    "hypotheses": [{"text": "강남역 안내해 줘"}],
                }
            )
            navigate = json.loads(await ws.recv())
            assert navigate["directives"][0]["name"] == "navigation.set_destination"

            assert await ask({"type": "end"}) == {"type": "ended"}
        # all three turns are one session in the store
        async with httpx.AsyncClient(base_url=base) as http:
            session = (await http.get("/v1/sessions/car:car-ws-1", headers=ADMIN)).json()
        assert session["channel"] == "car" and session["turn_count"] == 3


README = Path(__file__).resolve().parents[2] / "README.md"


async def test_the_readme_car_example(client: httpx.AsyncClient) -> None:
    readme = await asyncio.to_thread(README.read_text)
    match = re.search(
        r"curl -s http://127\.0\.0\.1:8000(/connectors/car/turns) .* -d '(\{.*\})'", readme
    )
    assert match, "README has no curl example against the car connector"
    r = await client.post(match.group(1), json=json.loads(match.group(2)))
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["restricted"] is True and answer["speech"]["text"]
    assert answer["understood"] in ("정비 얘약 어떻게 해", "정비 예약 어떻게 해")
