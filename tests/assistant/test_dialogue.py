from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from assistant.dialogue import Assistant
from assistant.errors import InputError
from assistant.skill import Skill, TurnInput
from assistant.store import SqlStore
from assistant.types import Candidate, ContextUpdate, HandoffPart, NamedContext, Utterance

from .fakes import EchoSkill, FailingSkill, KeywordSkill, SlowSkill, make_bot, pairs, text_reply


@pytest.fixture
async def opened(tmp_path: Path) -> AsyncIterator[list[Assistant]]:
    made: list[Assistant] = []
    yield made
    for a in made:
        await a.close()


@pytest.fixture
def make(tmp_path: Path, opened: list[Assistant]):  # type: ignore[no-untyped-def]
    async def make(
        skills: list[Skill], *, clock=None, timeout_ms: int = 1000, **policy
    ) -> Assistant:  # type: ignore[no-untyped-def]
        bot = make_bot(tmp_path, skills, timeout_ms=timeout_ms, **policy)
        store = SqlStore(f"sqlite:///{tmp_path / 'sessions.db'}")
        await store.open()
        kwargs = {"clock": clock} if clock else {}
        assistant = Assistant(bot, store, pairs(bot, skills), **kwargs)
        opened.append(assistant)
        return assistant

    return make


def say(text: str, session: str = "s1", **kw: object) -> Utterance:
    return Utterance(text=text, session_id=session, **kw)  # type: ignore[arg-type]


async def test_routes_to_the_confident_skill_above_its_threshold(make) -> None:  # type: ignore[no-untyped-def]
    faq = KeywordSkill("faq", "영업시간", "평일 9시부터 6시까지예요.", 0.9)
    chat = KeywordSkill("smalltalk", "영업시간", "궁금하시군요!", 0.6)
    a = await make([faq, chat], thresholds={"faq": 0.7})
    reply = await a.handle(say("영업시간이 어떻게 돼요?"))
    assert reply.route == "faq:영업시간" and reply.confidence == 0.9
    view = await a.store.get_session("s1")
    assert view is not None
    (turn,) = view.turns
    assert turn.outcome == "answer"
    logged = {(c["skill"], c["confidence"], c["chosen"]) for c in turn.candidates}
    assert logged == {("faq", 0.9, True), ("smalltalk", 0.6, False)}
    assert [s["status"] for s in turn.skills] == ["ok", "ok"]
    assert turn.latency_ms > 0


async def test_below_every_threshold_falls_back_with_a_handoff(make) -> None:  # type: ignore[no-untyped-def]
    a = await make([KeywordSkill("faq", "보증", "3년이에요.", 0.4)], thresholds={"faq": 0.7})
    reply = await a.handle(say("보증 기간은?"))
    assert reply.route == "fallback"
    assert any(isinstance(p, HandoffPart) for p in reply.parts)


async def test_a_failing_skill_is_logged_and_the_user_still_gets_an_answer(make, caplog) -> None:  # type: ignore[no-untyped-def]
    a = await make(
        [FailingSkill(), KeywordSkill("faq", "충전", "충전 요금은 kWh당 300원이에요.", 0.9)]
    )
    with caplog.at_level(logging.WARNING, logger="assistant.dialogue"):
        reply = await a.handle(say("충전 요금"))
    assert reply.route == "faq:충전"
    assert any(r.message == "skill.failed" and r.skill == "failing" for r in caplog.records)  # type: ignore[attr-defined]
    view = await a.store.get_session("s1")
    assert view is not None
    status = {s["skill"]: (s["status"], s["error"]) for s in view.turns[0].skills}
    assert status["failing"] == ("error", "RuntimeError: index file vanished")


async def test_a_skill_over_its_time_budget_is_skipped(make) -> None:  # type: ignore[no-untyped-def]
    a = await make(
        [SlowSkill(5.0), KeywordSkill("faq", "충전", "바로 답해요.", 0.9)], timeout_ms=100
    )
    started = asyncio.get_running_loop().time()
    reply = await a.handle(say("충전"))
    assert asyncio.get_running_loop().time() - started < 2
    assert reply.route == "faq:충전"
    view = await a.store.get_session("s1")
    assert view is not None
    assert {s["skill"]: s["status"] for s in view.turns[0].skills}["slow"] == "timeout"


async def test_context_changes_of_the_chosen_candidate_reach_the_next_turn(make) -> None:  # type: ignore[no-untyped-def]
    update = ContextUpdate(
        topic="faq:charging", activate=(NamedContext(name="charging", lifespan=1),)
    )
    faq = KeywordSkill("faq", "충전", "충전 안내", 0.9, update=update)
    a = await make([faq])
    await a.handle(say("충전"))
    await a.handle(say("그럼 요금은?"))
    second = faq.seen[-1]
    assert second.context.topic == "faq:charging"
    assert second.context.active_context("charging", now=second.now) is not None
    assert [t.user for t in second.context.history] == ["충전"]
    await a.handle(say("또 다른 얘기"))
    assert faq.seen[-1].context.active_context("charging", now=faq.seen[-1].now) is None


