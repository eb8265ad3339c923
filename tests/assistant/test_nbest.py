"""The dialogue manager with a recognizer's n-best list: every hypothesis is put to the skills,
the best-understood one is the turn, and only that one is stored."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from assistant.dialogue import Assistant
from assistant.skill import Skill
from assistant.store import SqlStore
from assistant.types import AsrHypothesis, ContextUpdate, Utterance

from .fakes import EchoSkill, KeywordSkill, SlowSkill, make_bot, pairs


@pytest.fixture
async def build(tmp_path: Path) -> AsyncIterator[object]:
    made: list[Assistant] = []

    async def build(skills: list[Skill], **policy: object) -> Assistant:
        bot = make_bot(tmp_path, skills, timeout_ms=2000, **policy)
        store = SqlStore(f"sqlite:///{tmp_path / 'sessions.db'}")
        await store.open()
        made.append(Assistant(bot, store, pairs(bot, skills)))
        return made[-1]

    yield build
    for a in made:
        await a.close()


def heard(*hypotheses: tuple[str, float | None], session: str = "car-1") -> Utterance:
    alternatives = tuple(AsrHypothesis(text=t, confidence=c) for t, c in hypotheses)
    return Utterance(text=hypotheses[0][0], session_id=session, alternatives=alternatives)


async def test_the_hypothesis_understood_best_is_answered_not_the_first(build) -> None:  # type: ignore[no-untyped-def]
    faq = KeywordSkill("faq", "영업시간", "평일 9시부터 6시까지예요.", 0.9)
    a = await build([faq])
    reply = await a.handle(heard(("영엽 시간 알려줘", 0.62), ("영업시간 알려줘", 0.35)))
    assert reply.route == "faq:영업시간"
    assert reply.understood == "영업시간 알려줘"
    view = await a.store.get_session("car-1")
    assert view is not None
    (turn,) = view.turns  # one request, one turn
    assert turn.text == "영업시간 알려줘"
    assert view.context.history[-1].user == "영업시간 알려줘"
    # the log shows what each hypothesis got and which was chosen
    (logged,) = turn.candidates
    assert logged["hypothesis"] == 1 and logged["chosen"] is True
    assert logged["asr_confidence"] == 0.35 and logged["hypothesis_score"] == pytest.approx(0.315)
    assert [s["hypothesis"] for s in turn.skills] == [0, 1]


async def test_recognizer_confidence_weighs_in_when_both_are_understood(build) -> None:  # type: ignore[no-untyped-def]
    chat = KeywordSkill("smalltalk", "심심", "저랑 이야기해요!", 0.7)
    faq = KeywordSkill("faq", "심사", "심사는 3일 걸려요.", 0.9)
    a = await build([chat, faq])
    # 0.8 * 0.7 = 0.56 beats 0.3 * 0.9 = 0.27: a confident skill does not overrule the ear
    reply = await a.handle(heard(("심심해", 0.8), ("심사해", 0.3)))
    assert reply.route == "smalltalk:심심" and reply.understood == "심심해"


async def test_only_the_chosen_hypothesis_changes_the_context(build) -> None:  # type: ignore[no-untyped-def]
    hours = KeywordSkill(
        "faq", "영업시간", "9시부터예요.", 0.9, update=ContextUpdate(slots={"topic": "hours"})
    )
    price = KeywordSkill(
        "price", "요금", "300원이에요.", 0.6, update=ContextUpdate(slots={"topic": "price"})
    )
    a = await build([hours, price])
    await a.handle(heard(("충전 요금", 0.5), ("영업시간", 0.5)))
    context = await a.store.load_context("car-1")
    assert context is not None and context.slots == {"topic": "hours"}
    # both hypotheses were read against the same, unchanged context
    assert [t.text for t in hours.seen] == ["충전 요금", "영업시간"]
    assert all(t.context.slots == {} for t in hours.seen)


async def test_hypotheses_without_confidence_weigh_less_by_rank(build) -> None:  # type: ignore[no-untyped-def]
    a = await build([EchoSkill()])
    hypotheses = a.hypotheses(
        heard(("하나", None), ("둘", None), ("셋", 0.4), ("넷", None)), "하나"
    )
    assert [(h.text, h.weight) for h in hypotheses] == [("하나", 1.0), ("둘", 0.5), ("셋", 0.4)]
    # repeats and blanks are dropped; at most limits.max_hypotheses are evaluated
    a.bot.config.limits.max_hypotheses = 5
    hypotheses = a.hypotheses(
        heard(("하나", 0.9), ("하나 ", 0.5), ("  ", 0.4), ("둘", None)), "하나"
    )
    assert [(h.text, h.weight) for h in hypotheses] == [("하나", 0.9), ("둘", 0.45)]


async def test_at_most_max_hypotheses_reach_the_skills(build) -> None:  # type: ignore[no-untyped-def]
    faq = KeywordSkill("faq", "다섯", "다섯 번째예요.", 0.9)
    a = await build([faq])
    reply = await a.handle(
        heard(("하나", 0.5), ("둘", 0.4), ("셋", 0.3), ("넷", 0.2), ("다섯", 0.1))
    )
    assert len(faq.seen) == 3 and reply.route == "fallback"
    assert reply.understood == "하나"  # nothing understood: the recognizer's first


async def test_a_time_budget_answers_with_what_is_ready(build) -> None:  # type: ignore[no-untyped-def]
    a = await build([SlowSkill(10), KeywordSkill("faq", "충전", "충전소는 1km 앞이에요.", 0.8)])
    started = time.perf_counter()
    reply = await a.handle(Utterance(text="충전소 어디야", session_id="s", time_budget_ms=300))
    # without the budget the bot's 2 s skill timeout would end the turn; a busy machine needs
    # the wide margin over the 0.3 s budget
    assert time.perf_counter() - started < 1.8
    assert reply.route == "faq:충전"
    view = await a.store.get_session("s")
    assert view is not None
    assert {s["skill"]: s["status"] for s in view.turns[0].skills} == {
        "slow": "timeout",
        "faq": "ok",
    }


async def test_without_alternatives_nothing_changes(build) -> None:  # type: ignore[no-untyped-def]
    a = await build([KeywordSkill("faq", "영업시간", "9시부터예요.", 0.9)])
    reply = await a.handle(Utterance(text="영업시간", session_id="s"))
    assert reply.understood is None
    view = await a.store.get_session("s")
    assert view is not None and "hypothesis" not in view.turns[0].candidates[0]
