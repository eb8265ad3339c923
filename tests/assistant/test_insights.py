"""The console's stores on both backends: feedback, conversation queries, daily rates, the
questions active learning offers, evaluation runs and learning actions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.context import DialogueContext
from assistant.store import SqlStore, TurnLog
from assistant.store.eval_runs import EvalRunStore
from assistant.store.feedback import FeedbackStore, UnknownTurn
from assistant.store.insights import Insights, SessionFilter
from assistant.store.learning import LearningStore, text_key
from assistant.types import HandoffPart, Reply, TextPart

DAY = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # noon in Seoul


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:
    s = SqlStore(database_url)
    await s.open()
    yield s
    await s.close()


def reply(outcome: str, route: str, confidence: float) -> Reply:
    parts: tuple[TextPart | HandoffPart, ...] = (TextPart(text=f"{route} answer"),)
    if outcome == "fallback":
        parts = (TextPart(text="모르겠어요"), HandoffPart(text="상담원 연결", reason="fallback"))
    return Reply(parts=parts, route=route, confidence=confidence)


async def turn(
    store: SqlStore,
    session: str,
    text: str,
    *,
    outcome: str = "answer",
    route: str = "faq:hours",
    confidence: float = 0.9,
    at: datetime = DAY,
    channel: str = "rest",
    message_id: str | None = None,
) -> int:
    log = TurnLog(
        session_id=session,
        channel=channel,
        locale="ko",
        text=text,
        reply=reply(outcome, route, confidence),
        outcome=outcome,
        candidates=[],
        skills=[],
        latency_ms=1.0,
        message_id=message_id,
        at=at,
    )
    return await store.save_turn(log, DialogueContext())


@pytest.fixture
async def conversations(store: SqlStore) -> SqlStore:
    await turn(store, "a", "영업시간 알려줘", channel="kakao")
    await turn(store, "a", "주말은요?", outcome="fallback", route="fallback", confidence=0.0,
               channel="kakao", message_id="m-2")  # fmt: skip
    await turn(
        store, "b", "충전 요금", route="faq:charging", confidence=0.55, at=DAY - timedelta(days=2)
    )
    await turn(store, "c", "혹시 보증?", outcome="clarify", route="clarify", confidence=0.4,
               at=DAY + timedelta(days=1))  # fmt: skip
    await turn(store, "c", "안녕", route="smalltalk", confidence=0.95, at=DAY + timedelta(days=1))
    return store


async def test_feedback_is_stored_replaced_and_refused_for_unknown_turns(
    conversations: SqlStore,
) -> None:
    feedback = FeedbackStore(conversations.engine)
    saved = await feedback.record("a", rating=-1, message_id="m-2", channel="kakao")
    assert saved.turn == 2
    await feedback.record("a", rating=1, turn=1, comment="좋아요")
    await feedback.record("a", rating=1, turn=2)  # changed their mind
    ratings = await feedback.of_session("a")
    assert {n: f.rating for n, f in ratings.items()} == {1: 1, 2: 1}
    assert ratings[1].comment == "좋아요"
    for kwargs, field in [
        ({"turn": 9}, "turn"),
        ({"message_id": "nope"}, "message_id"),
    ]:
        with pytest.raises(UnknownTurn) as caught:
            await feedback.record("a", rating=1, **kwargs)  # type: ignore[arg-type]
        assert caught.value.field == field
    with pytest.raises(UnknownTurn) as caught:
        await feedback.record("nobody", rating=1, turn=1)
    assert caught.value.field == "session_id"
    assert await conversations.delete_session("a")
    assert await feedback.of_session("a") == {}  # gone with its conversation


async def ids(insights: Insights, **where: object) -> list[str]:
    total, found = await insights.sessions(SessionFilter(**where))  # type: ignore[arg-type]
    assert total == len(found)
    return [s.session_id for s in found]


async def test_sessions_are_filtered_by_each_condition(conversations: SqlStore) -> None:
    insights = Insights(conversations.engine)
    await FeedbackStore(conversations.engine).record("b", rating=-1, turn=1)
    assert await ids(insights) == ["c", "a", "b"]  # the most recently active first
    assert await ids(insights, channel="kakao") == ["a"]
    assert await ids(insights, route="faq:charging") == ["b"]
    assert await ids(insights, route="faq:*") == ["a", "b"]
    assert await ids(insights, fallback=True) == ["a"]
    assert await ids(insights, handoff=True) == ["a"]
    assert await ids(insights, negative=True) == ["b"]
    assert await ids(insights, below=0.6) == ["c", "a", "b"]
    assert await ids(insights, below=0.3) == ["a"]
    assert await ids(insights, since=DAY - timedelta(hours=1), until=DAY + timedelta(hours=1)) == [
        "a"
    ]
    assert await ids(insights, route="faq:*", fallback=True) == ["a"]
    total, page = await insights.sessions(SessionFilter(), offset=1, limit=1)
    assert total == 3 and [s.session_id for s in page] == ["a"]
    a = page[0]
    assert (a.turns, a.fallbacks, a.handoffs, a.channel, a.first_text) == (
        2,
        1,
        1,
        "kakao",
        "영업시간 알려줘",
    )
    assert await insights.channels() == ["kakao", "rest"]
    assert set(await insights.routes()) == {
        "faq:hours",
        "fallback",
        "faq:charging",
        "clarify",
        "smalltalk",
    }


async def test_daily_rates_in_the_bots_timezone(conversations: SqlStore) -> None:
    insights = Insights(conversations.engine)
    await FeedbackStore(conversations.engine).record("a", rating=-1, turn=1)
    since = DAY - timedelta(days=3)
    days = await insights.daily_rates(since, DAY + timedelta(days=2), timezone="Asia/Seoul")
    assert [d.day.isoformat() for d in days][:2] == ["2026-11-17", "2026-11-18"]
    by_day = {d.day.isoformat(): d for d in days}
    today = by_day["2026-11-20"]
    assert (today.turns, today.answered, today.fallbacks, today.handoffs) == (2, 1, 1, 1)
    assert today.rate("fallbacks") == 0.5
    assert by_day["2026-11-21"].clarified == 1
    assert by_day["2026-11-18"].turns == 1 and by_day["2026-11-19"].turns == 0
    assert sum(d.negative for d in days) == 1
    kakao = await insights.daily_rates(since, DAY + timedelta(days=2), channel="kakao")
    assert sum(d.turns for d in kakao) == 2


async def test_learning_turns_are_fallbacks_clarifications_and_thumbs_down(
    conversations: SqlStore,
) -> None:
    insights = Insights(conversations.engine)
    await FeedbackStore(conversations.engine).record("b", rating=-1, turn=1)
    found = await insights.learning_turns()
    assert [(t.text, t.reason) for t in found] == [
        ("혹시 보증?", "clarify"),
        ("주말은요?", "fallback"),
        ("충전 요금", "negative"),
    ]
    assert [t.text for t in await insights.learning_turns(since=DAY)] == ["혹시 보증?", "주말은요?"]


async def test_eval_runs_and_learning_actions(store: SqlStore) -> None:
    runs = EvalRunStore(store.engine)
    rows = [{"text": "q", "expected_id": "a", "predicted_id": "a", "confidence": 0.9}]
    first = await runs.save("before", source="q.jsonl", settings={}, metrics={"x": 1}, rows=rows)
    second = await runs.save("after", source="q.jsonl", settings={}, metrics={"x": 2}, rows=rows)
    listed = await runs.list()
    assert {r.id for r in listed} == {first.id, second.id} and all(not r.rows for r in listed)
    got = await runs.get(first.id)
    assert got is not None and got.rows == rows and got.metrics == {"x": 1}
    assert await runs.delete(first.id) and await runs.get(first.id) is None

    learning = LearningStore(store.engine)
    assert await learning.record(["충전 요금?", "충전 요금?", "키 배터리"], "alternative", "a") == 2
    assert await learning.handled() == {text_key("충전  요금?"), text_key("키 배터리")}