async def test_context_expires_after_its_ttl(make) -> None:  # type: ignore[no-untyped-def]
    now = [1000.0]
    update = ContextUpdate(activate=(NamedContext(name="otp", lifespan=10, ttl=30),))
    faq = KeywordSkill("faq", "인증", "인증번호를 보냈어요.", 0.9, update=update)
    a = await make([faq], clock=lambda: now[0])
    await a.handle(say("인증"))
    now[0] += 29
    await a.handle(say("아직?"))
    assert faq.seen[-1].context.active_context("otp", now=now[0]) is not None
    now[0] += 2
    await a.handle(say("이제는?"))
    assert "otp" not in faq.seen[-1].context.contexts


async def test_context_survives_a_restart_of_the_assistant(make) -> None:  # type: ignore[no-untyped-def]
    first = await make([EchoSkill()])
    await first.handle(say("하나"))
    await first.close()
    second = await make([EchoSkill()])
    reply = await second.handle(say("둘"))
    assert reply.plain_text() == "둘 (after 하나)"


async def test_repeated_message_id_returns_the_stored_reply_without_a_new_turn(make) -> None:  # type: ignore[no-untyped-def]
    echo = EchoSkill()
    a = await make([echo])
    first = await a.handle(say("하나", message_id="m-1"))
    again = await a.handle(say("하나", message_id="m-1"))
    other = await a.handle(say("둘", message_id="m-2"))
    assert again == first
    assert other.plain_text() == "둘 (after 하나)"
    view = await a.store.get_session("s1")
    assert view is not None and view.turn_count == 2
    # the same message id in another session is another message
    assert (await a.handle(say("셋", session="s2", message_id="m-1"))).plain_text() == "셋 (after )"


@pytest.mark.parametrize(
    ("utterance", "field"),
    [
        (say(""), "text"),
        (say(" \t\n\u200b "), "text"),
        (say("가" * 2001), "text"),
        (say("hello", locale="fr"), "locale"),
        (say("hello", session=" "), "session_id"),
    ],
    ids=["empty", "whitespace", "too-long", "unknown-locale", "blank-session"],
)
async def test_bad_input_is_refused_naming_the_field_and_stores_nothing(
    make, utterance, field
) -> None:  # type: ignore[no-untyped-def]
    echo = EchoSkill()
    a = await make([echo])
    with pytest.raises(InputError) as raised:
        await a.handle(utterance)
    assert raised.value.field == field
    assert await a.store.get_session(utterance.session_id) is None


async def test_locale_is_detected_when_not_given_and_normalized_when_given(make) -> None:  # type: ignore[no-untyped-def]
    faq = KeywordSkill("faq", "x", "x", 0.9)
    a = await make([faq])
    await a.handle(say("배터리 보증은 몇 년이에요?"))
    await a.handle(say("How long is the battery warranty?"))
    await a.handle(say("무엇이든", locale="en-US"))
    assert [t.locale for t in faq.seen] == ["ko", "en", "en"]


async def test_turns_of_one_session_run_one_at_a_time_in_arrival_order(make) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    running = 0
    most = 0

    class Counting(EchoSkill):
        async def propose(self, turn: TurnInput) -> Sequence[Candidate]:
            nonlocal running, most
            running += 1
            most = max(most, running)
            await asyncio.sleep(rng.uniform(0, 0.01))
            try:
                return await super().propose(turn)
            finally:
                running -= 1

    a = await make([Counting()])
    texts = [f"t{i}" for i in range(20)]
    tasks = []
    for text in texts:
        tasks.append(asyncio.create_task(a.handle(say(text))))
        await asyncio.sleep(0)  # let the task start, so arrival order is the list's order
    replies = await asyncio.gather(*tasks)
    assert most == 1
    expected = ["t0 (after )"] + [f"{texts[i]} (after {texts[i - 1]})" for i in range(1, 20)]
    assert [r.plain_text() for r in replies] == expected
    view = await a.store.get_session("s1", last=50)
    assert view is not None and [t.text for t in view.turns] == texts


async def test_turns_of_different_sessions_run_concurrently(make) -> None:  # type: ignore[no-untyped-def]
    both_inside = asyncio.Event()
    inside: set[str] = set()

    class Meeting:
        name = "meet"

        async def propose(self, turn: TurnInput) -> list[Candidate]:
            inside.add(turn.utterance.session_id)
            if len(inside) == 2:
                both_inside.set()
            await both_inside.wait()  # deadlocks (and times out) if sessions were serialized
            return [Candidate(reply=text_reply("met", "meet", 1.0), confidence=1.0, skill="meet")]

    a = await make([Meeting()], timeout_ms=3000)
    replies = await asyncio.gather(a.handle(say("a", session="A")), a.handle(say("b", session="B")))
    assert [r.route for r in replies] == ["meet", "meet"]


async def test_a_skill_answering_under_another_name_is_logged_under_its_configured_one(
    make,
) -> None:  # type: ignore[no-untyped-def]
    skill = KeywordSkill("faq", "hi", "hello", 0.9)
    a = await make([skill])  # configured as "faq"
    skill.name = "impostor"
    await a.handle(say("hi"))
    view = await a.store.get_session("s1")
    assert view is not None and view.turns[0].candidates[0]["skill"] == "faq"
