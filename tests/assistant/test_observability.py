"""Metrics, structured logs with turn ids, and the limits every endpoint enforces."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from assistant import logs
from assistant.api.middleware import RateLimiter
from assistant.dialogue import Assistant
from assistant.server import create_app
from assistant.settings import Settings
from assistant.skill import Skill
from assistant.store import SqlStore
from assistant.store.keys import ApiKeyStore

from .fakes import FailingSkill, KeywordSkill, SlowSkill, make_bot, pairs


async def build(tmp_path: Path, skills: list[Skill], **bot_kw: object) -> Assistant:
    bot = make_bot(tmp_path, skills, **bot_kw)  # type: ignore[arg-type]
    store = SqlStore(f"sqlite:///{tmp_path / 's.db'}")
    await store.open()
    return Assistant(bot, store, pairs(bot, skills))


@pytest.fixture
async def assistant(tmp_path: Path) -> AsyncIterator[Assistant]:
    a = await build(tmp_path, [KeywordSkill("faq", "충전", "충전 안내", 0.9), FailingSkill()])
    yield a
    await a.close()


def client_for(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")  # type: ignore[arg-type]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


async def test_metrics_count_turns_by_route_kind_and_skill_latency(assistant: Assistant) -> None:
    async with client_for(create_app(Settings(), assistant=assistant)) as c:
        before = samples((await c.get("/metrics")).text)
        await c.post("/v1/chat", json={"session_id": "m", "text": "충전", "channel": "kakao"})
        await c.post("/v1/chat", json={"session_id": "m", "text": "블라블라", "channel": "kakao"})
        after = samples((await c.get("/metrics")).text)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("assistant_turns_total", channel="kakao", route="faq", outcome="answer") == 1
    assert (
        delta("assistant_turns_total", channel="kakao", route="fallback", outcome="fallback") == 1
    )
    assert delta("assistant_fallbacks_total", channel="kakao") == 1
    assert delta("assistant_handoffs_total", channel="kakao") == 1
    assert delta("assistant_turn_seconds_count", channel="kakao") == 2
    assert delta("assistant_skill_seconds_count", skill="failing", status="error") == 2
    assert delta("assistant_skill_seconds_count", skill="faq", status="ok") == 2


async def test_every_response_carries_a_request_id_and_logs_follow_the_turn(
    assistant: Assistant, caplog: pytest.LogCaptureFixture
) -> None:
    formatter = logs.JsonFormatter()
    caplog.handler.addFilter(logs.TurnIdFilter())
    async with client_for(create_app(Settings(), assistant=assistant)) as c:
        with caplog.at_level(logging.INFO):
            r = await c.post(
                "/v1/chat",
                json={"session_id": "L", "text": "충전 비밀 문장"},
                headers={"X-Request-ID": "req-42"},
            )
        other = await c.get("/healthz")
    assert r.headers["x-request-id"] == "req-42"
    assert len(other.headers["x-request-id"]) == 16
    lines = [
        json.loads(formatter.format(rec))
        for rec in caplog.records
        if rec.name == "assistant.dialogue"
    ]
    events = {line["event"]: line for line in lines}
    assert (
        events["skill.failed"]["turn_id"] == "req-42"
        and events["skill.failed"]["skill"] == "failing"
    )
    assert "RuntimeError: index file vanished" in events["skill.failed"]["exception"]
    done = events["turn.done"]
    assert done["turn_id"] == "req-42" and done["route"] == "faq:충전" and done["session_id"] == "L"
    assert all("비밀" not in json.dumps(line, ensure_ascii=False) for line in lines)


async def test_user_text_is_logged_only_when_enabled(
    assistant: Assistant, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_LOG_USER_TEXT", "1")
    async with client_for(create_app(Settings(), assistant=assistant)) as c:
        with caplog.at_level(logging.INFO, logger="assistant.dialogue"):
            await c.post("/v1/chat", json={"session_id": "L", "text": "충전 비밀 문장"})
    (done,) = [r for r in caplog.records if r.getMessage() == "turn.done"]
    assert done.text == "충전 비밀 문장"  # type: ignore[attr-defined]


async def test_one_session_over_its_rate_gets_429_with_retry_after(assistant: Assistant) -> None:
    app = create_app(Settings(rate_per_session=3), assistant=assistant)
    async with client_for(app) as c:
        codes = [
            (await c.post("/v1/chat", json={"session_id": "busy", "text": "충전"})).status_code
            for _ in range(4)
        ]
        other = await c.post("/v1/chat", json={"session_id": "calm", "text": "충전"})
        refused = await c.post("/v1/chat", json={"session_id": "busy", "text": "충전"})
    assert codes == [200, 200, 200, 429] and other.status_code == 200
    assert refused.json()["error"]["fields"][0]["field"] == "session_id"
    assert int(refused.headers["retry-after"]) >= 1


async def test_one_client_over_its_rate_gets_429_but_probes_still_answer(
    assistant: Assistant,
) -> None:
    app = create_app(Settings(rate_per_client=2), assistant=assistant)
    key = (await ApiKeyStore(assistant.store.engine).create("app", ["chat"])).token
    async with client_for(app) as c:
        codes = [(await c.get("/v1/sessions/nobody")).status_code for _ in range(3)]
        keyed = await c.get("/v1/sessions/nobody", headers={"Authorization": f"Bearer {key}"})
        # a made-up key is no other client: it is counted under the address that sent it
        made_up = await c.get("/v1/sessions/nobody", headers={"Authorization": "Bearer junk"})
        assert (await c.get("/healthz")).status_code == 200
        assert (await c.get("/metrics")).status_code == 200
    assert codes == [404, 404, 429]
    assert keyed.status_code == 404  # a real key is another client, with its own bucket
    assert made_up.status_code == 429


def test_token_bucket_refills_with_time() -> None:
    limiter = RateLimiter(60)  # one a second
    assert all(limiter.take("k", now=0.0) == 0 for _ in range(60))
    assert limiter.take("k", now=0.0) == pytest.approx(1.0)
    assert limiter.take("k", now=1.0) == 0.0


async def test_a_request_over_the_time_limit_gets_504_and_the_server_goes_on(
    tmp_path: Path,
) -> None:
    a = await build(
        tmp_path, [SlowSkill(3.0), KeywordSkill("faq", "빠른", "빨라요", 0.9)], timeout_ms=5000
    )
    try:
        async with client_for(create_app(Settings(request_timeout_s=0.3), assistant=a)) as c:
            slow = await c.post("/v1/chat", json={"session_id": "t", "text": "느린 질문"})
            assert slow.status_code == 504
            assert slow.json()["error"]["fields"] == [
                {"field": "request", "problem": "took longer than 0.3s"}
            ]
            assert (await c.get("/healthz")).status_code == 200
    finally:
        await a.close()
    # the cut-off turn left nothing half-written
    store = SqlStore(f"sqlite:///{tmp_path / 's.db'}")
    await store.open()
    assert await store.get_session("t") is None
    await store.close()


async def test_cors_allows_only_the_configured_origins(assistant: Assistant) -> None:
    app = create_app(Settings(cors_origins=("https://shop.example",)), assistant=assistant)
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    async with client_for(app) as c:
        ok = await c.options("/v1/chat", headers={"Origin": "https://shop.example", **preflight})
        bad = await c.options("/v1/chat", headers={"Origin": "https://evil.example", **preflight})
    assert ok.headers["access-control-allow-origin"] == "https://shop.example"
    assert "access-control-allow-origin" not in bad.headers


def test_index_sizes_come_from_the_skills_indexes() -> None:
    from assistant.metrics import index_size

    class Faq:
        faq = (1, 2, 3)

    class Rules:
        def __len__(self) -> int:
            return 7

    assert index_size(Faq()) == 3 and index_size(Rules()) == 7 and index_size(object()) is None


async def test_an_unexpected_failure_is_a_json_500_naming_the_logged_id(tmp_path: Path) -> None:
    a = await build(tmp_path, [KeywordSkill("faq", "충전", "충전 안내", 0.9)])
    app = create_app(Settings(), assistant=a)

    async def broken(*_: object, **__: object) -> None:
        raise ZeroDivisionError("bug")

    a.store.get_session = broken  # type: ignore[method-assign]
    try:
        async with client_for(app) as c:
            r = await c.get("/v1/sessions/x", headers={"X-Request-ID": "req-500"})
    finally:
        await a.close()
    assert r.status_code == 500 and r.headers["x-request-id"] == "req-500"
    assert r.json()["error"] == {
        "code": "internal_error",
        "message": "request: failed inside the server; logged as req-500",
        "fields": [{"field": "request", "problem": "failed inside the server; logged as req-500"}],
    }


async def test_a_store_that_is_down_is_a_503_to_retry(tmp_path: Path) -> None:
    from assistant.errors import StoreError

    a = await build(tmp_path, [KeywordSkill("faq", "충전", "충전 안내", 0.9)])

    async def down(*_: object, **__: object) -> None:
        raise StoreError("could not connect")

    a.store.load_context = down  # type: ignore[method-assign]
    try:
        async with client_for(create_app(Settings(), assistant=a)) as c:
            r = await c.post("/v1/chat", json={"session_id": "d", "text": "충전"})
    finally:
        await a.close()
    assert r.status_code == 503 and r.headers["retry-after"] == "2"
    assert r.json()["error"]["fields"] == [
        {"field": "store", "problem": "unavailable; try again shortly"}
    ]
